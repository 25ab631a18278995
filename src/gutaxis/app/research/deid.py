"""De-identification of what leaves the clinic for research.

A de-identified view carries the pseudonym (``P-…``) as subject and nothing from
``patient_identities`` except, at most, the year of birth. Every time of a patient is
moved by the same whole number of days, derived from the app's secret key and the
pseudonym (HMAC-SHA256), uniformly in [-180, 180]: intervals between one patient's
events are kept exactly, calendar dates are not, and the offset cannot be recomputed
without the secret key. The offset of a patient never changes while the key does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from gutaxis.app.timestamps import as_utc

#: Largest shift of a patient's dates, in days (either direction).
MAX_SHIFT_DAYS = 180
#: How the shift is described in exports (README, FHIR meta.tag).
SHIFT_NOTE = ("dates shifted per patient by a fixed secret offset of -180 to +180 days "
              "(HMAC-SHA256 of the pseudonym under the clinic's secret key); intervals "
              "within a patient are exact")


def date_offset_days(secret: str, pseudonym: str) -> int:
    """The patient's date shift in days, in ``[-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS]``."""
    digest = hmac.new(secret.encode("utf-8"), b"gutaxis-date-shift\x00" + pseudonym.encode(),
                      hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % (2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS


def shift_time(value: dt.datetime, days: int) -> dt.datetime:
    """``value`` (UTC; naive values from SQLite are taken as UTC) moved by ``days``."""
    return as_utc(value).astimezone(dt.UTC) + dt.timedelta(days=days)


def shift_date(value: dt.date, days: int) -> dt.date:
    return value + dt.timedelta(days=days)

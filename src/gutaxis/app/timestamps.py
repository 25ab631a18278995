"""Timestamps in API answers: always with their UTC offset.

The database stores UTC; SQLite gives the values back without a time zone, PostgreSQL with
one. A response field typed :data:`UtcDatetime` sends both as ``...+00:00`` (an OpenAPI
``date-time`` needs the offset).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` with its time zone; a naive value is taken as UTC (as it was stored)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


#: A datetime field of a response model (naive values from SQLite read as UTC).
UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]

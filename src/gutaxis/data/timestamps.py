"""Timezone-aware timestamps for the longitudinal record, validated at the door.

Every time in the record is an instant: a wall-clock reading only means something with
its UTC offset. Strings must carry an offset (``2024-03-01T08:30:00+01:00`` or ``...Z``)
unless the caller names the timezone the readings were taken in (``timezone=
"Europe/Berlin"``, as a REDCap export needs, since REDCap stores local times). All
times are converted to UTC and kept at microsecond resolution (``datetime64[us, UTC]``),
the finest FHIR and ISO 8601 text round-trip without loss.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from gutaxis.errors import InputError

#: The dtype of every time column in the record.
TIME_DTYPE: Final = "datetime64[us, UTC]"

_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_timezone(timezone: str | None, *, source: str | None = None) -> ZoneInfo | None:
    """The IANA timezone named, or an error naming what was given."""
    if timezone is None:
        return None
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("unknown timezone", source=source, field="timezone", found=timezone,
                         expected="an IANA name such as 'Europe/Berlin' or 'UTC'") from None


def parse_times(
    values: pd.Series | Sequence[object],
    *,
    source: str | None = None,
    column: str = "time",
    rows: Sequence[int | str] | np.ndarray | None = None,
    timezone: str | None = None,
    required: bool = True,
) -> pd.Series:
    """Parse times into UTC instants, refusing any reading whose offset is unknown.

    Parameters
    ----------
    values
        ISO 8601 strings, ``datetime`` objects or a datetime column.
    source, column
        Named in error messages.
    rows
        The row label of each value as a person would count it (e.g. the line of the
        file); defaults to 1, 2, ...
    timezone
        IANA name of the timezone in which offset-less readings were taken. Without it,
        a reading with no offset is an error.
    required
        When false, empty values become ``NaT`` (e.g. the stop of an ongoing
        intervention); when true they are an error.

    Returns
    -------
    pandas.Series
        ``datetime64[us, UTC]``, same length and order as ``values`` (index 0..n-1).

    Notes
    -----
    Local readings are placed with ``tz_localize(..., ambiguous="raise",
    nonexistent="raise")``: a wall-clock time that occurs twice (the autumn DST change)
    or never (spring) is refused rather than guessed.
    """
    series = pd.Series(values).reset_index(drop=True)
    labels = np.arange(1, len(series) + 1) if rows is None else np.asarray(rows)
    zone = check_timezone(timezone, source=source)
    dated = pd.api.types.is_datetime64_any_dtype(series.dtype)
    text = series if dated else series.map(_as_text)
    empty = text.isna()
    if required and empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError("time is missing", source=source, row=labels[i], column=column,
                         expected="an ISO 8601 time with a UTC offset")
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype(TIME_DTYPE)
    if dated:
        if empty.all():
            return pd.Series(pd.NaT, index=series.index, dtype=TIME_DTYPE)
        return _localize(series, zone, labels, source=source, column=column, raw=series)
    has_offset = text.str.contains(_OFFSET, na=False)
    out = pd.Series(pd.NaT, index=series.index, dtype=TIME_DTYPE)
    aware = has_offset & ~empty
    if aware.any():
        out[aware] = _to_datetime(text[aware], labels, utc=True, source=source, column=column)
    naive = ~has_offset & ~empty
    if naive.any():
        parsed = _to_datetime(text[naive], labels, utc=False, source=source, column=column)
        out[naive] = _localize(parsed, zone, labels[naive.to_numpy()], source=source,
                               column=column, raw=text[naive])
    return out.astype(TIME_DTYPE)


def format_times(times: pd.Series) -> pd.Series:
    """ISO 8601 text in UTC (``2024-03-01T07:30:00+00:00``); microseconds only when set.

    Missing times become empty strings. Vectorised through
    :func:`numpy.datetime_as_string`.
    """
    series = pd.Series(times)
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    missing = np.isnat(utc)
    seconds = np.datetime_as_string(utc.astype("datetime64[s]"), unit="s")
    micro = (utc.astype(np.int64) % 1_000_000) if len(utc) else np.zeros(0, dtype=np.int64)
    fraction = np.char.mod(".%06d", micro)
    text = np.where(micro != 0, np.char.add(seconds, fraction), seconds)
    text = np.char.add(text.astype(str), "+00:00")
    return pd.Series(np.where(missing, "", text), index=series.index, dtype=object)


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _has_zone(value: str) -> bool:
    moment = pd.to_datetime(value, format="ISO8601", errors="coerce")
    return moment is not pd.NaT and getattr(moment, "tzinfo", None) is not None


def _to_datetime(text: pd.Series, labels: np.ndarray, *, utc: bool, source: str | None,
                 column: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(text, format="ISO8601", utc=utc, errors="coerce")
    except ValueError:  # pandas refuses a column mixing offsets and none; error path only
        zoned = [_has_zone(value) for value in text]
        i = next((k for k, z in enumerate(zoned) if z != zoned[0]), 0)
        raise InputError("time with an offset the other times lack (or the reverse)",
                         source=source, row=labels[text.index[i]], column=column,
                         found=text.iloc[i], expected="times written alike, e.g. "
                         "2024-03-01T08:30:00+01:00") from None
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("not a time", source=source, row=labels[text.index[i]], column=column,
                         found=text.iloc[i],
                         expected="an ISO 8601 time such as 2024-03-01T08:30:00+01:00")
    return parsed


def _localize(parsed: pd.Series, zone: ZoneInfo | None, labels: np.ndarray, *,
              source: str | None, column: str, raw: pd.Series) -> pd.Series:
    if zone is None:
        first = raw.iloc[0]
        kind = "a date" if isinstance(first, str) and _DATE_ONLY.match(first) else "a time"
        raise InputError(
            f"{kind} without a timezone", source=source, row=labels[0], column=column,
            found=str(first),
            expected="a UTC offset (e.g. 2024-03-01T08:30:00+01:00 or ...Z), "
            "or the IANA timezone the readings were taken in (e.g. Europe/Berlin)",
        )
    try:
        local = parsed.dt.tz_localize(zone, ambiguous="raise", nonexistent="raise")
    except (ValueError, TypeError):  # a DST edge: find the first reading at fault
        for i in range(len(parsed)):
            try:
                parsed.iloc[i : i + 1].dt.tz_localize(zone, ambiguous="raise",
                                                      nonexistent="raise")
            except (ValueError, TypeError):
                raise InputError(
                    f"local time does not exist or is ambiguous in {zone.key} "
                    "(a daylight-saving change)", source=source, row=labels[i],
                    column=column, found=str(raw.iloc[i]),
                    expected="a time with an explicit UTC offset") from None
        raise
    return local.dt.tz_convert("UTC")

"""Lab results from a CSV file: ``time, analyte, value, unit`` and optionally ``subject``.

Every row is validated at the door: the time must carry a UTC offset (or the caller names
the timezone the readings were taken in), the analyte must be one gutaxis knows
(:data:`gutaxis.data.labs.ANALYTES`, by id or a common spelling) and the unit one that
converts exactly to the analyte's canonical unit (:func:`gutaxis.data.labs.normalise_labs`).
Errors name the file, the line (the header is line 1) and the column.

>>> import io
>>> text = "time,analyte,value,unit\\n2024-03-01T08:00:00+01:00,CRP,0.5,mg/dL\\n"
>>> labs = parse_lab_csv(io.StringIO(text), source="labs.csv")
>>> [str(labs.loc[0, c]) for c in ("analyte", "value", "unit", "reported_value",
...                                  "reported_unit")]
['crp', '5.0', 'mg/L', '0.5', 'mg/dL']
>>> str(labs.loc[0, "time"])
'2024-03-01 07:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

import numpy as np
import pandas as pd

from gutaxis.data.labs import normalise_labs
from gutaxis.data.timestamps import parse_times
from gutaxis.errors import InputError
from gutaxis.io._csv import read_string_table
from gutaxis.io._files import PathLike, existing_file, first_lines, open_text, text_delimiter

#: Columns a lab CSV must have (``subject`` is optional).
LAB_CSV_COLUMNS = ("time", "analyte", "value", "unit")
#: Columns of the table the readers return, in order.
LAB_TABLE_COLUMNS = ("subject", "time", "analyte", "value", "unit", "reported_value",
                     "reported_unit")


def read_lab_csv(path: PathLike, *, timezone: str | None = None) -> pd.DataFrame:
    """Read a lab CSV (comma- or tab-separated, optionally gzipped).

    Parameters
    ----------
    path
        The file; a header line with ``time, analyte, value, unit`` (any order, optional
        ``subject``), one result per line.
    timezone
        IANA timezone of times written without a UTC offset; without it such a time is
        an error naming its line.

    Returns
    -------
    pandas.DataFrame
        :data:`LAB_TABLE_COLUMNS`: ``subject`` (``""`` when the file has none), ``time``
        (UTC), canonical ``analyte`` id, ``value`` and ``unit``, and the value and UCUM
        unit as reported.
    """
    p = existing_file(path)
    header = next(iter(first_lines(p, 1)), "")
    with open_text(p) as handle:
        return parse_lab_csv(handle, source=str(path), timezone=timezone,
                             sep=text_delimiter(p, header))


def parse_lab_csv(handle: IO[str], *, source: str, timezone: str | None = None,
                  sep: str = ",") -> pd.DataFrame:
    """:func:`read_lab_csv` on an open text stream (``source`` names it in errors)."""
    frame = read_string_table(handle, source=source, sep=sep, skip_blank_lines=True)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    absent = [c for c in LAB_CSV_COLUMNS if c not in frame.columns]
    if absent:
        raise InputError("missing column(s): " + ", ".join(absent), source=source, row=1,
                         found=", ".join(map(str, frame.columns)) or "no columns",
                         expected="a header with " + ", ".join(LAB_CSV_COLUMNS)
                         + " (and optionally subject)")
    if len(frame) == 0:
        raise InputError("no lab results", source=source, expected="one result per line "
                         "after the header")
    return lab_table(frame, source=source, rows=list(range(2, len(frame) + 2)),
                     timezone=timezone)


def lab_table(frame: pd.DataFrame, *, source: str | None, rows: Sequence[int | str],
              timezone: str | None = None) -> pd.DataFrame:
    """Validate and normalise lab results given as text cells (one row per result).

    Parameters
    ----------
    frame
        Columns ``time``, ``analyte``, ``value``, ``unit`` and optionally ``subject``.
    source, rows
        The file (or API body) and the row label of each result, for errors.
    timezone
        IANA timezone of times without a UTC offset.
    """
    labels = np.asarray(rows)
    table = frame.reset_index(drop=True)
    for column in ("analyte", "value", "unit"):
        cells = table[column].astype("string").fillna("").str.strip()
        empty = (cells == "").to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InputError(f"{column} is missing", source=source, row=labels[i],
                             column=column, expected=_WHAT[column])
        table[column] = cells
    times = parse_times(table["time"], source=source, column="time", rows=labels,
                        timezone=timezone)
    labs = normalise_labs(table["analyte"], table["value"], table["unit"], source=source,
                          rows=labels)
    subject = (table["subject"].astype("string").fillna("").str.strip().astype(object)
               if "subject" in table.columns else pd.Series("", index=table.index, dtype=object))
    out = pd.DataFrame({"subject": subject.to_numpy()})
    out["time"] = times
    for column in ("analyte", "value", "unit", "reported_value", "reported_unit"):
        out[column] = labs[column].to_numpy()
    return out[list(LAB_TABLE_COLUMNS)]


_WHAT = {"analyte": "an analyte id such as crp", "value": "a number",
         "unit": "a UCUM unit such as mg/L"}

"""pandas' C parser for the readers of small string tables (taxonomy, MetaPhlAn, distance
matrices), with its failures turned into :class:`InputError`s naming the file and line."""

from __future__ import annotations

import re
from typing import IO, Any

import pandas as pd

from gutaxis.errors import InputError


def read_string_table(handle: IO[str], *, source: str, sep: str, skiprows: int = 0,
                      **options: Any) -> pd.DataFrame:
    """Every cell as a string (empty, never NaN) under the header after ``skiprows`` lines.

    Raises
    ------
    InputError
        No header line; a row with more cells than the header (pandas would silently
        take its first cells as an index).
    """
    frame = parse_table(handle, source=source, sep=sep, skiprows=skiprows, dtype=str,
                        keep_default_na=False, **options)
    if not isinstance(frame.index, pd.RangeIndex):
        raise InputError("a row has more cells than the header", source=source,
                         row=skiprows + 2, found=f"{len(frame.columns) + frame.index.nlevels}"
                         " cells", expected=f"{len(frame.columns)} cells, like the header")
    return frame


def parse_table(handle: IO[str], *, source: str, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv(handle, **options)``; an empty or ragged table is an InputError."""
    try:
        return pd.read_csv(handle, **options)
    except InputError:  # from the text stream (not UTF-8, gzip cut short): already located
        raise
    except pd.errors.EmptyDataError:
        raise InputError("no header line", source=source,
                         expected="a header line and data") from None
    except ValueError as exc:  # ParserError, or names that do not fit the header
        raise ragged_table(source, exc) from None


def ragged_table(source: str, exc: Exception) -> InputError:
    """The InputError for a pandas ParserError, with the line it names when it names one."""
    text = str(exc).strip().removeprefix("Error tokenizing data. C error: ")
    line = re.search(r"\bline (\d+)", text)
    return InputError("rows of unequal length", source=source,
                      row=int(line.group(1)) if line else None, found=text,
                      expected="the same number of cells on every line as in the header")

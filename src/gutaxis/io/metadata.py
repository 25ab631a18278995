"""Sample metadata: QIIME 2 metadata TSV and plain TSV/CSV.

The first column holds the sample ids; every other column becomes numeric when all its
non-missing values parse as numbers (or the ``#q2:types`` row says ``numeric``), and
text otherwise (or when ``#q2:types`` says ``categorical``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.io._files import PathLike, existing_file, open_text, text_delimiter

#: Id-column headers QIIME 2 accepts, compared case-insensitively ...
ID_HEADERS = frozenset(
    {"id", "sampleid", "sample id", "sample-id", "featureid", "feature id", "feature-id"}
)
#: ... and these compared exactly.
ID_HEADERS_EXACT = frozenset({"#SampleID", "#Sample ID", "#OTUID", "#OTU ID", "sample_name"})

#: Cells read as missing in every column.
MISSING = frozenset({"", "NA", "N/A", "NaN", "nan"})
#: Extra missing terms of the ``INSDC:missing`` scheme (``#q2:missing`` directive).
INSDC_MISSING = frozenset(
    {"not applicable", "missing", "not provided", "not collected", "restricted access"}
)
_TYPES = {"categorical": "categorical", "numeric": "numeric", "": None}


def read_metadata(path: PathLike, *, id_column: str | None = None) -> pd.DataFrame:
    """Read sample metadata into a typed DataFrame indexed by ``sample_id``.

    Parameters
    ----------
    path
        QIIME 2 metadata TSV (comment lines start with ``#``; an optional
        ``#q2:types`` row right below the header declares ``categorical`` or
        ``numeric`` per column; ``#q2:missing`` may name ``INSDC:missing``), or a plain
        TSV/CSV whose first column holds the ids. ``.gz`` is read transparently.
    id_column
        Take the ids from this column instead of the first one.

    Returns
    -------
    pandas.DataFrame
        Index ``sample_id`` (strings, unique). Numeric columns are ``int64`` when every
        value is a whole number and none is missing, else ``float64``; other columns are
        strings. Empty cells, ``NA``, ``N/A`` and ``NaN`` are missing.

    Raises
    ------
    InputError
        Empty file, duplicated or empty ids, a header cell repeated, a row of the wrong
        length, a ``#q2:types`` value other than categorical/numeric, or a column
        declared numeric that holds text (naming the line and column).
    """
    p = existing_file(path)
    source = str(p)
    header, header_line, directives, rows, lines = _split_lines(p)
    _check_header(header, source=source, line=header_line)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    line_of = np.asarray(lines)
    id_col = header[0] if id_column is None else id_column
    if id_col not in header:
        raise InputError("id column not found", source=source, column=id_col,
                         expected=f"one of {header}")
    ids = frame.pop(id_col).astype(str)
    _check_ids(ids, line_of, source=source, column=id_col)
    types = directives.get("types", [])
    insdc = [m == "insdc:missing" for m in directives.get("missing", [])]
    index = pd.Index(ids.to_numpy(dtype=object), name="sample_id").astype(str)
    out: dict[str, pd.Series] = {}
    for position, name in enumerate(header):
        if name == id_col:
            continue
        declared = (
            _TYPES.get(types[position].strip().lower(), "?") if position < len(types) else None
        )
        if declared == "?":
            raise InputError("unknown column type in #q2:types", source=source, column=name,
                             found=types[position], expected="categorical or numeric")
        use_insdc = position < len(insdc) and insdc[position]
        column = _typed_column(frame[name], declared, use_insdc, line_of,
                               source=source, name=name)
        column.index = index
        out[name] = column
    return pd.DataFrame(out, index=index)


def _split_lines(
    path: Path,
) -> tuple[list[str], int, dict[str, list[str]], list[list[str]], list[int]]:
    """Header, its line number, directives, data rows and their line numbers."""
    source = str(path)
    header: list[str] | None = None
    header_line = 0
    directives: dict[str, list[str]] = {}
    rows: list[list[str]] = []
    lines: list[int] = []
    with open_text(path) as fh:
        text = fh.read()
    raw_lines = text.splitlines()
    first = next((line for line in raw_lines if line.strip()), "")
    delimiter = text_delimiter(path, first)
    for number, cells in enumerate(csv.reader(raw_lines, delimiter=delimiter), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        lead = cells[0]
        if header is None:
            if lead.startswith("#") and lead not in ID_HEADERS_EXACT:
                continue
            header, header_line = cells, number
            continue
        if lead.lower().startswith(("#q2:", "#sk:")):
            key = lead.split(":", 1)[1].lower()
            directives[key] = [c.lower() if key == "missing" else c for c in cells]
            continue
        if lead.startswith("#"):
            continue
        if len(cells) != len(header):
            if len(cells) < len(header) and delimiter == "\t":
                cells = cells + [""] * (len(header) - len(cells))
            else:
                raise InputError("row has the wrong number of cells", source=source, row=number,
                                 found=f"{len(cells)} cells",
                                 expected=f"{len(header)} cells, like the header")
        rows.append(cells)
        lines.append(number)
    if header is None:
        raise InputError("no header line", source=source,
                         expected="a header line whose first cell names the id column")
    if not rows:
        raise InputError("metadata has a header but no rows", source=source, row=header_line,
                         expected="one row per sample")
    return header, header_line, directives, rows, lines


def _check_header(header: list[str], *, source: str, line: int) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError("column name repeated in the header", source=source, row=line,
                             column=name, expected="unique column names")
        seen.add(name)
    if any(not name for name in header):
        raise InputError("empty column name in the header", source=source, row=line,
                         expected="a name for every column")


def _check_ids(ids: pd.Series, line_of: np.ndarray, *, source: str, column: str) -> None:
    empty = (ids == "").to_numpy()
    if empty.any():
        raise InputError("empty sample id", source=source, row=int(line_of[empty.argmax()]),
                         column=column, expected="an id in every row")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        names = ids[dup].unique()
        where = ", ".join(f"{n!r} (lines {', '.join(map(str, line_of[(ids == n).to_numpy()]))})"
                          for n in names[:3])
        raise InputError(f"{len(names)} duplicated sample id(s)", source=source, column=column,
                         found=where, expected="each sample id once")


def _typed_column(
    cells: pd.Series,
    declared: str | None,
    insdc: bool,
    line_of: np.ndarray,
    *,
    source: str,
    name: str,
) -> pd.Series:
    text = cells.astype(str)
    missing_terms = MISSING | INSDC_MISSING if insdc else MISSING
    missing = text.isin(list(missing_terms)).to_numpy()
    numbers = pd.to_numeric(text.where(~missing, np.nan), errors="coerce").to_numpy(
        dtype=np.float64)
    unparsed = ~missing & np.isnan(numbers)
    if declared == "numeric" and unparsed.any():
        i = int(unparsed.argmax())
        raise InputError("text in a column declared numeric", source=source,
                         row=int(line_of[i]), column=name, found=text.iloc[i],
                         expected="a number or an empty cell")
    if declared == "categorical" or unparsed.any() or missing.all():
        return pd.Series(text.where(~missing, np.nan).to_numpy(dtype=object), dtype="str")
    if not missing.any() and np.all(numbers == np.round(numbers)) and np.all(
        np.abs(numbers) < 2**53
    ):
        return pd.Series(numbers.astype(np.int64))
    return pd.Series(numbers)

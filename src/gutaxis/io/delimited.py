"""Delimited (TSV/CSV, optionally gzipped) abundance tables in either orientation.

Reading goes through pandas' C parser in blocks of rows, each block turned into a
sparse matrix at once, so memory stays near the size of the sparse result and no
Python code runs per cell. Writing is chunked the same way and atomic.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.choices import Orientation
from gutaxis.data.profile import ProfileTable, ValueKind, row_of_each_value
from gutaxis.errors import InputError, preview
from gutaxis.io._files import (
    PathLike,
    atomic_path,
    existing_file,
    find_line_number,
    first_lines,
    open_text,
    open_text_for_writing,
    text_delimiter,
)
from gutaxis.io._values import first_negative_cell, infer_kind

ORIENTATIONS: tuple[str, ...] = get_args(Orientation)

#: The comment line that :func:`write_tsv` puts first for a functional table, so that
#: :func:`read_delimited` reads back what the values are:
#: ``# gutaxis: feature_type=module unit=coverage kind=transformed stratified=1``.
GUTAXIS_COMMENT = "# gutaxis:"

#: First-header-cell spellings that say the rows are features (lower-cased).
FEATURE_HEADERS = frozenset(
    {"feature_id", "feature id", "featureid", "feature-id", "#otu id", "#otuid", "otu id",
     "otu_id", "otuid", "otu", "asv", "asv_id", "#asv id", "taxon", "taxa", "species",
     "clade_name", "#feature id", "feature"}
)
#: First-header-cell spellings that say the rows are samples (lower-cased).
SAMPLE_HEADERS = frozenset(
    {"sample_id", "sample id", "sampleid", "sample-id", "#sampleid", "#sample id",
     "sample", "sample_name", "samples"}
)

#: Cells per parsed block; bounds the dense intermediate to ~160 MB of float64.
BLOCK_CELLS = 20_000_000
#: Cells per written block (one Python string object per cell while formatting).
WRITE_BLOCK_CELLS = 4_000_000


@dataclass(frozen=True)
class _Layout:
    """Where the header is and how the file is split."""

    header_line: int  # 1-based line number of the header
    delimiter: str
    header: list[str]


def read_delimited(
    path: PathLike,
    *,
    orientation: Orientation | None = None,
    sample_ids: Sequence[str] | None = None,
    kind: ValueKind | None = None,
) -> ProfileTable:
    """Read a TSV/CSV abundance table (optionally ``.gz``) into a :class:`ProfileTable`.

    Parameters
    ----------
    path
        The table: a header line whose first cell names the id column, then one line
        per row id. Leading comment lines starting with ``#`` (as ``biom convert``
        writes) are skipped; ``#OTU ID``-style headers are recognised.
    orientation
        ``"samples-columns"`` (features as rows, as QIIME and the fibromyalgia table
        store them) or ``"samples-rows"``. When ``None`` it is decided from
        ``sample_ids`` if given, else from the first header cell (``feature_id``,
        ``#OTU ID``, ... vs ``sample_id``, ``#SampleID``, ...).
    sample_ids
        Known sample ids (usually the metadata index): the side of the table whose
        ids match more of them holds the samples.
    kind
        ``counts``, ``relative``, ``clr`` or ``transformed``; inferred when ``None``
        (see :func:`gutaxis.io._values.infer_kind`). Percentages become proportions.

    Returns
    -------
    ProfileTable

    Raises
    ------
    InputError
        Empty file, duplicated ids, a non-numeric, empty or negative cell (naming the
        row id, column id and 1-based line number), an undecidable orientation.
    """
    p = existing_file(path)
    layout = _find_layout(p)
    described = _described(p, layout)
    kind = _described_kind(described, kind, source=str(p))
    row_ids, values = _read_matrix(p, layout, allow_negative=kind in ("clr", "transformed"))
    col_ids = np.asarray(layout.header[1:], dtype=object)
    side = _decide_orientation(p, layout, row_ids, col_ids, orientation, sample_ids)
    if side == "samples-columns":
        samples, features, matrix = col_ids, row_ids, sp.csr_array(values.T)
    else:
        samples, features, matrix = row_ids, col_ids, values
    if "kind" in described and kind is not None:  # as the file says: no rescaling
        found_kind, scale = kind, 1.0
    else:
        found_kind, scale = infer_kind(matrix, kind=kind, source=str(p))
    if scale != 1.0:
        matrix = matrix * scale
    if not described:
        return ProfileTable(matrix, samples, features, kind=found_kind)
    strata = None
    if described.get("stratified") == "1":
        parts = pd.Series(features, dtype=object).str.split("|", n=1, expand=True)
        if parts.shape[1] < 2 or parts[1].isna().any():
            raise InputError("a stratified table has a feature without '|taxon'",
                             source=str(p), expected="ids such as MGB001|g__Bacteroides")
        strata = pd.DataFrame({"function": parts[0].to_numpy(), "taxon": parts[1].to_numpy()},
                              index=pd.Index(features, dtype=object))
    return ProfileTable(matrix, samples, features, kind=found_kind,
                        feature_type=described.get("feature_type", "taxon"),  # type: ignore[arg-type]
                        unit=described.get("unit"), strata=strata)


def _described(path: Path, layout: _Layout) -> dict[str, str]:
    """The ``key=value`` fields of a leading ``# gutaxis:`` comment line (else empty)."""
    for line in first_lines(path, layout.header_line - 1):
        if line.startswith(GUTAXIS_COMMENT):
            fields = dict(item.partition("=")[::2]
                          for item in line[len(GUTAXIS_COMMENT):].split())
            return {k: v for k, v in fields.items()
                    if k in ("feature_type", "unit", "kind", "stratified") and v}
    return {}


def _described_kind(described: dict[str, str], kind: ValueKind | None, *, source: str
                    ) -> ValueKind | None:
    said = described.get("kind")
    if said is None:
        return kind
    if kind is not None and kind != said:
        raise InputError(f"the table says its values are {said}", source=source,
                         field="kind", found=kind,
                         expected=f"{said} (the file's '# gutaxis:' line), or no kind")
    return said  # type: ignore[return-value]


def write_tsv(
    table: ProfileTable,
    path: PathLike,
    *,
    orientation: Orientation = "samples-columns",
) -> None:
    """Write a table as TSV (``.gz`` compresses), atomically.

    With ``orientation="samples-columns"`` (default) each line is a feature, the header
    is ``feature_id`` followed by the sample ids, as in the shared fibromyalgia table;
    ``"samples-rows"`` writes ``sample_id`` then the feature ids. Counts that are whole
    numbers are written as integers, other values with the shortest representation that
    reads back to the same float64, so a round trip is lossless. A functional table
    (or one with a unit) starts with a ``# gutaxis: feature_type=ko unit=RPK kind=counts``
    comment line, from which :func:`read_delimited` restores what the values are.

    Parameters
    ----------
    table
        The table to write.
    path
        Where to write it (``.gz`` compresses).
    orientation
        ``"samples-columns"`` (default) or ``"samples-rows"``.
    """
    if orientation not in ORIENTATIONS:
        raise InputError("unknown orientation", found=orientation,
                         expected=" or ".join(ORIENTATIONS))
    target = Path(path)
    by_row = table.values if orientation == "samples-rows" else sp.csr_array(table.values.T)
    row_ids = table.sample_ids if orientation == "samples-rows" else table.feature_ids
    col_ids = table.feature_ids if orientation == "samples-rows" else table.sample_ids
    first = "sample_id" if orientation == "samples-rows" else "feature_id"
    data = table.values.data
    as_int = table.kind == "counts" and bool(np.all(data == np.round(data)))
    step = max(1, WRITE_BLOCK_CELLS // max(1, len(col_ids)))
    labels = _quoted(row_ids)
    with atomic_path(target) as tmp, open_text_for_writing(
        tmp, compress=target.suffix == ".gz"
    ) as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        if table.is_functional or table.unit is not None:
            fh.write(_description(table) + "\n")
        writer.writerow([first, *map(str, col_ids)])
        for lo in range(0, by_row.shape[0], step):
            fh.write(_format_rows(by_row[lo : lo + step], labels[lo : lo + step], as_int))


def _description(table: ProfileTable) -> str:
    fields = {"feature_type": table.feature_type, "unit": table.unit, "kind": table.kind,
              "stratified": "1" if table.is_stratified else None}
    return " ".join([GUTAXIS_COMMENT, *(f"{k}={v}" for k, v in fields.items() if v)])


def _format_rows(block: sp.csr_array, labels: np.ndarray, as_int: bool) -> str:
    """Lines of ``label<TAB>value...`` for a block of sparse rows.

    Every cell starts as ``"0"`` and only the nonzero cells are formatted (as integers,
    or with ``repr``, the shortest text that reads back to the same float64), so the cost
    is one string per nonzero plus one C-level join per line.
    """
    n_rows, n_cols = block.shape
    cells = np.full((n_rows, n_cols + 1), "0", dtype=object)
    cells[:, 0] = labels
    rows = row_of_each_value(block)
    data = block.data
    texts = (data.astype(np.int64).astype(str) if as_int
             else np.fromiter(map(repr, data.tolist()), dtype=object, count=data.size))
    cells[rows, block.indices + 1] = texts
    return "".join(map(_line, cells.tolist()))


def _line(cells: list[str]) -> str:
    return "\t".join(cells) + "\n"


def _quoted(ids: np.ndarray) -> np.ndarray:
    """Ids quoted as the CSV rules want when they hold a tab, newline or quote."""
    text = pd.Series(np.asarray(ids, dtype=object).astype(str), dtype=object)
    special = text.str.contains(r'[\t\n\r"]', regex=True).to_numpy(dtype=bool)
    if special.any():
        text[special] = '"' + text[special].str.replace('"', '""') + '"'
    return text.to_numpy(dtype=object)


# ----------------------------------------------------------------------------- reading
def _find_layout(path: Path) -> _Layout:
    lines = first_lines(path, 200)
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        raise InputError("file has no header line", source=str(path),
                         expected="a header line and data")
    # leading '#' lines are comments, except a '#OTU ID'-style header right before the data
    first_plain = next((i for i in content if not lines[i].startswith("#")), None)
    hash_lines = [i for i in content if first_plain is None or i < first_plain]
    header_idx = first_plain
    if hash_lines:
        last = lines[hash_lines[-1]]
        delimiter = text_delimiter(path, last)
        if delimiter in last and (
            first_plain is None or _n_fields(last, delimiter) == _n_fields(lines[first_plain],
                                                                            delimiter)
        ):
            header_idx = hash_lines[-1]
    if header_idx is None:
        raise InputError("file has only comment lines", source=str(path),
                         expected="a header line and data")
    delimiter = text_delimiter(path, lines[header_idx])
    header = next(csv.reader([lines[header_idx]], delimiter=delimiter))
    header = [h.strip() for h in header]
    if len(header) < 2:
        raise InputError("header has a single column", source=str(path), row=header_idx + 1,
                         found=lines[header_idx][:80],
                         expected="an id column and at least one data column, tab- or "
                         "comma-separated")
    _require_unique(header[1:], source=str(path), where="column", line=header_idx + 1)
    return _Layout(header_idx + 1, delimiter, header)


def _n_fields(line: str, delimiter: str) -> int:
    return len(next(csv.reader([line], delimiter=delimiter)))


def _read_matrix(
    path: Path, layout: _Layout, *, allow_negative: bool
) -> tuple[np.ndarray, sp.csr_array]:
    n_cols = len(layout.header) - 1
    try:
        ids, blocks = _parse_blocks(path, layout, allow_negative)
    except pd.errors.EmptyDataError:
        ids, blocks = [], []
    except pd.errors.ParserError as exc:
        raise InputError("rows of unequal length", source=str(path), found=str(exc).strip(),
                         expected=f"{n_cols + 1} fields per line, like the header") from None
    if not ids:
        raise InputError("table has a header but no rows", source=str(path),
                         expected="at least one data line")
    row_ids = np.concatenate(ids).astype(str)
    row_ids = np.char.strip(row_ids).astype(object)
    _require_unique(list(row_ids), source=str(path), where="row", line=None)
    return row_ids, sp.csr_array(sp.vstack(blocks, format="csr"))


def _parse_blocks(
    path: Path, layout: _Layout, allow_negative: bool
) -> tuple[list[np.ndarray], list[sp.csr_array]]:
    """Parse the data lines in blocks of rows with pandas' C parser.

    Column types are inferred per block (integers parse faster than floats); a column
    that is not numeric is then searched for the offending cell, which is named.
    """
    n_cols = len(layout.header) - 1
    block_rows = max(1, BLOCK_CELLS // max(1, n_cols))
    ids: list[np.ndarray] = []
    blocks: list[sp.csr_array] = []
    with open_text(path) as fh:
        reader = pd.read_csv(
            fh, sep=layout.delimiter, header=None, skiprows=layout.header_line,
            index_col=0, dtype={0: str}, na_filter=False, skip_blank_lines=True,
            chunksize=block_rows, engine="c",
        )
        for chunk in reader:
            if chunk.empty:
                continue
            if chunk.shape[1] != n_cols:
                raise pd.errors.ParserError(
                    f"{chunk.shape[1] + 1} fields in the row of id {chunk.index[0]!r}")
            ids.append(chunk.index.to_numpy(dtype=object))
            blocks.append(_block_values(chunk, path, layout, allow_negative))
    return ids, blocks


def _block_values(
    chunk: pd.DataFrame, path: Path, layout: _Layout, allow_negative: bool
) -> sp.csr_array:
    for position, dtype in enumerate(chunk.dtypes):
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            _raise_bad_cell(chunk, position, path, layout)
    values = chunk.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        row, col = (int(v) for v in np.argwhere(~np.isfinite(values))[0])
        short = bool(np.isnan(values[row, col]))
        _raise_cell(path, layout, str(chunk.index[row]), col, values[row, col],
                    "missing cell (row shorter than the header?)" if short
                    else "not a finite number", "a finite number")
    if not allow_negative:
        cell = first_negative_cell(values)
        if cell is not None:
            row, col = cell
            _raise_cell(path, layout, str(chunk.index[row]), col, values[row, col],
                        "negative value", "a value >= 0 (abundances cannot be negative)")
    return sp.csr_array(values)


def _raise_bad_cell(chunk: pd.DataFrame, position: int, path: Path, layout: _Layout) -> None:
    raw = chunk.iloc[:, position]
    parsed = pd.to_numeric(raw.astype(str).str.strip().replace("", "x"), errors="coerce")
    row = int(np.flatnonzero(parsed.isna().to_numpy())[0]) if parsed.isna().any() else 0
    cell = raw.iloc[row]
    what = "empty cell" if pd.isna(cell) or str(cell).strip() == "" else "non-numeric value"
    _raise_cell(path, layout, str(chunk.index[row]), position, cell, what, "a number")


def _raise_cell(path: Path, layout: _Layout, row_id: str, col: int, found: object,
                what: str, expected: str) -> None:
    line = find_line_number(path, row_id, layout.delimiter)
    raise InputError(f"{what} in the row of id {row_id!r}", source=str(path), row=line,
                     column=layout.header[col + 1], found=found, expected=expected)


def _require_unique(ids: list[str], *, source: str, where: str, line: int | None) -> None:
    index = pd.Index(ids)
    if (index == "").any():
        raise InputError(f"empty {where} id", source=source, row=line,
                         expected=f"an id for every {where}")
    if index.has_duplicates:
        dupes = index[index.duplicated()].unique()
        raise InputError(f"duplicate {where} ids", source=source, row=line,
                         found=preview(dupes),
                         expected=f"each {where} id once")


# ------------------------------------------------------------------------- orientation
def _decide_orientation(
    path: Path,
    layout: _Layout,
    row_ids: np.ndarray,
    col_ids: np.ndarray,
    orientation: Orientation | None,
    sample_ids: Sequence[str] | None,
) -> Orientation:
    if orientation is not None:
        if orientation not in ORIENTATIONS:
            raise InputError("unknown orientation", source=str(path), found=orientation,
                             expected=" or ".join(ORIENTATIONS))
        return orientation
    if sample_ids is not None:
        known = pd.Index(np.asarray(sample_ids, dtype=object).astype(str))
        in_rows = int(pd.Index(row_ids.astype(str)).isin(known).sum())
        in_cols = int(pd.Index(col_ids.astype(str)).isin(known).sum())
        if in_rows > in_cols:
            return "samples-rows"
        if in_cols > in_rows:
            return "samples-columns"
        if in_rows < min(len(row_ids), len(col_ids)) / 2:  # ids that do not match, not a tie
            raise InputError(
                ("none" if in_rows == 0 else f"only {in_rows}") + " of the metadata's sample "
                f"ids (e.g. {preview(known, 3)}) are among the table's row or column ids; do "
                "the table and the metadata belong together?", source=str(path),
                found=f"rows {preview(row_ids.astype(str), 2)}; columns "
                f"{preview(col_ids.astype(str), 2)}",
                expected="the table's sample ids in the metadata's first column")
        found = (f"{in_rows} row ids and {in_cols} column ids match, e.g. rows "
                 f"{', '.join(map(str, row_ids[:3]))}; columns {', '.join(map(str, col_ids[:3]))}")
        raise InputError("cannot tell whether samples are rows or columns from the sample ids",
                         source=str(path), found=found,
                         expected=f"table ids that match the metadata ids, e.g. "
                         f"{', '.join(map(str, known[:3]))}; or give the orientation")
    first = layout.header[0].strip().lower()
    if first in FEATURE_HEADERS:
        return "samples-columns"
    if first in SAMPLE_HEADERS:
        return "samples-rows"
    raise InputError(
        "cannot tell whether samples are rows or columns", source=str(path),
        row=layout.header_line, column=layout.header[0],
        found=f"first header cell {layout.header[0]!r}",
        expected="orientation 'samples-rows' or 'samples-columns', sample ids (metadata), "
        "or a first header cell such as 'feature_id' or 'sample_id'",
    )

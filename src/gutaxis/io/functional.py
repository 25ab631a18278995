"""What the HUMAnN and PICRUSt2 readers share: parsing a tab-separated function table in
blocks of rows, naming what its features are, and building the functional
:class:`~gutaxis.data.profile.ProfileTable` (community rows, or function x taxon strata).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import UNIT_KINDS, FeatureType, ProfileTable, ValueKind
from gutaxis.errors import DataKindError, InputError, preview
from gutaxis.io._csv import ragged_table
from gutaxis.io._files import first_lines, open_text
from gutaxis.io._values import first_negative_cell

#: Rows HUMAnN (and PICRUSt2's conversions of HUMAnN tables) write for reads or
#: abundance that no function took: not features, dropped by the readers.
SPECIAL_ROWS = frozenset({"UNMAPPED", "UNINTEGRATED", "UNGROUPED", "READS_UNMAPPED"})

#: Function id patterns, tried in this order; the type most ids match names the table.
ID_PATTERNS: dict[FeatureType, re.Pattern[str]] = {
    "ko": re.compile(r"^(?:ko:)?K\d{5}$"),
    "ec": re.compile(r"^(?:EC[:.]?)?\d+\.(?:\d+|-)\.(?:\d+|-)\.(?:n?\d+|-)$"),
    "gene_family": re.compile(r"^UniRef(?:50|90|100)_\S+$"),
}

#: Variable-width strings, for numpy's vectorised string functions (``np.strings``).
STRINGS = np.dtypes.StringDType()
#: At most this many ids (evenly spaced) decide what the function ids are.
TYPE_SAMPLE = 2_000
#: Cells per parsed block; bounds the dense intermediate of one block (~160 MB).
BLOCK_CELLS = 20_000_000


@dataclass(frozen=True)
class FunctionRows:
    """The rows of a function table as parsed: text columns and a sparse value block."""

    text: pd.DataFrame  # one column per text column of the file (ids, taxa, samples)
    values: sp.csr_array  # rows x value columns, float64, finite, >= 0


def header_of(path: Path) -> tuple[int, list[str]]:
    """1-based line number and cells of the header: the first non-empty line.

    Raises
    ------
    InputError
        No non-empty line; a header with a single cell; a column name repeated.
    """
    for number, line in enumerate(first_lines(path, 500), start=1):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if len(cells) < 2:
            raise InputError("header has a single column", source=str(path), row=number,
                             found=line[:80], expected="tab-separated columns: a function "
                             "id column, then one column per sample")
        repeated = sorted({c for c in cells if cells.count(c) > 1})
        if repeated:
            raise InputError("column name repeated in the header", source=str(path),
                             row=number, found=preview(repeated),
                             expected="one column per sample")
        return number, cells
    raise InputError("file has no header line", source=str(path),
                     expected="a header line and data")


def parse_rows(path: Path, *, header_line: int, header: list[str], text_columns: list[str],
               value_columns: list[str]) -> FunctionRows:
    """Parse the lines after the header in blocks with pandas' C parser.

    Every value cell must be a finite number >= 0; the first that is not is named with
    its 1-based line (counted without blank lines), row id and column.
    """
    source = str(path)
    block_rows = max(1, BLOCK_CELLS // max(1, len(header)))
    texts: list[pd.DataFrame] = []
    blocks: list[sp.csr_array] = []
    done = 0
    try:
        with open_text(path) as fh:
            reader = pd.read_csv(
                fh, sep="\t", header=None, names=header, skiprows=header_line,
                dtype=dict.fromkeys(text_columns, str), na_filter=False,
                skip_blank_lines=True, chunksize=block_rows, engine="c")
            for chunk in reader:
                if chunk.empty:
                    continue
                if not isinstance(chunk.index, pd.RangeIndex):  # extra cells: pandas
                    raise InputError(  # would take the first ones as an index
                        "a row has more cells than the header", source=source,
                        row=header_line + 1 + done, expected=f"{len(header)} cells")
                texts.append(chunk[text_columns])
                blocks.append(_block_values(chunk, path, header_line + 1 + done,
                                            text_columns[0], value_columns))
                done += len(chunk)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        pass
    except ValueError as exc:  # a row with more cells than the header
        raise ragged_table(source, exc) from None
    if not done:
        raise InputError("table has a header but no rows", source=source,
                         expected="at least one data line")
    text = pd.concat(texts, ignore_index=True)
    stripped = {c: np.strings.strip(text[c].to_numpy(dtype=object).astype(STRINGS)).astype(
        object) for c in text.columns}
    return FunctionRows(pd.DataFrame(stripped, dtype=object),
                        sp.csr_array(sp.vstack(blocks, format="csr")))


def _block_values(chunk: pd.DataFrame, path: Path, first_line: int, id_column: str,
                  value_columns: list[str]) -> sp.csr_array:
    frame = chunk[value_columns]
    for position, dtype in enumerate(frame.dtypes):
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raw = frame.iloc[:, position]
            parsed = pd.to_numeric(raw.astype(str).str.strip().replace("", "x"),
                                   errors="coerce")
            row = int(np.flatnonzero(parsed.isna().to_numpy())[0]) if parsed.isna().any() else 0
            cell = raw.iloc[row]
            empty = pd.isna(cell) or str(cell).strip() == ""
            _raise_cell(path, first_line + row, chunk[id_column].iloc[row],
                        value_columns[position], cell,
                        "empty cell (or a row shorter than the header)" if empty
                        else "non-numeric value", "a number")
    values = frame.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        row, col = (int(v) for v in np.argwhere(~np.isfinite(values))[0])
        short = bool(np.isnan(values[row, col]))
        _raise_cell(path, first_line + row, chunk[id_column].iloc[row], value_columns[col],
                    values[row, col], "missing cell (row shorter than the header?)" if short
                    else "not a finite number", "a finite number")
    cell = first_negative_cell(values)
    if cell is not None:
        row, col = cell
        _raise_cell(path, first_line + row, chunk[id_column].iloc[row], value_columns[col],
                    values[row, col], "negative value", "a value >= 0")
    return dense_to_csr(values)


def dense_to_csr(values: np.ndarray) -> sp.csr_array:
    """The nonzero cells of a dense 2-D array as CSR, from one flat scan (scipy's own
    conversion goes through a COO copy: about 2x slower on a 5,526 x 109 table here)."""
    n_rows, n_cols = values.shape
    flat = np.flatnonzero(values)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat // max(n_cols, 1), minlength=n_rows), out=indptr[1:])
    return sp.csr_array((values.ravel()[flat], flat % max(n_cols, 1), indptr),
                        shape=(n_rows, n_cols))


def _raise_cell(path: Path, line: int, row_id: object, column: str, found: object,
                what: str, expected: str) -> None:
    raise InputError(f"{what} in the row of {str(row_id).strip()!r}", source=str(path),
                     row=line, column=column, found=found, expected=expected)


def require_unique(keys: pd.Series | pd.DataFrame, *, source: str, header_line: int,
                   what: str) -> None:
    """Refuse a function (or function x taxon, or sample x function x taxon) listed twice."""
    repeated = keys.duplicated(keep="first").to_numpy()
    if repeated.any():
        first = int(np.flatnonzero(repeated)[0])
        shown = (keys.iloc[np.flatnonzero(repeated)].astype(str).agg("|".join, axis=1)
                 if isinstance(keys, pd.DataFrame) else keys[repeated])
        raise InputError(f"{what} listed twice", source=source, row=header_line + 1 + first,
                         found=preview(pd.unique(np.asarray(shown, dtype=object))),
                         expected=f"each {what} once")


def infer_feature_type(functions: np.ndarray, *, pathway: bool,
                       gene_family: bool = False) -> FeatureType:
    """What the function ids are: ``pathway`` when the header says so, else the id type
    (:data:`ID_PATTERNS`) most ids match (of at most :data:`TYPE_SAMPLE` evenly spaced
    ones), else ``gene_family`` for a HUMAnN gene-family header, else ``function``.

    Examples
    --------
    >>> import numpy as np
    >>> infer_feature_type(np.array(["K00001", "K00002", "other"]), pathway=False)
    'ko'
    >>> infer_feature_type(np.array(["EC:1.1.1.1", "2.7.1.41"]), pathway=False)
    'ec'
    """
    if pathway:
        return "pathway"
    functions = np.asarray(functions, dtype=object)
    if len(functions) > TYPE_SAMPLE:
        functions = functions[np.linspace(0, len(functions) - 1, TYPE_SAMPLE).astype(int)]
    ids = pd.Series(functions, dtype=object)
    best: FeatureType = "gene_family" if gene_family else "function"
    best_share = 0.5
    for feature_type, pattern in ID_PATTERNS.items():
        share = float(ids.str.match(pattern).mean()) if len(ids) else 0.0
        if share > best_share:
            best, best_share = feature_type, share
    return best


def check_unit(unit: str | None, *, source: str, what: str = "unit") -> None:
    """Refuse a unit gutaxis does not know."""
    if unit is not None and unit not in UNIT_KINDS:
        raise InputError(f"unknown {what}", source=source, field="unit", found=unit,
                         expected=f"one of {', '.join(UNIT_KINDS)}")


def check_kind(kind: ValueKind | None, unit: str, *, source: str) -> None:
    """Refuse a ``kind`` the caller asserts when the file's unit implies another."""
    if kind is not None and kind != UNIT_KINDS[unit]:
        raise InputError(f"the table holds {unit} values, which are {UNIT_KINDS[unit]}",
                         source=source, field="kind", found=kind,
                         expected=f"{UNIT_KINDS[unit]} (or no kind: it is read from the file)")


def stratified_only(source: str, n_rows: int | None, reader: str) -> DataKindError:
    """The error for a stratified-only file read for community totals."""
    return DataKindError(
        "the file holds only stratified (function x taxon) rows, no community totals",
        source=source, found="a contribution table" if n_rows is None
        else f"{n_rows} stratified rows",
        expected="the unstratified table (HUMAnN's rows without '|', as "
        "humann_split_stratified_table writes them; PICRUSt2's *_unstrat.tsv); in Python, "
        f"{reader}(path, stratified=True).unstratified() sums gene families, KOs and ECs "
        "over taxa")


def only_unassigned(source: str, n_rows: int) -> InputError:
    """The error for a table whose rows are all HUMAnN's unassigned ones."""
    return InputError("no function rows besides the unassigned ones", source=source,
                      found=f"{n_rows} rows named {', '.join(sorted(SPECIAL_ROWS))}",
                      expected="at least one function row")


def unstratified_only(source: str, n_rows: int) -> DataKindError:
    """The error for an unstratified file read for its function x taxon strata."""
    return DataKindError(
        "the file holds no stratified (function x taxon) rows", source=source,
        found=f"{n_rows} community rows",
        expected="a stratified table (HUMAnN's function|taxon rows, PICRUSt2's "
        "pred_metagenome_contrib.tsv or *_strat.tsv), or stratified=False")


def functional_table(values: sp.csr_array, sample_ids: np.ndarray, functions: np.ndarray,
                     taxa: np.ndarray | None, *, feature_type: FeatureType,
                     unit: str) -> ProfileTable:
    """Build the table from samples x features values.

    With ``taxa`` the features are ``function|taxon`` and the strata say which is which.
    """
    functions = np.asarray(functions, dtype=object).astype(str)
    if taxa is None:
        return ProfileTable(values, sample_ids, functions, kind=UNIT_KINDS[unit],
                            feature_type=feature_type, unit=unit)
    taxa = np.asarray(taxa, dtype=object).astype(str)
    feature_ids = np.char.add(np.char.add(functions.astype(str), "|"), taxa.astype(str))
    strata = pd.DataFrame({"function": functions, "taxon": taxa},
                          index=pd.Index(feature_ids, name="feature_id"))
    return ProfileTable(values, sample_ids, feature_ids, kind=UNIT_KINDS[unit],
                        feature_type=feature_type, unit=unit, strata=strata)

"""MetaPhlAn 3/4 profiles: merged abundance tables and single-sample profiles.

A profile lists every clade of the hierarchy (``k__Bacteria``,
``k__Bacteria|p__Firmicutes``, ...) with its abundance in percent. gutaxis keeps the
clades of one rank (species by default), so no read is counted twice, and turns the
percentages into proportions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.data.profile import RANKS, ProfileTable
from gutaxis.errors import InputError, preview
from gutaxis.io._csv import parse_table
from gutaxis.io._files import PathLike, existing_file, find_line_number, first_lines, open_text
from gutaxis.io._values import SUM_TOLERANCE, first_negative_cell
from gutaxis.io.lineages import parse_lineages

#: Rank -> MetaPhlAn prefix letter (``strain`` is MetaPhlAn's ``t__`` level, SGBs in v4).
LEVELS: dict[str, str] = {**{rank: rank[0] for rank in RANKS}, "strain": "t"}
#: Columns that are not samples.
TAXID_COLUMNS = frozenset({"ncbi_tax_id", "clade_taxid", "taxid", "additional_species"})


def is_metaphlan(lines: list[str]) -> bool:
    """Whether the first lines of a file look like a MetaPhlAn profile."""
    for line in lines:
        first = line.split("\t", 1)[0].strip().lower()
        if first.startswith("#mpa_") or first.lstrip("#") == "clade_name":
            return True
    return False


def read_metaphlan(path: PathLike, *, level: str | None = None) -> ProfileTable:
    """Read a MetaPhlAn merged abundance table (or a single-sample profile).

    Parameters
    ----------
    path
        Tab-separated, optionally gzipped: ``#mpa_v...`` comment lines, a header whose
        first cell is ``clade_name`` (``#clade_name`` in single-sample profiles), an
        optional ``NCBI_tax_id``/``clade_taxid`` column, then one column per sample
        (a single-sample profile's ``relative_abundance`` column is named after the
        file). Values are percentages.
    level
        The rank to keep: ``kingdom`` .. ``species`` or ``strain`` (``t__``). Default:
        ``species`` when present, else the deepest rank present.

    Returns
    -------
    ProfileTable
        Kind ``relative`` (percent / 100); features are the clades of ``level``, named by
        their last name without prefix (``Bacteroides_ovatus``), or by the full clade name
        when those short names repeat. The taxonomy holds the ranks of each clade.

    References
    ----------
    Blanco-Miguez A, et al. Extending and improving metagenomic taxonomic profiling
    with uncharacterized species using MetaPhlAn 4. Nature Biotechnology 41:1633-1644
    (2023).
    """
    p = existing_file(path)
    source = str(p)
    header_line, header = _header(p)
    name_col = header[0]
    sample_cols = [c for c in header[1:] if c.strip().lower() not in TAXID_COLUMNS]
    if header[1:] and [c.lower() for c in sample_cols] == ["relative_abundance"]:
        renamed = {sample_cols[0]: p.name.split(".")[0]}
    else:
        renamed = {}
    if not sample_cols:
        raise InputError("MetaPhlAn table has no sample columns", source=source,
                         row=header_line, found=header, expected="clade_name then samples")
    with open_text(p) as fh:
        frame = parse_table(fh, source=source, sep="\t", header=None, names=header,
                            skiprows=header_line, dtype={name_col: str}, na_filter=False,
                            comment=None, usecols=[name_col, *sample_cols], engine="c")
    frame = frame[~frame[name_col].astype(str).str.startswith("#")]
    clades = frame[name_col].astype(str).str.strip()
    values = _numeric(frame[sample_cols], clades, p)
    letters = clades.str.rsplit("|", n=1).str[-1].str.extract(r"^([a-z])__", expand=False)
    chosen = _choose_level(letters, level, source)
    keep = (letters == LEVELS[chosen]).to_numpy()
    kept = clades[keep].to_numpy(dtype=str)
    if pd.Index(kept).has_duplicates:
        dupes = pd.Index(kept)[pd.Index(kept).duplicated()].unique()
        raise InputError("clade listed twice", source=source, column=name_col,
                         found=preview(dupes), expected="each clade once")
    matrix = values[keep].T / 100.0
    totals = matrix.sum(axis=1)
    if totals.size and totals.max() > 1.0 + SUM_TOLERANCE:
        worst = int(totals.argmax())
        raise InputError(f"{chosen} abundances sum to more than 100% in a sample",
                         source=source, column=sample_cols[worst],
                         found=f"{100 * totals[worst]:g}%", expected="percentages (<= 100)")
    short = pd.Series(kept).str.rsplit("|", n=1).str[-1].str.replace(r"^[a-z]__", "",
                                                                      regex=True)
    feature_ids = kept if short.duplicated().any() else short.to_numpy(dtype=str)
    taxonomy = parse_lineages(pd.Series(kept, index=feature_ids))
    samples = np.asarray([renamed.get(c, c) for c in sample_cols], dtype=object)
    return ProfileTable(matrix, samples, feature_ids, kind="relative", taxonomy=taxonomy)


def _header(path: Path) -> tuple[int, list[str]]:
    lines = first_lines(path, 500)
    for number, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split("\t")]
        if cells[0].lstrip("#").lower() in ("clade_name", "clade"):
            repeated = sorted({c for c in cells if cells.count(c) > 1})
            if repeated:
                raise InputError("column name repeated in the header", source=str(path),
                                 row=number, found=preview(repeated),
                                 expected="one column per sample")
            return number, [cells[0].lstrip("#"), *cells[1:]]
    raise InputError("no MetaPhlAn header line", source=str(path),
                     expected="a header line starting with 'clade_name'")


def _numeric(frame: pd.DataFrame, clades: pd.Series, path: Path) -> np.ndarray:
    frame = frame.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            parsed = pd.to_numeric(frame[column].astype(str).replace("", "x"), errors="coerce")
            bad = np.flatnonzero(parsed.isna().to_numpy())
            if bad.size:
                i = int(bad[0])
                _raise(path, clades.iloc[i], column, frame[column].iloc[i],
                       "non-numeric value", "a percentage")
            frame[column] = parsed  # numbers pandas left as text (e.g. an empty column)
    values = frame.to_numpy(dtype=np.float64)
    cell = first_negative_cell(values)
    if cell is None and not np.all(np.isfinite(values)):
        cell = tuple(int(v) for v in np.argwhere(~np.isfinite(values))[0])  # type: ignore[assignment]
    if cell is not None:
        row, col = cell
        _raise(path, clades.iloc[row], frame.columns[col], values[row, col], "bad value",
               "a finite percentage >= 0")
    return values


def _raise(path: Path, clade: str, column: str, found: object, what: str,
           expected: str) -> None:
    raise InputError(f"{what} for clade {clade!r}", source=str(path),
                     row=find_line_number(path, clade, "\t"), column=str(column),
                     found=found, expected=expected)


def _choose_level(letters: pd.Series, level: str | None, source: str) -> str:
    present = set(letters.dropna().unique())
    if level is not None:
        if level not in LEVELS:
            raise InputError("unknown MetaPhlAn level", source=source, found=level,
                             expected=f"one of {', '.join(LEVELS)}")
        if LEVELS[level] not in present:
            raise InputError(f"no {level} rows in the profile", source=source, found=level,
                             expected=f"one of the ranks present: "
                             f"{', '.join(r for r, c in LEVELS.items() if c in present)}")
        return level
    if "s" in present:
        return "species"
    deepest = [rank for rank, letter in LEVELS.items() if letter in present and rank != "strain"]
    if not deepest:
        raise InputError("no ranked clades (k__, p__, ...) in the profile", source=source,
                         expected="clade names such as 'k__Bacteria|p__Firmicutes'")
    return deepest[-1]

"""Taxonomy files: QIIME 2 ``Feature ID``/``Taxon`` TSV, ``.qza`` and per-rank tables.

:func:`read_taxonomy` returns a DataFrame indexed by ``feature_id`` with one column per rank
of :data:`gutaxis.data.profile.RANKS`, built by :mod:`gutaxis.io.lineages` (rank prefixes
removed, ``NaN`` where a rank is not assigned).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gutaxis.data.profile import RANKS
from gutaxis.errors import InputError
from gutaxis.io._csv import read_string_table
from gutaxis.io._files import (
    PathLike,
    atomic_path,
    existing_file,
    first_lines,
    open_text,
    open_text_for_writing,
    text_delimiter,
)
from gutaxis.io.lineages import taxonomy_from_frame
from gutaxis.io.qiime2 import read_qza_taxonomy


def read_taxonomy(path: PathLike) -> pd.DataFrame:
    """Read a taxonomy: QIIME 2 TSV, ``FeatureData[Taxonomy]`` ``.qza`` or per-rank TSV.

    Parameters
    ----------
    path
        - QIIME 2 taxonomy TSV: columns ``Feature ID``, ``Taxon`` and optionally
          ``Confidence`` (``Taxon`` like ``"d__Bacteria; p__Firmicutes; ..."``);
        - a ``.qza`` artifact of type ``FeatureData[Taxonomy]``;
        - a per-rank table: a feature id column then rank columns (``kingdom`` ..
          ``species``; ``domain`` is read as ``kingdom``), tab- or comma-separated,
          optionally gzipped. ``0``, empty, ``NA`` and ``Unassigned`` mean not assigned.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``feature_id``; columns :data:`RANKS` (object dtype, ``NaN`` where not
        assigned) plus ``confidence`` (float) when the file has one.
    """
    p = existing_file(path)
    if p.suffix.lower() == ".qza":
        return read_qza_taxonomy(p)
    header_line, header = _header_line(p)
    sep = text_delimiter(p, header)
    with open_text(p) as fh:
        frame = read_string_table(fh, source=str(p), sep=sep, skiprows=header_line - 1,
                                  comment=None, skip_blank_lines=True)
    return taxonomy_from_frame(frame, source=str(p), header_line=header_line)


def write_taxonomy(taxonomy: pd.DataFrame, path: PathLike) -> None:
    """Write a rank table as a per-rank TSV (``feature_id`` then the ranks; empty = NaN).

    The file is written to a temporary name and renamed into place.

    Parameters
    ----------
    taxonomy
        Feature ids as index, one column per rank (as :func:`read_taxonomy` gives).
    path
        Where to write the TSV.
    """
    target = Path(path)
    columns = [c for c in (*RANKS, "confidence") if c in taxonomy.columns]
    frame = taxonomy[columns].copy()
    frame.index = pd.Index(frame.index.astype(str), name="feature_id")
    with atomic_path(target) as tmp, open_text_for_writing(
        tmp, compress=target.suffix == ".gz"
    ) as fh:
        frame.to_csv(fh, sep="\t", na_rep="", lineterminator="\n")


def _header_line(path: Path) -> tuple[int, str]:
    """The header's 1-based line number and text: the first line that is neither blank
    nor a ``# `` comment."""
    for number, line in enumerate(first_lines(path, 20), start=1):
        if line.strip() and not line.startswith("# "):
            return number, line
    raise InputError("no header line", source=str(path), expected="a header line")

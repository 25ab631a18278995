"""One door for every table format (and for trees): recognise the file, call its reader."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from gutaxis.data.profile import ProfileTable, ValueKind
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.io._files import (
    HDF5_MAGIC,
    ZIP_MAGIC,
    PathLike,
    existing_file,
    first_lines,
    head_bytes,
    is_gzip,
)
from gutaxis.io.biom import read_biom
from gutaxis.io.delimited import Orientation, read_delimited
from gutaxis.io.functional import check_kind
from gutaxis.io.humann import is_humann, read_humann
from gutaxis.io.metaphlan import is_metaphlan, read_metaphlan
from gutaxis.io.newick import read_newick
from gutaxis.io.picrust2 import is_picrust2, read_picrust2
from gutaxis.io.qiime2 import read_qza_table, read_qza_tree

TableFormat = Literal["biom", "qza", "metaphlan", "humann", "picrust2", "delimited"]

#: What :func:`read_table` reads, for error messages and help texts.
TABLE_FORMATS = (
    "BIOM 1.0 JSON or 2.x HDF5 (.biom)",
    "QIIME 2 FeatureTable artifact (.qza)",
    "MetaPhlAn merged profile (clade_name header)",
    "HUMAnN gene family, regrouped (KO, EC) or pathway table ('# Gene Family' or "
    "'# Pathway' header)",
    "PICRUSt2 output (pred_metagenome_unstrat.tsv, path_abun_unstrat.tsv, *_strat.tsv, "
    "*_contrib.tsv)",
    "TSV/CSV table, either orientation (.tsv, .csv, .txt, optionally .gz)",
)


def detect_table_format(path: PathLike) -> TableFormat:
    """Recognise a table file by its first bytes, then its extension and first lines.

    Parameters
    ----------
    path
        The table file: BIOM (JSON or HDF5), ``.qza``, MetaPhlAn, HUMAnN, PICRUSt2 or
        delimited text.

    Notes
    -----
    PICRUSt2 is recognised before HUMAnN: a ``function``/``pathway`` header over rows
    without HUMAnN's ``UNMAPPED``/``UNGROUPED``/``UNINTEGRATED`` is PICRUSt2's; with
    them it is a HUMAnN table saved under that header (as the PICRUSt2 authors' tables).
    """
    p = existing_file(path)
    head = head_bytes(p, 8)
    if head == HDF5_MAGIC:
        return "biom"
    if head.startswith(ZIP_MAGIC):
        return "qza"
    try:
        lines = first_lines(p, 50)
    except InputError as exc:
        if is_gzip(p):  # a gzip file cut short says so, not "unknown format"
            raise
        raise _unknown(p, str(exc.found)) from None
    text = "\n".join(lines).lstrip()
    if text.startswith("{"):
        if '"Biological Observation Matrix' in text or p.suffix.lower() == ".biom":
            return "biom"
        raise _unknown(p, "JSON that is not a BIOM table")
    if is_metaphlan(lines):
        return "metaphlan"
    if is_picrust2(lines):
        return "picrust2"
    if is_humann(lines):
        return "humann"
    content = [line for line in lines if line.strip() and not line.startswith("# ")]
    if content and ("\t" in content[0] or "," in content[0]):
        return "delimited"
    raise _unknown(p, repr(content[0][:60]) if content else "no table lines")


def read_table(
    path: PathLike,
    *,
    orientation: Orientation | None = None,
    sample_ids: Sequence[str] | None = None,
    kind: ValueKind | None = None,
    level: str | None = None,
    stratified: bool = False,
) -> ProfileTable:
    """Read a microbiome table in any format gutaxis knows.

    Parameters
    ----------
    path
        A BIOM, ``.qza``, MetaPhlAn or delimited table (see :data:`TABLE_FORMATS`);
        recognised from its content, not only its extension.
    orientation, sample_ids
        For delimited tables: which side holds the samples (see
        :func:`gutaxis.io.read_delimited`).
    kind
        What the values are, for BIOM and delimited tables (inferred when ``None``).
    level
        For MetaPhlAn profiles: the rank to keep (default species).
    stratified
        For HUMAnN and PICRUSt2 tables: read the function x taxon rows instead of the
        community rows (see :func:`gutaxis.io.read_humann`,
        :func:`gutaxis.io.read_picrust2`).

    Raises
    ------
    InputError
        A file in none of the formats, listing the formats read; ``stratified=True`` for
        a format that has no strata; a ``kind`` that the unit of a HUMAnN or PICRUSt2
        table contradicts.
    """
    p = Path(path)
    fmt = detect_table_format(p)
    if fmt in ("humann", "picrust2"):
        reader = read_humann if fmt == "humann" else read_picrust2
        table = reader(p, stratified=stratified)
        if table.unit is not None:
            check_kind(kind, table.unit, source=str(p))
        return table
    if stratified:
        raise InputError("only HUMAnN and PICRUSt2 tables are stratified by taxon",
                         source=str(p), field="stratified", found=f"a {fmt} table",
                         expected="a HUMAnN or PICRUSt2 table, or stratified=False")
    if fmt == "biom":
        return read_biom(p, kind=kind)
    if fmt == "qza":
        return read_qza_table(p)
    if fmt == "metaphlan":
        return read_metaphlan(p, level=level)
    return read_delimited(p, orientation=orientation, sample_ids=sample_ids, kind=kind)


def read_tree(path: PathLike) -> PhyloTree:
    """Read a rooted tree: Newick (optionally gzipped) or a ``Phylogeny[Rooted]`` ``.qza``.

    Parameters
    ----------
    path
        A Newick file (optionally gzipped) or a ``Phylogeny[Rooted]`` ``.qza``.
    """
    p = existing_file(path)
    if head_bytes(p, 4) == ZIP_MAGIC:
        return read_qza_tree(p)
    return read_newick(p)


def _unknown(path: Path, found: str) -> InputError:
    return InputError("unknown table format", source=str(path), found=found,
                      expected="one of: " + "; ".join(TABLE_FORMATS))

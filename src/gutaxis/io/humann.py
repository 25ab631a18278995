"""HUMAnN 2, 3 and 4 output tables: gene families, regrouped tables (KO, EC, ...), pathway
abundance and coverage; one sample or merged (``humann_join_tables``); RPK, CPM or
relative abundance (``humann_renorm_table``); with or without names (``humann_rename_table``).

A HUMAnN table is tab-separated: a header (``# Gene Family``, ``# Pathway``, ...) naming
one column per sample, then one row per function with the community total, followed by
its ``function|taxon`` rows (``K00001|g__Bacteroides.s__Bacteroides_ovatus``,
``...|unclassified``) unless HUMAnN ran without stratified output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError, preview
from gutaxis.io._files import PathLike, existing_file
from gutaxis.io.functional import (
    SPECIAL_ROWS,
    STRINGS,
    check_unit,
    functional_table,
    header_of,
    infer_feature_type,
    only_unassigned,
    parse_rows,
    require_unique,
    stratified_only,
    unstratified_only,
)

#: Sample-column suffixes HUMAnN writes, and the unit each says (first match wins).
COLUMN_SUFFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"_Abundance-RPKs?$", re.IGNORECASE), "RPK"),
    (re.compile(r"_Abundance-CPMs?$", re.IGNORECASE), "CPM"),
    (re.compile(r"_Abundance-RELAB$", re.IGNORECASE), "relab"),
    (re.compile(r"_Abundance$", re.IGNORECASE), "RPK"),
    (re.compile(r"_Coverage$", re.IGNORECASE), "coverage"),
    (re.compile(r"-RPKs?$", re.IGNORECASE), "RPK"),
    (re.compile(r"-CPMs?$", re.IGNORECASE), "CPM"),
    (re.compile(r"-RELAB$", re.IGNORECASE), "relab"),
)
#: Units HUMAnN 4 names in the first header cell (``# Gene Family HUMAnN v Adjusted CPMs``).
HEADER_UNITS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bCPMs?\b", re.IGNORECASE), "CPM"),
    (re.compile(r"\bRPKs?\b", re.IGNORECASE), "RPK"),
    (re.compile(r"\brelab\b", re.IGNORECASE), "relab"),
    (re.compile(r"\bcoverage\b", re.IGNORECASE), "coverage"),
    (re.compile(r"\bcounts\b", re.IGNORECASE), "counts"),
)
#: Relative tolerance on sample totals when a table without unit labels is recognised as
#: CPM (community rows sum to 1e6) or relative abundance (sum to 1); covers HUMAnN's
#: six significant digits (``humann_renorm_table`` writes ``%.6g``).
TOTAL_TOLERANCE = 1e-4

#: A taxonomic lineage (``k__Bacteria|p__Firmicutes``), which is no function|taxon id.
LINEAGE = re.compile(r"^[kdpcofgst]__")
NAME_SEPARATOR = ": "  # humann_rename_table: "K00001: alcohol dehydrogenase"
STRATUM_SEPARATOR = "|"


def is_humann(lines: list[str]) -> bool:
    """Whether the first lines of a file look like a HUMAnN table.

    A header whose first cell is ``# Gene Family`` or ``# Pathway``, sample columns with
    HUMAnN's suffixes (``_Abundance-RPKs``, ``_Coverage``, ...), HUMAnN's ``UNMAPPED``,
    ``UNINTEGRATED``, ``UNGROUPED`` rows, or a ``#`` header over ``function|taxon`` rows.
    """
    content = [line for line in lines if line.strip()]
    if not content or "\t" not in content[0]:
        return False
    header = [cell.strip() for cell in content[0].split("\t")]
    first = header[0].lstrip("#").strip().lower()
    if header[0].startswith("#") and first.startswith(("gene family", "pathway")):
        return True
    if any(pattern.search(cell) for cell in header[1:] for pattern, _ in COLUMN_SUFFIXES):
        return True
    ids = [line.split("\t", 1)[0].strip() for line in content[1:]]
    functions = [i.split(STRATUM_SEPARATOR, 1)[0].split(NAME_SEPARATOR, 1)[0] for i in ids]
    if SPECIAL_ROWS.intersection(functions):
        return True
    hashed = header[0].startswith("#") and first not in ("otu id", "otuid", "feature id",
                                                         "sampleid", "sample id")
    return hashed and any(i.count(STRATUM_SEPARATOR) == 1 and not LINEAGE.match(i)
                          for i in ids)


def read_humann(path: PathLike, *, stratified: bool = False,
                unit: str | None = None) -> ProfileTable:
    """Read a HUMAnN gene-family, regrouped, pathway-abundance or pathway-coverage table.

    Parameters
    ----------
    path
        A HUMAnN 2, 3 or 4 output (optionally gzipped): one sample or merged by
        ``humann_join_tables``, stratified or not, named or not.
    stratified
        ``False`` (default): the community rows (no ``|``), one feature per function.
        ``True``: the ``function|taxon`` rows, one feature per function in one taxon
        (``unclassified`` included), with :attr:`ProfileTable.strata`.
    unit
        The unit when the file does not say it (``RPK``, ``CPM``, ``relab``, ``counts``,
        ``coverage``); refused when the file says another.

    Returns
    -------
    ProfileTable
        ``feature_type`` from the ids (``K00001`` -> ``ko``, EC numbers -> ``ec``,
        ``UniRef90_...`` -> ``gene_family``; a ``# Pathway`` header -> ``pathway``), else
        ``gene_family`` under a ``# Gene Family`` header, else ``function``. Sample ids
        without HUMAnN's suffixes. Values as written; the ``UNMAPPED``, ``UNINTEGRATED``,
        ``UNGROUPED`` (and HUMAnN 4 ``READS_UNMAPPED``) rows are left out. Names added by
        ``humann_rename_table`` (``K00001: alcohol dehydrogenase``) are cut from the ids.

    Raises
    ------
    InputError
        Sample columns in different units, a cell that is not a number >= 0 (naming the
        line, row and column), a function listed twice, no community rows when
        ``stratified=False`` (or no stratified rows when ``True``; a
        :class:`~gutaxis.errors.DataKindError`), ``function|taxon|gene`` rows.

    Notes
    -----
    The unit comes from the sample columns' suffixes (``_Abundance-RPKs`` -> ``RPK``,
    ``_Abundance-CPM``/``-CPM`` -> ``CPM``, ``_Abundance-RELAB``/``-RELAB`` -> ``relab``,
    ``_Abundance`` (pathways) -> ``RPK``, ``_Coverage`` -> ``coverage``), else the
    first header cell (HUMAnN 4: ``Adjusted CPMs``, ``RPKs``, ``Counts``), else
    ``unit``, else the totals of the community rows: 1e6 in every sample -> ``CPM``,
    1 -> ``relab`` (within :data:`TOTAL_TOLERANCE`), otherwise ``RPK``; a file named
    ``*pathcoverage*`` -> ``coverage``. CPM and relab tables are of kind ``relative``
    and keep their scale. HUMAnN 4 pathway abundances normalised to CPM say so nowhere
    in the file: give ``unit="CPM"``.

    References
    ----------
    Beghini F, et al. Integrating taxonomic, functional, and strain-level profiling of
    diverse microbial communities with bioBakery 3. eLife 10:e65088 (2021).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ko.tsv").write_text(
    ...     "# Gene Family\\ts1_Abundance-RPKs\\ts2_Abundance-RPKs\\n"
    ...     "UNGROUPED\\t5.0\\t1.0\\nK00001\\t3.0\\t2.0\\n"
    ...     "K00001|g__Bacteroides.s__Bacteroides_ovatus\\t1.0\\t2.0\\n"
    ...     "K00001|unclassified\\t2.0\\t0.0\\n")
    >>> table = read_humann(folder / "ko.tsv")
    >>> table.feature_type, table.unit, table.kind, table.sample_ids.tolist()
    ('ko', 'RPK', 'counts', ['s1', 's2'])
    >>> strata = read_humann(folder / "ko.tsv", stratified=True).strata
    >>> strata["taxon"].tolist()
    ['g__Bacteroides.s__Bacteroides_ovatus', 'unclassified']
    """
    p = existing_file(path)
    source = str(p)
    check_unit(unit, source=source)
    header_line, header = header_of(p)
    rows = parse_rows(p, header_line=header_line, header=header, text_columns=[header[0]],
                      value_columns=header[1:])
    functions, taxa, in_strata, layered = _split_ids(
        rows.text[header[0]].to_numpy(dtype=object), source, header_line)
    require_unique(pd.Series(layered), source=source, header_line=header_line,
                   what="function")
    column_unit, sample_ids = _column_units(header[1:], source, header_line)
    found_unit = column_unit or _header_unit(header[0]) or unit
    if found_unit is None:
        found_unit = _unit_from_totals(rows.values, in_strata, p)
    elif unit is not None and unit != found_unit:
        raise InputError("the file states another unit", source=source, field="unit",
                         found=unit, expected=f"{found_unit}, as the file says")
    special = pd.Index(functions).isin(SPECIAL_ROWS)
    n_strata = int((in_strata & ~special).sum())
    n_community = int((~in_strata & ~special).sum())
    if n_strata + n_community == 0:
        raise only_unassigned(source, int(special.sum()))
    if stratified and n_strata == 0:
        raise unstratified_only(source, n_community)
    if not stratified and n_community == 0 and n_strata:
        raise stratified_only(source, n_strata, "read_humann")
    keep = ~special & (in_strata if stratified else ~in_strata)
    first = header[0].lstrip("#").strip().lower()
    feature_type = infer_feature_type(
        functions[keep], pathway=first.startswith("pathway") or found_unit == "coverage",
        gene_family=first.startswith("gene family"))
    values = sp.csr_array(rows.values[np.flatnonzero(keep)].T)
    return functional_table(values, sample_ids, functions[keep],
                            taxa[keep] if stratified else None,
                            feature_type=feature_type, unit=found_unit)


def _split_ids(ids: np.ndarray, source: str,
               header_line: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Function (names cut off), taxon (``""`` on community rows), whether the row is
    stratified, and ``function`` or ``function|taxon``; numpy string ufuncs throughout."""
    text = ids.astype(STRINGS)
    bar, colon = np.asarray(STRATUM_SEPARATOR, dtype=STRINGS), np.asarray(NAME_SEPARATOR,
                                                                          dtype=STRINGS)
    depth = np.strings.count(text, bar)
    if (depth > 1).any():
        row = int(np.flatnonzero(depth > 1)[0])
        raise InputError(
            "rows with two '|' (function|taxon|gene, as humann_merge_abundance_tables "
            "writes) are not a HUMAnN table gutaxis reads", source=source,
            row=header_line + 1 + row, found=str(ids[row])[:80],
            expected="function or function|taxon rows (the gene-family or pathway table)")
    function_part, _, taxa = np.strings.partition(text, bar)
    functions = np.strings.strip(np.strings.partition(function_part, colon)[0])
    taxa = np.strings.strip(taxa)
    in_strata = depth == 1
    empty = (functions == "") | (in_strata & (taxa == ""))
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise InputError("empty function or taxon id", source=source,
                         row=header_line + 1 + row, found=repr(str(ids[row])),
                         expected="function or function|taxon")
    layered = np.where(in_strata, np.strings.add(np.strings.add(functions, bar), taxa),
                       functions)
    return (functions.astype(object), taxa.astype(object), in_strata,
            layered.astype(object))


def _column_units(columns: list[str], source: str,
                  header_line: int) -> tuple[str | None, np.ndarray]:
    """The unit the sample columns' suffixes say, and the sample ids without them."""
    units: dict[str, str] = {}
    samples = []
    for column in columns:
        for pattern, unit in COLUMN_SUFFIXES:
            if pattern.search(column):
                units[column] = unit
                samples.append(pattern.sub("", column))
                break
        else:
            samples.append(column)
    distinct = sorted(set(units.values()))
    if len(distinct) > 1:
        examples = [next(c for c, u in units.items() if u == unit) for unit in distinct]
        raise InputError("sample columns in different units", source=source,
                         row=header_line, found=preview(examples),
                         expected="one unit for every sample (renormalise with "
                         "humann_renorm_table before joining the tables)")
    ids = pd.Index(samples)
    if ids.has_duplicates or (ids == "").any():
        raise InputError("sample ids repeat (or are empty) once HUMAnN's suffixes are cut",
                         source=source, row=header_line,
                         found=preview(ids[ids.duplicated() | (ids == "")].unique()),
                         expected="one column per sample")
    return (distinct[0] if distinct else None), np.asarray(samples, dtype=object)


def _header_unit(first_cell: str) -> str | None:
    for pattern, unit in HEADER_UNITS:
        if pattern.search(first_cell):
            return unit
    return None


def _unit_from_totals(values: sp.csr_array, in_strata: np.ndarray, path: Path) -> str:
    name = path.name.lower()
    if "pathcoverage" in name or "pathcov" in name:
        return "coverage"
    rows = np.flatnonzero(~in_strata) if (~in_strata).any() else np.arange(values.shape[0])
    totals = np.asarray(values[rows].sum(axis=0)).ravel()
    for scale, unit in ((1e6, "CPM"), (1.0, "relab")):
        if totals.size and np.allclose(totals, scale, rtol=TOTAL_TOLERANCE, atol=0.0):
            return unit
    return "RPK"

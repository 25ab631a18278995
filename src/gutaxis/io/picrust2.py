"""PICRUSt2 predicted metagenomes and pathways.

Wide tables: ``pred_metagenome_unstrat.tsv(.gz)`` (KO, EC, ... x samples) and
``path_abun_unstrat.tsv(.gz)`` (``function``/``pathway`` then samples; an optional
``description`` column from ``add_descriptions.py``); their stratified forms
``*_strat.tsv`` (a ``sequence`` column after the function). Long tables:
``pred_metagenome_contrib.tsv(.gz)`` and ``path_abun_contrib.tsv(.gz)`` (one row per
sample x function x taxon) and the PICRUSt 1 style contribution table that
``convert_table.py`` reads (``Gene``, ``Sample``, ``OTU``, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import FeatureType, ProfileTable
from gutaxis.errors import InputError
from gutaxis.io._files import PathLike, existing_file
from gutaxis.io.functional import (
    SPECIAL_ROWS,
    FunctionRows,
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

#: First header cells of PICRUSt2's wide tables (lower-cased).
ID_HEADERS = frozenset({"function", "pathway"})
#: Header cells of a wide stratified table's taxon column (lower-cased).
TAXON_HEADERS = frozenset({"sequence", "taxon", "taxa", "seq"})
#: Long contribution tables: (sample, function, taxon, value) columns.
CONTRIB_COLUMNS = ("sample", "function", "taxon", "taxon_function_abun")
LEGACY_CONTRIB_COLUMNS = ("Sample", "Gene", "OTU", "CountContributedByOTU")
#: File names of PICRUSt2's pathway outputs (``path_abun_contrib.tsv``, ...).
PATHWAY_FILE = re.compile(r"path_?(?:abun|cov)|pathway", re.IGNORECASE)


def is_picrust2(lines: list[str]) -> bool:
    """Whether the first lines of a file look like a PICRUSt2 output.

    A contribution table's header, or a ``function``/``pathway`` first header cell with
    no HUMAnN ``UNMAPPED``/``UNGROUPED`` rows (PICRUSt2's own tables have none; the
    ``*_strat.tsv`` layout with a ``sequence`` column counts as PICRUSt2 either way).
    """
    content = [line for line in lines if line.strip()]
    if not content:
        return False
    header = [cell.strip() for cell in content[0].split("\t")]
    if _contrib_columns(header) is not None:
        return True
    if header[0].lower() not in ID_HEADERS or len(header) < 2:
        return False
    if _taxon_column(header) is not None:
        return True
    firsts = {line.split("\t", 1)[0].strip() for line in content[1:]}
    return not SPECIAL_ROWS.intersection(firsts)


def read_picrust2(path: PathLike, *, stratified: bool = False,
                  unit: str | None = None) -> ProfileTable:
    """Read a PICRUSt2 predicted metagenome or pathway table.

    Parameters
    ----------
    path
        ``pred_metagenome_unstrat.tsv(.gz)`` (KO, EC or other gene families),
        ``path_abun_unstrat.tsv(.gz)``, their ``*_strat.tsv`` forms, or the long
        ``*_contrib.tsv(.gz)`` tables (current columns or the legacy ``Gene``,
        ``Sample``, ``OTU`` ones).
    stratified
        ``False`` (default) for a wide unstratified table; ``True`` for the stratified
        forms, whose features are ``function|sequence`` with
        :attr:`ProfileTable.strata` (the taxon is the study sequence, ASV or OTU id).
    unit
        Defaults to ``predicted`` (predicted gene or pathway copies: abundances, not
        read counts), or ``coverage`` for ``path_cov`` files.

    Returns
    -------
    ProfileTable
        ``feature_type`` ``pathway`` under a ``pathway`` header (or a
        ``path_abun``/``path_cov`` file name), else from the ids (``K00001`` -> ``ko``,
        ``EC:1.1.1.1`` -> ``ec``), else ``function``. Values as written:
        ``taxon_function_abun`` of a contribution table, whose sum over taxa is the
        unstratified value. A ``description``
        column is not a sample; ``UNMAPPED``/``UNGROUPED`` rows are left out.

    Raises
    ------
    InputError
        A cell that is not a number >= 0, a function (or sample x function x taxon)
        listed twice; a stratified table read with ``stratified=False`` and the
        reverse (:class:`~gutaxis.errors.DataKindError`).

    References
    ----------
    Douglas GM, et al. PICRUSt2 for prediction of metagenome functions. Nature
    Biotechnology 38:685-688 (2020).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "pred_metagenome_unstrat.tsv").write_text(
    ...     "function\\tdescription\\ts1\\ts2\\nK00001\\talcohol dehydrogenase\\t3.5\\t0\\n")
    >>> table = read_picrust2(folder / "pred_metagenome_unstrat.tsv")
    >>> table.feature_type, table.unit, table.kind, table.sample_ids.tolist()
    ('ko', 'predicted', 'counts', ['s1', 's2'])
    """
    p = existing_file(path)
    source = str(p)
    check_unit(unit, source=source)
    header_line, header = header_of(p)
    found_unit = unit or _default_unit(p)
    contrib = _contrib_columns(header)
    if contrib is not None:
        if not stratified:
            raise stratified_only(source, None, "read_picrust2")
        return _read_contrib(p, header_line, header, contrib, found_unit)
    if header[0].lower() not in ID_HEADERS:
        raise InputError("not a PICRUSt2 table", source=source, row=header_line,
                         found=repr(header[0]), expected="a header starting with 'function' "
                         "or 'pathway', or a contribution table (sample, function, taxon, "
                         "taxon_function_abun)")
    taxon_column = _taxon_column(header)
    text = [header[0]] + ([taxon_column] if taxon_column else [])
    samples = [c for c in header[1:] if c not in text and c.lower() != "description"]
    if not samples:
        raise InputError("PICRUSt2 table has no sample columns", source=source,
                         row=header_line, found=header, expected="function then samples")
    rows = parse_rows(p, header_line=header_line, header=header, text_columns=text,
                      value_columns=samples)
    require_unique(rows.text, source=source, header_line=header_line, what="function")
    keep = ~rows.text[header[0]].isin(SPECIAL_ROWS).to_numpy()
    if not keep.any():
        raise only_unassigned(source, len(keep))
    if stratified != (taxon_column is not None):
        n_rows = int(keep.sum())
        raise (stratified_only(source, n_rows, "read_picrust2") if taxon_column
               else unstratified_only(source, n_rows))
    return _wide_table(rows, keep, header[0], taxon_column, samples, p, found_unit)


def _wide_table(rows: FunctionRows, keep: np.ndarray, id_column: str,
                taxon_column: str | None, samples: list[str], path: Path,
                unit: str) -> ProfileTable:
    functions = rows.text[id_column].to_numpy()[keep]
    taxa = rows.text[taxon_column].to_numpy()[keep] if taxon_column else None
    values = sp.csr_array(rows.values[np.flatnonzero(keep)].T)
    return functional_table(values, np.asarray(samples, dtype=object), functions, taxa,
                            feature_type=_feature_type(functions, id_column, path),
                            unit=unit)


def _read_contrib(path: Path, header_line: int, header: list[str], columns: tuple[str, ...],
                  unit: str) -> ProfileTable:
    sample, function, taxon, value = columns
    rows = parse_rows(path, header_line=header_line, header=header,
                      text_columns=[sample, function, taxon], value_columns=[value])
    keys = rows.text[[sample, function, taxon]]
    require_unique(keys, source=str(path), header_line=header_line,
                   what="sample x function x taxon")
    keep = ~keys[function].isin(SPECIAL_ROWS).to_numpy()
    if not keep.any():
        raise only_unassigned(str(path), len(keep))
    keys = keys[keep]
    sample_codes, sample_ids = pd.factorize(keys[sample], sort=False)
    pairs = keys[[function, taxon]]
    feature_codes, features = pd.factorize(pd.MultiIndex.from_frame(pairs), sort=False)
    values = sp.csr_array(
        (rows.values.toarray()[keep, 0], (sample_codes, feature_codes)),
        shape=(len(sample_ids), len(features)))
    functions = features.get_level_values(0).to_numpy()
    return functional_table(values, np.asarray(sample_ids, dtype=object), functions,
                            features.get_level_values(1).to_numpy(),
                            feature_type=_feature_type(functions, function, path), unit=unit)


def _contrib_columns(header: list[str]) -> tuple[str, ...] | None:
    """The (sample, function, taxon, value) columns of a long contribution table."""
    lowered = {cell.lower(): cell for cell in header}
    if all(name in lowered for name in CONTRIB_COLUMNS):
        return tuple(lowered[name] for name in CONTRIB_COLUMNS)
    if all(name in header for name in LEGACY_CONTRIB_COLUMNS):
        return LEGACY_CONTRIB_COLUMNS
    return None


def _taxon_column(header: list[str]) -> str | None:
    """The taxon (sequence) column of a wide stratified table: the first after the
    function and an optional description."""
    rest = header[1:]
    if rest and rest[0].lower() == "description":
        rest = rest[1:]
    return rest[0] if rest and rest[0].lower() in TAXON_HEADERS else None


def _default_unit(path: Path) -> str:
    name = path.name.lower()
    return "coverage" if "path_cov" in name or "pathcov" in name else "predicted"


def _feature_type(functions: np.ndarray, id_column: str, path: Path) -> FeatureType:
    pathway = id_column.lower() == "pathway" or PATHWAY_FILE.search(path.name) is not None
    return infer_feature_type(functions, pathway=pathway)

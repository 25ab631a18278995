"""From a cohort to the inputs of :func:`mediate`: alpha diversity as a mediator."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.alpha import ALPHA_METRICS, alpha_diversity


def metadata_with_alpha(cohort: Cohort, *, columns: Sequence[str]) -> pd.DataFrame:
    """The cohort's metadata with the alpha diversity metrics among ``columns`` that are
    not metadata columns already, computed from its table (Shannon in nats).

    Parameters
    ----------
    cohort
        Table and metadata.
    columns
        Columns the analysis needs; those named after an alpha metric
        (:data:`gutaxis.gut.ALPHA_METRICS`: ``shannon``, ``observed_features``...) and
        absent from the metadata are added.
    """
    meta = cohort.metadata.copy()
    wanted = [c for c in columns if c not in meta.columns and c in ALPHA_METRICS]
    if wanted:
        alpha = alpha_diversity(cohort.table, metrics=wanted, shannon_base=math.e)
        for name in wanted:
            meta[name] = alpha[name].reindex(meta.index).to_numpy()
    return meta


def missing_columns(metadata: pd.DataFrame, columns: Sequence[str], *, source: str | None,
                    has_table: bool) -> None:
    """Refuse a column that is neither in the metadata nor an alpha metric computable
    from a table (one line naming it and what would do)."""
    for name in columns:
        if name in metadata.columns:
            continue
        if has_table and name not in ALPHA_METRICS:
            raise InputError("the mediator is not a metadata column nor a feature of the "
                             "table", source=source, column=name,
                             expected="a metadata column, an alpha metric, a feature id of "
                             "--table or a module id (MGB005, MF0001) of a KO table")
        if name in ALPHA_METRICS and not has_table:
            raise InputError("an alpha diversity mediator needs the microbiome table",
                             source=source, column=name,
                             expected="--table TABLE (or a metadata column of that name)")
        if name not in ALPHA_METRICS:
            raise InputError("the column is not in the metadata", source=source, column=name,
                             expected="a metadata column or an alpha metric ("
                             + ", ".join(ALPHA_METRICS) + ")")


#: How a feature of the table enters as a mediator (or exposure), for notes and reports.
FEATURE_VALUES = ("log2 relative abundance (TSS over all features; zeros replaced by half "
                  "the feature's smallest positive value, as the association scan's TSS + "
                  "LOG)")


def metadata_with_table_columns(cohort: Cohort, *, columns: Sequence[str]
                                ) -> tuple[pd.DataFrame, list[str]]:
    """The cohort's metadata with every name of ``columns`` that the table can give.

    Besides alpha metrics (:func:`metadata_with_alpha`), a name that is a feature of the
    table (a taxon, a KEGG ortholog ``K00001``, a pathway, a module ``MGB005``) becomes a
    column of its log2 relative abundance (:data:`FEATURE_VALUES`; a coverage table's
    values as they are), and, for a KEGG-ortholog table, a gut-brain or gut-metabolic
    module id (``MGB005``, ``MF0001``) becomes a column of the module's log2 relative
    abundance among the modules of its set (:func:`gutaxis.gut.modules.module_profile`,
    default coverage cut-off).

    Parameters
    ----------
    cohort
        Table and metadata.
    columns
        Columns the analysis needs; metadata columns are left as they are.

    Returns
    -------
    tuple
        The metadata, and notes saying how each added column was made.
    """
    meta = metadata_with_alpha(cohort, columns=columns)
    wanted = [c for c in dict.fromkeys(columns) if c not in meta.columns]
    if not wanted:
        return meta, []
    table = cohort.table
    table.require_unstratified(action="a feature as mediator")
    present = set(map(str, table.feature_ids))
    features = [c for c in wanted if c in present]
    notes: list[str] = []
    if features:
        values = feature_values(table, features)
        for name in features:
            meta[name] = values[name].reindex(meta.index).to_numpy()
        how = "values as they are" if table.unit == "coverage" else FEATURE_VALUES
        notes.append(f"{', '.join(features)}: {how}")
    modules = [c for c in wanted if c not in present]
    if modules and table.feature_type == "ko":
        found = module_values(table, modules)
        for name in found.columns:
            meta[name] = found[name].reindex(meta.index).to_numpy()
        if len(found.columns):
            notes.append(f"{', '.join(found.columns)}: module abundance from the KEGG "
                         f"orthologs of the table, then {FEATURE_VALUES}")
    return meta, notes


def feature_values(table: ProfileTable, features: Sequence[str]) -> pd.DataFrame:
    """Named features of a table as a scan models them: log2 relative abundance (TSS over
    every feature, then LOG), or a coverage table's values as they are.

    Parameters
    ----------
    table
        Counts, relative abundances or coverage.
    features
        Feature ids of the table.
    """
    from gutaxis.stats.normalize import transform as transform_values

    index = pd.Index(table.sample_ids, name="sample_id")
    columns = [table.feature_position(f) for f in features]
    if table.unit == "coverage" or table.kind == "transformed":
        picked = table.values[:, columns].toarray()
    else:
        picked = transform_values(table.relative().values[:, columns].toarray(), method="LOG")
    return pd.DataFrame(picked, index=index, columns=list(features))


def module_values(table: ProfileTable, names: Sequence[str]) -> pd.DataFrame:
    """The modules among ``names`` (ids of the gut-brain or gut-metabolic sets) computed
    from a KEGG-ortholog table, as :func:`feature_values` of the module table."""
    from gutaxis.gut.modules import module_profile, module_sets

    frames = []
    left = list(names)
    for info in module_sets():
        if not left:
            break
        profile = module_profile(table, set=info.name)
        ids = set(map(str, profile.abundance.feature_ids))
        hit = [n for n in left if n in ids]
        if hit:
            frames.append(feature_values(profile.abundance, hit))
            left = [n for n in left if n not in ids]
    if not frames:
        return pd.DataFrame(index=pd.Index(table.sample_ids, name="sample_id"))
    return pd.concat(frames, axis=1)

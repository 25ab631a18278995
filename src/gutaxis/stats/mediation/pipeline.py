"""From a cohort to the inputs of :func:`mediate`: alpha diversity as a mediator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.data.cohort import Cohort
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
        alpha = alpha_diversity(cohort.table, metrics=wanted, shannon_base=np.e)
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
        if name in ALPHA_METRICS and not has_table:
            raise InputError("an alpha diversity mediator needs the microbiome table",
                             source=source, column=name,
                             expected="--table TABLE (or a metadata column of that name)")
        if name not in ALPHA_METRICS:
            raise InputError("the column is not in the metadata", source=source, column=name,
                             expected="a metadata column or an alpha metric ("
                             + ", ".join(ALPHA_METRICS) + ")")

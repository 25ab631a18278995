"""A cohort's fingerprint: the SHA-256 that results record as their input's identity."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.data.cohort import Cohort

__all__ = ["cohort_hash"]


def cohort_hash(cohort: Cohort, columns: Sequence[str] = (), *,
                extra: pd.DataFrame | None = None) -> str:
    """``sha256:<hex>`` of the table (values, sample and feature ids) and the metadata
    ``columns`` an analysis uses (with the sample index), then ``extra`` if given.

    Parameters
    ----------
    cohort
        The cohort as analysed.
    columns
        Metadata columns the analysis reads; names not in the metadata are skipped.
    extra
        Any further frame the analysis depends on (hashed as CSV).
    """
    digest = hashlib.sha256()
    values = cohort.table.values
    for arr in (values.data, values.indices, values.indptr):
        digest.update(np.ascontiguousarray(arr).data)  # its buffer: no copy
    digest.update("\t".join(cohort.table.sample_ids).encode())
    digest.update("\t".join(cohort.table.feature_ids).encode())
    cols = [c for c in dict.fromkeys(columns) if c in cohort.metadata.columns]
    digest.update(cohort.metadata[cols].to_csv().encode())
    if extra is not None:
        digest.update(extra.to_csv().encode())
    return "sha256:" + digest.hexdigest()

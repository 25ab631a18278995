"""The HMP2 dysbiosis score and its flag (part of :func:`gutaxis.gut.summaries.gut_summary`).

The score of a sample is its median Bray-Curtis distance to a reference set of samples
(Lloyd-Price et al. 2019); the flag compares it with a percentile of the reference's own
scores. Both are re-exported by :mod:`gutaxis.gut.summaries`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut._labelled import per_sample
from gutaxis.gut.beta import braycurtis_between

__all__ = ["dysbiosis_score", "dysbiotic", "median_reference_distance"]


def _sample_mask(table: ProfileTable, selector: np.ndarray | Sequence[str], what: str
                 ) -> np.ndarray:
    arr = np.asarray(selector)
    if arr.dtype == bool:
        if arr.shape != (table.n_samples,):
            raise InputError(f"{what} mask has the wrong length", field=what, found=arr.shape,
                             expected=f"one boolean per sample ({table.n_samples})")
        return arr
    positions = table._positions(arr.astype(str), table.sample_ids, "sample")
    mask = np.zeros(table.n_samples, dtype=bool)
    mask[positions] = True
    return mask


def dysbiosis_score(
    table: ProfileTable,
    reference_mask: np.ndarray | Sequence[str],
    *,
    subjects: np.ndarray | Sequence[object] | None = None,
) -> pd.Series:
    """HMP2 dysbiosis score: median Bray-Curtis distance to a reference set.

    Parameters
    ----------
    table
        Counts (turned into proportions) or relative abundances (used as given,
        without re-closing, as HMP2 used its species profiles).
    reference_mask
        Which samples form the reference (e.g. ``diagnosis == "nonIBD"``): a boolean
        mask over the samples or a list of sample ids.
    subjects
        Subject of each sample. Reference samples of the sample's own subject are
        left out; without subjects only the sample itself is left out.

    Returns
    -------
    pandas.Series
        ``dysbiosis_score``: the score per sample, indexed by ``sample_id``; ``NaN``
        where no reference sample remains. On the HMP2
        species profiles with nonIBD as reference it tracks the published score with
        Spearman rho 0.975 (tests/gut/test_summaries.py).

    Notes
    -----
    .. math:: s_i = \\operatorname{median}_{j \\in R,\\ subject(j) \\ne subject(i)} BC_{ij}

    Lloyd-Price et al. call samples above the 90th percentile of the reference's own
    scores dysbiotic.

    References
    ----------
    .. [1] Lloyd-Price, J. et al. (2019). Multi-omics of the gut microbial ecosystem in
       inflammatory bowel diseases. Nature 569, 655-662.
    """
    reference = _sample_mask(table, reference_mask, "reference")
    if not reference.any():
        raise InputError("dysbiosis score needs at least one reference sample",
                         field="reference", found="an empty reference set")
    if subjects is None:
        owner = np.arange(table.n_samples)
    else:
        owner_raw = np.asarray(subjects, dtype=object)
        if owner_raw.shape != (table.n_samples,):
            raise InputError("subjects must name one subject per sample", field="subjects",
                             found=owner_raw.shape, expected=f"({table.n_samples},)")
        owner = pd.factorize(owner_raw)[0]
    table = _as_relative(table)
    ref_positions = np.flatnonzero(reference)
    scores = median_reference_distance(table, table.subset_samples(ref_positions),
                                       owner, owner[ref_positions])
    return per_sample(table, scores, "dysbiosis_score")


def _as_relative(table: ProfileTable) -> ProfileTable:
    """Counts as proportions; relative abundances as given (anything else refused)."""
    if table.kind == "counts":
        table = table.relative()
    table.require_kind("relative", action="dysbiosis score")
    return table


def median_reference_distance(table: ProfileTable, reference: ProfileTable,
                              owner: np.ndarray, reference_owner: np.ndarray) -> np.ndarray:
    """Low-level: per sample of ``table``, the median Bray-Curtis distance to the samples
    of ``reference`` of another owner (subject codes; NaN when none), the core of
    :func:`dysbiosis_score`. A function of each sample's row alone, so it can run by
    blocks of samples against the whole reference."""
    distances = braycurtis_between(table, reference)
    masked = np.where(owner[:, None] != reference_owner[None, :], distances, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with no eligible reference
        return np.asarray(np.nanmedian(masked, axis=1))


def dysbiotic(
    scores: pd.Series | np.ndarray,
    reference_mask: np.ndarray,
    *,
    percentile: float = 90.0,
) -> pd.Series:
    """Flag samples whose dysbiosis score exceeds a percentile of the reference's scores.

    Parameters
    ----------
    scores
        Output of :func:`dysbiosis_score` (or the scores as an array).
    reference_mask
        Boolean mask of the reference samples (the same as for the scores).
    percentile
        Threshold percentile of the reference samples' own scores (linear
        interpolation, NaN ignored); Lloyd-Price et al. (2019) used the 90th.

    Returns
    -------
    pandas.Series
        ``dysbiotic``: boolean per sample, with the index of ``scores`` (a default index
        for an array); ``False`` where the score is NaN. On HMP2 this reproduces
        the published ``dysbiosis_binary`` for 98% of samples (and exactly, applied to
        the published scores).

    References
    ----------
    .. [1] Lloyd-Price, J. et al. (2019). Multi-omics of the gut microbial ecosystem in
       inflammatory bowel diseases. Nature 569, 655-662.
    """
    values = np.asarray(scores, dtype=np.float64)
    reference = np.asarray(reference_mask, dtype=bool)
    if reference.shape != values.shape:
        raise InputError("reference mask and scores differ in length", field="reference_mask",
                         found=reference.shape, expected=str(values.shape))
    if not 0 <= percentile <= 100:
        raise InputError("percentile out of range", field="percentile", found=percentile,
                         expected="a number from 0 to 100")
    reference_scores = values[reference & ~np.isnan(values)]
    if reference_scores.size == 0:
        raise InputError("no reference sample has a dysbiosis score", field="reference_mask")
    threshold = np.quantile(reference_scores, percentile / 100.0)
    flags = np.nan_to_num(values, nan=-np.inf) > threshold
    return pd.Series(flags, index=scores.index if isinstance(scores, pd.Series) else None,
                     name="dysbiotic")


def _dysbiotic_column(scores: np.ndarray, reference: np.ndarray) -> pd.arrays.BooleanArray:
    """:func:`dysbiotic` as a nullable boolean column: NA where the score is NaN."""
    if np.any(reference & ~np.isnan(scores)):
        flags = dysbiotic(scores, reference).to_numpy()
    else:
        flags = np.zeros(scores.shape, dtype=bool)
    return pd.arrays.BooleanArray(flags, np.isnan(scores))

"""The values a per-feature scan models: which features it tests (the filters) and how
their values are normalised and transformed.

Two orders, as :func:`gutaxis.stats.associate` documents: MaAsLin 2's (filter the input
values, then normalise the kept features) and MaAsLin 3's (normalise every feature, then
filter the normalised values), and MaAsLin 3's scaled abundance (``unscaled_abundance``:
per-sample factors from :func:`gutaxis.stats.normalize.unscaled_factors` in place of the
normalisation).
"""

from __future__ import annotations

import numpy as np

from gutaxis.data.profile import ProfileTable
from gutaxis.data.transforms import prevalence_mask
from gutaxis.stats.normalize import normalize, scale_samples, unscaled_factors
from gutaxis.stats.normalize import transform as transform_values

__all__ = ["features_to_test", "filter_features", "normalize_all", "relative_factors",
           "transform_table"]


def filter_features(
    values: object, *, min_prevalence: float, min_abundance: float, min_variance: float
) -> np.ndarray:
    """Boolean mask of the features MaAsLin 2 keeps, computed on the input values.

    MaAsLin 2's preset of :func:`gutaxis.data.transforms.prevalence_mask`: a feature is
    kept when ``#{samples with value > min_abundance} > min_prevalence * n_samples``
    (strictly) and its sample variance (ddof=1) is ``> min_variance``.
    """
    return prevalence_mask(values, min_prevalence=min_prevalence, min_abundance=min_abundance,
                           min_variance=min_variance, strict=True)


def features_to_test(
    values: object,
    *,
    min_prevalence: float,
    min_abundance: float,
    min_variance: float,
    prevalence_model: bool = False,
    normalization: str = "TSS",
    factors: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of the features a scan tests.

    Without the prevalence model, MaAsLin 2's rule on the input values
    (:func:`filter_features`). With it, MaAsLin 3's: on the values normalised over all
    features (scaled by ``factors`` for scaled abundance, see :func:`associate`'s
    ``unscaled``), a feature is kept when ``#{samples with value > min_abundance} >
    min_prevalence * n_samples`` (strictly) and the variance (ddof=1) of its nonzero values
    is ``> min_variance``.
    """
    if not prevalence_model:
        return filter_features(values, min_prevalence=min_prevalence,
                               min_abundance=min_abundance, min_variance=min_variance)
    import scipy.sparse as sp

    mat = sp.csc_array(values)
    normalised = normalize_all(mat, normalization, factors)
    n = normalised.shape[0]
    above = (normalised > min_abundance).sum(axis=0)
    keep = above > min_prevalence * n
    nonzero = normalised != 0
    count = nonzero.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(nonzero, normalised, 0.0).sum(axis=0)
        mean = total / count
        spread = np.where(nonzero, (normalised - mean) ** 2, 0.0).sum(axis=0) / (count - 1)
    return np.asarray(keep & (np.nan_to_num(spread, nan=0.0) > min_variance), dtype=bool)


def normalize_all(values: object, normalization: str,
                   factors: np.ndarray | None = None) -> np.ndarray:
    """Every feature of a (sparse) table normalised per sample, dense (MaAsLin 3's order);
    with ``factors``, MaAsLin 3's UNSCALED normalisation instead."""
    import scipy.sparse as sp

    dense = sp.csr_array(values).toarray()
    if factors is not None:
        return scale_samples(dense, factors)
    return normalize(dense, method=normalization)


def relative_factors(table: ProfileTable) -> np.ndarray:
    """Factors that make a table's rows proportions of their totals over all its features
    (those of the scan's input, spike-in included, as MaAsLin 3's TSS)."""
    totals = table.sample_totals()
    return unscaled_factors(np.ones_like(totals), sample_totals=totals)


def transform_table(raw: np.ndarray, *, normalization: str, transform: str,
                    factors: np.ndarray | None = None) -> np.ndarray:
    """Normalise then transform a dense samples x features table (MaAsLin 2's order);
    with per-sample ``factors`` (:func:`gutaxis.stats.normalize.unscaled_factors`) the
    normalisation is MaAsLin 3's UNSCALED one instead."""
    if factors is not None:
        return transform_values(scale_samples(raw, factors), method=transform)
    return transform_values(normalize(raw, method=normalization), method=transform)

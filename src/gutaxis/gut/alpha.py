"""Alpha diversity: one number per sample, computed on the sparse table at once.

Every metric works on the CSR arrays of :attr:`ProfileTable.values` directly: the
nonzero values of all samples are transformed in one vectorised step and summed per
sample with :func:`numpy.bincount` over their row numbers (a segment sum), so no
sample is visited in a Python loop and the table is never densified.

Every metric returns a :class:`pandas.Series` of float64 indexed by ``sample_id`` and
named after the metric (the key in :data:`ALPHA_METRICS`, which is also its column in
:func:`alpha_diversity`; :mod:`gutaxis.gut.diversity_metrics` maps these to QIIME 2's
names).

Definitions follow scikit-bio 0.7.4 (``skbio.diversity.alpha``), against which the
tests check every metric to 1e-9 on real data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable, row_of_each_value
from gutaxis.errors import InputError
from gutaxis.gut._labelled import per_sample
from gutaxis.gut.phylogenetic import faith_pd

__all__ = [
    "ALPHA_METRICS",
    "NoSingletonsWarning",
    "alpha_diversity",
    "chao1",
    "inverse_simpson",
    "observed_features",
    "pielou_evenness",
    "shannon",
    "simpson",
]


class NoSingletonsWarning(UserWarning):
    """Chao1 was asked of a table without singletons, where it equals observed richness."""


def _row_sums(values: sp.csr_array, data: np.ndarray) -> np.ndarray:
    """Per-row sums of ``data``, an array aligned with ``values.data`` (a segment sum)."""
    return np.bincount(row_of_each_value(values), weights=data, minlength=values.shape[0])


def _proportions(table: ProfileTable, action: str) -> tuple[np.ndarray, np.ndarray]:
    """Each stored value divided by its sample's total, and the totals.

    Empty samples have total 0 and no stored values.
    """
    table.require_kind("counts", "relative", action=action)
    values = table.values
    totals = _row_sums(values, values.data)
    rows = row_of_each_value(values)
    return values.data / totals[rows], totals


def _richness(table: ProfileTable) -> np.ndarray:
    return np.diff(table.values.indptr).astype(np.float64)


def observed_features(table: ProfileTable) -> pd.Series:
    """Number of features with a nonzero value in each sample.

    Parameters
    ----------
    table
        Counts or relative abundances.

    Returns
    -------
    pandas.Series
        ``observed_features``: float64 richness per sample (0 for an empty sample),
        indexed by ``sample_id``.

    Notes
    -----
    :math:`S_{obs} = \\#\\{i : x_i > 0\\}`, as ``skbio.diversity.alpha.observed_features``.
    """
    table.require_kind("counts", "relative", action="observed features")
    return per_sample(table, _richness(table), "observed_features")


def shannon(table: ProfileTable, *, base: float = math.e) -> pd.Series:
    """Shannon entropy, by default with the natural logarithm.

    Parameters
    ----------
    table
        Counts or relative abundances.
    base
        Base of the logarithm: ``e`` (nats, scikit-bio's default) or ``2`` (bits, as
        QIIME 2's ``shannon_entropy``, which ``gutaxis metrics`` writes by default).

    Returns
    -------
    pandas.Series
        ``shannon``: :math:`H'` per sample, indexed by ``sample_id``; ``NaN`` for an
        empty sample.

    Raises
    ------
    InputError
        A base that is not a positive number other than 1.

    Notes
    -----
    .. math:: H' = -\\sum_{i=1}^{S} p_i \\log_b p_i, \\qquad p_i = x_i / \\sum_j x_j

    over the features present. :math:`0 \\le H' \\le \\log_b S`, with equality at the top
    when all present features are equally abundant. Entropies in different bases differ
    by the factor :math:`\\ln b`: bits are nats / ln 2.

    References
    ----------
    .. [1] Shannon, C. E. (1948). A mathematical theory of communication. Bell System
       Technical Journal 27, 379-423.
    """
    return per_sample(table, _entropy(table, base), "shannon")


def _entropy(table: ProfileTable, base: float) -> np.ndarray:
    if not (base > 0 and base != 1 and np.isfinite(base)):
        raise InputError("Shannon logarithm base must be a positive number other than 1",
                         field="base", found=base, expected="2 (bits, QIIME 2) or e (nats)")
    probs, totals = _proportions(table, "Shannon diversity")
    entropy = _row_sums(table.values, -probs * np.log(probs)) / np.log(base)
    return np.where(totals > 0, entropy, np.nan)


def _dominance(table: ProfileTable, action: str) -> np.ndarray:
    """Simpson's dominance :math:`D = \\sum p_i^2`; NaN for an empty sample."""
    probs, totals = _proportions(table, action)
    dominance = _row_sums(table.values, probs * probs)
    return np.where(totals > 0, dominance, np.nan)


def simpson(table: ProfileTable) -> pd.Series:
    """Gini-Simpson diversity, the probability that two draws differ in taxon.

    Parameters
    ----------
    table
        Counts or relative abundances.

    Returns
    -------
    pandas.Series
        ``simpson``: :math:`1 - D` per sample, in ``[0, 1)``, indexed by ``sample_id``;
        ``NaN`` for an empty sample.

    Notes
    -----
    .. math:: 1 - D = 1 - \\sum_i p_i^2

    Drawing with replacement (scikit-bio's default, ``finite=False``).

    References
    ----------
    .. [1] Simpson, E. H. (1949). Measurement of diversity. Nature 163, 688.
    """
    return per_sample(table, 1.0 - _dominance(table, "Simpson diversity"), "simpson")


def inverse_simpson(table: ProfileTable) -> pd.Series:
    """Inverse Simpson index, the Hill number of order 2 (an effective number of taxa).

    Parameters
    ----------
    table
        Counts or relative abundances.

    Returns
    -------
    pandas.Series
        ``inverse_simpson``: :math:`1 / D` per sample, in ``[1, S]``, indexed by
        ``sample_id``; ``NaN`` for an empty sample.

    Notes
    -----
    .. math:: {}^2D = 1 / \\sum_i p_i^2

    References
    ----------
    .. [1] Simpson, E. H. (1949). Measurement of diversity. Nature 163, 688.
    .. [2] Hill, M. O. (1973). Diversity and evenness: a unifying notation and its
       consequences. Ecology 54, 427-432.
    """
    return per_sample(table, 1.0 / _dominance(table, "inverse Simpson diversity"),
                      "inverse_simpson")


def pielou_evenness(table: ProfileTable) -> pd.Series:
    """Pielou's evenness: Shannon entropy over its maximum for the observed richness.

    Parameters
    ----------
    table
        Counts or relative abundances.

    Returns
    -------
    pandas.Series
        ``pielou_evenness``: :math:`J'` per sample, in ``[0, 1]``, indexed by
        ``sample_id``; ``1`` for a sample with one feature (as scikit-bio), ``NaN`` for
        an empty sample.

    Notes
    -----
    .. math:: J' = H' / \\ln S_{obs}

    References
    ----------
    .. [1] Pielou, E. C. (1966). The measurement of diversity in different types of
       biological collections. Journal of Theoretical Biology 13, 131-144.
    """
    entropy = _entropy(table, math.e)
    richness = _richness(table)
    with np.errstate(divide="ignore", invalid="ignore"):
        evenness = entropy / np.log(richness)
    evenness[richness == 1] = 1.0
    evenness[richness == 0] = np.nan
    return per_sample(table, evenness, "pielou_evenness")


def chao1(table: ProfileTable) -> pd.Series:
    """Chao1 richness estimator, bias-corrected (scikit-bio's default).

    Parameters
    ----------
    table
        Whole-number read counts; proportions are refused, as the estimator counts
        singletons and doubletons.

    Returns
    -------
    pandas.Series
        ``chao1``: estimated richness per sample, indexed by ``sample_id`` (0 for an
        empty sample).

    Warns
    -----
    NoSingletonsWarning
        When no sample has a singleton: then the estimate equals observed richness
        and says nothing about unseen taxa. Denoising (DADA2, deblur) and abundance
        filters remove singletons, so Chao1 is not meaningful on such tables.

    Notes
    -----
    With :math:`F_1` singletons and :math:`F_2` doubletons,

    .. math:: \\hat S_{Chao1} = S_{obs} + \\frac{F_1 (F_1 - 1)}{2 (F_2 + 1)}

    (the bias-corrected form, which ``skbio.diversity.alpha.chao1`` uses by default).

    References
    ----------
    .. [1] Chao, A. (1984). Non-parametric estimation of the number of classes in a
       population. Scandinavian Journal of Statistics 11, 265-270.
    .. [2] Chao, A. (1987). Estimating the population size for capture-recapture data
       with unequal catchability. Biometrics 43, 783-791.
    """
    table.require_integer_counts(action="Chao1")
    values = table.values
    singletons = _row_sums(values, (values.data == 1).astype(np.float64))
    doubletons = _row_sums(values, (values.data == 2).astype(np.float64))
    if values.nnz and not singletons.any():
        warnings.warn(
            "Chao1: the table has no singletons, so Chao1 equals observed richness and "
            "estimates nothing about unseen taxa (were singletons removed upstream, e.g. "
            "by denoising or an abundance filter?)",
            NoSingletonsWarning,
            stacklevel=2,
        )
    estimate = _richness(table) + singletons * (singletons - 1) / (2 * (doubletons + 1))
    return per_sample(table, estimate, "chao1")


#: Metric name -> function, in the column order of :func:`alpha_diversity`.
ALPHA_METRICS: dict[str, Callable[[ProfileTable], pd.Series]] = {
    "observed_features": observed_features,
    "shannon": shannon,
    "simpson": simpson,
    "inverse_simpson": inverse_simpson,
    "pielou_evenness": pielou_evenness,
    "chao1": chao1,
    "faith_pd": faith_pd,
}


def alpha_diversity(table: ProfileTable, *, metrics: Sequence[str] | None = None,
                    shannon_base: float = math.e) -> pd.DataFrame:
    """Alpha diversity of every sample.

    Parameters
    ----------
    table
        Counts (every metric) or relative abundances (all but ``chao1``).
    metrics
        Names among :data:`ALPHA_METRICS`. By default: observed_features, shannon,
        simpson, inverse_simpson, pielou_evenness, chao1 (counts only: left out for
        relative tables) and faith_pd when the table has a tree.
    shannon_base
        Logarithm base of ``shannon`` (see :func:`shannon`); Pielou's evenness does not
        depend on it.

    Returns
    -------
    pandas.DataFrame
        Index ``sample_id``, one float64 column per metric in the order asked.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 1.0], [4.0, 0.0]]), ["a", "b"], ["x", "y"])
    >>> alpha_diversity(t, metrics=["observed_features", "shannon"]).round(4).to_dict("list")
    {'observed_features': [2.0, 1.0], 'shannon': [0.6931, 0.0]}
    """
    if metrics is None:
        names = [m for m in ALPHA_METRICS if m != "faith_pd"]
        if table.kind != "counts":
            names.remove("chao1")
        if table.tree is not None:
            names.append("faith_pd")
    else:
        names = list(metrics)
        unknown = [m for m in names if m not in ALPHA_METRICS]
        if unknown:
            raise InputError("unknown alpha diversity metric", field="metrics",
                             found=", ".join(unknown),
                             expected=f"names among {list(ALPHA_METRICS)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        columns = {name: shannon(table, base=shannon_base) if name == "shannon"
                   else ALPHA_METRICS[name](table) for name in names}
    for caught_warning in caught:  # re-issued so they point at the caller's line
        warnings.warn(caught_warning.message, caught_warning.category, stacklevel=2)
    return pd.DataFrame(columns, index=pd.Index(table.sample_ids, name="sample_id"))

"""Intervals and p-values from replicate estimates (bootstrap or quasi-Bayesian draws).

Everything works on a ``(R, ...)`` array of replicates at once, the feature (taxon) axis
included, so no Python loop runs per effect or per taxon.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import norm

CiMethod = Literal["percentile", "bca"]


def _quantiles(replicates: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Type-7 (R's default) quantile of each column at its own probability, NaN ignored.

    ``replicates`` ``(R, m)``, ``probs`` ``(m,)`` -> ``(m,)``.
    """
    ordered = np.sort(replicates, axis=0)          # NaN sort last
    count = np.sum(np.isfinite(replicates), axis=0)
    pos = np.clip(probs, 0.0, 1.0) * np.maximum(count - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    cols = np.arange(replicates.shape[1])
    frac = pos - lo
    value = ordered[lo, cols] * (1.0 - frac) + ordered[hi, cols] * frac
    return np.where(count > 0, value, np.nan)


def percentile_interval(replicates: np.ndarray, *, level: float = 0.95
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column: the ``(1 -+ level) / 2`` quantiles.

    Parameters
    ----------
    replicates
        ``(R, m)`` replicate estimates (``NaN`` for failed replicates, left out).
    level
        Confidence level.
    """
    low = (1.0 - level) / 2
    m = replicates.shape[1]
    return (_quantiles(replicates, np.full(m, low)),
            _quantiles(replicates, np.full(m, 1.0 - low)))


def bca_interval(replicates: np.ndarray, estimate: np.ndarray, jackknife: np.ndarray, *,
                 level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected and accelerated (BCa) bootstrap interval of each column.

    Parameters
    ----------
    replicates
        ``(R, m)`` bootstrap estimates.
    estimate
        ``(m,)`` estimates on the full data.
    jackknife
        ``(n, m)`` leave-one-out estimates, for the acceleration.
    level
        Confidence level.

    Notes
    -----
    Efron (1987): :math:`z_0 = \\Phi^{-1}(\\#\\{\\theta^*_r < \\hat\\theta\\}/R)`,
    :math:`a = \\sum_i (\\bar\\theta_{(\\cdot)} - \\theta_{(i)})^3 /
    (6 [\\sum_i (\\bar\\theta_{(\\cdot)} - \\theta_{(i)})^2]^{3/2})` from the jackknife,
    and the limits are the bootstrap quantiles at
    :math:`\\Phi(z_0 + (z_0 + z_\\alpha) / (1 - a (z_0 + z_\\alpha)))`. R ``mediation``
    takes the acceleration from the bootstrap replicates instead of the jackknife (its
    ``boot.ci.type = "bca"``); ``boot::boot.ci(type = "bca")`` uses the jackknife
    (empirical influence) as here.
    """
    valid = np.isfinite(replicates)
    below = np.sum(valid & (replicates < estimate), axis=0) / np.maximum(valid.sum(axis=0), 1)
    z0 = norm.ppf(np.clip(below, 1e-12, 1 - 1e-12))
    centred = np.nanmean(jackknife, axis=0) - jackknife
    with np.errstate(divide="ignore", invalid="ignore"):
        accel = np.nansum(centred**3, axis=0) / (6.0 * np.nansum(centred**2, axis=0) ** 1.5)
    accel = np.where(np.isfinite(accel), accel, 0.0)
    limits = []
    for alpha in ((1.0 - level) / 2, (1.0 + level) / 2):
        z = z0 + norm.ppf(alpha)
        limits.append(_quantiles(replicates, norm.cdf(z0 + z / (1.0 - accel * z))))
    return limits[0], limits[1]


def replicate_pvalue(replicates: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Two-sided p-value as R ``mediation`` gives it: ``2 min(#{> 0}, #{< 0}) / R``.

    Parameters
    ----------
    replicates
        ``(R, m)`` replicate estimates (``NaN`` left out).
    estimate
        ``(m,)`` estimates; an estimate of exactly 0 has p-value 1.
    """
    count = np.maximum(np.sum(np.isfinite(replicates), axis=0), 1)
    above = np.sum(replicates > 0, axis=0)
    below = np.sum(replicates < 0, axis=0)
    p = np.minimum(2.0 * np.minimum(above, below) / count, 1.0)
    return np.where(estimate == 0, 1.0, p)

"""Small-study effects and publication bias: Egger's regression test, Begg's rank
correlation test and trim-and-fill, as metafor 3.8-1 (``regtest``, ``ranktest``,
``trimfill``) computes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.meta.effect_sizes import StudyEffects
from gutaxis.stats.meta.models import MetaFit, refit


@dataclass(frozen=True, eq=False)
class BiasTests:
    """Egger's test, Begg's test and trim-and-fill for one meta-analysis.

    Attributes
    ----------
    egger_statistic, egger_df, egger_pval
        z (or t, ``df = k - 2``) test of the standard-error slope in the meta-regression
        ``yi ~ sei`` (same estimator and test as the model).
    egger_limit, egger_limit_ci
        The intercept of that regression: the effect of a study with ``se = 0``.
    begg_tau, begg_pval
        Kendall's tau between standardized effects and variances, with its p-value
        (exact without ties, normal approximation with ties: R ``cor.test``).
    trimfill
        The trim-and-fill results (:class:`TrimFill`).
    """

    egger_statistic: float
    egger_df: float
    egger_pval: float
    egger_limit: float
    egger_limit_ci: tuple[float, float]
    begg_tau: float
    begg_pval: float
    trimfill: TrimFill

    def to_frame(self) -> pd.DataFrame:
        """One row per test: test, statistic, df, pval, estimate, ci_low, ci_high, k0, side."""
        fill = self.trimfill.fit
        low, high = fill.conf_int()[0]
        return pd.DataFrame({
            "test": ["egger", "begg", "trimfill"],
            "statistic": [self.egger_statistic, self.begg_tau, np.nan],
            "df": [self.egger_df, np.nan, np.nan],
            "pval": [self.egger_pval, self.begg_pval, np.nan],
            "estimate": [self.egger_limit, np.nan, float(fill.coef[0])],
            "ci_low": [self.egger_limit_ci[0], np.nan, low],
            "ci_high": [self.egger_limit_ci[1], np.nan, high],
            "k0": pd.array([None, None, self.trimfill.k0], dtype="Int64"),
            "side": ["", "", self.trimfill.side]})

    def summary(self) -> str:
        """The three results in words."""
        fill = self.trimfill
        return (f"Egger's test: {'t' if np.isfinite(self.egger_df) else 'z'} = "
                f"{self.egger_statistic:.3f}, p = {self.egger_pval:.3g}; Begg's test: "
                f"Kendall's tau = {self.begg_tau:.3f}, p = {self.begg_pval:.3g}; "
                f"trim-and-fill: {fill.k0} studies filled on the {fill.side}, adjusted "
                f"estimate {fill.fit.coef[0]:.4g}."
                + (" With fewer than 10 studies these tests have little power."
                   if fill.fit.k - fill.k0 < 10 else ""))


@dataclass(frozen=True, eq=False)
class TrimFill:
    """Trim-and-fill (Duval & Tweedie) with the L0 estimator.

    Attributes
    ----------
    k0, se_k0
        Number of studies estimated missing and its standard error.
    side
        The side the missing studies are filled in on (``"left"`` or ``"right"``).
    fit
        The model refitted with the filled studies (their labels start ``Filled``).
    """

    k0: int
    se_k0: float
    side: str
    fit: MetaFit


def bias_tests(results: MetaFit) -> BiasTests:
    """Egger's regression test, Begg's rank correlation test and trim-and-fill.

    Parameters
    ----------
    results
        A meta-analysis without moderators (:func:`fit_meta`).

    Returns
    -------
    BiasTests

    Notes
    -----
    Egger (metafor ``regtest(model="rma", predictor="sei")``): the model refitted with
    ``sei = √vi`` as moderator; the test of its slope. Begg (``ranktest``): Kendall's tau
    between ``(yi - θ̂)/√(vi - 1/Σw)`` (``θ̂`` the fixed-effect estimate, ``w = 1/vi``) and
    ``vi``. Trim-and-fill (``trimfill``, estimator L0): the side is where the Egger slope
    says studies are missing (right when the slope fitted with the model's estimator is
    negative); the ``k0`` most extreme studies are trimmed iteratively, then mirrored about
    the trimmed estimate and the model refitted (with z tests, as metafor does).

    References
    ----------
    Egger M et al. (1997). Bias in meta-analysis detected by a simple, graphical test. BMJ
    315:629-634. Begg CB, Mazumdar M (1994). Operating characteristics of a rank
    correlation test for publication bias. Biometrics 50:1088-1101. Duval S, Tweedie R
    (2000). Trim and fill. Biometrics 56:455-463.
    """
    if len(results.terms) != 1:
        raise InputError("bias tests need a model without moderators", field="moderators",
                         found=", ".join(results.terms[1:]))
    if results.k < 3:
        raise InputError("bias tests need at least 3 studies", found=results.k)
    studies = results.studies
    X = np.column_stack([np.ones(studies.k), np.sqrt(studies.vi)])
    egger = refit(results, X=X, terms=("intercept", "sei"))
    ci = egger.conf_int()
    tau, pval = rank_correlation(studies)
    return BiasTests(egger_statistic=float(egger.statistic[1]), egger_df=egger.df,
                     egger_pval=float(egger.pvalue[1]), egger_limit=float(egger.coef[0]),
                     egger_limit_ci=(float(ci[0, 0]), float(ci[0, 1])), begg_tau=tau,
                     begg_pval=pval, trimfill=trim_and_fill(results))


def rank_correlation(studies: StudyEffects) -> tuple[float, float]:
    """Begg's test: Kendall's tau-b and its two-sided p-value (R ``cor.test``: exact
    permutation distribution without ties, normal approximation with tie corrections)."""
    w = 1 / studies.vi
    theta = float(np.sum(w * studies.yi) / np.sum(w))
    x = (studies.yi - theta) / np.sqrt(studies.vi - 1 / np.sum(w))
    y = studies.vi
    n = len(x)
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    s = float(np.sum(np.triu(sx * sy, 1)))
    pairs = n * (n - 1) / 2
    tx = _tie_sizes(x)
    ty = _tie_sizes(y)
    t1, t2 = np.sum(tx * (tx - 1)) / 2, np.sum(ty * (ty - 1)) / 2
    tau = s / np.sqrt((pairs - t1) * (pairs - t2))
    if not len(tx) and not len(ty):
        concordant = round((tau + 1) * n * (n - 1) / 4)
        cdf = _kendall_cdf(n)
        p = 1 - cdf[concordant - 1] if concordant > n * (n - 1) / 4 else cdf[concordant]
        return float(tau), float(min(2 * p, 1.0))
    v0 = n * (n - 1) * (2 * n + 5)
    vt, vu = (np.sum(t * (t - 1) * (2 * t + 5)) for t in (tx, ty))
    v1 = np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1))
    v2 = np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    z = s / np.sqrt(var_s)
    return float(tau), float(2 * stats.norm.sf(abs(z)))


def _tie_sizes(values: np.ndarray) -> np.ndarray:
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(float)


def _kendall_cdf(n: int) -> np.ndarray:
    """P(number of concordant pairs <= q), q = 0..n(n-1)/2, for n untied pairs."""
    dist = np.array([1.0])
    for i in range(2, n + 1):  # add the i-th element: 0..i-1 new inversions, equally likely
        dist = np.convolve(dist, np.full(i, 1.0 / i))
    return np.cumsum(dist)


def trim_and_fill(results: MetaFit, *, max_iter: int = 100) -> TrimFill:
    """Trim-and-fill with metafor's defaults (estimator L0, side from the Egger slope).

    Parameters
    ----------
    results
        A meta-analysis without moderators.
    max_iter
        Limit on the trimming iterations.

    Returns
    -------
    TrimFill
    """
    studies = results.studies
    X = np.column_stack([np.ones(studies.k), np.sqrt(studies.vi)])
    slope = refit(results, X=X, terms=("intercept", "sei"), test="z").coef[1]
    side = "right" if slope < 0 else "left"
    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * studies.yi, kind="stable")
    y, v = sign * studies.yi[order], studies.vi[order]
    k = len(y)
    k0, previous, beta, se_k0 = 0, -1, 0.0, 0.0
    ones = np.ones((k, 1))
    for _ in range(max_iter):
        if k0 == previous:
            break
        previous = k0
        trimmed = StudyEffects.from_arrays(y[:k - k0], v[:k - k0])
        beta = float(refit(results, X=ones[:k - k0], studies=trimmed, test="z").coef[0])
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        sr = float(np.sum(ranks[centred > 0]))
        estimate = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (k * (k + 1) * (2 * k + 1) + 10 * estimate**3 + 27 * estimate**2
                  + 17 * estimate - 18 * k * estimate**2 - 18 * k * estimate
                  + 6 * k**2 * estimate) / 24
        se_k0 = max(0.0, 4 * np.sqrt(var_sr) / (2 * k - 1))
        k0 = max(0, int(np.round(estimate)))  # R rounds halves to even, as numpy does
    if k0 == 0:
        return TrimFill(k0=0, se_k0=se_k0, side=side, fit=results)
    mirrored = sign * (2 * beta - y[k - k0:])
    filled = StudyEffects(
        study=(*studies.study, *(f"Filled {i + 1}" for i in range(k0))),
        yi=np.concatenate([studies.yi, mirrored]), vi=np.concatenate([studies.vi, v[k - k0:]]),
        measure=studies.measure, conversion=(*studies.conversion, *("filled",) * k0),
        zero_cells=np.concatenate([studies.zero_cells, np.zeros(k0, dtype=bool)]))
    fit = refit(results, X=np.ones((filled.k, 1)), studies=filled, test="z")
    return TrimFill(k0=k0, se_k0=se_k0, side=side, fit=fit)

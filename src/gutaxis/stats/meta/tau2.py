"""Between-study variance (tau²) of a random-effects meta-analysis, as metafor 3.8-1 has it.

Every estimator works on the effect sizes ``yi``, their sampling variances ``vi`` and the
``k x p`` design ``X`` (a column of ones for an intercept-only model). Weighted least
squares is done in ``O(k p²)`` closed forms (no ``k x k`` projection matrix is built):
with ``W = diag(w)`` and ``P = W - W X (X'WX)⁻¹ X'W``,

- ``y'Py = Σ w (y - Xb)²`` (``b`` the weighted least-squares fit),
- ``y'PPy = Σ (w (y - Xb))²``,
- ``tr P = Σ w - tr((X'WX)⁻¹ X'W²X)``, and
- ``tr PP = Σ w² - 2 tr(A X'W³X) + tr((A X'W²X)²)``, ``A = (X'WX)⁻¹``.

Estimators (metafor's ``rma(method=...)``; the result is truncated at 0):

- ``DL`` DerSimonian-Laird: ``(Q - (k - p)) / tr P`` with ``w = 1/vi``.
- ``HE`` Hedges: ``(y'P₀y - tr P₀V) / (k - p)``, ``P₀ = I - X(X'X)⁻¹X'`` (ordinary LS).
- ``HS`` Hunter-Schmidt: ``(Q - k) / Σ w`` with ``w = 1/vi``.
- ``SJ`` Sidik-Jonkman: ``τ₀² y'P y / (k - p)`` with ``w = 1/(vi + τ₀²)`` and
  ``τ₀² = var(y) (k - 1)/k`` (the variance of ``y`` itself, also with moderators).
- ``PM`` Paule-Mandel: the root of ``Q(τ²) = k - p`` on ``[0, max(100, 10 mad(y)²)]``
  (0 when ``Q(0) < k - p``).
- ``ML``, ``REML``, ``EB`` (empirical Bayes / Morris): Fisher scoring from the ``HE``
  estimate, steps halved to stay >= 0; ML and REML fall back to 0 when the (restricted)
  likelihood is higher there (metafor's ``ll0check``).

Iterations run to ``|Δτ²| <= 1e-12 max(1, τ²)`` (metafor's default threshold is 1e-5; the
fixtures in ``tests/reference/metafor`` were made with 1e-12 so both reach the root).

References
----------
Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. J Educ Behav Stat 30:261-293.
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52 (the Q-profile interval).
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
36(3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import numpy as np
from scipy import optimize, stats

from gutaxis.choices import MetaMethod as Tau2Method

TAU2_METHODS: tuple[Tau2Method, ...] = get_args(Tau2Method)
"""Heterogeneity estimators; ``FE`` is the fixed-effect (common-effect) model, tau² = 0."""

THRESHOLD = 1e-12
MAX_ITER = 10_000


@dataclass(frozen=True, eq=False)
class WeightedFit:
    """A weighted least-squares fit of ``y`` on ``X`` with weights ``w``.

    Attributes
    ----------
    w
        The weights.
    coef, cov
        The coefficients ``b`` and ``A = (X'WX)⁻¹``.
    resid
        ``y - Xb``.
    """

    w: np.ndarray
    X: np.ndarray
    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray

    @property
    def rss(self) -> float:
        """``y'Py = Σ w (y - Xb)²``."""
        return float(np.sum(self.w * self.resid**2))

    @property
    def rss_pp(self) -> float:
        """``y'PPy``."""
        return float(np.sum((self.w * self.resid) ** 2))

    @property
    def trace_p(self) -> float:
        """``tr P``."""
        xw2x = self.X.T @ (self.w[:, None] ** 2 * self.X)
        return float(np.sum(self.w) - np.trace(self.cov @ xw2x))

    @property
    def trace_pp(self) -> float:
        """``tr PP``."""
        w = self.w[:, None]
        axw2x = self.cov @ (self.X.T @ (w**2 * self.X))
        axw3x = self.cov @ (self.X.T @ (w**3 * self.X))
        return float(np.sum(self.w**2) - 2 * np.trace(axw3x) + np.trace(axw2x @ axw2x))


def weighted_fit(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> WeightedFit:
    """Weighted least squares of ``y`` on ``X`` (weights ``w``), see :class:`WeightedFit`."""
    xwx = X.T @ (w[:, None] * X)
    cov = np.linalg.inv(xwx)
    coef = cov @ (X.T @ (w * y))
    return WeightedFit(w=w, X=X, coef=coef, cov=cov, resid=y - X @ coef)


def generalized_q(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """``Q(τ²) = Σ (y - Xb)² / (v + τ²)``, ``b`` the fit with those weights."""
    return weighted_fit(y, X, 1.0 / (v + tau2)).rss


def estimate_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: Tau2Method) -> float:
    """tau² by ``method`` (see the module notes); 0 for ``FE``."""
    k, p = X.shape
    if method == "FE" or k <= p:  # one study per coefficient: no heterogeneity to see
        return 0.0
    if method == "DL":
        fit = weighted_fit(y, X, 1.0 / v)
        return max(0.0, (fit.rss - (k - p)) / fit.trace_p)
    if method == "HS":
        fit = weighted_fit(y, X, 1.0 / v)
        return max(0.0, (fit.rss - k) / float(np.sum(fit.w)))
    if method == "SJ":
        tau2_0 = float(np.var(y))  # var(y) (k - 1)/k
        fit = weighted_fit(y, X, 1.0 / (v + tau2_0))
        return max(0.0, tau2_0 * fit.rss / (k - p))
    if method == "PM":
        return _paule_mandel(y, v, X)
    he = _hedges(y, v, X)
    if method == "HE":
        return max(0.0, he)
    return _fisher_scoring(y, v, X, method, start=max(0.0, he))


def _hedges(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    k, p = X.shape
    ols = weighted_fit(y, X, np.ones_like(y))
    trace_pv = float(np.sum(v) - np.trace(ols.cov @ (X.T @ (v[:, None] * X))))
    return (ols.rss - trace_pv) / (k - p)


def _paule_mandel(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    k, p = X.shape
    if generalized_q(0.0, y, v, X) < k - p:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
    upper = max(100.0, 10 * mad**2)
    while generalized_q(upper, y, v, X) > k - p:  # metafor stops here; widening is kinder
        upper *= 10
    return float(optimize.brentq(lambda t: generalized_q(t, y, v, X) - (k - p), 0.0, upper,
                                 xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=MAX_ITER))


def _fisher_scoring(y: np.ndarray, v: np.ndarray, X: np.ndarray, method: Tau2Method, *,
                    start: float) -> float:
    k, p = X.shape
    tau2 = start
    for _ in range(MAX_ITER):
        fit = weighted_fit(y, X, 1.0 / (v + tau2))
        if method == "ML":
            step = (fit.rss_pp - float(np.sum(fit.w))) / float(np.sum(fit.w**2))
        elif method == "REML":
            step = (fit.rss_pp - fit.trace_p) / fit.trace_pp
        else:  # EB
            step = (fit.rss * k / (k - p) - k) / float(np.sum(fit.w))
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) <= THRESHOLD * max(1.0, tau2):
            break
    if method in ("ML", "REML") and tau2 > THRESHOLD:
        reml = method == "REML"
        if log_likelihood(0.0, y, v, X, reml=reml) > log_likelihood(tau2, y, v, X, reml=reml):
            tau2 = 0.0
    return max(0.0, tau2)


def log_likelihood(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray, *,
                   reml: bool) -> float:
    """(Restricted) log-likelihood of the random-effects model at ``tau2``."""
    k, p = X.shape
    fit = weighted_fit(y, X, 1.0 / (v + tau2))
    n = k - p if reml else k
    value = -0.5 * n * np.log(2 * np.pi) - 0.5 * np.sum(np.log(v + tau2)) - 0.5 * fit.rss
    if reml:
        value -= 0.5 * np.linalg.slogdet(np.linalg.inv(fit.cov))[1]
    return float(value)


def q_profile_interval(y: np.ndarray, v: np.ndarray, X: np.ndarray, *, tau2: float,
                       level: float = 0.95) -> tuple[float, float]:
    """Q-profile confidence interval of tau² (Viechtbauer 2007), as metafor's ``confint``.

    The bounds solve ``Q(τ²) = χ²_{k-p}`` quantiles ``1 - α/2`` (lower bound) and ``α/2``
    (upper bound) on ``[0, max(100, 10 τ̂²)]``. A bound is 0 when ``Q(0)`` is already below
    its quantile, and the upper end of the search interval when ``Q`` is still above its
    quantile there (metafor prints it as ``>``; here it is the value returned).
    """
    k, p = X.shape
    alpha = 1 - level
    crit_upper = float(stats.chi2.isf(alpha / 2, k - p))
    crit_lower = float(stats.chi2.ppf(alpha / 2, k - p))
    high = max(100.0, 10 * tau2)
    q_low, q_high = generalized_q(0.0, y, v, X), generalized_q(high, y, v, X)

    def root(target: float) -> float:
        return float(optimize.brentq(lambda t: generalized_q(t, y, v, X) - target, 0.0, high,
                                     xtol=1e-14, rtol=4 * np.finfo(float).eps,
                                     maxiter=MAX_ITER))

    if q_low < crit_lower:
        lower = upper = 0.0
    else:
        upper = high if q_high > crit_lower else root(crit_lower)
        lower = 0.0
    if q_high > crit_upper:
        lower = upper = high
    elif q_low >= crit_upper:
        lower = root(crit_upper)
    return lower, upper

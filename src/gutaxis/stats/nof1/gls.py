"""Regression with AR(1) errors (generalised least squares), batched over series.

Every function takes ``m`` series at once: ``Y`` is ``(m, n)`` and the design ``X`` is
``(n, p)`` (shared) or ``(m, n, p)``; the series share their observation times. The
autocorrelation ``phi`` is estimated by maximising the restricted (REML) profile
likelihood, first on a grid and then by a golden-section refinement, both as array
operations over all series: 1,000 fits of 120 points take well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from gutaxis.errors import InputError

#: Below this many points an AR(1) coefficient cannot be estimated usefully: simulation
#: studies of single-case designs find REML estimates of phi biased and intervals too
#: narrow in short series (Huitema & McKean 2000; Shadish et al. 2013), so the fit falls
#: back to ordinary least squares and says so.
MIN_POINTS_AR1 = 20

_GRID = np.linspace(-0.95, 0.95, 39)
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
_PHI_MAX = 0.995

Method = Literal["reml", "ols"]


@dataclass(frozen=True, eq=False)
class AR1Fit:
    """Estimates of one linear model with AR(1) errors fitted to ``m`` series.

    Attributes
    ----------
    terms
        The ``p`` term names.
    coef, stderr
        ``(m, p)`` coefficients and their standard errors (REML ``sigma``, as
        ``nlme::gls``).
    phi, sigma
        ``(m,)`` AR(1) coefficient (0 for OLS) and residual standard deviation.
    cov
        ``(m, p, p)`` covariance of the coefficients.
    df
        Residual degrees of freedom ``n - p`` (t intervals and tests use them).
    method
        ``"reml"`` or ``"ols"``.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    stderr: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    cov: np.ndarray
    df: int
    method: Method

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """``(m, p, 2)`` t intervals of the coefficients.

        Parameters
        ----------
        level
            Coverage of the intervals.
        """
        half = stats.t.ppf(0.5 + level / 2, self.df) * self.stderr
        return np.stack([self.coef - half, self.coef + half], axis=-1)

    def pvalues(self) -> np.ndarray:
        """``(m, p)`` two-sided t-test p-values of the coefficients (``df = n - p``)."""
        return 2.0 * stats.t.sf(np.abs(self.coef / self.stderr), self.df)

    def summary(self) -> str:
        """The estimates of the first series, in words."""
        lo, hi = self.conf_int()[0].T
        rows = [f"{t}: {c:.3g} (95% CI {a:.3g} to {b:.3g})"
                for t, c, a, b in zip(self.terms, self.coef[0], lo, hi, strict=True)]
        what = (f"AR(1) GLS (REML), phi {self.phi[0]:.2f}" if self.method == "reml"
                else "OLS (errors treated as independent)")
        return f"{what}; " + "; ".join(rows)


def step_gaps(time: np.ndarray) -> np.ndarray:
    """Gaps between consecutive observations in steps of the smallest gap (1 for a
    complete daily or weekly series), as ``nlme::corAR1(form = ~ time)`` counts them."""
    t = np.asarray(time, dtype=float)
    d = np.diff(t)
    if len(t) and (not np.all(np.isfinite(t)) or np.any(d <= 0)):
        raise InputError("times must be finite and strictly increasing", field="time",
                         found=t[:5].tolist(), expected="one observation per time point")
    if len(d) == 0:
        return d
    return np.round(d / d.min(), 9)


def profile_reml(Y: np.ndarray, X: np.ndarray, *, gaps: np.ndarray,
                 phi: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """REML profile log-likelihood at ``phi`` for every series, with the GLS fit there.

    Parameters
    ----------
    Y
        ``(m, n)`` series.
    X
        ``(n, p)`` or ``(m, n, p)`` design.
    gaps
        ``(n - 1,)`` gaps in steps (:func:`step_gaps`).
    phi
        ``(m,)`` AR(1) coefficients, one per series, or one for all.

    Returns
    -------
    tuple
        ``loglik (m,)``, ``coef (m, p)``, ``rss (m,)``, ``inverse of X'V^-1 X (m, p, p)``.

    Notes
    -----
    With unit-variance AR(1) correlation ``R`` (``corr = phi^|gap|``) the transform
    ``e*_1 = e_1``, ``e*_t = (e_t - r_t e_{t-1}) / sqrt(1 - r_t^2)``, ``r_t = phi^gap_t``,
    whitens the errors and ``log|R| = sum log(1 - r_t^2)``. With ``sigma^2`` profiled
    out the restricted log-likelihood is, up to a constant,
    ``-1/2 log|R| - 1/2 log|X'R^-1 X| - (n - p)/2 log RSS`` (Harville 1974): the same
    function ``nlme::gls(method = "REML")`` maximises.
    """
    m, n = Y.shape
    p = X.shape[-1]
    if np.ndim(phi) == 0 and X.ndim == 2:  # one phi, one design: whiten the design once
        r1 = np.power(float(phi), gaps)
        s1 = np.sqrt(1.0 - r1 * r1)
        ys = np.concatenate([Y[:, :1], (Y[:, 1:] - r1 * Y[:, :-1]) / s1], axis=1)
        x1 = np.concatenate([X[:1], (X[1:] - r1[:, None] * X[:-1]) / s1[:, None]])
        gram1 = x1.T @ x1
        inv = np.broadcast_to(np.linalg.inv(gram1), (m, p, p))
        coef = ys @ x1 @ inv[0]
        resid = ys - coef @ x1.T
        log_det = np.log(np.diag(np.linalg.cholesky(gram1))).sum()
        log_scale = np.full(m, np.log(s1).sum())
    else:
        r = np.power(np.broadcast_to(phi, (m,))[:, None], gaps[None, :])  # (m, n-1)
        scale = np.sqrt(1.0 - r * r)
        ys = np.concatenate([Y[:, :1], (Y[:, 1:] - r * Y[:, :-1]) / scale], axis=1)
        Xb = np.broadcast_to(X, (m, *X.shape[-2:]))
        xs = np.concatenate([Xb[:, :1], (Xb[:, 1:] - r[..., None] * Xb[:, :-1])
                             / scale[..., None]], axis=1)
        gram = np.matmul(xs.transpose(0, 2, 1), xs)
        inv = np.linalg.inv(gram)
        coef = np.matmul(inv, np.matmul(xs.transpose(0, 2, 1), ys[..., None]))[..., 0]
        resid = ys - np.matmul(xs, coef[..., None])[..., 0]
        log_det = np.log(np.diagonal(np.linalg.cholesky(gram), axis1=1, axis2=2)).sum(axis=1)
        log_scale = np.log(scale).sum(axis=1)
    rss = np.einsum("mn,mn->m", resid, resid)
    loglik = -log_scale - log_det - 0.5 * (n - p) * np.log(rss)
    return loglik, coef, rss, inv


def fit_gls_ar1(Y: np.ndarray, X: np.ndarray, *, time: np.ndarray | None = None,
                terms: tuple[str, ...] | None = None, method: Method = "reml") -> AR1Fit:
    """Fit ``y = X beta + e`` with AR(1) errors to ``m`` series at once.

    Parameters
    ----------
    Y
        ``(m, n)`` outcomes (or ``(n,)`` for one series); no missing values.
    X
        ``(n, p)`` design shared by the series, or ``(m, n, p)``.
    time
        ``(n,)`` observation times; gaps count as several AR(1) steps
        (``corr = phi^gap``). Default: consecutive steps.
    terms
        Names of the ``p`` columns of ``X``.
    method
        ``"reml"`` (estimate ``phi`` by restricted maximum likelihood) or ``"ols"``
        (``phi = 0``).

    Returns
    -------
    AR1Fit

    Notes
    -----
    ``phi`` maximises the REML profile (:func:`profile_reml`) over ``[-0.95, 0.95]`` in
    steps of 0.05, then a golden-section search refines it within one grid step of the
    best point (to about 3e-9), all series at once. Coefficient covariance is
    ``sigma^2 (X'R^-1 X)^-1`` with ``sigma^2 = RSS* / (n - p)``; intervals and tests use
    t with ``n - p`` degrees of freedom, as ``nlme``. Checked against
    ``nlme::gls(..., correlation = corAR1(form = ~ time), method = "REML")`` to 1e-5
    (``tests/reference/nof1``).

    References
    ----------
    Harville DA (1974). Bayesian inference for variance components using only error
    contrasts. Biometrika 61:383-385.
    Pinheiro JC, Bates DM (2000). Mixed-Effects Models in S and S-PLUS. Springer.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    X = np.asarray(X, dtype=float)
    m, n = Y.shape
    p = X.shape[-1]
    if not np.all(np.isfinite(Y)) or not np.all(np.isfinite(X)):
        raise InputError("missing or infinite values in the series or design", field="Y",
                         expected="finite values (drop missing days first)")
    if n <= p + 1:
        raise InputError("too few points for the model", field="Y", found=n,
                         expected=f"more than {p + 1} points")
    gaps = step_gaps(np.arange(n) if time is None else np.asarray(time))
    phi = np.zeros(m) if method == "ols" else _maximise_phi(Y, X, gaps)
    _, coef, rss, inv = profile_reml(Y, X, gaps=gaps, phi=phi)
    sigma2 = rss / (n - p)
    cov = sigma2[:, None, None] * inv
    stderr = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    names = terms if terms is not None else tuple(f"x{j}" for j in range(p))
    return AR1Fit(terms=tuple(names), coef=coef, stderr=stderr, phi=phi,
                  sigma=np.sqrt(sigma2), cov=cov, df=n - p, method=method)


def _maximise_phi(Y: np.ndarray, X: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Grid search then golden-section refinement of the REML profile, per series."""
    grid = np.stack([profile_reml(Y, X, gaps=gaps, phi=float(g))[0] for g in _GRID])
    best = _GRID[np.nanargmax(grid, axis=0)]
    step = _GRID[1] - _GRID[0]
    lo = np.maximum(best - step, -_PHI_MAX)
    hi = np.minimum(best + step, _PHI_MAX)
    a = hi - _GOLDEN * (hi - lo)
    b = lo + _GOLDEN * (hi - lo)
    fa = profile_reml(Y, X, gaps=gaps, phi=a)[0]
    fb = profile_reml(Y, X, gaps=gaps, phi=b)[0]
    for _ in range(36):
        left = fa > fb  # the maximum lies in [lo, b]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        a_new = np.where(left, hi - _GOLDEN * (hi - lo), b)
        b_new = np.where(left, a, lo + _GOLDEN * (hi - lo))
        f_new = profile_reml(Y, X, gaps=gaps, phi=np.where(left, a_new, b_new))[0]
        fa, fb = np.where(left, f_new, fb), np.where(left, fa, f_new)
        a, b = a_new, b_new
    return (lo + hi) / 2.0


def phi_posterior(Y: np.ndarray, X: np.ndarray, *, gaps: np.ndarray,
                  grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior weights of ``phi`` on ``grid`` and the GLS fit at each grid point.

    Parameters
    ----------
    Y
        ``(m, n)`` series.
    X
        ``(n, p)`` or ``(m, n, p)`` design.
    gaps
        ``(n - 1,)`` gaps in steps.
    grid
        ``(g,)`` values of ``phi``.

    Returns
    -------
    tuple
        ``weights (m, g)`` (summing to 1), ``coef (m, g, p)`` and ``cov (m, g, p, p)``
        (the scale of the multivariate t posterior of the coefficients given ``phi``).

    Notes
    -----
    With flat priors on the coefficients and ``phi`` and ``p(sigma^2) ~ 1/sigma^2`` the
    marginal posterior of ``phi`` is proportional to the REML profile likelihood, and
    given ``phi`` the coefficients are multivariate t with ``n - p`` degrees of freedom,
    centred on the GLS estimate with scale ``RSS/(n - p) (X'R^-1 X)^-1`` (Box & Tiao
    1973, ch. 2; Harville 1974).
    """
    n = Y.shape[1]
    p = X.shape[-1]
    fits = [profile_reml(Y, X, gaps=gaps, phi=float(g)) for g in grid]
    loglik = np.stack([f[0] for f in fits], axis=1)
    weights = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    coef = np.stack([f[1] for f in fits], axis=1)
    cov = np.stack([(f[2] / (n - p))[:, None, None] * f[3] for f in fits], axis=1)
    return weights, coef, cov


def mixture_cdf(x: np.ndarray, weights: np.ndarray, centre: np.ndarray, scale: np.ndarray,
                df: int) -> np.ndarray:
    """``(m,)`` CDF at ``x`` of mixtures of t distributions, one mixture per series.

    Parameters
    ----------
    x
        ``(m,)`` points.
    weights, centre, scale
        ``(m, g)`` mixture weights, locations and scales.
    df
        Degrees of freedom of every component.
    """
    from scipy.special import stdtr

    return np.sum(weights * stdtr(df, (x[:, None] - centre) / scale), axis=1)


def mixture_quantile(q: float, weights: np.ndarray, centre: np.ndarray, scale: np.ndarray,
                     df: int) -> np.ndarray:
    """``(m,)`` ``q``-quantiles of mixtures of t distributions (safeguarded Newton, batched).

    Parameters
    ----------
    q
        The probability.
    weights, centre, scale
        ``(m, g)`` mixture weights, locations and scales.
    df
        Degrees of freedom of every component.
    """
    from scipy.special import gammaln

    log_norm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi)
    mean = np.sum(weights * centre, axis=1)
    spread = np.sqrt(np.sum(weights * (scale**2 + (centre - mean[:, None]) ** 2), axis=1))

    def cdf(x: np.ndarray) -> np.ndarray:
        return mixture_cdf(x, weights, centre, scale, df)

    lo, hi = mean - spread, mean + spread
    for _ in range(200):  # widen the bracket until it holds the quantile
        low_ok, high_ok = cdf(lo) < q, cdf(hi) > q
        if low_ok.all() and high_ok.all():
            break
        width = hi - lo
        lo, hi = np.where(low_ok, lo, lo - width), np.where(high_ok, hi, hi + width)
    x = np.clip(mean + stats.t.ppf(q, df) * spread, lo, hi)
    for _ in range(200):  # Newton's method, bisecting when a step leaves the bracket
        f = cdf(x) - q
        if np.all(np.abs(f) < 1e-12) or np.all(hi - lo < 1e-12 * (1 + np.abs(x))):
            break
        lo, hi = np.where(f < 0, x, lo), np.where(f < 0, hi, x)
        z = (x[:, None] - centre) / scale
        density = np.sum(weights * np.exp(log_norm - (df + 1) / 2 * np.log1p(z * z / df))
                         / scale, axis=1)
        newton = x - f / np.maximum(density, 1e-300)
        inside = (newton >= lo) & (newton <= hi)
        x = np.where(inside, newton, (lo + hi) / 2)
    return x


#: The grid of ``phi`` the posterior is integrated over (step 0.02).
PHI_GRID = np.linspace(-0.98, 0.98, 99)


@dataclass(frozen=True, eq=False)
class IntegratedCoefficient:
    """One coefficient's posterior with ``phi`` integrated out, for ``m`` series.

    Attributes
    ----------
    weights, centre, scale
        ``(m, g)`` the t mixture (:func:`phi_posterior`).
    df
        Degrees of freedom of the components.
    """

    weights: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    df: int

    def interval(self, level: float = 0.95) -> np.ndarray:
        """``(m, 2)`` equal-tailed credible interval.

        Parameters
        ----------
        level
            Probability inside the interval.
        """
        return np.stack([mixture_quantile(q, self.weights, self.centre, self.scale, self.df)
                         for q in ((1 - level) / 2, (1 + level) / 2)], axis=1)

    def prob_below(self, value: np.ndarray | float) -> np.ndarray:
        """``(m,)`` posterior probability that the coefficient is at most ``value``.

        Parameters
        ----------
        value
            Threshold, one for all series or ``(m,)``.
        """
        x = np.broadcast_to(np.asarray(value, dtype=float), self.weights.shape[:1])
        return mixture_cdf(np.ascontiguousarray(x), self.weights, self.centre, self.scale,
                           self.df)

    def pvalue(self) -> np.ndarray:
        """``(m,)`` two-sided tail probability of zero, ``2 min(P(b <= 0), P(b >= 0))``
        (the t-test p-value when ``phi`` is known)."""
        below = self.prob_below(0.0)
        return np.minimum(1.0, 2.0 * np.minimum(below, 1.0 - below))


def integrate_phi(Y: np.ndarray, X: np.ndarray, *, column: int, time: np.ndarray | None = None,
                  grid: np.ndarray = PHI_GRID) -> IntegratedCoefficient:
    """The posterior of coefficient ``column`` with the uncertainty of ``phi`` included.

    Parameters
    ----------
    Y
        ``(m, n)`` series (or ``(n,)``).
    X
        ``(n, p)`` or ``(m, n, p)`` design.
    column
        Which coefficient.
    time
        ``(n,)`` times (gaps count as several steps).
    grid
        Values of ``phi`` integrated over (``[0.0]`` for OLS).

    Notes
    -----
    The plug-in GLS interval treats the REML ``phi`` as known and is too narrow in
    series of 60-120 points (93.9% coverage in 5,000 validation series, phi 0.3-0.5);
    integrating over ``phi`` (:func:`phi_posterior`) gives 95.2%.
    ``tests/stats/nof1/test_nof1_validation.py`` checks it.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    n = Y.shape[1]
    gaps = step_gaps(np.arange(n) if time is None else np.asarray(time))
    weights, coef, cov = phi_posterior(Y, np.asarray(X, dtype=float), gaps=gaps, grid=grid)
    return IntegratedCoefficient(weights=weights, centre=coef[:, :, column],
                                 scale=np.sqrt(cov[:, :, column, column]),
                                 df=n - X.shape[-1])

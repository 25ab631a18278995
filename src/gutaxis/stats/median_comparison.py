"""MaAsLin 3's median comparison: test each feature's coefficient against the median
coefficient of all features, instead of against zero.

On relative (compositional) data a shift of one feature moves every other feature's
relative abundance the other way, so the coefficients of a term across features are all
offset by a common, unknown amount. MaAsLin 3 estimates that offset by the median
coefficient across features and tests each coefficient against it, accounting for the
median's own uncertainty (Nickols et al. 2024, Methods, "Compositionality"):

- the median :math:`\\tilde\\beta` is taken over the features whose fit succeeded and whose
  p-value (against zero) is below 0.95 (p-values near 1 are often misfits);
- its variance is the asymptotic variance of a sample median of normal values,
  :math:`\\tfrac{\\pi}{2}\\,s^2 / k`, with :math:`s^2` the variance of those :math:`k`
  coefficients;
- the covariance of each coefficient with the median is estimated by simulation: every
  coefficient is drawn from :math:`N(\\hat\\beta_i, \\mathrm{se}_i^2)` (10,000 draws by
  default) and the median of each draw is taken;
- the statistic is :math:`(\\hat\\beta_i - \\tilde\\beta) / \\sqrt{\\mathrm{se}_i^2 +
  \\mathrm{var}(\\tilde\\beta) - 2\\,\\mathrm{cov}(\\hat\\beta_i, \\tilde\\beta)}`, two-sided
  against the model's own reference distribution (Student's t with the coefficient's
  degrees of freedom for linear and linear mixed models, normal for logistic ones).

The simulation is seeded, so a result is reproducible; its Monte Carlo error is the same
as MaAsLin 3's (which does not fix a seed). Coefficients themselves are unchanged unless
``subtract_median`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

#: The p-value (against zero) at or above which a coefficient is left out of the median.
MEDIAN_PVALUE_CUTOFF = 0.95
#: Draws of the simulation that estimates each coefficient's covariance with the median.
N_SIMULATIONS = 10_000
_CHUNK = 1_000


@dataclass(frozen=True, eq=False)
class MedianComparison:
    """Coefficients tested against the median coefficient of their term.

    Attributes
    ----------
    pvalue
        Features x terms: the two-sided p-value of ``coef - median``; ``NaN`` where the
        fit failed or the median could not be formed.
    coef
        The coefficients, minus the median where ``subtract_median`` was set.
    median, median_stderr
        Per term: the median coefficient and its standard error; ``NaN`` when no
        coefficient qualified.
    n_median
        Per term: how many coefficients the median was taken over.
    """

    pvalue: np.ndarray
    coef: np.ndarray
    median: np.ndarray
    median_stderr: np.ndarray
    n_median: np.ndarray

    def summary(self) -> str:
        """One line per term: the median and its standard error."""
        return "\n".join(
            f"term {j}: median {m:.4g} (se {s:.2g}) over {k} feature(s)"
            for j, (m, s, k) in enumerate(zip(self.median, self.median_stderr, self.n_median,
                                              strict=True)))


def median_comparison(
    coef: np.ndarray,
    stderr: np.ndarray,
    pvalue: np.ndarray,
    df: np.ndarray,
    *,
    threshold: float = 0.0,
    column_scale: np.ndarray | None = None,
    subtract_median: bool = False,
    n_simulations: int = N_SIMULATIONS,
    seed: int = 0,
) -> MedianComparison:
    """Test every coefficient against the median coefficient of its term (MaAsLin 3).

    Parameters
    ----------
    coef, stderr, pvalue, df
        Features x terms arrays of one model's fits: estimates, standard errors,
        p-values against zero and degrees of freedom (``NaN`` or ``inf`` for z tests).
        A feature whose fit failed has ``NaN`` there and is left out.
    threshold
        A coefficient closer to the median than this gets p = 1 (MaAsLin 3's
        ``median_comparison_*_threshold``; 0, the default, never applies). For a
        non-binary design column the threshold is divided by that column's standard
        deviation on the feature's samples, given as ``column_scale``.
    column_scale
        Features x terms: standard deviation of each design column over the samples the
        feature's fit used, ``NaN`` for 0/1 columns (the threshold then applies as is).
    subtract_median
        Report ``coef - median`` as the coefficient (MaAsLin 3's ``subtract_median``).
    n_simulations, seed
        The simulation that estimates each coefficient's covariance with the median.

    Returns
    -------
    MedianComparison
        The new p-values and coefficients, and each term's median.

    Examples
    --------
    Nine coefficients around 1 and one at 3: only the outlier differs from the median.

    >>> import numpy as np
    >>> b = np.array([[0.9], [1.0], [1.1], [0.95], [1.05], [1.0], [0.98], [1.02], [1.01], [3.0]])
    >>> se = np.full_like(b, 0.1)
    >>> res = median_comparison(b, se, np.full_like(b, 1e-6), np.full_like(b, 50.0))
    >>> float(res.median[0])
    1.005
    >>> bool(res.pvalue[-1, 0] < 1e-6), bool(res.pvalue[1, 0] > 0.9)
    (True, True)
    """
    coef = np.asarray(coef, dtype=np.float64)
    stderr = np.asarray(stderr, dtype=np.float64)
    pvalue = np.asarray(pvalue, dtype=np.float64)
    df = np.asarray(df, dtype=np.float64)
    m, q = coef.shape
    rng = np.random.default_rng(seed)
    out = np.full((m, q), np.nan)
    medians, median_se = np.full(q, np.nan), np.full(q, np.nan)
    n_median = np.zeros(q, dtype=np.int64)
    for j in range(q):  # a handful of terms; features are vectorised
        rows = np.isfinite(coef[:, j]) & np.isfinite(stderr[:, j]) & np.isfinite(pvalue[:, j])
        use = rows & (pvalue[:, j] < MEDIAN_PVALUE_CUTOFF)
        n_median[j] = int(use.sum())
        if not n_median[j]:
            continue
        b, s = coef[rows, j], stderr[rows, j]
        in_median = use[rows]
        medians[j] = float(np.median(b[in_median]))
        spread = float(np.var(b[in_median], ddof=1)) if n_median[j] > 1 else np.nan
        median_se[j] = np.sqrt(0.5 * np.pi * spread / n_median[j])
        cov = _covariance_with_median(b, s, in_median, n_simulations, rng)
        variance = s**2 + median_se[j] ** 2 - 2.0 * cov
        gap = np.abs(b - medians[j])
        with np.errstate(invalid="ignore", divide="ignore"):
            statistic = gap / np.sqrt(np.where(variance > 0, variance, np.nan))
        dof = df[rows, j]
        finite_df = np.isfinite(dof)
        p = np.where(finite_df, 2.0 * sps.t.sf(statistic, np.where(finite_df, dof, 1.0)),
                     2.0 * sps.norm.sf(statistic))
        limit = np.full(len(b), float(threshold))
        if column_scale is not None:
            scale = np.asarray(column_scale, dtype=np.float64)[rows, j]
            limit = np.where(np.isfinite(scale), threshold / scale, threshold)
        p = np.where(gap < limit, 1.0, p)
        out[rows, j] = p
    shift = np.where(np.isfinite(medians), medians, 0.0) if subtract_median else 0.0
    return MedianComparison(pvalue=out, coef=coef - shift, median=medians,
                            median_stderr=median_se, n_median=n_median)


def _covariance_with_median(
    coef: np.ndarray, stderr: np.ndarray, in_median: np.ndarray, n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Simulated covariance of each coefficient with the median of those ``in_median``.

    Each draw sets every coefficient to ``N(coef, stderr**2)``; the sample covariance
    (``n - 1`` divisor) over ``n`` draws is accumulated in chunks, so memory stays at
    ``_CHUNK x len(coef)`` whatever ``n``.
    """
    k = len(coef)
    sum_x, sum_xm = np.zeros(k), np.zeros(k)
    sum_m = 0.0
    done = 0
    while done < n:
        size = min(_CHUNK, n - done)
        draws = coef + stderr * rng.standard_normal((size, k))
        med = np.median(draws[:, in_median], axis=1)
        sum_x += draws.sum(axis=0)
        sum_xm += med @ draws
        sum_m += float(med.sum())
        done += size
    return (sum_xm - sum_x * sum_m / n) / (n - 1)

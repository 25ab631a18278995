"""Fixed- and random-effects meta-analysis and meta-regression (metafor's ``rma.uni``).

:func:`fit_meta` pools the studies' effect sizes (a :class:`StudyEffects`) with inverse
variance weights ``w = 1/(vi + τ²)``, ``τ²`` by one of the estimators of
:mod:`gutaxis.stats.meta.tau2`, optionally with moderators (meta-regression) and the
Knapp-Hartung (HKSJ) adjustment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.choices import MetaTest
from gutaxis.errors import InputError
from gutaxis.stats.meta.effect_sizes import StudyEffects
from gutaxis.stats.meta.tau2 import (
    TAU2_METHODS,
    Tau2Method,
    estimate_tau2,
    q_profile_interval,
    weighted_fit,
)

META_TESTS: tuple[MetaTest, ...] = get_args(MetaTest)


@dataclass(frozen=True, eq=False)
class MetaFit:
    """A fitted meta-analysis (or meta-regression): metafor's ``rma(yi, vi, ...)``.

    Attributes
    ----------
    studies
        The studies' effect sizes (:class:`StudyEffects`).
    method, test, level
        tau² estimator (``FE`` is the fixed-effect model), ``"z"`` (Wald z) or ``"knha"``
        (Knapp-Hartung: t on ``k - p`` df, covariance scaled by ``s² = Σ w (y - Xb)² /
        (k - p)``), and the confidence level.
    terms, X
        Names and ``k x p`` design of the coefficients (``("intercept",)`` and ones
        without moderators).
    coef, cov
        The ``p`` coefficients and their covariance matrix.
    tau2, tau2_ci
        Between-study variance and its Q-profile interval (NaN for ``FE``).
    q, q_pval, i2, h2
        Cochran's (residual) ``Q = Σ (y - Xb)²/vi`` with its chi² p-value on ``k - p`` df;
        I² (%) and H² as metafor: ``I² = 100 τ²/(τ² + ṽ)``, ``H² = τ²/ṽ + 1``, the typical
        variance ``ṽ = (k - p)/tr P`` (``w = 1/vi``); for ``FE`` ``I² = max(0, 100(Q - (k -
        p))/Q)`` and ``H² = Q/(k - p)``.
    qm, qm_pval
        Omnibus test of the moderators (every coefficient but the intercept; the
        intercept itself without moderators): chi² on ``m`` df, or ``F(m, k - p)`` with
        Knapp-Hartung.
    s2w
        The Knapp-Hartung scale (1 for ``z``).
    """

    studies: StudyEffects
    method: Tau2Method
    test: MetaTest
    level: float
    terms: tuple[str, ...]
    X: np.ndarray
    coef: np.ndarray
    cov: np.ndarray
    tau2: float
    tau2_ci: tuple[float, float]
    q: float
    q_pval: float
    i2: float
    h2: float
    qm: float
    qm_pval: float
    s2w: float

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.studies.yi)

    @property
    def df(self) -> float:
        """Degrees of freedom of the t tests (``k - p``), infinite for z tests."""
        return float(self.k - len(self.terms)) if self.test == "knha" else np.inf

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.diag(self.cov))

    @property
    def statistic(self) -> np.ndarray:
        """z or t statistics of the coefficients."""
        return self.coef / self.se

    @property
    def pvalue(self) -> np.ndarray:
        """Two-sided p-values of the coefficients."""
        return 2 * stats.t.sf(np.abs(self.statistic), self.df)

    @property
    def crit(self) -> float:
        """The normal or t quantile of the intervals."""
        return float(stats.t.isf((1 - self.level) / 2, self.df))

    @property
    def weights(self) -> np.ndarray:
        """Percent weights ``100 w / Σ w``, ``w = 1/(vi + τ²)``."""
        w = 1.0 / (self.studies.vi + self.tau2)
        return 100 * w / np.sum(w)

    @property
    def hat(self) -> np.ndarray:
        """Leverages: the diagonal of ``X (X'WX)⁻¹ X'W``."""
        w = 1.0 / (self.studies.vi + self.tau2)
        xwx_inv = np.linalg.inv(self.X.T @ (w[:, None] * self.X))
        return np.minimum(np.einsum("ij,jk,ik->i", self.X, xwx_inv, self.X) * w, 1.0)

    def conf_int(self) -> np.ndarray:
        """``p x 2`` confidence intervals of the coefficients."""
        half = self.crit * self.se
        return np.column_stack([self.coef - half, self.coef + half])

    def prediction_interval(self) -> tuple[float, float]:
        """Interval for the true effect of a new study, ``b ± crit √(se² + τ²)`` (the
        intercept of a model without moderators); the confidence interval for ``FE``."""
        half = self.crit * float(np.sqrt(self.cov[0, 0] + self.tau2))
        return float(self.coef[0] - half), float(self.coef[0] + half)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, estimate, se, statistic, df, pval, ci_low, ci_high."""
        ci = self.conf_int()
        return pd.DataFrame({"term": self.terms, "estimate": self.coef, "se": self.se,
                             "statistic": self.statistic, "df": self.df,
                             "pval": self.pvalue, "ci_low": ci[:, 0], "ci_high": ci[:, 1]})

    def summary(self) -> str:
        """The pooled estimate, heterogeneity and honest words on thin evidence."""
        ci = self.conf_int()
        lines = [f"{self.method} meta-analysis of {self.k} studies ({self.studies.measure}, "
                 f"{'Knapp-Hartung t' if self.test == 'knha' else 'z'} tests):"]
        for i, term in enumerate(self.terms):
            lines.append(f"  {term}: {self.coef[i]:.4g} [{ci[i, 0]:.4g}, {ci[i, 1]:.4g}], "
                         f"p = {self.pvalue[i]:.3g}")
        lines.append(f"  tau2 = {self.tau2:.4g}, I2 = {self.i2:.1f}%, H2 = {self.h2:.3g}, "
                     f"Q = {self.q:.4g} (p = {self.q_pval:.3g})")
        if len(self.terms) > 1:
            lines.append(f"  moderators: QM = {self.qm:.4g} (p = {self.qm_pval:.3g})")
        lines.extend(f"  {note}" for note in self.caveats())
        return "\n".join(lines)

    def caveats(self) -> list[str]:
        """Plain-language warnings: few studies, a prediction interval crossing no effect."""
        notes = []
        if self.k < 5:
            notes.append(f"Evidence is thin: only {self.k} studies; tau2, I2 and the "
                         "intervals are very uncertain.")
        if len(self.terms) == 1 and self.method != "FE":
            low, high = self.prediction_interval()
            if low < 0 < high and (self.conf_int()[0, 0] > 0 or self.conf_int()[0, 1] < 0):
                notes.append("The prediction interval includes no effect: a new study may "
                             "well find none, or the opposite, although the average effect "
                             "is clear.")
            elif low < 0 < high:
                notes.append("Wide prediction interval: the evidence is thin and effects "
                             "vary between studies.")
        if self.method != "FE" and self.tau2_ci[1] >= max(100.0, 10 * self.tau2):
            notes.append("The upper tau2 bound is the end of the search interval "
                         "(max(100, 10 tau2), as metafor): the data do not bound it.")
        return notes


def fit_meta(
    studies: StudyEffects,
    *,
    method: Tau2Method = "REML",
    test: MetaTest = "z",
    moderators: pd.DataFrame | np.ndarray | None = None,
    moderator_names: Sequence[str] | None = None,
    level: float = 0.95,
) -> MetaFit:
    """Pool effect sizes: fixed or random effects, optionally with moderators.

    Parameters
    ----------
    studies
        Effect sizes ``yi`` and sampling variances ``vi`` (:func:`effect_sizes`).
    method
        tau² estimator: ``DL``, ``REML`` (default, as metafor), ``ML``, ``PM``, ``SJ``,
        ``HE``, ``HS``, ``EB``, or ``FE`` for the fixed-effect model.
    test
        ``"z"`` (Wald) or ``"knha"`` (Knapp-Hartung / HKSJ: t tests on ``k - p`` df).
    moderators
        ``k x m`` numeric moderators (meta-regression); an intercept is added. A
        DataFrame's columns name the terms.
    moderator_names
        Term names for an array of moderators.
    level
        Confidence level of the intervals.

    Returns
    -------
    MetaFit

    Notes
    -----
    ``b = (X'WX)⁻¹ X'W y`` with ``W = diag(1/(vi + τ²))``, ``Var(b) = s² (X'WX)⁻¹`` with
    ``s² = 1`` (z) or ``Σ w (y - Xb)²/(k - p)`` (Knapp-Hartung, as metafor: not truncated
    at 1). Equal to metafor 3.8-1 ``rma()`` to 1e-6 on the fixtures in
    ``tests/reference/metafor`` (every estimator, with and without ``knha``).

    References
    ----------
    Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a
    single covariate. Stat Med 22:2693-2710.
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Control Clin Trials
    7:177-188.

    Examples
    --------
    >>> import numpy as np
    >>> from gutaxis.stats.meta import StudyEffects, fit_meta
    >>> effects = StudyEffects.from_arrays([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.03, 0.01])
    >>> fit = fit_meta(effects, method="DL")
    >>> round(float(fit.coef[0]), 4), round(fit.tau2, 4)  # metafor: 0.232723, 0.007059
    (0.2327, 0.0071)
    """
    if method not in TAU2_METHODS:
        raise InputError("unknown heterogeneity estimator", field="method", found=method,
                         expected=", ".join(TAU2_METHODS))
    if test not in META_TESTS:
        raise InputError("unknown test", field="test", found=test, expected="z or knha")
    X, terms = _design(studies, moderators, moderator_names)
    return _fit(studies, X, terms, method=method, test=test, level=level)


def _design(studies: StudyEffects, moderators: pd.DataFrame | np.ndarray | None,
            names: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    k = len(studies.yi)
    if moderators is None:
        return np.ones((k, 1)), ("intercept",)
    if isinstance(moderators, pd.DataFrame):
        names = [str(c) for c in moderators.columns]
    values = np.asarray(moderators, dtype=float).reshape(k, -1)
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(values.shape[1])]
    if not np.all(np.isfinite(values)):
        raise InputError("moderators must be finite numbers", field="moderators")
    X = np.column_stack([np.ones(k), values])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError("the moderators are collinear (or constant)", field="moderators",
                         found=", ".join(names), expected="moderators that vary independently")
    if k <= X.shape[1]:
        raise InputError("too few studies for the moderators", field="moderators", found=k,
                         expected=f"more than {X.shape[1]} studies")
    return X, ("intercept", *names)


def _fit(studies: StudyEffects, X: np.ndarray, terms: tuple[str, ...], *, method: Tau2Method,
         test: MetaTest, level: float) -> MetaFit:
    y, v = studies.yi, studies.vi
    k, p = X.shape
    tau2 = estimate_tau2(y, v, X, method)
    fit = weighted_fit(y, X, 1.0 / (v + tau2))
    s2w = 1.0
    if test == "knha":
        s2w = 0.0 if fit.rss <= np.finfo(float).eps else fit.rss / (k - p)
    cov = s2w * fit.cov
    fe = weighted_fit(y, X, 1.0 / v)
    q = max(0.0, fe.rss)
    if k <= p:  # as metafor: nothing left to test heterogeneity with
        i2, h2, tau2_ci = 0.0, 1.0, (np.nan, np.nan)
    elif method == "FE":
        i2 = max(0.0, 100 * (q - (k - p)) / q) if q > 0 else 0.0
        h2 = q / (k - p)
        tau2_ci = (np.nan, np.nan)
    else:
        typical = (k - p) / fe.trace_p
        i2, h2 = 100 * tau2 / (typical + tau2), tau2 / typical + 1
        tau2_ci = q_profile_interval(y, v, X, tau2=tau2, level=level)
    tested = slice(1, p) if p > 1 else slice(0, 1)
    b = fit.coef[tested]
    m = len(b)
    qm = float(b @ np.linalg.solve(cov[tested, tested], b))
    if test == "knha":
        qm /= m
        qm_pval = float(stats.f.sf(qm, m, k - p))
    else:
        qm_pval = float(stats.chi2.sf(qm, m))
    return MetaFit(studies=studies, method=method, test=test, level=level, terms=terms, X=X,
                   coef=fit.coef, cov=cov, tau2=float(tau2), tau2_ci=tau2_ci, q=q,
                   q_pval=float(stats.chi2.sf(q, k - p)) if k > p else 1.0, i2=float(i2),
                   h2=float(h2), qm=qm, qm_pval=qm_pval, s2w=float(s2w))


def refit(results: MetaFit, keep: np.ndarray | None = None, *,
          X: np.ndarray | None = None, terms: tuple[str, ...] | None = None,
          test: MetaTest | None = None, studies: StudyEffects | None = None) -> MetaFit:
    """``results``' model fitted again: to a subset of studies, another design or data."""
    data = studies if studies is not None else results.studies
    design = X if X is not None else results.X
    if keep is not None:
        data = data.subset(keep)
        design = design[keep]
    return _fit(data, design, terms if terms is not None else results.terms,
                method=results.method, test=test if test is not None else results.test,
                level=results.level)

"""Effects of a two-arm trial at one visit: ANCOVA, change scores, percent change and
Hedges' g. Each function returns :class:`Effect` rows (one tidy table for every analysis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from gutaxis.stats.models.linear import fit_ols
from gutaxis.stats.results import FitResults
from gutaxis.stats.trial.data import TrialData

Z975 = float(stats.norm.ppf(0.975))
"""The normal quantile of two-sided 95% intervals."""


@dataclass(frozen=True)
class Effect:
    """One estimate of a trial analysis, a row of ``effects.tsv``.

    Attributes
    ----------
    analysis
        ``ancova``, ``change``, ``percent_change``, ``hedges_g``, ``responder_30``,
        ``responder_50``, ``lmm`` or ``lmm_arm_at_visit``.
    contrast
        What is estimated: ``probiotic - placebo``, an arm, ``rd``/``rr``/``or``/``nnt``, a
        model term.
    estimate, stderr, ci_low, ci_high, df, statistic, pval
        The estimate, its standard error (``NaN`` when the interval is not ``estimate -/+
        q stderr``), the 95% interval, the test's df (``inf`` for z tests, ``NaN`` for
        none), its statistic and two-sided p-value.
    n
        Subjects (or observations, for the mixed model) used.
    note
        The method or a caveat in words (``""`` when nothing needs saying).
    """

    analysis: str
    contrast: str
    estimate: float
    stderr: float
    ci_low: float
    ci_high: float
    df: float
    statistic: float
    pval: float
    n: int
    note: str = ""


def difference_label(data: TrialData) -> str:
    """``treatment - control`` in the trial's own words."""
    return f"{data.treatment} - {data.control}"


def arm_term(data: TrialData) -> str:
    """The treatment indicator's name as R names it (``armprobiotic``)."""
    return f"{data.arm}{data.treatment}"


def ancova(data: TrialData) -> tuple[Effect, FitResults]:
    """ANCOVA: follow-up on the arm, adjusted for baseline and the covariates (OLS).

    Parameters
    ----------
    data
        One visit, every row with an outcome.

    Returns
    -------
    tuple
        The treatment effect (the arm coefficient, t test with ``n - p`` df) and the whole
        model's :class:`~gutaxis.stats.results.FitResults` (terms named as R's ``lm``).
    """
    terms = ("(Intercept)", arm_term(data), data.baseline_name, *data.covariate_terms)
    X = np.column_stack([np.ones(len(data.outcome)), data.treated, data.baseline,
                         data.covariates])
    fit = fit_ols(data.outcome, X).results(terms=terms, responses=[data.outcome_name])
    ci = fit.conf_int()[0, 1]
    effect = Effect("ancova", difference_label(data), float(fit.coef[0, 1]),
                    float(fit.stderr[0, 1]), float(ci[0]), float(ci[1]), float(fit.df[0, 1]),
                    float(fit.statistic[0, 1]), float(fit.pvalue[0, 1]), len(data.outcome),
                    note="; ".join(filter(None, [
                        "adjusted for " + ", ".join([data.baseline_name, *data.covariate_terms]),
                        fit.messages[0]])))
    return effect, fit


def change_score(data: TrialData) -> Effect:
    """Difference in mean change (follow-up minus baseline) between arms.

    The two-sample t test with pooled variance, i.e. ``lm(change ~ arm)``.

    Parameters
    ----------
    data
        One visit, every row with an outcome.
    """
    change = data.outcome - data.baseline
    X = np.column_stack([np.ones(len(change)), data.treated])
    fit = fit_ols(change, X).results(terms=["(Intercept)", arm_term(data)])
    ci = fit.conf_int()[0, 1]
    return Effect("change", difference_label(data), float(fit.coef[0, 1]),
                  float(fit.stderr[0, 1]), float(ci[0]), float(ci[1]), float(fit.df[0, 1]),
                  float(fit.statistic[0, 1]), float(fit.pvalue[0, 1]), len(change),
                  note="mean change (follow-up - baseline); pooled-variance t test")


def _ratio_of_means(baseline: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """Percent change of the arm's mean ``100 (mean(f) / mean(b) - 1)`` and its delta-method
    standard error (paired: the covariance of baseline and follow-up enters)."""
    n = len(baseline)
    mb, mf = baseline.mean(), outcome.mean()
    cov = np.cov(np.vstack([outcome, baseline]), ddof=1) / n
    ratio = mf / mb
    var = (cov[0, 0] - 2.0 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / mb**2
    return 100.0 * (ratio - 1.0), 100.0 * float(np.sqrt(max(var, 0.0)))


def percent_change(data: TrialData) -> tuple[Effect, ...]:
    """Percent change from baseline per arm and its difference between arms (delta method).

    Parameters
    ----------
    data
        One visit, every row with an outcome.

    Notes
    -----
    Per arm, the percent change of the arm's means, ``P = 100 (f/b - 1)`` with ``f``, ``b``
    the mean follow-up and baseline. Its standard error is the delta method's,
    ``se(P) = 100 sqrt(Var(f) - 2R Cov(f, b) + R^2 Var(b)) / b`` with ``R = f/b`` and the
    sample (co)variances of the means. The difference between arms is
    ``P_t - P_c`` in percentage points, ``se = sqrt(se_t^2 + se_c^2)`` (independent
    arms). Intervals and p-values are normal (z). A subject whose baseline is 0 needs no
    special handling (means, not per-subject ratios, are divided); an arm whose mean
    baseline is 0 has no percent change (``NaN`` with a note).

    References
    ----------
    .. [1] Vickers AJ (2001). The use of percentage change from baseline as an outcome in a
       controlled trial is statistically inefficient. BMC Med Res Methodol 1:6.
    """
    rows = []
    parts = []
    for label, in_arm in ((data.treatment, data.treated), (data.control, ~data.treated)):
        b, f = data.baseline[in_arm], data.outcome[in_arm]
        if b.mean() == 0:
            est, se, note = np.nan, np.nan, "mean baseline is 0: percent change undefined"
        else:
            est, se = _ratio_of_means(b, f)
            note = "100 (mean follow-up / mean baseline - 1), delta-method z interval"
        parts.append((est, se))
        rows.append(_z_effect("percent_change", label, est, se, len(b), note))
    (pt, st), (pc, sc) = parts
    rows.append(_z_effect("percent_change", difference_label(data), pt - pc,
                          float(np.hypot(st, sc)), len(data.outcome),
                          "difference in percentage points, delta-method z interval"))
    return tuple(rows)


def _z_effect(analysis: str, contrast: str, estimate: float, stderr: float, n: int,
              note: str) -> Effect:
    z = estimate / stderr if stderr > 0 else np.nan
    return Effect(analysis, contrast, float(estimate), float(stderr),
                  float(estimate - Z975 * stderr), float(estimate + Z975 * stderr), np.inf,
                  float(z), float(2.0 * stats.norm.sf(abs(z))), n, note)


def hedges_g(treatment: np.ndarray, control: np.ndarray) -> tuple[float, float]:
    """Hedges' g of ``treatment - control`` and its large-sample standard error.

    Parameters
    ----------
    treatment, control
        The values of each arm (at least 2 each).

    Notes
    -----
    ``d = (m_t - m_c) / s_p`` with the pooled SD ``s_p``; ``g = J d`` with the exact bias
    correction ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``, ``m = n_t + n_c - 2``;
    ``Var(g) = 1/n_t + 1/n_c + g^2 / (2 (n_t + n_c))``: metafor's
    ``escalc(measure = "SMD")`` (``vtype = "LS"``), equal to it to 1e-10 on the fixture.

    References
    ----------
    .. [1] Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
    """
    nt, nc = len(treatment), len(control)
    m = nt + nc - 2
    pooled = np.sqrt(((nt - 1) * treatment.var(ddof=1) + (nc - 1) * control.var(ddof=1)) / m)
    j = float(np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2))
                     - special.gammaln((m - 1) / 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = j * (treatment.mean() - control.mean()) / pooled
    return float(g), float(np.sqrt(1.0 / nt + 1.0 / nc + g**2 / (2.0 * (nt + nc))))


def standardized_differences(data: TrialData) -> tuple[Effect, ...]:
    """Hedges' g between arms of the change from baseline and of the follow-up value.

    Parameters
    ----------
    data
        One visit, every row with an outcome.
    """
    rows = []
    for label, values in (("change", data.outcome - data.baseline), ("followup", data.outcome)):
        g, se = hedges_g(values[data.treated], values[~data.treated])
        rows.append(_z_effect("hedges_g", f"{label}: {difference_label(data)}", g, se,
                              len(values), "Hedges' g (Hedges & Olkin), normal interval"))
    return tuple(rows)

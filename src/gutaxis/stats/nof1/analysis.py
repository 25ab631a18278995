"""Segmented regression of one subject's outcomes on their phases, with AR(1) errors, a
Bayesian probability of a clinically important fall, and guards against over-reading."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from gutaxis.stats.nof1.design import (
    MIN_POINTS_PER_PHASE,
    PhaseSeries,
    check_points,
    prepare_series,
    segmented_design,
)
from gutaxis.stats.nof1.gls import (
    MIN_POINTS_AR1,
    PHI_GRID,
    IntegratedCoefficient,
    Method,
    fit_gls_ar1,
    integrate_phi,
)
from gutaxis.stats.nof1.results import Nof1Effect, Nof1Results, OutcomeFit


class ShortSeriesWarning(UserWarning):
    """A series too short to estimate autocorrelation: OLS was used instead."""


class OverReadingWarning(UserWarning):
    """A feature of the series that weakens a causal reading (trend before the start,
    a co-intervention at a switch)."""


def analyze_nof1(series: pd.DataFrame, *, outcomes: list[str], time: str = "time",
                 phase: str = "phase", control: str = "A", mcid_points: float = 2.0,
                 mcid_percent: float = 30.0, washout: float = 0.0,
                 min_points: int = MIN_POINTS_PER_PHASE, slope: bool = True,
                 co_interventions: pd.DataFrame | None = None, co_window: float = 7.0,
                 higher_is_better: tuple[str, ...] = (),
                 source: str | None = None) -> Nof1Results:
    """Interrupted time series of one subject: level and slope change of each treatment
    phase against control, per outcome.

    Parameters
    ----------
    series
        One row per observation: time, phase and outcome columns (see
        :func:`~gutaxis.stats.nof1.design.prepare_series`).
    outcomes
        Outcome columns; lower is better (pain NRS/VAS, symptom scores) unless named in
        ``higher_is_better``.
    time, phase
        The time (numbers or dates) and phase columns.
    control
        The control (baseline, placebo) phase label.
    mcid_points, mcid_percent
        Minimal clinically important falls: in points, and in percent of the control
        mean (IMMPACT: 2 points and 30% on a 0-10 scale; Dworkin et al. 2008).
    washout
        Observations less than this long after each switch are left out (and flagged).
    min_points
        Usable points each phase block needs (else :class:`~gutaxis.errors.InputError`).
    slope
        Model slope changes as well as level changes.
    co_interventions
        Other interventions: ``type`` (or ``product``) and ``start`` (same time units
        as ``time``); one starting within ``co_window`` of a switch is warned about.
    co_window
        How close to a switch a co-intervention start is confounded with it.
    higher_is_better
        Outcomes whose improvement is a rise (quality of life, sleep): their MCID
        probabilities are of a rise of at least the thresholds.
    source
        The file, for messages.

    Returns
    -------
    Nof1Results

    Notes
    -----
    Model (:func:`~gutaxis.stats.nof1.design.segmented_design`):
    ``y_t = b0 + b1 t + d I(B) + s (t - start) I(B) + e_t``, ``e_t = phi e_{t-1} + u_t``,
    fitted by GLS with ``phi`` by REML (:func:`~gutaxis.stats.nof1.gls.fit_gls_ar1`,
    checked against ``nlme::gls``); ``level_change`` is ``d``. Its interval and p-value
    (``ci_low``, ``ci_high``, ``pval``) include the uncertainty of ``phi``
    (:func:`~gutaxis.stats.nof1.gls.integrate_phi`): 95% intervals covered the planted
    effect in 95.2% of 5,000 simulated series of 60-120 points with phi 0.3-0.5, where
    the plug-in GLS t interval (``gls_ci_low``, ``gls_ci_high``, ``gls_pval``, as nlme)
    covered 93.9%; on null series with drift 4.9% against 6.2% were significant. Slope
    changes carry the plug-in interval. Series shorter than
    :data:`~gutaxis.stats.nof1.gls.MIN_POINTS_AR1` points are fitted by OLS with a
    warning. ``prob_mcid_points = P(d <= -mcid_points | y)`` and ``prob_mcid_percent =
    P(d <= -mcid_percent/100 * control mean | y)`` under flat priors on the
    coefficients and ``phi`` and ``p(sigma^2) ~ 1/sigma^2``: a mixture over a grid of
    ``phi`` of t distributions (:func:`~gutaxis.stats.nof1.gls.phi_posterior`), exact
    up to the grid. The control mean is plugged in as known.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> day = np.arange(60)
    >>> phase = np.where(day < 30, "A", "B")
    >>> pain = 6 - 2 * (phase == "B") + rng.normal(0, 0.5, 60)
    >>> diary = pd.DataFrame({"day": day, "phase": phase, "pain": pain})
    >>> effect = analyze_nof1(diary, outcomes=["pain"], time="day").effects[0]
    >>> effect.contrast, round(effect.level_change)
    ('B vs A', -2)

    References
    ----------
    Wagner AK et al. (2002). Segmented regression analysis of interrupted time series
    studies in medication use research. J Clin Pharm Ther 27:299-309.
    Dworkin RH et al. (2008). Interpreting the clinical importance of treatment outcomes
    in chronic pain clinical trials: IMMPACT recommendations. J Pain 9:105-121.
    """
    prepared = prepare_series(series, outcomes=outcomes, time=time, phase=phase,
                              control=control, source=source)
    return analyze_phases(prepared, mcid_points=mcid_points, mcid_percent=mcid_percent,
                          washout=washout, min_points=min_points, slope=slope,
                          co_interventions=co_interventions, co_window=co_window,
                          higher_is_better=higher_is_better)


def analyze_phases(series: PhaseSeries, *, mcid_points: float = 2.0,
                   mcid_percent: float = 30.0, washout: float = 0.0,
                   min_points: int = MIN_POINTS_PER_PHASE, slope: bool = True,
                   co_interventions: pd.DataFrame | None = None,
                   co_window: float = 7.0,
                   higher_is_better: tuple[str, ...] = ()) -> Nof1Results:
    """:func:`analyze_nof1` on a checked :class:`~gutaxis.stats.nof1.design.PhaseSeries`.

    Parameters
    ----------
    series
        The checked series.
    mcid_points, mcid_percent, washout, min_points, slope, co_interventions, co_window
        As :func:`analyze_nof1`.
    higher_is_better
        As :func:`analyze_nof1`.
    """
    flagged = series.washout_mask(washout)
    notes: list[str] = list(_co_intervention_notes(series, co_interventions, co_window))
    effects: list[Nof1Effect] = []
    fits: list[OutcomeFit] = []
    X, terms = segmented_design(series, slope=slope)
    for outcome in series.values.columns:
        y = series.values[outcome].to_numpy()
        used = ~np.isnan(y) & ~flagged
        check_points(series, used, outcome=str(outcome), min_points=min_points)
        notes.extend(_pre_trend_notes(series, y, used, outcome=str(outcome)))
        method: Method = "reml" if used.sum() >= MIN_POINTS_AR1 else "ols"
        if method == "ols":
            notes.append(f"{outcome}: only {used.sum()} points: fitted by OLS, which ignores "
                         "autocorrelation; intervals may be too narrow")
        fit = fit_gls_ar1(y[used], X[used], time=series.time[used], terms=terms,
                          method=method)
        baseline = float(np.mean(y[used & (series.phase == series.control)]))
        grid = PHI_GRID if method == "reml" else np.zeros(1)
        ci = fit.conf_int()[0]
        pvals = fit.pvalues()[0]
        for k in series.treatments:
            j = terms.index(f"level:{k}")
            s = terms.index(f"slope:{k}") if slope else None
            rise = str(outcome) in higher_is_better
            level = integrate_phi(y[used], X[used], column=j, time=series.time[used],
                                  grid=grid)
            low, high = level.interval()[0]
            nan = float("nan")
            effects.append(Nof1Effect(
                outcome=str(outcome), contrast=f"{k} vs {series.control}",
                level_change=float(fit.coef[0, j]), ci_low=float(low), ci_high=float(high),
                pval=float(level.pvalue()[0]),
                slope_change=float(fit.coef[0, s]) if s is not None else nan,
                slope_ci_low=float(ci[s, 0]) if s is not None else nan,
                slope_ci_high=float(ci[s, 1]) if s is not None else nan,
                slope_pval=float(pvals[s]) if s is not None else nan,
                prob_mcid_points=_prob_improved(level, mcid_points, rise=rise),
                prob_mcid_percent=_prob_improved(level, mcid_percent / 100 * baseline,
                                                 rise=rise),
                improvement="rise" if rise else "fall",
                mcid_points=mcid_points, mcid_percent=mcid_percent, control_mean=baseline,
                phi=float(fit.phi[0]), method=method, n_points=int(used.sum()),
                n_washout=int((flagged & ~np.isnan(y)).sum()), df=fit.df,
                gls_ci_low=float(ci[j, 0]), gls_ci_high=float(ci[j, 1]),
                gls_pval=float(pvals[j])))
        fitted = X @ fit.coef[0]
        fits.append(OutcomeFit(outcome=str(outcome), time=series.time, value=y,
                               phase=series.phase, washout=flagged, fitted=fitted))
    for note in dict.fromkeys(notes):
        category = ShortSeriesWarning if "OLS" in note else OverReadingWarning
        warnings.warn(note, category, stacklevel=2)
    return Nof1Results(effects=tuple(effects), fits=tuple(fits),
                       notes=tuple(dict.fromkeys(notes)),
                       design="segmented regression, AR(1) errors", control=series.control,
                       washout=washout)


def _prob_improved(level: IntegratedCoefficient, delta: float, *, rise: bool) -> float:
    """Posterior probability that the level improved by at least ``delta`` (NaN when the
    threshold is not positive, e.g. 30% of a control mean of 0)."""
    if not delta > 0:
        return float("nan")
    if rise:
        return float(1.0 - level.prob_below(delta)[0])
    return float(level.prob_below(-delta)[0])


def _pre_trend_notes(series: PhaseSeries, y: np.ndarray, used: np.ndarray, *,
                     outcome: str) -> list[str]:
    """A warning when the first (control) block already trends (t test of its slope,
    p < 0.05, OLS below :data:`MIN_POINTS_AR1` points)."""
    first = used & (series.block == 0)
    if series.phase[0] != series.control or first.sum() < MIN_POINTS_PER_PHASE:
        return []
    t = series.time[first]
    X = np.column_stack([np.ones_like(t), t - t[0]])
    method: Method = "reml" if first.sum() >= MIN_POINTS_AR1 else "ols"
    fit = fit_gls_ar1(y[first], X, time=t, method=method)
    if fit.pvalues()[0, 1] >= 0.05:
        return []
    return [f"{outcome}: the outcome was already trending before the first switch "
            f"({fit.coef[0, 1]:+.3g} per time unit, p = {fit.pvalues()[0, 1]:.2g}); a change "
            "at the switch may partly continue that trend"]


def _co_intervention_notes(series: PhaseSeries, co: pd.DataFrame | None,
                           window: float) -> list[str]:
    """Warnings for other interventions starting within ``window`` of a switch."""
    if co is None or len(co) == 0:
        return []
    switches = np.unique(series.switch_times())[1:]
    notes = []
    for _, row in co.iterrows():
        start = float(row["start"])
        near = switches[np.abs(switches - start) <= window]
        if len(near):
            what = row.get("product") or row.get("type") or "another intervention"
            notes.append(f"co-intervention {what} started at time {start:g}, within "
                         f"{window:g} of the switch at {near[0]:g}: its effect cannot be "
                         "separated from the phase change")
    return notes

"""Pool what the plan allows, with :mod:`gutaxis.stats.meta` (one random-effects engine).

Each poolable (condition, outcome) group of a :class:`~gutaxis.evidence.PoolingPlan` is
pooled with :func:`gutaxis.stats.meta.effect_sizes` (per-arm change scores, or a reported
difference with its 95% CI, per trial) and :func:`gutaxis.stats.meta.fit_meta` (REML with
Knapp-Hartung tests by default, the choice for few trials). Groups the plan does not pool
keep their "not pooled: <reason>" row, so the output says plainly where the evidence is
too thin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import pandas as pd

from gutaxis.choices import MetaMeasure, MetaMethod, MetaTest
from gutaxis.evidence.decisions import PoolingDecision, PoolingPlan
from gutaxis.evidence.table import OUTCOMES

__all__ = ["POOLED_COLUMNS", "PooledEvidence", "PooledGroup", "pool_evidence"]

POOLED_COLUMNS = ("condition", "outcome", "measure", "pooled", "k", "estimate", "ci_low",
                  "ci_high", "pi_low", "pi_high", "tau2", "i2", "method", "trials", "reason",
                  "certainty_notes")
"""Columns of :meth:`PooledEvidence.to_frame` (``pooled.tsv``), in order."""


@dataclass(frozen=True)
class PooledGroup:
    """The pooled result (or the reason for none) of one condition and outcome.

    Attributes
    ----------
    condition, outcome, measure
        The group and its effect measure (``MD``: scale points; ``SMD``: Hedges' g).
    pooled
        True when an estimate was computed.
    k
        Trials pooled (0 when not pooled).
    estimate, ci_low, ci_high, pi_low, pi_high, tau2, i2
        Pooled effect (intervention minus control change; negative favours the
        intervention, as every outcome here is worse when higher), its confidence and
        prediction intervals, between-trial variance and I² (%); NaN when not pooled.
    trials
        Labels of the pooled trials.
    reason
        Why pooled or not, in words.
    certainty_notes
        Caveats: trials missing, risk of bias, n used, conversions, heterogeneity.
    """

    condition: str
    outcome: str
    measure: str
    pooled: bool
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    trials: tuple[str, ...]
    reason: str
    certainty_notes: tuple[str, ...]


@dataclass(frozen=True)
class PooledEvidence:
    """Pooled results for every group of a plan.

    Attributes
    ----------
    version
        Version of the evidence table.
    method, test
        tau² estimator and test of :func:`gutaxis.stats.meta.fit_meta`.
    groups
        One :class:`PooledGroup` per (condition, outcome) group of the plan.
    """

    version: str
    method: str
    test: str
    groups: tuple[PooledGroup, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per group (``pooled.tsv``; columns :data:`POOLED_COLUMNS`)."""
        method = f"{self.method}, {'Knapp-Hartung' if self.test == 'knha' else 'z'}"
        rows = [{"condition": g.condition, "outcome": g.outcome, "measure": g.measure,
                 "pooled": g.pooled, "k": g.k, "estimate": g.estimate, "ci_low": g.ci_low,
                 "ci_high": g.ci_high, "pi_low": g.pi_low, "pi_high": g.pi_high,
                 "tau2": g.tau2, "i2": g.i2, "method": method if g.pooled else "",
                 "trials": ", ".join(g.trials), "reason": g.reason,
                 "certainty_notes": " | ".join(g.certainty_notes)} for g in self.groups]
        return pd.DataFrame(rows, columns=list(POOLED_COLUMNS))

    def summary(self) -> str:
        """One line per pooled group, and how many groups were not pooled."""
        lines = [f"{g.condition}/{g.outcome}: {g.measure} {g.estimate:.3g} "
                 f"[{g.ci_low:.3g}, {g.ci_high:.3g}], PI [{g.pi_low:.3g}, {g.pi_high:.3g}], "
                 f"I2 = {g.i2:.0f}%, k = {g.k}" for g in self.groups if g.pooled]
        thin = sum(not g.pooled for g in self.groups)
        lines.append(f"{thin} of {len(self.groups)} groups not pooled (evidence too thin)")
        return "\n".join(lines)


def pool_evidence(plan: PoolingPlan, *, method: MetaMethod = "REML",
                  test: MetaTest = "knha") -> PooledEvidence:
    """Pool every poolable group of a plan with :mod:`gutaxis.stats.meta`.

    Parameters
    ----------
    plan
        Decisions from :func:`~gutaxis.evidence.plan_pooling`.
    method
        tau² estimator of :func:`gutaxis.stats.meta.fit_meta` (default ``REML``).
    test
        ``"knha"`` (Knapp-Hartung, default: honest intervals with few trials) or ``"z"``.

    Returns
    -------
    PooledEvidence
        One group per decision; groups the plan does not pool say why.

    Notes
    -----
    Per trial, the effect is the difference of the mean changes from baseline
    (intervention minus control): ``MD`` on the instrument's scale or Hedges' ``g``
    (``SMD``) across scales, with the variances of :func:`gutaxis.stats.meta.effect_sizes`.
    A trial that reports only a between-group difference with its 95% CI enters with
    ``se = (high - low) / (2 · 1.96)`` (``MD`` only), recorded in the certainty notes.
    """
    groups = tuple(pool_group(decision, method=method, test=test) if decision.poolable
                   else not_pooled(decision) for decision in plan.decisions)
    return PooledEvidence(plan.version, method, test, groups)


def not_pooled(decision: PoolingDecision) -> PooledGroup:
    """The row of a group the plan does not pool."""
    nan = math.nan
    return PooledGroup(decision.condition, decision.outcome, decision.measure, False, 0, nan,
                       nan, nan, nan, nan, nan, nan, (), decision.reason,
                       decision.certainty_notes)


def study_frame(decision: PoolingDecision) -> pd.DataFrame:
    """The decision's trials as a study table for :func:`gutaxis.stats.meta.effect_sizes`."""
    rows = [{"study": s.label, "mean_t": s.mean_t, "sd_t": s.sd_t, "n_t": s.n_t,
             "mean_c": s.mean_c, "sd_c": s.sd_c, "n_c": s.n_c, "estimate": s.md,
             "ci_low": s.md_ci_low, "ci_high": s.md_ci_high} for s in decision.studies]
    frame = pd.DataFrame(rows)
    if frame[["estimate", "ci_low", "ci_high"]].isna().all().all():
        frame = frame.drop(columns=["estimate", "ci_low", "ci_high"])
    return frame


def pool_group(decision: PoolingDecision, *, method: MetaMethod,
               test: MetaTest) -> PooledGroup:
    """Pool one poolable group."""
    from gutaxis.stats.meta import effect_sizes, fit_meta

    effects = effect_sizes(study_frame(decision), measure=cast(MetaMeasure, decision.measure),
                           source=f"evidence {decision.condition}/{decision.outcome}")
    fit = fit_meta(effects, method=method, test=test)
    ci = fit.conf_int()[0]
    pi_low, pi_high = fit.prediction_interval()
    notes = list(decision.certainty_notes)
    notes.append(f"heterogeneity: I2 = {fit.i2:.0f}%, tau2 = {fit.tau2:.3g} "
                 f"(Q = {fit.q:.3g}, p = {fit.q_pval:.2g})")
    notes.extend(fit.caveats())
    notes.append(f"estimate < 0 favours the intervention ({OUTCOMES[decision.outcome][0]}; "
                 "higher is worse)")
    return PooledGroup(decision.condition, decision.outcome, decision.measure, True, fit.k,
                       float(fit.coef[0]), float(ci[0]), float(ci[1]), float(pi_low),
                       float(pi_high), float(fit.tau2), float(fit.i2),
                       tuple(s.label for s in decision.studies), decision.reason, tuple(notes))

"""The n-of-1 evaluation of one intervention from the patient's diary, by the engine.

The daily series: every diary day from :data:`BASELINE_DAYS` before the start to the stop
(or today), phase ``A`` before the start and ``B`` from the start to the stop; outcomes
are the pain NRS and the GI symptom total (the sum of the day's GI ratings; missing on
days without any). Each outcome goes to :func:`gutaxis.stats.nof1.run_nof1` on its own
(so a missing GI diary does not hide the pain result): a segmented regression with AR(1)
errors, the level change with its 95% interval and the probability of a clinically
important improvement. Too few days (fewer than the engine's minimum per phase) gives no
numbers, only the counts. Every note the engine returns is a caveat, with the washout,
the autocorrelation and the other interventions overlapping the evaluated days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import DiaryEntry, Intervention
from gutaxis.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from gutaxis.stats.nof1 import Nof1Effect

#: Days of diary before the start the baseline (phase A) may use.
BASELINE_DAYS = 90

#: The outcomes evaluated: diary column -> words.
OUTCOMES: tuple[tuple[str, str], ...] = (("pain", "Pain (NRS 0-10)"),
                                         ("gi_total", "GI symptom total"))

RULE = ("One patient's before/after is not proof of cause: pain changes for many reasons "
        "(natural course, regression to the mean after a bad spell, other treatments, "
        "expectation). Read the effect as what happened while the intervention ran, with its "
        "uncertainty.")


@dataclass(frozen=True)
class OutcomeEvaluation:
    """One outcome's evaluation: the engine's effect, or why there is none."""

    outcome: str
    label: str
    days_before: int
    days_during: int
    effect: Nof1Effect | None
    fitted: tuple[float, ...] = ()
    reason: str | None = None

    @property
    def evaluated(self) -> bool:
        return self.effect is not None


@dataclass(frozen=True)
class Evaluation:
    """An intervention's evaluation: the series, each outcome, every caveat."""

    intervention_id: int
    start: dt.date
    stop: dt.date | None
    first_day: dt.date | None
    last_day: dt.date
    days: tuple[dt.date, ...]
    values: dict[str, tuple[float | None, ...]]
    outcomes: tuple[OutcomeEvaluation, ...]
    caveats: tuple[str, ...]
    design: str
    washout: float
    rule: str = RULE


def gi_total(ratings: dict[str, Any] | None) -> float | None:
    """The day's GI symptom total (sum of the 0-10 ratings given); ``None`` without any."""
    if not ratings:
        return None
    return float(sum(float(v) for v in ratings.values()))


def daily_series(rows: Sequence[tuple[dt.date, int, dict[str, Any] | None]],
                 start: dt.date) -> pd.DataFrame:
    """The diary days as the engine's series: ``day`` (days since the first diary day),
    ``date``, ``phase`` (``A`` before ``start``, ``B`` from it) and one column per outcome."""
    import numpy as np
    import pandas as pd

    ordered = sorted(rows, key=lambda r: r[0])
    first = ordered[0][0] if ordered else start
    totals = [gi_total(r[2]) for r in ordered]
    return pd.DataFrame({
        "day": [float((r[0] - first).days) for r in ordered],
        "date": [r[0] for r in ordered],
        "phase": ["B" if r[0] >= start else "A" for r in ordered],
        "pain": [float(r[1]) for r in ordered],
        "gi_total": [np.nan if t is None else t for t in totals]})


def evaluate(session: Session, intervention: Intervention, today: dt.date, *,
             washout: float = 0.0) -> Evaluation:
    """Read the diary and the other interventions and evaluate ``intervention``."""
    last_day = min(intervention.stop or today, today)
    earliest = intervention.start - dt.timedelta(days=BASELINE_DAYS)
    rows = session.execute(
        select(DiaryEntry.day, DiaryEntry.pain, DiaryEntry.gi_symptoms)
        .where(DiaryEntry.patient_id == intervention.patient_id, DiaryEntry.day >= earliest,
               DiaryEntry.day <= last_day).order_by(DiaryEntry.day)).all()
    others = session.execute(
        select(Intervention.type, Intervention.product, Intervention.start, Intervention.stop)
        .where(Intervention.patient_id == intervention.patient_id,
               Intervention.id != intervention.id)).all()
    return evaluate_rows(intervention.id, intervention.start, intervention.stop, last_day,
                         list(rows), list(others), washout=washout)


def evaluate_rows(intervention_id: int, start: dt.date, stop: dt.date | None,
                  last_day: dt.date,
                  rows: Sequence[tuple[dt.date, int, dict[str, Any] | None]],
                  others: Sequence[tuple[str, str, dt.date, dt.date | None]], *,
                  washout: float = 0.0) -> Evaluation:
    """:func:`evaluate` on rows already read: diary ``(day, pain, gi_symptoms)`` and the
    other interventions ``(type, product, start, stop)``."""
    import pandas as pd

    from gutaxis.stats.nof1 import run_nof1
    from gutaxis.stats.nof1.design import MIN_POINTS_PER_PHASE

    frame = daily_series(rows, start)
    first_day = frame["date"].iloc[0] if len(frame) else None
    overlapping = [o for o in others if first_day is not None and o[2] <= last_day
                   and (o[3] is None or o[3] >= first_day)]
    co = None
    if overlapping and first_day is not None:
        co = pd.DataFrame({"type": [o[0] for o in overlapping],
                           "product": [o[1] for o in overlapping],
                           "start": [float((o[2] - first_day).days) for o in overlapping]})
    notes: list[str] = []
    design = "segmented regression, AR(1) errors"
    results: list[OutcomeEvaluation] = []
    for outcome, label in OUTCOMES:
        present = frame[frame[outcome].notna()] if len(frame) else frame
        before = int((present["phase"] == "A").sum()) if len(frame) else 0
        during = int((present["phase"] == "B").sum()) if len(frame) else 0
        reason = None
        if min(before, during) < MIN_POINTS_PER_PHASE:
            reason = (f"too few diary days to evaluate: {before} before the start and {during} "
                      f"since; at least {MIN_POINTS_PER_PHASE} in each are needed")
        else:
            try:
                run = run_nof1(present[["day", "phase", outcome]], outcomes=[outcome],
                               time="day", phase="phase", control="A", washout=washout,
                               co_interventions=co)
            except InputError as exc:  # e.g. too few days left after the washout
                reason = f"not evaluated: {exc}"
            else:
                design = run.results.design
                notes.extend(run.results.notes)
                effect = run.results.effects[0]
                fitted = tuple(float(v) for v in run.results.fits[0].fitted)
                results.append(OutcomeEvaluation(outcome, label, before, during, effect,
                                                 fitted))
                continue
        results.append(OutcomeEvaluation(outcome, label, before, during, None, reason=reason))
    caveats = _caveats(notes, results, overlapping, washout)
    values = {o: tuple(None if pd.isna(v) else float(v) for v in frame[o]) for o, _ in OUTCOMES}
    return Evaluation(intervention_id=intervention_id, start=start, stop=stop,
                      first_day=first_day, last_day=last_day, days=tuple(frame["date"]),
                      values=values, outcomes=tuple(results), caveats=caveats, design=design,
                      washout=washout)


def _other_words(other: tuple[str, str, dt.date, dt.date | None]) -> str:
    kind, product, start, stop = other
    return f"{kind.replace('_', ' ')} {product} ({start} to {stop or 'ongoing'})"


def _caveats(notes: list[str], results: list[OutcomeEvaluation],
             overlapping: Sequence[tuple[str, str, dt.date, dt.date | None]],
             washout: float) -> tuple[str, ...]:
    """The engine's notes, then the app's: other interventions, washout, autocorrelation."""
    out = list(notes)
    if overlapping:
        out.append("other interventions overlapped the evaluated days: "
                   + "; ".join(_other_words(o) for o in overlapping)
                   + ". Their effects cannot be separated from this one's")
    evaluated = [r for r in results if r.effect is not None]
    if evaluated:
        if washout > 0:
            out.append(f"washout: the first {washout:g} days after the start were left out "
                       f"({max(r.effect.n_washout for r in evaluated if r.effect)} diary days)")
        else:
            out.append("no washout: every day from the start is counted, so an effect that "
                       "builds up over days (as a probiotic's or a diet's may) is diluted by "
                       "the first days, and carry-over of anything earlier is not excluded")
    for r in evaluated:
        assert r.effect is not None
        if r.effect.method == "reml":
            out.append(f"{r.outcome}: day-to-day autocorrelation phi = {r.effect.phi:.2f} "
                       "(estimated from the series; the interval allows for it and for its "
                       "uncertainty)")
    return tuple(dict.fromkeys(out))


def effect_words(effect: Nof1Effect) -> dict[str, float | str]:
    """The effect's numbers the pages and the API show."""
    return {"level_change": effect.level_change, "ci_low": effect.ci_low,
            "ci_high": effect.ci_high, "pval": effect.pval,
            "prob_mcid_points": effect.prob_mcid_points,
            "prob_mcid_percent": effect.prob_mcid_percent,
            "mcid_points": effect.mcid_points, "mcid_percent": effect.mcid_percent,
            "control_mean": effect.control_mean, "phi": effect.phi, "method": effect.method,
            "n_points": effect.n_points, "n_washout": effect.n_washout,
            "improvement": effect.improvement, "summary": effect.summary()}

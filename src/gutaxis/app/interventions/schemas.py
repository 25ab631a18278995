"""Interventions as the API takes and gives them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.timestamps import UtcDatetime
from gutaxis.data.interventions import INTERVENTION_TYPES

#: The dates an intervention may start or stop on (a typo such as year 0202 is refused).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


class InterventionIn(BaseModel):
    """A new intervention. ``type`` is one of the engine's types (any spelling its
    reader accepts: ``stress management`` is ``stress_management``)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="One of " + ", ".join(INTERVENTION_TYPES), max_length=32)
    product: str = Field(min_length=1, max_length=200,
                         description="Strain for probiotics (e.g. Lactobacillus rhamnosus GG), "
                         "the diet, the programme or the drug")
    dose: float | None = Field(None, gt=0, le=1e15)
    dose_unit: str | None = Field(None, max_length=32, description="e.g. CFU/day, mg, min/week")
    start: dt.date = Field(ge=EARLIEST, le=LATEST)
    stop: dt.date | None = Field(None, ge=EARLIEST, le=LATEST)
    notes: str | None = Field(None, max_length=2000)


class InterventionStop(BaseModel):
    """The day an intervention stopped (on or after its start; null reopens it)."""

    model_config = ConfigDict(extra="forbid")

    stop: dt.date | None = Field(ge=EARLIEST, le=LATEST)


class InterventionOut(BaseModel):
    """A stored intervention."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    type: str
    product: str
    dose: float | None
    dose_unit: str | None
    start: dt.date
    stop: dt.date | None
    notes: str | None
    created_at: UtcDatetime


class EffectOut(BaseModel):
    """The engine's level change of an outcome (intervention minus before; negative is a
    fall), its 95% interval and the probability of a clinically important improvement."""

    level_change: float | None
    ci_low: float | None
    ci_high: float | None
    pval: float | None
    prob_mcid_points: float | None = Field(description="P(improvement >= mcid_points)")
    prob_mcid_percent: float | None = Field(
        description="P(improvement >= mcid_percent % of the mean before); null when that "
        "mean is 0")
    mcid_points: float
    mcid_percent: float
    control_mean: float | None
    phi: float | None
    method: str
    n_points: int
    n_washout: int
    improvement: str
    summary: str


class OutcomeEvaluationOut(BaseModel):
    outcome: str
    label: str
    days_before: int
    days_during: int
    evaluated: bool
    reason: str | None
    effect: EffectOut | None


class EvaluationOut(BaseModel):
    """An intervention's n-of-1 evaluation with every caveat."""

    intervention: InterventionOut
    first_day: dt.date | None
    last_day: dt.date
    design: str
    washout: float
    outcomes: list[OutcomeEvaluationOut]
    caveats: list[str]
    rule: str

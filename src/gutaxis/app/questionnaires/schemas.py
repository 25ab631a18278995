"""What the questionnaire API takes and gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.questionnaires.schedule import Due
from gutaxis.app.timestamps import UtcDatetime


class ScheduleIn(BaseModel):
    """Ask the patient for ``instrument`` every ``every_days`` days from ``first_due``."""

    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(description="Registry key id@version (or id: its latest version)")
    every_days: int = Field(ge=1, le=366)
    first_due: dt.date


class SchedulePatch(BaseModel):
    """Change a schedule: deactivate it (``active: false``), re-activate it or move it."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = None
    every_days: int | None = Field(None, ge=1, le=366)
    first_due: dt.date | None = None


class ReminderOut(BaseModel):
    """A questionnaire due (or overdue) for the patient."""

    instrument: str
    name: str
    due_on: dt.date
    is_due: bool
    is_overdue: bool
    days_overdue: int
    answer_url: str
    label: str = Field(description="In words: 'due today', 'due since 3 Dec', "
                       "'overdue by 4 days'")

    @classmethod
    def of(cls, due: Due, name: str, today: dt.date) -> ReminderOut:
        if due.is_overdue:
            label = f"overdue by {due.days_overdue} day{'s' if due.days_overdue != 1 else ''}"
        elif due.due_on >= today:
            label = "due today"
        else:
            label = f"due since {due.due_on.day} {due.due_on:%b}"
        return cls(instrument=due.instrument, name=name, due_on=due.due_on, is_due=due.is_due,
                   is_overdue=due.is_overdue, days_overdue=due.days_overdue,
                   answer_url=f"/me/questionnaires/{due.instrument}", label=label)


class ScheduleOut(BaseModel):
    """A schedule with its due status today (in the patient's timezone)."""

    id: int
    patient_id: int
    instrument: str
    name: str
    every_days: int
    first_due: dt.date
    active: bool
    due_on: dt.date | None
    is_due: bool
    is_overdue: bool
    days_overdue: int


class AnswersIn(BaseModel):
    """One administration: item id -> answer (numbers, yes/no, ``HH:MM``, codes, text)."""

    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(description="Registry key id@version (or id: its latest version)")
    answers: dict[str, float | int | bool | str | None]
    time: dt.datetime | None = Field(None, description="When answered (ISO with timezone); "
                                     "now when left out")


class ResponseOut(BaseModel):
    """A stored administration with the scores the engine computed."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    instrument: str
    time: UtcDatetime
    answers: dict[str, Any]
    scores: dict[str, Any] = Field(description="score -> {value, band, band_set, exact, "
                                   "scoring_version, missing_rule_applied}")


class ScoredOut(ResponseOut):
    """A new administration, with what the engine said about missing answers."""

    missing_items: list[str]
    notes: list[str]


class ItemOut(BaseModel):
    id: str
    topic: str
    kind: str
    minimum: float | None
    maximum: float | None
    choices: list[dict[str, str]] | None
    text: str | None
    unit: str | None
    scored: bool


class InstrumentOut(BaseModel):
    """An instrument of the registry (item wording only where its licence lets it ship)."""

    key: str
    id: str
    version: str
    name: str
    wording_may_ship: bool
    licence: str
    citation: str
    scores: list[str]
    items: list[ItemOut]

"""The timeline as the API gives it."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from gutaxis.app.timestamps import UtcDatetime


class DiaryPoint(BaseModel):
    day: dt.date
    pain: int
    gi_total: float | None


class ScorePoint(BaseModel):
    time: UtcDatetime
    instrument: str
    score: str
    value: float | None
    band: str | None


class PeriodOut(BaseModel):
    id: int
    type: str
    product: str
    start: dt.date
    stop: dt.date | None


class LabPoint(BaseModel):
    time: UtcDatetime
    analyte: str
    value: float
    unit: str


class SamplePoint(BaseModel):
    id: int
    label: str
    collected_at: UtcDatetime


class TimelineOut(BaseModel):
    """A patient's timeline from ``since`` to ``until`` (inclusive)."""

    patient_id: int
    pseudonym: str
    since: dt.date
    until: dt.date
    diary: list[DiaryPoint]
    scores: list[ScorePoint]
    interventions: list[PeriodOut]
    labs: list[LabPoint]
    samples: list[SamplePoint]

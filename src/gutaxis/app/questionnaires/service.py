"""Questionnaire schedules and answers: scoring through the engine, storing, due dates.

Answers are validated and scored exactly as ``gutaxis score`` does it
(:meth:`Instrument.parse` then :meth:`Instrument.score_parsed`); the answers are stored as
the record's canonical text (:func:`gutaxis.instruments.record.answer_text`) and every
computed score as ``{"value", "band", "band_set", "exact", "scoring_version",
"missing_rule_applied"}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gutaxis.app.db.models import Patient, QuestionnaireResponse, QuestionnaireSchedule
from gutaxis.app.questionnaires.schedule import Due, due_status
from gutaxis.app.timestamps import as_utc
from gutaxis.errors import InputError
from gutaxis.instruments.base import Instrument, RawAnswer, Score
from gutaxis.instruments.registry import get_instrument

#: The longest interval a schedule may have (a year).
MAX_EVERY_DAYS = 366
#: The earliest time an answer may carry.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Scored:
    """One administration scored by the engine: canonical answers and the engine's score."""

    instrument: Instrument
    answers: dict[str, str]
    score: Score


def instrument_for(key: str) -> Instrument:
    """The registry's instrument for ``key`` (``id`` or ``id@version``); InputError if unknown."""
    return get_instrument(key)


def score_answers(instrument: Instrument, raw: Mapping[str, RawAnswer]) -> Scored:
    """Validate ``raw`` (item id -> answer) and score it as the CLI does.

    Raises
    ------
    InputError
        An unknown item, an answer of the wrong type or out of range (names the item).
    """
    from gutaxis.instruments.record import answer_text

    parsed = instrument.parse(raw)
    score = instrument.score_parsed(parsed)
    kinds = {item.id: item.kind for item in instrument.items}
    answers = {item_id: text for item_id, value in parsed.items()
               if (text := answer_text(value, kind=kinds[item_id])) is not None}
    return Scored(instrument=instrument, answers=answers, score=score)


def stored_scores(score: Score) -> dict[str, dict[str, Any]]:
    """The computed scores of ``score`` as stored in ``QuestionnaireResponse.scores``
    (scores that could not be computed are left out, as ``score_record`` does)."""
    return {name: {"value": value, "band": score.bands.get(name),
                   "band_set": score.band_sets.get(name),
                   "exact": None if score.exact.get(name) is None else str(score.exact[name]),
                   "scoring_version": score.scoring_version,
                   "missing_rule_applied": score.missing_rule_applied}
            for name, value in score.values.items() if value is not None}


def save_response(session: Session, patient_id: int, scored: Scored, *,
                  time: dt.datetime, entered_by: int | None) -> QuestionnaireResponse:
    """Store one administration (answers and scores)."""
    row = QuestionnaireResponse(patient_id=patient_id, instrument=scored.instrument.key,
                                time=time, answers=scored.answers,
                                scores=stored_scores(scored.score), entered_by=entered_by)
    session.add(row)
    session.flush()
    return row


def check_time(time: dt.datetime | None, *, field: str = "time") -> dt.datetime:
    """The administration time: now when not given; aware and not in the future."""
    now = dt.datetime.now(dt.UTC)
    if time is None:
        return now
    if time.tzinfo is None or time.utcoffset() is None:
        raise InputError("the time has no timezone", field=field, found=time.isoformat(),
                         expected="an ISO 8601 time with timezone, e.g. 2026-12-01T09:30Z")
    expected = f"a time from {EARLIEST.date()} to now"
    try:
        moment = time.astimezone(dt.UTC)
    except OverflowError:
        raise InputError("the time is out of range", field=field, found=time.isoformat(),
                         expected=expected) from None
    if moment > now + dt.timedelta(minutes=5):
        raise InputError("a questionnaire cannot be answered in the future", field=field,
                         found=time.isoformat(), expected="now or earlier")
    if moment < EARLIEST:
        raise InputError("the time is out of range", field=field, found=time.isoformat(),
                         expected=expected)
    return moment


def responses(session: Session, patient_id: int, *, instrument: str | None = None,
              since: dt.datetime | None = None) -> Sequence[QuestionnaireResponse]:
    """The patient's answered questionnaires, oldest first."""
    query = select(QuestionnaireResponse).where(QuestionnaireResponse.patient_id == patient_id)
    if instrument is not None:
        query = query.where(QuestionnaireResponse.instrument == instrument)
    if since is not None:
        query = query.where(QuestionnaireResponse.time >= since)
    return session.scalars(query.order_by(QuestionnaireResponse.time,
                                          QuestionnaireResponse.id)).all()


def schedules(session: Session, patient_id: int, *,
              active_only: bool = False) -> Sequence[QuestionnaireSchedule]:
    """The patient's schedules, by instrument."""
    query = select(QuestionnaireSchedule).where(QuestionnaireSchedule.patient_id == patient_id)
    if active_only:
        query = query.where(QuestionnaireSchedule.active.is_(True))
    return session.scalars(query.order_by(QuestionnaireSchedule.instrument)).all()


def set_schedule(session: Session, patient_id: int, *, instrument: str, every_days: int,
                 first_due: dt.date, created_by: int | None) -> QuestionnaireSchedule:
    """Schedule ``instrument`` every ``every_days`` days from ``first_due`` (replacing and
    re-activating an earlier schedule of the same instrument)."""
    key = instrument_for(instrument).key
    if not 1 <= every_days <= MAX_EVERY_DAYS:
        raise InputError("the interval is out of range", field="every_days", found=every_days,
                         expected=f"a whole number of days from 1 to {MAX_EVERY_DAYS}")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(QuestionnaireSchedule).values(
        patient_id=patient_id, instrument=key, every_days=every_days, first_due=first_due,
        active=True, created_by=created_by)
    session.execute(statement.on_conflict_do_update(  # one statement: two saves never race
        index_elements=["patient_id", "instrument"],
        set_={"every_days": every_days, "first_due": first_due, "active": True}))
    row = session.scalar(select(QuestionnaireSchedule).where(
        QuestionnaireSchedule.patient_id == patient_id,
        QuestionnaireSchedule.instrument == key).execution_options(populate_existing=True))
    assert row is not None
    return row


def last_answered(session: Session, patient_id: int, zone: str) -> dict[str, dt.date]:
    """Instrument key -> the patient's local date of its latest answer."""
    rows = session.execute(
        select(QuestionnaireResponse.instrument, func.max(QuestionnaireResponse.time))
        .where(QuestionnaireResponse.patient_id == patient_id)
        .group_by(QuestionnaireResponse.instrument)).all()
    return {key: local_date(when, zone) for key, when in rows if when is not None}


def local_date(moment: dt.datetime | str, zone: str) -> dt.date:
    """The calendar date of ``moment`` in the timezone ``zone`` (naive = UTC; ISO text, as
    an aggregate over a time column may come back from SQLite, is read first).

    >>> local_date(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), "Europe/Berlin")
    datetime.date(2026, 12, 2)
    >>> local_date("2026-12-01 23:30:00.000000", "America/New_York")
    datetime.date(2026, 12, 1)
    """
    from zoneinfo import ZoneInfo

    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return as_utc(moment).astimezone(ZoneInfo(zone)).date()


def patient_today(patient: Patient) -> dt.date:
    """Today in the patient's timezone."""
    return local_date(dt.datetime.now(dt.UTC), patient.timezone)


def schedule_status(session: Session, patient: Patient,
                    today: dt.date | None = None) -> list[tuple[QuestionnaireSchedule, Due]]:
    """Every active schedule of the patient with its due status on ``today``."""
    day = today or patient_today(patient)
    answered = last_answered(session, patient.id, patient.timezone)
    return [(row, due_status(row.instrument, row.first_due, row.every_days,
                             answered.get(row.instrument), day))
            for row in schedules(session, patient.id, active_only=True)]


def reminders(session: Session, patient: Patient,
              today: dt.date | None = None) -> list[Due]:
    """The questionnaires due or overdue today (most overdue first)."""
    due = [status for _, status in schedule_status(session, patient, today) if status.is_due]
    return sorted(due, key=lambda d: (d.due_on, d.instrument))

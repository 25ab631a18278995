"""The clinician's flags on the patient list, each a rule stated in words (the page's legend
shows :data:`RULES`):

- pain trend: mean diary pain of the last 7 days (today and the 6 before) against the 7
  days before those; a rise of at least 1 point is "pain rising", a fall of at least 1
  "pain falling"; fewer than 4 diary days in either week: no flag;
- adherence: fewer than 7 diary days in the last 14 is "diary gaps";
- overdue questionnaires: a schedule overdue by
  :func:`gutaxis.app.questionnaires.schedule.due_status` (due, and more than its grace
  days late) since the last answer;
- running interventions: started on or before today, not stopped before today.

"Today" is the patient's own date (their timezone). The rules are pure functions of
hand-checkable data; :func:`flags_for_patients` reads what they need for many patients in
four queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import (
    DiaryEntry,
    Intervention,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)
from gutaxis.app.questionnaires.schedule import GRACE_DAYS, due_status

WEEK = 7
TREND_POINTS = 1.0
TREND_MIN_DAYS = 4
ADHERENCE_WINDOW = 14
ADHERENCE_MIN_DAYS = 7

RULES: tuple[tuple[str, str], ...] = (
    ("pain rising / pain falling",
     f"mean diary pain of the last {WEEK} days (today included) is at least "
     f"{TREND_POINTS:g} point higher / lower than the mean of the {WEEK} days before; "
     f"no flag when either week has fewer than {TREND_MIN_DAYS} diary days"),
    ("diary gaps", f"fewer than {ADHERENCE_MIN_DAYS} diary days in the last "
     f"{ADHERENCE_WINDOW} days (today included)"),
    ("overdue", f"a scheduled questionnaire not answered more than {GRACE_DAYS} days after "
     "it fell due"),
    ("on ...", "an intervention that has started and not stopped before today"),
)


@dataclass(frozen=True)
class Flag:
    """One flag: its kind (``pain_trend``, ``adherence``, ``overdue``, ``intervention``),
    the words shown, the CSS level (``bad``, ``warn``, ``good`` or ``info``) and why."""

    kind: str
    label: str
    level: str
    detail: str


def pain_trend(pain_by_day: Mapping[dt.date, float], today: dt.date) -> Flag | None:
    """The pain-trend flag from the diary's pain by day (days outside the two weeks are
    ignored)."""
    recent = [v for d, v in pain_by_day.items() if 0 <= (today - d).days < WEEK]
    before = [v for d, v in pain_by_day.items() if WEEK <= (today - d).days < 2 * WEEK]
    if len(recent) < TREND_MIN_DAYS or len(before) < TREND_MIN_DAYS:
        return None
    now, then = sum(recent) / len(recent), sum(before) / len(before)
    change = now - then
    detail = (f"mean pain {now:.1f} over the last {WEEK} days ({len(recent)} diary days) "
              f"vs {then:.1f} the {WEEK} before ({len(before)} days): {change:+.1f}")
    if change >= TREND_POINTS:
        return Flag("pain_trend", "pain rising", "bad", detail)
    if change <= -TREND_POINTS:
        return Flag("pain_trend", "pain falling", "good", detail)
    return None


def adherence(diary_days: Iterable[dt.date], today: dt.date) -> Flag | None:
    """The "diary gaps" flag: fewer than 7 diary days among the last 14."""
    kept = {d for d in diary_days if 0 <= (today - d).days < ADHERENCE_WINDOW}
    if len(kept) >= ADHERENCE_MIN_DAYS:
        return None
    return Flag("adherence", "diary gaps", "warn",
                f"{len(kept)} diary days in the last {ADHERENCE_WINDOW}")


def overdue(schedules: Sequence[tuple[str, dt.date, int]],
            last_answered: Mapping[str, dt.date], today: dt.date) -> list[Flag]:
    """One flag per overdue schedule (``(instrument, first_due, every_days)``)."""
    flags = []
    for instrument, first_due, every_days in schedules:
        status = due_status(instrument, first_due, every_days,
                            last_answered.get(instrument), today)
        if status.is_overdue:
            flags.append(Flag("overdue", f"{instrument} overdue", "warn",
                              f"due on {status.due_on}, {status.days_overdue} days ago"))
    return flags


def running(interventions: Sequence[tuple[str, str, dt.date, dt.date | None]],
            today: dt.date) -> list[Flag]:
    """One flag per running intervention (``(type, product, start, stop)``)."""
    return [Flag("intervention", f"on {kind.replace('_', ' ')}: {product}", "info",
                 f"since {start}" + (f", until {stop}" if stop else ""))
            for kind, product, start, stop in interventions
            if start <= today and (stop is None or stop >= today)]


def patient_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the patient lives."""
    moment = now or dt.datetime.now(dt.UTC)
    try:
        return moment.astimezone(ZoneInfo(timezone)).date()
    except (KeyError, ValueError):
        return moment.date()


def flags_for_patients(session: Session, todays: Mapping[int, dt.date]) -> dict[int, list[Flag]]:
    """Every flag of the patients ``{patient_id: their today}`` (four queries in all)."""
    if not todays:
        return {}
    ids = list(todays)
    earliest = min(todays.values()) - dt.timedelta(days=2 * WEEK)
    pain: dict[int, dict[dt.date, float]] = defaultdict(dict)
    for pid, day, value in session.execute(
            select(DiaryEntry.patient_id, DiaryEntry.day, DiaryEntry.pain)
            .where(DiaryEntry.patient_id.in_(ids), DiaryEntry.day >= earliest)):
        pain[pid][day] = float(value)
    schedules: dict[int, list[tuple[str, dt.date, int]]] = defaultdict(list)
    for pid, instrument, first_due, every in session.execute(
            select(QuestionnaireSchedule.patient_id, QuestionnaireSchedule.instrument,
                   QuestionnaireSchedule.first_due, QuestionnaireSchedule.every_days)
            .where(QuestionnaireSchedule.patient_id.in_(ids),
                   QuestionnaireSchedule.active.is_(True))
            .order_by(QuestionnaireSchedule.instrument)):
        schedules[pid].append((instrument, first_due, every))
    answered: dict[int, dict[str, dt.date]] = defaultdict(dict)
    if schedules:
        for pid, instrument, last in session.execute(
                select(QuestionnaireResponse.patient_id, QuestionnaireResponse.instrument,
                       func.max(QuestionnaireResponse.time))
                .where(QuestionnaireResponse.patient_id.in_(list(schedules)))
                .group_by(QuestionnaireResponse.patient_id, QuestionnaireResponse.instrument)):
            answered[pid][instrument] = _date(last)
    treatments: dict[int, list[tuple[str, str, dt.date, dt.date | None]]] = defaultdict(list)
    for pid, kind, product, start, stop in session.execute(
            select(Intervention.patient_id, Intervention.type, Intervention.product,
                   Intervention.start, Intervention.stop)
            .where(Intervention.patient_id.in_(ids),
                   (Intervention.stop.is_(None)) | (Intervention.stop >= earliest))
            .order_by(Intervention.start)):
        treatments[pid].append((kind, product, start, stop))
    out: dict[int, list[Flag]] = {}
    for pid, today in todays.items():
        flags = [f for f in (pain_trend(pain[pid], today), adherence(pain[pid], today)) if f]
        flags += overdue(schedules[pid], answered[pid], today)
        flags += running(treatments[pid], today)
        out[pid] = flags
    return out


def _date(value: dt.datetime | str) -> dt.date:
    # func.max over a datetime column comes back as text on SQLite
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.date()

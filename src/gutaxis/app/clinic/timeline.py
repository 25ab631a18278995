"""A patient's timeline: diary pain and GI total, questionnaire scores, intervention
periods, labs and microbiome samples between two days, in five indexed queries; and its
charts (server-side SVG)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from markupsafe import Markup
from sqlalchemy import Date, DateTime, Integer, bindparam, select
from sqlalchemy.orm import Session

from gutaxis.app.clinic.schemas import TimelineOut
from gutaxis.app.db.models import (
    DiaryEntry,
    Intervention,
    LabResult,
    MicrobiomeSample,
    Patient,
    QuestionnaireResponse,
)
from gutaxis.app.interventions.evaluation import gi_total
from gutaxis.app.web.charts import Chart, Line, Marker, Period, svg_chart
from gutaxis.errors import InputError

#: The default window: the last 90 days.
DEFAULT_DAYS = 90
#: The earliest day a window may start.
EARLIEST = dt.date(1900, 1, 1)
#: How far after today a window may end.
AHEAD_DAYS = 366
#: The longest window one request may ask for (about 5 years).
MAX_DAYS = 2000
TITLE = "Pain and scores over time"


def window(since: dt.date | None, until: dt.date | None,
           today: dt.date) -> tuple[dt.date, dt.date]:
    """``(since, until)``: the last :data:`DEFAULT_DAYS` days by default; refused when
    backwards, longer than :data:`MAX_DAYS` or ending more than :data:`AHEAD_DAYS` after
    today."""
    end = until or today
    if end > today + dt.timedelta(days=AHEAD_DAYS):
        raise InputError("the window ends too far in the future", field="until",
                         found=str(end), expected=f"at most {AHEAD_DAYS} days after today")
    if end < EARLIEST or (since is not None and since < EARLIEST):
        raise InputError("the window starts too early",
                         field="until" if end < EARLIEST else "since",
                         found=f"{since} to {end}", expected=f"days from {EARLIEST}")
    start = since or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InputError("the window ends before it starts", field="since",
                         found=f"since {start}, until {end}", expected="since on or before until")
    if (end - start).days >= MAX_DAYS:
        raise InputError("the window is too long", field="since", found=f"{start} to {end}",
                         expected=f"at most {MAX_DAYS} days")
    return start, end


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    low = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    return low, dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


_PID = bindparam("pid", type_=Integer)
_SINCE, _UNTIL = bindparam("since", type_=Date), bindparam("until", type_=Date)
_LOW = bindparam("low", type_=DateTime(timezone=True))
_HIGH = bindparam("high", type_=DateTime(timezone=True))
# built once: the endpoint is read at hundreds of requests a second, and building a
# statement costs more than running these indexed ones
_DIARY = (select(DiaryEntry.day, DiaryEntry.pain, DiaryEntry.gi_symptoms)
          .where(DiaryEntry.patient_id == _PID, DiaryEntry.day >= _SINCE,
                 DiaryEntry.day <= _UNTIL).order_by(DiaryEntry.day))
_SCORES = (select(QuestionnaireResponse.time, QuestionnaireResponse.instrument,
                  QuestionnaireResponse.scores)
           .where(QuestionnaireResponse.patient_id == _PID, QuestionnaireResponse.time >= _LOW,
                  QuestionnaireResponse.time < _HIGH).order_by(QuestionnaireResponse.time))
_PERIODS = (select(Intervention.id, Intervention.type, Intervention.product, Intervention.start,
                   Intervention.stop)
            .where(Intervention.patient_id == _PID, Intervention.start <= _UNTIL,
                   Intervention.stop.is_(None) | (Intervention.stop >= _SINCE))
            .order_by(Intervention.start))
_LABS = (select(LabResult.time, LabResult.analyte, LabResult.value, LabResult.unit)
         .where(LabResult.patient_id == _PID, LabResult.time >= _LOW, LabResult.time < _HIGH)
         .order_by(LabResult.time))
_SAMPLES = (select(MicrobiomeSample.id, MicrobiomeSample.sample_label,
                   MicrobiomeSample.collected_at)
            .where(MicrobiomeSample.patient_id == _PID, MicrobiomeSample.collected_at >= _LOW,
                   MicrobiomeSample.collected_at < _HIGH)
            .order_by(MicrobiomeSample.collected_at))


def timeline(session: Session, patient: Patient, since: dt.date,
             until: dt.date) -> TimelineOut:
    """The patient's timeline from ``since`` to ``until`` (days inclusive, times in UTC):
    five queries, each on an index that starts with the patient id."""
    low, high = _bounds(since, until)
    params = {"pid": patient.id, "since": since, "until": until, "low": low, "high": high}
    diary = [{"day": d, "pain": p, "gi_total": gi_total(g)}
             for d, p, g in session.execute(_DIARY, params)]
    scores = []
    for time, instrument, values in session.execute(_SCORES, params):
        for name, score in (values or {}).items():
            value, band = _score(score)
            scores.append({"time": time, "instrument": instrument, "score": str(name),
                           "value": value, "band": band})
    periods = [{"id": i, "type": t, "product": p, "start": a, "stop": b}
               for i, t, p, a, b in session.execute(_PERIODS, params)]
    labs = [{"time": t, "analyte": a, "value": v, "unit": u}
            for t, a, v, u in session.execute(_LABS, params)]
    samples = [{"id": i, "label": s, "collected_at": t}
               for i, s, t in session.execute(_SAMPLES, params)]
    return TimelineOut.model_validate({
        "patient_id": patient.id, "pseudonym": patient.pseudonym, "since": since,
        "until": until, "diary": diary, "scores": scores, "interventions": periods,
        "labs": labs, "samples": samples})


def _score(score: Any) -> tuple[float | None, str | None]:
    """A stored score: ``{"value": .., "band": ..}`` or a bare number."""
    if isinstance(score, dict):
        value, band = score.get("value"), score.get("band")
    else:
        value, band = score, None
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None
    return number, str(band) if band is not None else None


def _day(moment: dt.datetime) -> dt.date:
    return moment.date()


def periods_of(data: TimelineOut) -> list[Period]:
    return [Period(label=f"{p.type.replace('_', ' ')}: {p.product}", start=p.start, stop=p.stop)
            for p in data.interventions]


def main_chart(data: TimelineOut) -> Markup:
    """Pain by day, intervention periods shaded, questionnaires, labs and samples marked."""
    markers = [Marker(label=f"{s.instrument} {s.score} {s.value:g}"
                      + (f" ({s.band})" if s.band else ""), day=_day(s.time),
                      kind="questionnaire") for s in data.scores if s.value is not None]
    markers += [Marker(label=f"{lab.analyte} {lab.value:g} {lab.unit}", day=_day(lab.time),
                       kind="lab") for lab in data.labs]
    markers += [Marker(label=f"microbiome sample {s.label}", day=_day(s.collected_at),
                       kind="sample") for s in data.samples]
    pain = Line("Pain (0-10)", [d.day for d in data.diary], [d.pain for d in data.diary])
    return svg_chart(Chart(lines=[pain], title=TITLE, y_label="pain NRS", y_min=0, y_max=10,
                           periods=periods_of(data), markers=markers, start=data.since,
                           end=data.until))


def gi_chart(data: TimelineOut) -> Markup | None:
    """The GI symptom total by day (``None`` when no day has GI ratings)."""
    if not any(d.gi_total is not None for d in data.diary):
        return None
    line = Line("GI symptom total", [d.day for d in data.diary], [d.gi_total for d in data.diary],
                color="#c05a2b")
    return svg_chart(Chart(lines=[line], title="GI symptom total over time",
                           y_label="sum of GI ratings", y_min=0, periods=periods_of(data),
                           start=data.since, end=data.until))


def score_charts(data: TimelineOut) -> list[tuple[str, Markup]]:
    """One chart per questionnaire: each of its scores by day."""
    by: dict[str, dict[str, list[tuple[dt.date, float]]]] = defaultdict(lambda: defaultdict(list))
    for s in data.scores:
        if s.value is not None:
            by[s.instrument][s.score].append((_day(s.time), s.value))
    charts = []
    for instrument in sorted(by):
        lines = [Line(name, [d for d, _ in points], [v for _, v in points])
                 for name, points in list(by[instrument].items())[:4]]
        charts.append((instrument, svg_chart(Chart(
            lines=lines, title=f"{instrument} scores over time", y_min=0,
            periods=periods_of(data), start=data.since, end=data.until))))
    return charts

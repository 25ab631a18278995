"""``/me/trends``: the patient's own charts over 30 or 90 days."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import Intervention
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.diary import service as diary
from gutaxis.app.portal import trends
from gutaxis.app.questionnaires import service as questionnaires
from gutaxis.app.questionnaires.portal import own_patient, reminders, render
from gutaxis.app.state import AppState
from gutaxis.app.web.charts import svg_chart
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_patient = require_roles("patient")


@router.get("/me/trends", response_class=HTMLResponse)
def trends_page(request: Request, days: int = Query(30), actor: Actor = Depends(_patient),
                state: AppState = Depends(get_state)) -> Response:
    """Pain (with its 7-day average), gut symptoms, stool form, food, sleep and stress over
    the last ``days`` (30 or 90) days, and questionnaire scores, interventions shaded."""
    if days not in trends.SPANS:
        raise InputError("unsupported period", field="days", found=days,
                         expected=" or ".join(str(s) for s in trends.SPANS))
    with state.db.write() as session:
        patient = own_patient(session, actor, "trends")
        end = questionnaires.patient_today(patient)
        start = end - dt.timedelta(days=days - 1)
        entries = diary.days(session, patient.id, since=start, until=end)
        interventions = session.scalars(select(Intervention).where(
            Intervention.patient_id == patient.id).order_by(Intervention.start)).all()
        since = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(), dt.UTC)
        answered = [r for r in questionnaires.responses(session, patient.id, since=since)
                    if start <= questionnaires.local_date(r.time, patient.timezone) <= end]
        due = reminders(session, patient)
        audit.record(session, actor, "read", "trends", patient_id=patient.id,
                     detail=f"{days} days")
    zone = patient.timezone
    names = {r.instrument: questionnaires.instrument_for(r.instrument).name for r in answered}
    charts = trends.diary_trends(entries, interventions, end=end, span=days)
    scores = trends.score_trends(answered, names, interventions, end=end, span=days,
                                 local_day=lambda t: questionnaires.local_date(t, zone))
    shown = [i for i in interventions if i.start <= end and (i.stop is None or i.stop >= start)]
    return render(request, state, actor, "portal_trends.html", {
        "reminders": due, "days": days, "spans": trends.SPANS, "start": start, "end": end,
        "entries": len(entries), "charts": [(t, svg_chart(t.chart)) for t in charts],
        "scores": [(t, svg_chart(t.chart)) for t in scores], "interventions": shown})

"""``/me/diary``: the patient's diary form (one day; today by default), saved with the
API's validation and audited. Works as a plain form POST; no script needed."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import DiaryEntry
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.diary import form as diary_form
from gutaxis.app.diary import service
from gutaxis.app.diary.schemas import GI_SYMPTOMS
from gutaxis.app.questionnaires.portal import own_patient, reminders, render
from gutaxis.app.questionnaires.service import patient_today
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_patient = require_roles("patient")
TEMPLATE = "portal_diary.html"


def _layout() -> dict[str, object]:
    return {"regions": [(name, [(s, diary_form.site_label(s)) for s in sites])
                        for name, sites in diary_form.REGIONS],
            "bristol": diary_form.BRISTOL,
            "symptoms": [(s, diary_form.symptom_label(s)) for s in GI_SYMPTOMS],
            "amounts": diary_form.AMOUNTS, "ratings": diary_form.RATINGS,
            "one_day": dt.timedelta(days=1)}


@router.get("/me/diary", response_class=HTMLResponse)
def diary_page(request: Request, day: dt.date | None = Query(None),
               actor: Actor = Depends(_patient),
               state: AppState = Depends(get_state)) -> Response:
    """The diary form for ``day`` (today in the patient's timezone), pre-filled with that
    day's entry when there is one."""
    with state.db.write() as session:
        patient = own_patient(session, actor, "diary")
        today = patient_today(patient)
        chosen = diary_form.check_day(day or today, today + dt.timedelta(days=1))
        entry = service.one_day(session, patient.id, chosen)
        due = reminders(session, patient)
        audit.record(session, actor, "read", "diary", patient_id=patient.id,
                     detail=str(chosen))
        values = diary_form.values_of(entry)
        stored = entry is not None
    return render(request, state, actor, TEMPLATE, {
        **_layout(), "day": chosen, "today": today, "values": values, "stored": stored,
        "reminders": due, "error": None, "saved": None})


@router.post("/me/diary", response_class=HTMLResponse)
async def diary_submit(request: Request, actor: Actor = Depends(_patient),
                       state: AppState = Depends(get_state)) -> Response:
    """Save the submitted day (replacing that day's entry) and show the form again with a
    ``Saved`` status, or the error naming the field (422) with the answers kept."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    sites = [value for value in form.getlist("pain_sites") if isinstance(value, str)]
    return await run_in_threadpool(_save, request, actor, state, fields, sites)


def _save(request: Request, actor: Actor, state: AppState, form: dict[str, str],
          sites: list[str]) -> Response:
    error: InputError | None = None
    stored: DiaryEntry | None = None
    try:
        day = diary_form.parse_day(form.get("day"))
        entry = diary_form.diary_day(form, sites)
        with state.db.write() as session:  # an InputError here rolls the block back
            patient = own_patient(session, actor, "diary")
            stored = service.save_day(session, patient.id, day, entry)
            audit.record(session, actor, "write", "diary", patient_id=patient.id,
                         detail=str(day))
    except InputError as exc:
        error = exc
    with state.db.read() as session:
        patient = own_patient(session, actor, "diary")
        today = patient_today(patient)
        due = reminders(session, patient)
    context: dict[str, object] = {**_layout(), "today": today, "reminders": due}
    if stored is None:
        return render(request, state, actor, TEMPLATE, {
            **context, "day": _submitted_day(form, today), "error": str(error),
            "error_field": error.field if error else None, "saved": None, "stored": False,
            "values": diary_form.submitted_values(form, sites)}, status=422)
    return render(request, state, actor, TEMPLATE, {
        **context, "day": stored.day, "error": None, "saved": stored.updated_at,
        "stored": True, "values": diary_form.values_of(stored)})


def _submitted_day(form: dict[str, str], today: dt.date) -> dt.date:
    try:
        return diary_form.parse_day(form.get("day"))
    except InputError:
        return today

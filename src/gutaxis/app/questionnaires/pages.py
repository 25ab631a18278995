"""The patient's questionnaire pages: what is due, one form per instrument (built from
the registry), and the result of an answer (scored by the engine)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import QuestionnaireResponse
from gutaxis.app.deps import Actor, Denied, get_state, require_roles
from gutaxis.app.questionnaires import forms, service
from gutaxis.app.questionnaires.portal import own_patient, reminders, render
from gutaxis.app.state import AppState
from gutaxis.errors import InputError
from gutaxis.instruments.base import Instrument

router = APIRouter(include_in_schema=False)
_patient = require_roles("patient")
_RESOURCE = "questionnaires"


@router.get("/me/questionnaires", response_class=HTMLResponse)
def questionnaires_page(request: Request, actor: Actor = Depends(_patient),
                        state: AppState = Depends(get_state)) -> Response:
    """Due and overdue questionnaires with links to answer them, the upcoming ones, and
    the answers given so far."""
    with state.db.write() as session:
        patient = own_patient(session, actor, _RESOURCE)
        status = service.schedule_status(session, patient)
        answered = list(service.responses(session, patient.id))[::-1][:20]
        due = reminders(session, patient)
        audit.record(session, actor, "read", _RESOURCE, patient_id=patient.id)
    upcoming = [(service.instrument_for(row.instrument), s) for row, s in status
                if not s.is_due]
    history = [(r, service.instrument_for(r.instrument)) for r in answered]
    return render(request, state, actor, "portal_questionnaires.html", {
        "reminders": due, "upcoming": upcoming, "history": history,
        "zone": patient.timezone, "local_date": service.local_date})


@router.get("/me/questionnaires/results/{response_id}", response_class=HTMLResponse)
def result_page(request: Request, response_id: int, actor: Actor = Depends(_patient),
                state: AppState = Depends(get_state)) -> Response:
    """One answered questionnaire: the scores and bands the engine gave, what was missing.
    Another patient's result is refused (403); an id that does not exist is 404."""
    with state.db.write() as session:
        patient = own_patient(session, actor, _RESOURCE)
        row = session.get(QuestionnaireResponse, response_id)
        mine = row is not None and row.patient_id == patient.id
        if mine:
            audit.record(session, actor, "read", _RESOURCE, patient_id=patient.id,
                         detail=f"response {response_id}")
            due = reminders(session, patient)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no questionnaire answer {response_id}")
    if not mine:
        raise Denied(actor, resource=_RESOURCE, patient_id=row.patient_id,
                     why="not one of your questionnaires")
    instrument = service.instrument_for(row.instrument)
    rescored = service.score_answers(instrument, row.answers).score  # its notes
    return render(request, state, actor, "portal_questionnaire_result.html", {
        "reminders": due, "response": row, "instrument": instrument,
        "specs": {s.name: s for s in instrument.scores}, "rescored": rescored,
        "zone": patient.timezone, "local_date": service.local_date})


@router.get("/me/questionnaires/{instrument}", response_class=HTMLResponse)
def form_page(request: Request, instrument: str, actor: Actor = Depends(_patient),
              state: AppState = Depends(get_state)) -> Response:
    """The form of ``instrument`` (id or id@version), built from the registry."""
    declared = service.instrument_for(instrument)
    with state.db.write() as session:
        patient = own_patient(session, actor, _RESOURCE)
        due = reminders(session, patient)
        audit.record(session, actor, "read", "questionnaire_schedules", patient_id=patient.id)
    return _form(request, state, actor, declared, due, {}, None, 200)


@router.post("/me/questionnaires/{instrument}", response_class=HTMLResponse)
async def form_submit(request: Request, instrument: str, actor: Actor = Depends(_patient),
                      state: AppState = Depends(get_state)) -> Response:
    """Score the answers with the engine and store them; then show the result (303), or
    the form again with the error naming the item (422)."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_submit, request, state, actor, instrument, fields)


def _submit(request: Request, state: AppState, actor: Actor, instrument: str,
            form: dict[str, str]) -> Response:
    declared = service.instrument_for(instrument)
    answers = forms.answers_from_form(declared, form)
    try:
        scored = service.score_answers(declared, answers)
    except InputError as exc:
        with state.db.read() as session:
            due = reminders(session, own_patient(session, actor, _RESOURCE))
        return _form(request, state, actor, declared, due, answers, exc, 422)
    with state.db.write() as session:
        patient = own_patient(session, actor, _RESOURCE)
        row = service.save_response(session, patient.id, scored,
                                    time=service.check_time(None), entered_by=actor.user_id)
        audit.record(session, actor, "write", _RESOURCE, patient_id=patient.id,
                     detail=row.instrument)
        response_id = row.id
    return RedirectResponse(f"/me/questionnaires/results/{response_id}", status_code=303)


def _form(request: Request, state: AppState, actor: Actor, instrument: Instrument,
          due: object, values: dict[str, str], error: InputError | None,
          status: int) -> Response:
    fields = forms.fields_of(instrument, values)
    return render(request, state, actor, "portal_questionnaire.html", {
        "reminders": due, "instrument": instrument, "fields": fields,
        "range_text": forms.range_text, "error": None if error is None else str(error),
        "error_field": None if error is None else error.field,
        "worded": all(f.worded for f in fields),
        "unworded": not any(f.worded for f in fields)}, status=status)

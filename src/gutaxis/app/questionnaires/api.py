"""Questionnaire API: the instruments, a patient's schedules, what is due, the answers."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import QuestionnaireSchedule
from gutaxis.app.deps import Actor, current_actor, get_state, require_roles
from gutaxis.app.questionnaires import service
from gutaxis.app.questionnaires.schedule import due_status
from gutaxis.app.questionnaires.schemas import (
    AnswersIn,
    InstrumentOut,
    ItemOut,
    ReminderOut,
    ResponseOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ScoredOut,
)
from gutaxis.app.state import AppState
from gutaxis.instruments.base import Instrument

router = APIRouter(prefix="/api/v1", tags=["questionnaires"])
_care = require_roles("patient", "clinician")
_clinician = require_roles("clinician")
_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "not allowed for this role or patient"},
    404: {"description": "no such patient or schedule"},
    422: {"description": "invalid input (the field is named)"}}
_RESOURCE = "questionnaires"


def instrument_out(instrument: Instrument) -> InstrumentOut:
    """The registry's declaration of ``instrument`` as the API shows it."""
    return InstrumentOut(
        key=instrument.key, id=instrument.id, version=instrument.version, name=instrument.name,
        wording_may_ship=instrument.wording_may_ship, licence=instrument.licence,
        citation=instrument.citation, scores=[s.name for s in instrument.scores],
        items=[ItemOut(id=i.id, topic=i.topic, kind=i.kind, minimum=i.minimum,
                       maximum=i.maximum, text=i.text, unit=i.unit, scored=i.scored,
                       choices=None if i.choices is None else
                       [{"value": c.value, "label": c.label} for c in i.choices])
               for i in instrument.items])


@router.get("/instruments", response_model=list[InstrumentOut], responses={401: {}})
def list_instruments(actor: Actor = Depends(current_actor)) -> list[InstrumentOut]:
    """Every instrument the clinic can schedule and score (all versions)."""
    from gutaxis.instruments.registry import list_instruments as registered

    return [instrument_out(i) for i in registered()]


def _schedule_out(row: QuestionnaireSchedule, answered: dict[str, dt.date],
                  today: dt.date) -> ScheduleOut:
    status = due_status(row.instrument, row.first_due, row.every_days,
                        answered.get(row.instrument), today)
    active = bool(row.active)
    return ScheduleOut(id=row.id, patient_id=row.patient_id, instrument=row.instrument,
                       name=service.instrument_for(row.instrument).name,
                       every_days=row.every_days, first_due=row.first_due, active=active,
                       due_on=status.due_on if active else None,
                       is_due=active and status.is_due, is_overdue=active and status.is_overdue,
                       days_overdue=status.days_overdue if active else 0)


@router.get("/patients/{patient_id}/questionnaires/schedules",
            response_model=list[ScheduleOut], responses=_ERRORS)
def read_schedules(patient_id: int, actor: Actor = Depends(_care),
                   state: AppState = Depends(get_state)) -> list[ScheduleOut]:
    """The patient's schedules (active and inactive) with their due status today."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, _RESOURCE)
        answered = service.last_answered(session, patient_id, patient.timezone)
        today = service.patient_today(patient)
        out = [_schedule_out(row, answered, today)
               for row in service.schedules(session, patient_id)]
        audit.record(session, actor, "read", "questionnaire_schedules", patient_id=patient_id)
    return out


@router.post("/patients/{patient_id}/questionnaires/schedules", response_model=ScheduleOut,
             status_code=201, responses=_ERRORS)
def create_schedule(patient_id: int, body: ScheduleIn, actor: Actor = Depends(_clinician),
                    state: AppState = Depends(get_state)) -> ScheduleOut:
    """Schedule an instrument for the patient (a schedule of the same instrument is
    replaced and re-activated). Clinicians only."""
    service.instrument_for(body.instrument)  # 422 before anything is written
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, _RESOURCE, write=True)
        row = service.set_schedule(session, patient_id, instrument=body.instrument,
                                   every_days=body.every_days, first_due=body.first_due,
                                   created_by=actor.user_id)
        audit.record(session, actor, "write", "questionnaire_schedules", patient_id=patient_id,
                     detail=f"{row.instrument} every {row.every_days} d from {row.first_due}")
        answered = service.last_answered(session, patient_id, patient.timezone)
        return _schedule_out(row, answered, service.patient_today(patient))


@router.patch("/patients/{patient_id}/questionnaires/schedules/{schedule_id}",
              response_model=ScheduleOut, responses=_ERRORS)
def change_schedule(patient_id: int, schedule_id: int, body: SchedulePatch,
                    actor: Actor = Depends(_clinician),
                    state: AppState = Depends(get_state)) -> ScheduleOut:
    """Deactivate (``{"active": false}``), re-activate or move a schedule. Clinicians only."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, _RESOURCE, write=True)
        row = session.get(QuestionnaireSchedule, schedule_id)
        if row is not None and row.patient_id == patient_id:
            if body.active is not None:
                row.active = body.active
            if body.every_days is not None:
                row.every_days = body.every_days
            if body.first_due is not None:
                row.first_due = body.first_due
            session.flush()
            audit.record(session, actor, "write", "questionnaire_schedules",
                         patient_id=patient_id, detail=f"{row.instrument} active={row.active}")
            answered = service.last_answered(session, patient_id, patient.timezone)
            return _schedule_out(row, answered, service.patient_today(patient))
    raise HTTPException(status_code=404, detail=f"no schedule {schedule_id} of patient "
                        f"{patient_id}")


@router.get("/patients/{patient_id}/questionnaires/due", response_model=list[ReminderOut],
            responses=_ERRORS)
def read_due(patient_id: int, actor: Actor = Depends(_care),
             state: AppState = Depends(get_state)) -> list[ReminderOut]:
    """The questionnaires due or overdue today (in the patient's timezone)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, _RESOURCE)
        today = service.patient_today(patient)
        due = service.reminders(session, patient, today)
        audit.record(session, actor, "read", "questionnaire_schedules", patient_id=patient_id)
    return [ReminderOut.of(d, service.instrument_for(d.instrument).name, today) for d in due]


@router.get("/patients/{patient_id}/questionnaires", response_model=list[ResponseOut],
            responses=_ERRORS)
def read_responses(patient_id: int, instrument: str | None = Query(
                       None, description="Only this instrument (id or id@version)"),
                   actor: Actor = Depends(_care),
                   state: AppState = Depends(get_state)) -> list[ResponseOut]:
    """The patient's answered questionnaires with their scores, oldest first."""
    key = None if instrument is None else service.instrument_for(instrument).key
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, _RESOURCE)
        rows = service.responses(session, patient_id, instrument=key)
        audit.record(session, actor, "read", _RESOURCE, patient_id=patient_id)
        return [ResponseOut.model_validate(r) for r in rows]


@router.post("/patients/{patient_id}/questionnaires", response_model=ScoredOut,
             status_code=201, responses=_ERRORS)
def answer(patient_id: int, body: AnswersIn, actor: Actor = Depends(_care),
           state: AppState = Depends(get_state)) -> ScoredOut:
    """Answer a questionnaire: the engine validates and scores it (as ``gutaxis score``
    does), the answers and scores are stored."""
    with state.db.read() as session:  # access first, so a refused caller learns nothing
        reachable_patient(session, actor, patient_id, _RESOURCE, write=True)
    scored = service.score_answers(service.instrument_for(body.instrument), body.answers)
    time = service.check_time(body.time)
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, _RESOURCE, write=True)
        row = service.save_response(session, patient_id, scored, time=time,
                                    entered_by=actor.user_id)
        audit.record(session, actor, "write", _RESOURCE, patient_id=patient_id,
                     detail=row.instrument)
        out = ResponseOut.model_validate(row)
    return ScoredOut(**out.model_dump(), missing_items=list(scored.score.missing_items),
                     notes=list(scored.score.notes))

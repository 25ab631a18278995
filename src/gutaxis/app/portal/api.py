"""``GET /api/v1/me``: the logged-in patient's record id, pseudonym and reminders."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.questionnaires.portal import own_patient, reminders
from gutaxis.app.questionnaires.schemas import ReminderOut
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1", tags=["portal"])
_patient = require_roles("patient")


class Me(BaseModel):
    """The patient behind the account and the questionnaires due or overdue today."""

    patient_id: int
    pseudonym: str
    reminders: list[ReminderOut]


@router.get("/me", response_model=Me, responses={401: {}, 403: {"description": "not a patient"}})
def me(actor: Actor = Depends(_patient),
       state: AppState = Depends(get_state)) -> Me:
    """The logged-in patient: record id, pseudonym and due/overdue questionnaires."""
    with state.db.write() as session:
        patient = own_patient(session, actor, "me")
        due = reminders(session, patient)
        audit.record(session, actor, "read", "questionnaire_schedules", patient_id=patient.id)
        return Me(patient_id=patient.id, pseudonym=patient.pseudonym, reminders=due)

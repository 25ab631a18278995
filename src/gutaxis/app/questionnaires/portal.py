"""What every page of the patient portal shares: the patient behind the account, the
reminders banner, rendering a template."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gutaxis.app.access import reachable_patient
from gutaxis.app.db.models import Patient
from gutaxis.app.deps import Actor, Denied
from gutaxis.app.questionnaires import service as questionnaires
from gutaxis.app.questionnaires.schemas import ReminderOut
from gutaxis.app.state import AppState


def own_patient(session: Session, actor: Actor, resource: str) -> Patient:
    """The patient record of a patient's account (Denied when the account has none)."""
    if actor.patient_id is None:
        raise Denied(actor, resource=resource, why="no patient record is linked to this account")
    return reachable_patient(session, actor, actor.patient_id, resource)


def reminders(session: Session, patient: Patient) -> list[ReminderOut]:
    """The patient's due and overdue questionnaires, as the banner and ``/api/v1/me`` show
    them."""
    today = questionnaires.patient_today(patient)
    return [ReminderOut.of(due, questionnaires.instrument_for(due.instrument).name, today)
            for due in questionnaires.reminders(session, patient, today)]


def score_text(value: float) -> str:
    """A score as a person reads it: at most two decimals (``16/3`` -> ``5.33``)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render(request: Request, state: AppState, actor: Actor, template: str,
           context: Mapping[str, object], status: int = 200) -> Response:
    """A portal page (``template`` extends base.html and includes the reminders banner)."""
    return state.templates.TemplateResponse(
        request, template, {"actor": actor, "score_text": score_text, **context},
        status_code=status)

"""``/api/v1/patients``: the clinician's list with flags, new patients, one patient with
their identity, invitation links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.patients import service
from gutaxis.app.patients.schemas import InvitationOut, PatientIn, PatientOut, PatientRow
from gutaxis.app.patients.views import patient_out, patient_rows
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

_Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/api/v1/patients", tags=["patients"])
_clinician = require_roles("clinician")
_care = require_roles("patient", "clinician")
_DENIED: _Responses = {
    401: {"description": "Not logged in"}, 403: {"description": "Not allowed"}}
_MISSING: _Responses = {404: {"description": "No such patient"}}
_INVALID: _Responses = {
    422: {"description": "Input not accepted (the field is named)"}}


@router.get("", response_model=list[PatientRow], responses=_DENIED)
def list_patients(actor: Actor = Depends(_clinician),
                  state: AppState = Depends(get_state)) -> list[PatientRow]:
    """Every patient with their flags (pain trend, diary gaps, overdue questionnaires,
    running interventions), by name."""
    with state.db.write() as session:
        rows = patient_rows(session)
        audit.record(session, actor, "read", "patient_list", detail=f"{len(rows)} patients")
    return rows


@router.post("", response_model=PatientOut, status_code=201,
             responses={**_DENIED, **_INVALID})
def new_patient(body: PatientIn, actor: Actor = Depends(_clinician),
                state: AppState = Depends(get_state)) -> PatientOut:
    """Create a patient (pseudonym drawn at random; identity kept in its own table)."""
    return create(state, actor, body)


def create(state: AppState, actor: Actor, body: PatientIn) -> PatientOut:
    """Create the patient of ``body`` and record it (shared by the API and the page)."""
    with state.db.write() as session:
        patient = service.create_patient(session, **body.model_dump())
        audit.record(session, actor, "create", "patient", patient_id=patient.id)
        return patient_out(session, patient)


@router.get("/{patient_id}", response_model=PatientOut,
            responses={**_DENIED, **_MISSING})
def read_patient(patient_id: int, actor: Actor = Depends(_care),
                 state: AppState = Depends(get_state)) -> PatientOut:
    """The patient with their identity (clinicians; a patient their own)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "patient")
        audit.record(session, actor, "read", "patient", patient_id=patient_id)
        return patient_out(session, patient)


@router.post("/{patient_id}/invitations", response_model=InvitationOut, status_code=201,
             responses={**_DENIED, **_MISSING, **_INVALID})
def invite(patient_id: int, request: Request, actor: Actor = Depends(_clinician),
           state: AppState = Depends(get_state)) -> InvitationOut:
    """A one-time link for the patient to set their username and password (refused when
    the patient already has an account)."""
    return invitation(state, actor, patient_id, str(request.base_url))


def invitation(state: AppState, actor: Actor, patient_id: int, base_url: str) -> InvitationOut:
    """Create an invitation and record it (a refusal is recorded too, then raised)."""
    from gutaxis.app.auth.invitations import create_invitation

    refused: InputError | None = None
    token = ""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "invitation", write=True)
        try:
            with session.begin_nested():
                token = create_invitation(session, state, patient_id, actor.user_id)
        except InputError as exc:
            refused = exc
        audit.record(session, actor, "create", "invitation", patient_id=patient_id,
                     outcome="allowed" if refused is None else "refused",
                     detail=None if refused is None else str(refused))
    if refused is not None:
        raise refused
    return InvitationOut(patient_id=patient_id, link=base_url.rstrip("/") + "/invite/" + token,
                         expires_in_days=state.settings.invitation_days)

"""FHIR R4 export: ``GET /api/v1/patients/{patient_id}/fhir``, one patient's identified
Bundle (clinicians, or the patient themself), and ``GET /api/v1/cohort/fhir``, the
de-identified cohort Bundle (researchers and clinicians). Both are audited as exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from sqlalchemy import select

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import PatientIdentity
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.patients.service import identity
from gutaxis.app.state import AppState

router = APIRouter(tags=["fhir"])
_care = require_roles("patient", "clinician")
_research = require_roles("researcher", "clinician")
#: A patient id a database integer holds (larger: 422, not a database error).
PatientId = Path(ge=1, le=2**31 - 1, description="The patient's id")
FHIR_JSON = "application/fhir+json"
_BUNDLE = {"description": "A FHIR R4 collection Bundle", "content": {FHIR_JSON: {}}}


@router.get("/api/v1/patients/{patient_id}/fhir", response_class=JSONResponse,
            responses={200: _BUNDLE, 403: {}, 404: {}})
def patient_fhir(patient_id: int = PatientId, actor: Actor = Depends(_care),
                 state: AppState = Depends(get_state)) -> JSONResponse:
    """The patient's record as a validated FHIR R4 ``collection`` Bundle: a Patient with
    name, birthDate, telecom and record number; QuestionnaireResponses and score
    Observations (diary pain as NRS, stool form as Bristol); lab Observations;
    MedicationStatements and Procedures for interventions; a Specimen per sample."""
    from gutaxis.app.fhir.service import patient_bundle
    from gutaxis.app.research.record import load_record

    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "fhir")
        record = load_record(session, [patient_id])
        bundle: dict[str, Any] = patient_bundle(record, identity(session, patient_id))
        audit.record(session, actor, "export", "fhir", patient_id=patient_id,
                     detail=f"{len(bundle.get('entry', []))} resources")
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.get("/api/v1/cohort/fhir", response_class=JSONResponse,
            responses={200: _BUNDLE, 403: {}})
def cohort_fhir(actor: Actor = Depends(_research),
                state: AppState = Depends(get_state)) -> JSONResponse:
    """The cohort as a de-identified FHIR R4 ``collection`` Bundle: Patients carry the
    pseudonym and at most the birth year; every time of a patient is shifted by the
    same secret offset (-180 to +180 days; stated in ``meta.tag``, ``meta.security``
    PSEUDED)."""
    from gutaxis.app.fhir.service import cohort_bundle
    from gutaxis.app.research.record import load_record

    with state.db.write() as session:
        record = load_record(session, secret=state.secret)
        years = {pid: (dob.year if dob else None) for pid, dob in session.execute(
            select(PatientIdentity.patient_id, PatientIdentity.date_of_birth))}
        bundle: dict[str, Any] = cohort_bundle(record, years)
        audit.record(session, actor, "export", "cohort", detail=(
            f"fhir: {len(record.subjects)} patients, {len(bundle.get('entry', []))} "
            "resources"))
    return JSONResponse(bundle, media_type=FHIR_JSON)

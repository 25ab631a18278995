"""Pages: a patient's lab results (single-entry form, CSV upload, table) for clinicians,
and the table read-only for the patient (``/me/labs``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import PatientIdentity
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.labs import service
from gutaxis.app.labs.api import read_limited, save_results
from gutaxis.app.samples.schemas import RowId
from gutaxis.app.state import AppState
from gutaxis.data.labs import ANALYTES
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_clinician = require_roles("clinician")
_patient = require_roles("patient")


def labs_context(state: AppState, actor: Actor, patient_id: int) -> dict[str, Any]:
    """What the labs page shows (the read is audited)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "labs")
        identity = session.get(PatientIdentity, patient_id) if actor.role == "clinician" \
            else None
        rows = service.patient_results(session, patient_id)
        audit.record(session, actor, "read", "labs", patient_id=patient_id,
                     detail="labs page")
        results = [{"time": r.time, "analyte": r.analyte,
                    "analyte_name": ANALYTES[r.analyte].name if r.analyte in ANALYTES
                    else r.analyte,
                    "notes": ANALYTES[r.analyte].notes() if r.analyte in ANALYTES else [],
                    "value": r.value, "unit": r.unit,
                    "reported_value": r.reported_value, "reported_unit": r.reported_unit,
                    "from_file": r.upload_id is not None} for r in reversed(rows)]
        return {"patient_id": patient_id, "pseudonym": patient.pseudonym,
                "timezone": patient.timezone,
                "full_name": identity.full_name if identity else None, "results": results,
                "analytes": list(ANALYTES.values())}


def render(request: Request, state: AppState, actor: Actor, patient_id: int, *,
           editable: bool, error: str | None = None, added: int | None = None,
           form: dict[str, str] | None = None, status: int = 200) -> Response:
    context = labs_context(state, actor, patient_id)
    return state.templates.TemplateResponse(
        request, "labs_patient.html",
        {"actor": actor, "editable": editable, "error": error, "added": added,
         "form": form or {}, **context}, status_code=status)


def _timezone(state: AppState, actor: Actor, patient_id: int) -> str:
    with state.db.read() as session:
        return reachable_patient(session, actor, patient_id, "labs", write=True).timezone


@router.get("/clinic/patients/{patient_id}/labs", response_class=HTMLResponse)
def labs_page(request: Request, patient_id: RowId, added: int | None = None,
              actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
              ) -> Response:
    return render(request, state, actor, patient_id, editable=True, added=added)


@router.post("/clinic/patients/{patient_id}/labs", response_class=HTMLResponse)
def labs_enter(request: Request, patient_id: RowId, time: str = Form(""),
               analyte: str = Form(""), value: str = Form(""), unit: str = Form(""),
               actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
               ) -> Response:
    """The single-entry form's target."""
    timezone = _timezone(state, actor, patient_id)
    try:
        results = service.result_from_fields(time, analyte, value, unit, timezone=timezone)
    except InputError as exc:
        return render(request, state, actor, patient_id, editable=True, error=str(exc),
                      form={"time": time, "analyte": analyte, "value": value, "unit": unit},
                      status=422)
    save_results(state, actor, patient_id, results, None)
    return RedirectResponse(f"/clinic/patients/{patient_id}/labs?added=1", status_code=303)


@router.post("/clinic/patients/{patient_id}/labs/upload", response_class=HTMLResponse)
def labs_upload(request: Request, patient_id: RowId, file: UploadFile = File(...),
                actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
                ) -> Response:
    """The CSV form's target: every row validated first, nothing stored on an error."""
    timezone = _timezone(state, actor, patient_id)
    content = read_limited(file, service.MAX_LAB_CSV_BYTES)
    try:
        lab_file = service.results_from_csv(file.filename or "labs.csv", content,
                                            timezone=timezone)
    except InputError as exc:
        return render(request, state, actor, patient_id, editable=True, error=str(exc),
                      status=422)
    rows = save_results(state, actor, patient_id, lab_file.results, lab_file)
    return RedirectResponse(f"/clinic/patients/{patient_id}/labs?added={len(rows)}",
                            status_code=303)


@router.get("/me/labs", response_class=HTMLResponse)
def my_labs(request: Request, actor: Actor = Depends(_patient),
            state: AppState = Depends(get_state)) -> Response:
    assert actor.patient_id is not None
    return render(request, state, actor, actor.patient_id, editable=False)

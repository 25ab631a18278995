"""``/api/v1/patients/{patient_id}/labs``: enter one result, upload a lab CSV, list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.labs import service
from gutaxis.app.samples.schemas import RowId
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import UtcDatetime

router = APIRouter(prefix="/api/v1/patients/{patient_id}/labs", tags=["labs"])
_clinician = require_roles("clinician")
_care = require_roles("patient", "clinician")
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not allowed"}, 404: {"description": "no such patient"},
    422: {"description": "a field, row or column is not accepted (names where)"}}


class LabIn(BaseModel):
    """One lab result as the lab reported it."""

    model_config = ConfigDict(extra="forbid")

    time: str = Field(description="ISO 8601; without a UTC offset it is read in the "
                      "patient's timezone", examples=["2024-03-01T08:30:00+01:00"])
    analyte: str = Field(description="An analyte id (crp, hs_crp, esr, il6, tnf_alpha, "
                         "calprotectin, zonulin, lps, lps_mass, lbp, scd14, ifabp, "
                         "lm_ratio) or a common spelling", examples=["crp"])
    value: float = Field(allow_inf_nan=False)
    unit: str = Field(description="UCUM unit convertible to the analyte's unit",
                      examples=["mg/L"])


class LabOut(BaseModel):
    """A stored lab result: canonical value and unit, and as reported."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    time: UtcDatetime
    analyte: str
    value: float
    unit: str
    reported_value: float
    reported_unit: str
    upload_id: int | None


class LabUploadOut(BaseModel):
    upload_id: int
    filename: str
    sha256: str
    results: list[LabOut]


def _timezone(state: AppState, actor: Actor, patient_id: int) -> str:
    with state.db.read() as session:
        return reachable_patient(session, actor, patient_id, "labs", write=True).timezone


def save_results(state: AppState, actor: Actor, patient_id: int, results: object,
                 upload: service.LabFile | None) -> list[LabOut]:
    """Store validated results with their audit event; returns them as stored."""
    import pandas as pd

    assert isinstance(results, pd.DataFrame)
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "labs", write=True)
        rows = service.store_results(session, patient_id, results, upload=upload,
                                     entered_by=actor.user_id)
        audit.record(session, actor, "create", "labs", patient_id=patient_id,
                     detail=f"{len(rows)} result(s)" + (f" from {upload.filename}"
                                                        if upload else ""))
        return [LabOut.model_validate(r) for r in rows]


@router.post("", response_model=LabOut, status_code=201, responses=_ERRORS)
def post_result(patient_id: RowId, body: LabIn, actor: Actor = Depends(_clinician),
                state: AppState = Depends(get_state)) -> LabOut:
    """Enter one lab result (converted to the analyte's canonical unit)."""
    timezone = _timezone(state, actor, patient_id)
    results = service.result_from_fields(body.time, body.analyte, repr(body.value), body.unit,
                                         timezone=timezone)
    return save_results(state, actor, patient_id, results, None)[0]


@router.post("/upload", response_model=LabUploadOut, status_code=201,
             responses={**_ERRORS, 413: {"description": "file too large"}})
def upload_results(patient_id: RowId,
                   file: UploadFile = File(..., description="CSV: time, analyte, value, unit "
                                           "(optional subject)"),
                   actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
                   ) -> LabUploadOut:
    """Upload a lab CSV: every row validated first (422 naming the row and column;
    nothing stored), then all results stored."""
    timezone = _timezone(state, actor, patient_id)
    content = read_limited(file, service.MAX_LAB_CSV_BYTES)
    lab_file = service.results_from_csv(file.filename or "labs.csv", content, timezone=timezone)
    rows = save_results(state, actor, patient_id, lab_file.results, lab_file)
    return LabUploadOut(upload_id=int(rows[0].upload_id or 0), filename=lab_file.filename,
                        sha256=lab_file.sha256, results=rows)


def read_limited(file: UploadFile, limit: int) -> bytes:
    """The file's bytes, or 413 when it has more than ``limit``."""
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(status_code=413, detail=f"{file.filename}: larger than the "
                            f"{limit} bytes a lab file may have")
    return content


@router.get("", response_model=list[LabOut], responses=_ERRORS)
def list_results(patient_id: RowId, actor: Actor = Depends(_care),
                 state: AppState = Depends(get_state)) -> list[LabOut]:
    """The patient's lab results, oldest first."""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "labs")
        rows = service.patient_results(session, patient_id)
        audit.record(session, actor, "read", "labs", patient_id=patient_id)
        return [LabOut.model_validate(r) for r in rows]

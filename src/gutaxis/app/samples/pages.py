"""Pages: a patient's microbiome samples (upload form and gut-health panels) for
clinicians, and the same panels read-only for the patient (``/me/samples``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import PatientIdentity
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.samples import service
from gutaxis.app.samples.api import sample_out, upload_samples, uploaded
from gutaxis.app.samples.reading import NamedBytes
from gutaxis.app.samples.schemas import RowId
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_clinician = require_roles("clinician")
_patient = require_roles("patient")


def samples_context(state: AppState, actor: Actor, patient_id: int) -> dict[str, Any]:
    """What the samples page shows (the read is audited)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "samples")
        identity = session.get(PatientIdentity, patient_id) if actor.role == "clinician" \
            else None
        rows = service.patient_samples(session, patient_id)
        audit.record(session, actor, "read", "samples", patient_id=patient_id,
                     detail="samples page")
        samples = [sample_out(r).model_dump() for r in reversed(rows)]
        return {"patient_id": patient_id, "pseudonym": patient.pseudonym,
                "timezone": patient.timezone,
                "full_name": identity.full_name if identity else None, "samples": samples,
                "max_mb": service.MAX_UPLOAD_BYTES // (1024 * 1024)}


def render(request: Request, state: AppState, actor: Actor, patient_id: int, *,
           editable: bool, error: str | None = None, added: int | None = None,
           status: int = 200) -> Response:
    context = samples_context(state, actor, patient_id)
    return state.templates.TemplateResponse(
        request, "samples_patient.html",
        {"actor": actor, "editable": editable, "error": error, "added": added, **context},
        status_code=status)


@router.get("/clinic/patients/{patient_id}/samples", response_class=HTMLResponse)
def samples_page(request: Request, patient_id: RowId, added: int | None = None,
                 actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
                 ) -> Response:
    return render(request, state, actor, patient_id, editable=True, added=added)


@router.post("/clinic/patients/{patient_id}/samples", response_class=HTMLResponse)
def samples_upload(request: Request, patient_id: RowId, file: UploadFile = File(...),
                   taxonomy: UploadFile | None = File(None),
                   collected_at: str | None = Form(None),
                   sample_times: UploadFile | None = File(None),
                   actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
                   ) -> Response:
    """The upload form's target: back to the page with the samples added, or the page
    with the reader's message (422) and nothing stored."""
    try:
        table = uploaded(file, "table")
        assert table is not None
        result = upload_samples(state, actor, patient_id, table,
                                _given(uploaded(taxonomy, "taxonomy")), collected_at or None,
                                _given(uploaded(sample_times, "sample_times.tsv")))
    except InputError as exc:
        return render(request, state, actor, patient_id, editable=True, error=str(exc),
                      status=422)
    return RedirectResponse(f"/clinic/patients/{patient_id}/samples?added="
                            f"{len(result.samples)}", status_code=303)


def _given(file: NamedBytes | None) -> NamedBytes | None:
    """A browser sends an empty part for a file input left empty: that is no file."""
    return file if file is not None and file.content else None


@router.get("/me/samples", response_class=HTMLResponse)
def my_samples(request: Request, actor: Actor = Depends(_patient),
               state: AppState = Depends(get_state)) -> Response:
    assert actor.patient_id is not None
    return render(request, state, actor, actor.patient_id, editable=False)

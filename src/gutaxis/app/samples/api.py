"""``/api/v1/patients/{patient_id}/samples``: upload microbiome tables, list samples, read
a sample's gut-health panel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, UploadFile

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import MicrobiomeSample
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.samples import service
from gutaxis.app.samples.reading import NamedBytes
from gutaxis.app.samples.schemas import Panel, RowId, SampleOut, UploadOut
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1/patients/{patient_id}/samples", tags=["samples"])
_clinician = require_roles("clinician")
_care = require_roles("patient", "clinician")
_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not allowed"}, 404: {"description": "no such patient"},
    422: {"description": "the file or a field is not accepted (names where)"}}


def sample_out(row: MicrobiomeSample) -> SampleOut:
    return SampleOut(id=row.id, patient_id=row.patient_id, sample_label=row.sample_label,
                     collected_at=row.collected_at, upload_id=row.upload_id,
                     value_kind=row.value_kind, n_features=len(row.profile),
                     panel=Panel.model_validate(row.panel))


def uploaded(file: UploadFile | None, default_name: str) -> NamedBytes | None:
    """The file's bytes (413 above :data:`service.MAX_UPLOAD_BYTES`), ``None`` if absent."""
    if file is None:
        return None
    limit = service.MAX_UPLOAD_BYTES
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(status_code=413, detail=f"{file.filename or default_name}: "
                            f"larger than the {limit} bytes an upload may have")
    return NamedBytes(filename=file.filename or default_name, content=content)


def upload_samples(state: AppState, actor: Actor, patient_id: int, table: NamedBytes,
                   taxonomy: NamedBytes | None, collected_at: str | None,
                   sample_times: NamedBytes | None) -> UploadOut:
    """Validate, compute and store an upload (nothing stored on any error)."""
    with state.db.read() as session:
        timezone = reachable_patient(session, actor, patient_id, "samples", write=True).timezone
    prepared = service.prepare_upload(table, taxonomy_file=taxonomy, collected_at=collected_at,
                                      sample_times=sample_times, timezone=timezone)
    labels = [s.label for s in prepared.samples]
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "samples", write=True)
        duplicates = service.existing_labels(session, patient_id, labels)
        if not duplicates:
            upload, rows = service.store_upload(session, patient_id, prepared,
                                                uploaded_by=actor.user_id)
            audit.record(session, actor, "create", "samples", patient_id=patient_id,
                         detail=f"upload {upload.id} ({prepared.filename}): "
                         f"{len(rows)} sample(s)")
            out = UploadOut(upload_id=upload.id, filename=upload.filename,
                            sha256=upload.sha256, samples=[sample_out(r) for r in rows])
    if duplicates:
        raise service.duplicate_labels_error(duplicates, prepared.filename)
    return out


@router.post("", response_model=UploadOut, status_code=201,
             responses={**_ERRORS, 413: {"description": "file too large"}})
def post_samples(patient_id: RowId,
                 file: UploadFile = File(..., description="Microbiome table: BIOM (JSON or "
                                         "HDF5), QIIME 2 .qza, TSV/CSV or MetaPhlAn"),
                 taxonomy: UploadFile | None = File(None, description="Taxonomy (TSV or .qza)"),
                 collected_at: str | None = Form(None, description="When the one sample of "
                                                 "the table was collected (ISO 8601)"),
                 sample_times: UploadFile | None = File(None, description="TSV: sample_id, "
                                                        "collected_at"),
                 actor: Actor = Depends(_clinician), state: AppState = Depends(get_state)
                 ) -> UploadOut:
    """Upload a microbiome table: validated by the engine's readers (422 naming the file,
    row and column, as the CLI says it; nothing stored), then one sample per table sample
    with its gut-health panel."""
    table = uploaded(file, "table")
    assert table is not None
    return upload_samples(state, actor, patient_id, table, uploaded(taxonomy, "taxonomy"),
                          collected_at or None, uploaded(sample_times, "sample_times.tsv"))


@router.get("", response_model=list[SampleOut], responses=_ERRORS)
def list_samples(patient_id: RowId, actor: Actor = Depends(_care),
                 state: AppState = Depends(get_state)) -> list[SampleOut]:
    """The patient's samples with their panels, oldest first."""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "samples")
        rows = service.patient_samples(session, patient_id)
        audit.record(session, actor, "read", "samples", patient_id=patient_id)
        return [sample_out(r) for r in rows]


@router.get("/{sample_id}/panel", response_model=Panel, responses=_ERRORS)
def read_panel(patient_id: RowId, sample_id: RowId, actor: Actor = Depends(_care),
               state: AppState = Depends(get_state)) -> Panel:
    """The gut-health panel of one sample."""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "samples")
        row = session.get(MicrobiomeSample, sample_id)
        found = row is not None and row.patient_id == patient_id
        audit.record(session, actor, "read", "samples", patient_id=patient_id,
                     detail=f"panel of sample {sample_id}")
        panel = Panel.model_validate(row.panel) if found and row is not None else None
    if panel is None:
        raise HTTPException(status_code=404, detail=f"no sample {sample_id} of this patient")
    return panel

"""``/api/v1/cohort/export.zip``: the de-identified cohort for research (researchers and
clinicians) as a ZIP of tidy TSV files, recorded in the audit trail as an export. (The
cohort's FHIR Bundle is in :mod:`gutaxis.app.fhir.api`.)"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1/cohort", tags=["research"])
_research = require_roles("researcher", "clinician")
_ZIP = {"description": "A ZIP of TSV files and README.txt",
        "content": {"application/zip": {}}}


@router.get("/export.zip", response_class=StreamingResponse,
            responses={200: _ZIP, 403: {}})
def export_cohort(actor: Actor = Depends(_research),
                  state: AppState = Depends(get_state)) -> StreamingResponse:
    """Every patient's diary, questionnaire scores, labs, interventions, samples (with
    diary means, scores and labs joined to each) and microbiome profiles as tidy TSV
    files, de-identified (pseudonyms, birth year only, dates shifted per patient; see
    README.txt in the archive)."""
    from gutaxis.app.research.export import chunks, export_zip
    from gutaxis.app.research.record import load_record

    with state.db.write() as session:
        record = load_record(session, secret=state.secret)
        archive = export_zip(record, session)
        audit.record(session, actor, "export", "cohort", detail=(
            f"export.zip: {len(record.subjects)} patients, "
            f"{len(record.sample_metadata)} samples"))
    return StreamingResponse(chunks(archive), media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="gutaxis-cohort.zip"'})

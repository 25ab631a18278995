"""``/api/v1/analyses``: queue an analysis of the de-identified cohort, follow its
progress, read its report (researchers and clinicians). ``gutaxis worker`` runs them."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gutaxis.app.audit import service as audit
from gutaxis.app.db.models import Job
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.jobs import queue
from gutaxis.app.jobs.analysis import KIND, check_params
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import UtcDatetime

router = APIRouter(prefix="/api/v1/analyses", tags=["analyses"])
_research = require_roles("researcher", "clinician")
#: Largest id a database integer column holds (a larger one is a 422, not a 500).
MAX_ID = 2**31 - 1
AnalysisId = Path(ge=1, le=MAX_ID, description="The analysis (job) id")


class AnalysisRequest(BaseModel):
    """An analysis of the cohort's samples (columns of samples.tsv in the export)."""

    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=120,
                         description="Outcome column, e.g. pain_mean_14d (mean diary pain "
                         "over the 14 days ending on each sample's collection day)")
    outcome_type: Literal["continuous", "binary", "ordinal"] = "continuous"
    covariates: list[str] = Field(default_factory=list, max_length=20,
                                  description="Covariate columns, e.g. "
                                  "fibre_servings_mean_14d")
    exposure: str | None = Field(None, max_length=120,
                                 description="Exposure column for the mediation step")
    permutations: int = Field(999, ge=9, le=9999,
                              description="Permutations of the community test")


class AnalysisOut(BaseModel):
    """A queued, running, finished or failed analysis."""

    id: int
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str | None
    params: dict[str, Any]
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    attempts: int
    result: dict[str, Any]
    report_url: str | None

    @classmethod
    def of(cls, job: Job) -> AnalysisOut:
        return cls(id=job.id, status=job.status,  # type: ignore[arg-type]
                   progress=job.progress, message=job.message, params=job.params or {},
                   created_at=job.created_at, started_at=job.started_at,
                   finished_at=job.finished_at, attempts=job.attempts,
                   result=job.result or {},
                   report_url=f"/api/v1/analyses/{job.id}/report"
                   if job.status == "done" and job.report_html else None)


def queue_analysis(state: AppState, actor: Actor, body: AnalysisRequest) -> Job:
    """Check ``body`` and queue it (audited); the new job."""
    params = check_params(body.model_dump())
    with state.db.write() as session:
        job = queue.enqueue(session, KIND, params, created_by=actor.user_id)
        audit.record(session, actor, "create", "analysis",
                     detail=f"job {job.id}: outcome {params['outcome']}")
    return job


@router.post("", status_code=201, response_model=AnalysisOut,
             responses={403: {}, 422: {}})
def create_analysis(body: AnalysisRequest, actor: Actor = Depends(_research),
                    state: AppState = Depends(get_state)) -> AnalysisOut:
    """Queue an analysis (``gutaxis analyze``) of the de-identified cohort."""
    return AnalysisOut.of(queue_analysis(state, actor, body))


@router.get("", response_model=list[AnalysisOut], responses={403: {}})
def list_analyses(actor: Actor = Depends(_research),
                  state: AppState = Depends(get_state)) -> list[AnalysisOut]:
    """The 100 newest analyses, newest first."""
    with state.db.read() as session:
        jobs = session.scalars(select(Job).where(Job.kind == KIND)
                               .order_by(Job.id.desc()).limit(100)).all()
        return [AnalysisOut.of(j) for j in jobs]


@router.get("/{analysis_id}", response_model=AnalysisOut, responses={403: {}, 404: {}})
def get_analysis(analysis_id: int = AnalysisId, actor: Actor = Depends(_research),
                 state: AppState = Depends(get_state)) -> AnalysisOut:
    """One analysis: status, progress (0-1) and message, result summary when done."""
    with state.db.read() as session:
        job = session.get(Job, analysis_id)
        if job is None or job.kind != KIND:
            raise HTTPException(status_code=404, detail=f"no analysis {analysis_id}")
        return AnalysisOut.of(job)


@router.get("/{analysis_id}/report", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}}, 403: {}, 404: {}})
def analysis_report(analysis_id: int = AnalysisId, actor: Actor = Depends(_research),
                    state: AppState = Depends(get_state)) -> HTMLResponse:
    """The finished analysis's report (self-contained HTML)."""
    with state.db.write() as session:
        job = session.get(Job, analysis_id)
        html = job.report_html if job is not None and job.kind == KIND else None
        if html is not None:
            audit.record(session, actor, "read", "analysis", detail=f"job {analysis_id} report")
    if html is None:
        raise HTTPException(status_code=404, detail=f"no report of analysis {analysis_id} "
                            "(not finished, failed or absent)")
    return HTMLResponse(html)

"""``/research``, the research page: cohort export buttons, the new-analysis form and the
analyses with their progress (researchers and clinicians)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from gutaxis.app.db.models import Job, Patient
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.jobs.analysis import KIND, OUTCOME_TYPES
from gutaxis.app.jobs.api import AnalysisOut, AnalysisRequest, queue_analysis
from gutaxis.app.research.record import DIARY_VALUES
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_research = require_roles("researcher", "clinician")
#: Columns offered in the form (scores and labs are added by name: nrs_pain, crp, ...).
SUGGESTED_COLUMNS: tuple[str, ...] = (*(f"{c}_mean_14d" for c in DIARY_VALUES),
                                      "intervention_active")


@router.get("/research", response_class=HTMLResponse)
def research_page(request: Request, actor: Actor = Depends(_research),
                  state: AppState = Depends(get_state)) -> Response:
    with state.db.read() as session:
        jobs = [AnalysisOut.of(j) for j in session.scalars(
            select(Job).where(Job.kind == KIND).order_by(Job.id.desc()).limit(50))]
        patients = session.scalar(select(func.count()).select_from(Patient)) or 0
    return state.templates.TemplateResponse(request, "research_index.html", {
        "actor": actor, "jobs": jobs, "patients": patients, "columns": SUGGESTED_COLUMNS,
        "outcome_types": OUTCOME_TYPES})


@router.post("/research/analyses")
async def research_new_analysis(request: Request, actor: Actor = Depends(_research),
                                state: AppState = Depends(get_state)) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    try:
        body = AnalysisRequest(
            outcome=text("outcome"), outcome_type=text("outcome_type") or "continuous",
            covariates=[c.strip() for c in text("covariates").split(",") if c.strip()],
            exposure=text("exposure") or None,
            permutations=int(text("permutations") or 999))
    except (ValidationError, ValueError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        field = ".".join(map(str, first["loc"])) if first else "permutations"
        raise InputError("the analysis form is not complete", field=field,
                         found=first.get("input") if first else text("permutations"),
                         expected=first["msg"] if first else "a whole number") from None
    queue_analysis(state, actor, body)
    return RedirectResponse("/research", status_code=303)

"""``/api/v1/patients/{patient_id}/timeline`` and the shareable report (HTML, PDF)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.clinic import timeline as tl
from gutaxis.app.clinic import views
from gutaxis.app.clinic.report import html_to_pdf, report_html
from gutaxis.app.clinic.schemas import TimelineOut
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.patients.flags import patient_today
from gutaxis.app.state import AppState

_Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["clinic"])
_clinician = require_roles("clinician")
_care = require_roles("patient", "clinician")
_ERRORS: _Responses = {
    401: {"description": "Not logged in"}, 403: {"description": "Not allowed"},
    404: {"description": "No such patient"}}


@router.get("/timeline", response_model=TimelineOut,
            responses={**_ERRORS, 422: {"description": "A window that ends before it starts "
                                        "or is too long"}})
def read_timeline(patient_id: int,
                  since: dt.date | None = Query(None, description="First day (default: 89 "
                                                "days before until)"),
                  until: dt.date | None = Query(None, description="Last day (default: today)"),
                  actor: Actor = Depends(_care),
                  state: AppState = Depends(get_state)) -> Response:
    """Diary pain and GI total by day, questionnaire scores, intervention periods, labs and
    microbiome samples of the window (default the last 90 days)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "timeline")
        start, end = tl.window(since, until, patient_today(patient.timezone))
        data = tl.timeline(session, patient, start, end)
        audit.record(session, actor, "read", "timeline", patient_id=patient_id)
    # serialised here, once (the model was validated when it was built)
    return Response(data.model_dump_json(), media_type="application/json")


def report_context(state: AppState, actor: Actor, patient_id: int,
                   kind: str) -> dict[str, Any]:
    """What the report shows, its reading recorded (``kind``: html, pdf or page)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "report")
        context = views.report(session, patient)
        audit.record(session, actor, "read", "report", patient_id=patient_id, detail=kind)
    return context


def report_document(state: AppState, actor: Actor, patient_id: int, kind: str) -> str:
    """The report's self-contained HTML, its reading recorded."""
    return report_html(state, report_context(state, actor, patient_id, kind))


@router.get("/report.html", response_class=HTMLResponse,
            responses={**_ERRORS, 200: {"content": {"text/html": {}}}})
def report_as_html(patient_id: int, actor: Actor = Depends(_clinician),
                   state: AppState = Depends(get_state)) -> HTMLResponse:
    """The shareable report: one self-contained HTML file (CSS and charts inline)."""
    html = report_document(state, actor, patient_id, "html")
    return HTMLResponse(html, headers={
        "Content-Disposition": f'inline; filename="patient-{patient_id}-report.html"'})


@router.get("/report.pdf", response_class=Response,
            responses={**_ERRORS, 200: {"content": {"application/pdf": {}}},
                       503: {"description": "Chromium, which prints the PDF, is missing or "
                             "failed"}})
def report_as_pdf(patient_id: int, actor: Actor = Depends(_clinician),
                  state: AppState = Depends(get_state)) -> Response:
    """The report as PDF, printed by headless Chromium."""
    pdf = html_to_pdf(report_document(state, actor, patient_id, "pdf"))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="patient-{patient_id}-report.pdf"'})

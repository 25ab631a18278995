"""The clinician's pages: the patient list with flags, a new patient, the patient page
(timeline, interventions, panels, labs), an intervention's evaluation, the report."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.clinic import views
from gutaxis.app.clinic.api import report_context
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.interventions import api as interventions_api
from gutaxis.app.interventions import service as interventions
from gutaxis.app.interventions.schemas import EARLIEST, LATEST, InterventionIn
from gutaxis.app.patients import api as patients_api
from gutaxis.app.patients.flags import RULES
from gutaxis.app.patients.schemas import PatientIn
from gutaxis.app.patients.views import patient_rows
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(prefix="/clinic/patients", include_in_schema=False)
_M = TypeVar("_M", bound=BaseModel)
_clinician = require_roles("clinician")


def _page(state: AppState, request: Request, actor: Actor, template: str,
          context: dict[str, Any], status: int = 200) -> Response:
    return state.templates.TemplateResponse(request, template, {"actor": actor, **context},
                                            status_code=status)


def _model(model: type[_M], data: dict[str, Any]) -> _M:
    """``data`` as ``model``; a refusal is an InputError naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InputError(str(first.get("msg", "invalid")), field=where or None,
                         found=first.get("input") if not isinstance(first.get("input"), dict)
                         else None) from None


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@router.get("", response_class=HTMLResponse)
def patient_list(request: Request, actor: Actor = Depends(_clinician),
                 state: AppState = Depends(get_state)) -> Response:
    with state.db.write() as session:
        rows = patient_rows(session)
        audit.record(session, actor, "read", "patient_list", detail=f"{len(rows)} patients")
    return _page(state, request, actor, "clinic_patients.html", {"rows": rows, "rules": RULES})


@router.get("/new", response_class=HTMLResponse)
def new_patient_form(request: Request, actor: Actor = Depends(_clinician),
                     state: AppState = Depends(get_state)) -> Response:
    return _page(state, request, actor, "clinic_patient_new.html", {"created": None})


@router.post("/new", response_class=HTMLResponse)
def new_patient_submit(request: Request, full_name: str = Form(""),
                       date_of_birth: str = Form(""), email: str = Form(""),
                       phone: str = Form(""), medical_record_number: str = Form(""),
                       timezone: str = Form("UTC"), actor: Actor = Depends(_clinician),
                       state: AppState = Depends(get_state)) -> Response:
    body = _model(PatientIn, {"full_name": full_name.strip(),
                              "date_of_birth": _blank(date_of_birth), "email": _blank(email),
                              "phone": _blank(phone),
                              "medical_record_number": _blank(medical_record_number),
                              "timezone": _blank(timezone) or "UTC"})
    created = patients_api.create(state, actor, body)
    invitation = patients_api.invitation(state, actor, created.id, str(request.base_url))
    return _page(state, request, actor, "clinic_patient_new.html",
                 {"created": created, "link": invitation.link,
                  "days": invitation.expires_in_days}, status=201)


@router.get("/{patient_id}", response_class=HTMLResponse)
def patient_page(request: Request, patient_id: int, since: dt.date | None = Query(None),
                 until: dt.date | None = Query(None), actor: Actor = Depends(_clinician),
                 state: AppState = Depends(get_state)) -> Response:
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "patient")
        context = views.patient_page(session, patient, since, until)
        audit.record(session, actor, "read", "patient", patient_id=patient_id,
                     detail="patient page")
    return _page(state, request, actor, "clinic_patient.html", context)


@router.post("/{patient_id}/invitation", response_class=HTMLResponse)
def invite(request: Request, patient_id: int, actor: Actor = Depends(_clinician),
           state: AppState = Depends(get_state)) -> Response:
    made = patients_api.invitation(state, actor, patient_id, str(request.base_url))
    return _page(state, request, actor, "clinic_invitation.html",
                 {"patient_id": patient_id, "link": made.link, "days": made.expires_in_days},
                 status=201)


@router.post("/{patient_id}/interventions")
def start_intervention(patient_id: int, type: str = Form(""), product: str = Form(""),
                       dose: str = Form(""), dose_unit: str = Form(""), start: str = Form(""),
                       notes: str = Form(""), actor: Actor = Depends(_clinician),
                       state: AppState = Depends(get_state)) -> Response:
    body = _model(InterventionIn, {"type": type, "product": product.strip(),
                                   "dose": _blank(dose), "dose_unit": _blank(dose_unit),
                                   "start": _blank(start), "notes": _blank(notes)})
    interventions_api.start(state, actor, patient_id, body)
    return RedirectResponse(f"/clinic/patients/{patient_id}#interventions", status_code=303)


@router.post("/{patient_id}/interventions/{intervention_id}/stop")
def stop_intervention(patient_id: int, intervention_id: int, stop: str = Form(""),
                      actor: Actor = Depends(_clinician),
                      state: AppState = Depends(get_state)) -> Response:
    day = _model(_StopForm, {"stop": _blank(stop)}).stop
    interventions_api.stop(state, actor, patient_id, intervention_id, day)
    return RedirectResponse(f"/clinic/patients/{patient_id}#interventions", status_code=303)


class _StopForm(BaseModel):
    stop: dt.date = Field(ge=EARLIEST, le=LATEST)


@router.get("/{patient_id}/interventions/{intervention_id}/evaluation",
            response_class=HTMLResponse)
def evaluation_page(request: Request, patient_id: int, intervention_id: int,
                    washout: float = Query(0.0, ge=0, le=60),
                    actor: Actor = Depends(_clinician),
                    state: AppState = Depends(get_state)) -> Response:
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "evaluation")
        row = interventions.one(session, patient_id, intervention_id)
        context = views.evaluation_page(session, patient, row, washout=washout)
        audit.record(session, actor, "read", "evaluation", patient_id=patient_id,
                     detail=str(intervention_id))
    return _page(state, request, actor, "clinic_evaluation.html",
                 {"patient": patient, **context})


@router.get("/{patient_id}/report", response_class=HTMLResponse)
def report_page(request: Request, patient_id: int, actor: Actor = Depends(_clinician),
                state: AppState = Depends(get_state)) -> Response:
    context = report_context(state, actor, patient_id, "page")
    return _page(state, request, actor, "clinic_report_page.html", context)

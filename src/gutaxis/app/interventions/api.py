"""``/api/v1/patients/{patient_id}/interventions``: list, start, stop, evaluate."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Depends, Query

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.interventions import service
from gutaxis.app.interventions.evaluation import Evaluation, effect_words, evaluate
from gutaxis.app.interventions.schemas import (
    EffectOut,
    EvaluationOut,
    InterventionIn,
    InterventionOut,
    InterventionStop,
    OutcomeEvaluationOut,
)
from gutaxis.app.patients.flags import patient_today
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

_Responses = dict[int | str, dict[str, Any]]
router = APIRouter(prefix="/api/v1/patients/{patient_id}/interventions",
                   tags=["interventions"])
_clinician = require_roles("clinician")
_care = require_roles("patient", "clinician")
_ERRORS: _Responses = {
    401: {"description": "Not logged in"}, 403: {"description": "Not allowed"},
    404: {"description": "No such patient or intervention"}}
_INVALID: _Responses = {
    422: {"description": "Input not accepted (the field is named)"}}


@router.get("", response_model=list[InterventionOut], responses=_ERRORS)
def list_interventions(patient_id: int, actor: Actor = Depends(_care),
                       state: AppState = Depends(get_state)) -> list[InterventionOut]:
    """The patient's interventions, by start (clinicians; a patient their own)."""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "interventions")
        rows = service.of_patient(session, patient_id)
        audit.record(session, actor, "read", "interventions", patient_id=patient_id)
        return [InterventionOut.model_validate(r) for r in rows]


@router.post("", response_model=InterventionOut, status_code=201,
             responses={**_ERRORS, **_INVALID})
def start_intervention(patient_id: int, body: InterventionIn,
                       actor: Actor = Depends(_clinician),
                       state: AppState = Depends(get_state)) -> InterventionOut:
    """Start an intervention (type from the engine's list; stop, if given, not before the
    start)."""
    return start(state, actor, patient_id, body)


def start(state: AppState, actor: Actor, patient_id: int,
          body: InterventionIn) -> InterventionOut:
    """Check, store and record a new intervention (shared by the API and the page)."""
    good = service.checked(body)
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "interventions", write=True)
        row = service.start(session, patient_id, good, actor.user_id)
        audit.record(session, actor, "create", "intervention", patient_id=patient_id,
                     detail=f"{row.id} {row.type}")
        return InterventionOut.model_validate(row)


@router.patch("/{intervention_id}", response_model=InterventionOut,
              responses={**_ERRORS, **_INVALID})
def stop_intervention(patient_id: int, intervention_id: int, body: InterventionStop,
                      actor: Actor = Depends(_clinician),
                      state: AppState = Depends(get_state)) -> InterventionOut:
    """Set (or clear) the stop date; it may not be before the start."""
    return stop(state, actor, patient_id, intervention_id, body.stop)


def stop(state: AppState, actor: Actor, patient_id: int, intervention_id: int,
         day: dt.date | None) -> InterventionOut:
    """Stop an intervention and record it (a stop before the start is refused)."""
    refused: InputError | None = None
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "interventions", write=True)
        row = service.one(session, patient_id, intervention_id)
        try:
            service.check_stop(row.start, day)
        except InputError as exc:
            refused = exc
        else:
            row.stop = day
            audit.record(session, actor, "update", "intervention", patient_id=patient_id,
                         detail=f"{row.id} stop {day}")
        out = InterventionOut.model_validate(row)
    if refused is not None:
        raise refused
    return out


@router.get("/{intervention_id}/evaluation", response_model=EvaluationOut,
            responses=_ERRORS | _INVALID)
def evaluation(patient_id: int, intervention_id: int,
               washout: float = Query(0.0, ge=0, le=60, description="Days after the start "
                                      "left out"),
               actor: Actor = Depends(_care),
               state: AppState = Depends(get_state)) -> EvaluationOut:
    """The n-of-1 evaluation of the intervention from the diary (effect, interval,
    probability of a clinically important improvement and every caveat)."""
    with state.db.write() as session:
        patient = reachable_patient(session, actor, patient_id, "evaluation")
        row = service.one(session, patient_id, intervention_id)
        result = evaluate(session, row, patient_today(patient.timezone), washout=washout)
        audit.record(session, actor, "read", "evaluation", patient_id=patient_id,
                     detail=str(intervention_id))
        return evaluation_out(InterventionOut.model_validate(row), result)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def evaluation_out(intervention: InterventionOut, result: Evaluation) -> EvaluationOut:
    """The evaluation as JSON (NaN as null)."""
    outcomes = []
    for o in result.outcomes:
        effect = None
        if o.effect is not None:
            words = effect_words(o.effect)
            effect = EffectOut.model_validate(
                {k: _finite(v) if isinstance(v, float) else v for k, v in words.items()})
        outcomes.append(OutcomeEvaluationOut(outcome=o.outcome, label=o.label,
                                             days_before=o.days_before,
                                             days_during=o.days_during,
                                             evaluated=o.evaluated, reason=o.reason,
                                             effect=effect))
    return EvaluationOut(intervention=intervention, first_day=result.first_day,
                         last_day=result.last_day, design=result.design,
                         washout=result.washout, outcomes=outcomes,
                         caveats=list(result.caveats), rule=result.rule)

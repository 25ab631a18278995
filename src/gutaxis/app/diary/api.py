"""``/api/v1/patients/{patient_id}/diary``: write a day, read days."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Query

from gutaxis.app.access import reachable_patient
from gutaxis.app.audit import service as audit
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.diary import service
from gutaxis.app.diary.schemas import DiaryDay, DiaryEntryOut
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1/patients/{patient_id}/diary", tags=["diary"])
_care = require_roles("patient", "clinician")


@router.put("/{day}", response_model=DiaryEntryOut, responses={403: {}, 404: {}, 422: {}})
def write_day(patient_id: int, day: dt.date, body: DiaryDay,
              actor: Actor = Depends(_care), state: AppState = Depends(get_state)
              ) -> DiaryEntryOut:
    """Save the diary of ``day`` (replaces that day's earlier entry). When this answers
    200 the entry is committed to disk."""
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "diary", write=True)
        stored = service.save_day(session, patient_id, day, body)
        audit.record(session, actor, "write", "diary", patient_id=patient_id,
                     detail=str(day))
        return DiaryEntryOut.model_validate(stored)


@router.get("", response_model=list[DiaryEntryOut], responses={403: {}, 404: {}})
def read_days(patient_id: int, since: dt.date | None = Query(None),
              until: dt.date | None = Query(None), actor: Actor = Depends(_care),
              state: AppState = Depends(get_state)) -> list[DiaryEntryOut]:
    """The diary days from ``since`` to ``until`` (inclusive), oldest first."""
    with state.db.write() as session:  # the audit event is written with the read
        reachable_patient(session, actor, patient_id, "diary")
        rows = service.days(session, patient_id, since=since, until=until)
        audit.record(session, actor, "read", "diary", patient_id=patient_id)
        return [DiaryEntryOut.model_validate(r) for r in rows]


@router.get("/{day}", response_model=DiaryEntryOut, responses={403: {}, 404: {}})
def read_day(patient_id: int, day: dt.date, actor: Actor = Depends(_care),
             state: AppState = Depends(get_state)) -> DiaryEntryOut:
    with state.db.write() as session:
        reachable_patient(session, actor, patient_id, "diary")
        row = service.one_day(session, patient_id, day)
        audit.record(session, actor, "read", "diary", patient_id=patient_id, detail=str(day))
    if row is None:
        raise HTTPException(status_code=404, detail=f"no diary entry on {day}")
    return DiaryEntryOut.model_validate(row)

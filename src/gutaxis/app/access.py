"""Reach a patient the actor may reach (access is checked before existence, so a refused
caller cannot learn which patient ids exist)."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy.orm import Session

from gutaxis.app.db.models import Patient
from gutaxis.app.deps import Actor, Denied, check_patient_access

#: The largest id a row can have (the id columns are 32-bit integers on PostgreSQL); a
#: larger one in a URL names no row (404), it is not a database error.
MAX_ID = 2**31 - 1


def reachable_patient(session: Session, actor: Actor, patient_id: int, resource: str, *,
                      write: bool = False) -> Patient:
    """The patient ``patient_id`` if ``actor`` may reach it (403 if not, 404 if absent)."""
    possible = 0 < patient_id <= MAX_ID
    try:
        check_patient_access(actor, patient_id, resource, write=write)
    except Denied as refused:
        if not possible:  # the audit trail's patient column cannot hold it
            refused.patient_id = None
        raise
    patient = session.get(Patient, patient_id) if possible else None
    if patient is None:
        raise HTTPException(status_code=404, detail=f"no patient {patient_id}")
    return patient

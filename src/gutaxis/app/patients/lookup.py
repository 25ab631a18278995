"""Find a patient the actor may reach (access is checked before existence, so a refused
caller cannot learn which patient ids exist; ids outside the database's integer range
exist nowhere and are answered 404 for everyone)."""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy.orm import Session

from gutaxis.app.db.models import Patient
from gutaxis.app.deps import Actor, check_patient_access

#: The largest id an INTEGER primary key holds (PostgreSQL's int4).
MAX_ID = 2**31 - 1


def reachable_patient(session: Session, actor: Actor, patient_id: int, resource: str, *,
                      write: bool = False) -> Patient:
    """The patient ``patient_id`` if ``actor`` may reach it (403 if not, 404 if absent)."""
    if not 1 <= patient_id <= MAX_ID:  # PostgreSQL would refuse to compare it (a 500)
        raise HTTPException(status_code=404, detail=f"no patient {patient_id}")
    check_patient_access(actor, patient_id, resource, write=write)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise HTTPException(status_code=404, detail=f"no patient {patient_id}")
    return patient

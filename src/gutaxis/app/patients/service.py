"""Create patients (record + identity) and read who they are."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import Patient, PatientIdentity
from gutaxis.errors import InputError

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without doubt


def new_pseudonym(session: Session) -> str:
    """A random pseudonym ``P-XXXXXX`` not used yet (32^6 ~ 1e9 codes)."""
    while True:
        code = "P-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))
        if session.scalar(select(Patient.id).where(Patient.pseudonym == code)) is None:
            return code


def create_patient(session: Session, *, full_name: str, date_of_birth: dt.date | None = None,
                   email: str | None = None, phone: str | None = None,
                   medical_record_number: str | None = None,
                   timezone: str = "UTC") -> Patient:
    """A new patient record with its identity in the identity table."""
    if not full_name.strip():
        raise InputError("a patient needs a name", field="full_name", found=full_name,
                         expected="the patient's full name")
    _check_timezone(timezone)
    patient = Patient(pseudonym=new_pseudonym(session), timezone=timezone)
    session.add(patient)
    session.flush()
    session.add(PatientIdentity(patient_id=patient.id, full_name=full_name.strip(),
                                date_of_birth=date_of_birth, email=email, phone=phone,
                                medical_record_number=medical_record_number))
    session.flush()
    return patient


def identity(session: Session, patient_id: int) -> PatientIdentity | None:
    return session.get(PatientIdentity, patient_id)


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError("unknown timezone", field="timezone", found=name,
                         expected="an IANA timezone such as Europe/Berlin") from None


def has_account(session: Session, patient_id: int) -> bool:
    """Whether the patient has a login already (then no invitation is needed)."""
    from gutaxis.app.db.models import User

    return session.scalar(select(User.id).where(User.patient_id == patient_id)) is not None


def patient_list(session: Session) -> list[tuple[Patient, PatientIdentity, dt.date | None]]:
    """Every patient with their identity and last diary day, by name (two queries)."""
    from sqlalchemy import func

    from gutaxis.app.db.models import DiaryEntry

    last = {pid: day for pid, day in session.execute(
        select(DiaryEntry.patient_id, func.max(DiaryEntry.day)).group_by(DiaryEntry.patient_id))}
    rows = session.execute(select(Patient, PatientIdentity)
                           .join(PatientIdentity, PatientIdentity.patient_id == Patient.id)
                           .order_by(PatientIdentity.full_name, Patient.id)).all()
    return [(p, i, _as_date(last.get(p.id))) for p, i in rows]


def _as_date(value: dt.date | str | None) -> dt.date | None:
    # an aggregate over a date column comes back as text on SQLite
    return dt.date.fromisoformat(value) if isinstance(value, str) else value

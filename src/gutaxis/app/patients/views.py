"""The patient list and a patient's identity as the API and the pages show them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gutaxis.app.db.models import Patient
from gutaxis.app.patients import service
from gutaxis.app.patients.flags import flags_for_patients, patient_today
from gutaxis.app.patients.schemas import FlagOut, PatientOut, PatientRow


def patient_rows(session: Session) -> list[PatientRow]:
    """Every patient of the clinic with their flags, by name."""
    listed = service.patient_list(session)
    flags = flags_for_patients(session, {p.id: patient_today(p.timezone) for p, _, _ in listed})
    return [PatientRow(id=p.id, pseudonym=p.pseudonym, full_name=i.full_name,
                       date_of_birth=i.date_of_birth, last_diary_day=last,
                       flags=[FlagOut(kind=f.kind, label=f.label, level=f.level,
                                      detail=f.detail) for f in flags[p.id]])
            for p, i, last in listed]


def patient_out(session: Session, patient: Patient) -> PatientOut:
    """The patient with their identity (an empty name if the identity row is missing)."""
    who = service.identity(session, patient.id)
    return PatientOut(id=patient.id, pseudonym=patient.pseudonym, timezone=patient.timezone,
                      created_at=patient.created_at, full_name=who.full_name if who else "",
                      date_of_birth=who.date_of_birth if who else None,
                      email=who.email if who else None, phone=who.phone if who else None,
                      medical_record_number=who.medical_record_number if who else None,
                      has_account=service.has_account(session, patient.id))

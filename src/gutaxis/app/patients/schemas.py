"""The patient as the API takes and gives it: identity (clinicians and the patient), the
list row with its flags (clinicians), and invitation links."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.timestamps import UtcDatetime


class PatientIn(BaseModel):
    """A new patient: who they are (stored in the identity table only)."""

    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(min_length=1, max_length=200)
    date_of_birth: dt.date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    medical_record_number: str | None = Field(None, max_length=64)
    timezone: str = Field("UTC", max_length=64, description="IANA timezone, e.g. Europe/Berlin")


class FlagOut(BaseModel):
    """One flag of the patient list (rules in gutaxis.app.patients.flags)."""

    kind: str
    label: str
    level: str
    detail: str


class PatientOut(BaseModel):
    """A patient with their identity."""

    id: int
    pseudonym: str
    timezone: str
    created_at: UtcDatetime
    full_name: str
    date_of_birth: dt.date | None
    email: str | None
    phone: str | None
    medical_record_number: str | None
    has_account: bool


class PatientRow(BaseModel):
    """One row of the clinician's patient list."""

    id: int
    pseudonym: str
    full_name: str
    date_of_birth: dt.date | None
    last_diary_day: dt.date | None
    flags: list[FlagOut]


class InvitationOut(BaseModel):
    """A one-time invitation link (shown once; only its hash is stored)."""

    patient_id: int
    link: str
    expires_in_days: float

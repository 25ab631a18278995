"""The clinic's tables (SQLAlchemy 2 declarative models).

Identifying data lives in :class:`PatientIdentity` only; every other table knows a patient
by its integer id and its pseudonym (``P-…``), which is what de-identified exports carry.
Times are stored as timezone-aware UTC; diary days as dates. A change to a model needs an
Alembic migration in ``gutaxis/app/db/migrations/versions`` (a test compares the two).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES: tuple[str, ...] = ("patient", "clinician", "researcher", "admin")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


class Patient(Base):
    """A patient, known everywhere but in :class:`PatientIdentity` by id and pseudonym."""

    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class PatientIdentity(Base):
    """Who the patient is: the only table with identifying data."""

    __tablename__ = "patient_identities"
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    medical_record_number: Mapped[str | None] = mapped_column(String(64), nullable=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), nullable=True, unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class AuthSession(Base):
    """A login: the cookie (or bearer token) holds a random token; only its SHA-256 is kept."""

    __tablename__ = "auth_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8), default="cookie")  # cookie | bearer
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)


class Invitation(Base):
    """A one-time link that lets a patient set their username and password."""

    __tablename__ = "invitations"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class AuditEvent(Base):
    """One read or write of patient data (or a login, an export, a denied access)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                nullable=True, index=True)
    username: Mapped[str | None] = mapped_column(String(150), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(16))  # read | create | update | delete | ...
    resource: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(8), default="allowed")  # allowed | denied
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class DiaryEntry(Base):
    """One patient's diary for one day (entered again, it replaces that day's entry)."""

    __tablename__ = "diary_entries"
    __table_args__ = (UniqueConstraint("patient_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    pain: Mapped[int] = mapped_column(Integer)  # NRS 0-10
    pain_sites: Mapped[list[Any]] = mapped_column(default=list)
    bristol: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-7
    gi_symptoms: Mapped[dict[str, Any]] = mapped_column(default=dict)  # symptom -> 0-10
    fibre_servings: Mapped[float | None] = mapped_column(Float, nullable=True)
    fermented_servings: Mapped[float | None] = mapped_column(Float, nullable=True)
    ultra_processed_servings: Mapped[float | None] = mapped_column(Float, nullable=True)
    added_sugar_g: Mapped[float | None] = mapped_column(Float, nullable=True)
    probiotic_taken: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    exercise_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    stress: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-10
    sleep_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    sleep_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-10
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuestionnaireSchedule(Base):
    """An instrument a patient is asked to fill in every ``every_days`` days."""

    __tablename__ = "questionnaire_schedules"
    __table_args__ = (UniqueConstraint("patient_id", "instrument"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(64))  # registry key id@version
    every_days: Mapped[int] = mapped_column(Integer)
    first_due: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class QuestionnaireResponse(Base):
    """One administration: the answers as given and the scores the engine computed."""

    __tablename__ = "questionnaire_responses"
    __table_args__ = (Index("ix_questionnaire_patient_time", "patient_id", "time"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    instrument: Mapped[str] = mapped_column(String(64))
    time: Mapped[dt.datetime] = mapped_column()
    answers: Mapped[dict[str, Any]] = mapped_column()
    scores: Mapped[dict[str, Any]] = mapped_column()  # score -> {value, band}
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class LabResult(Base):
    __tablename__ = "lab_results"
    __table_args__ = (Index("ix_lab_patient_time", "patient_id", "time"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    time: Mapped[dt.datetime] = mapped_column()
    analyte: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)  # canonical unit
    unit: Mapped[str] = mapped_column(String(32))
    reported_value: Mapped[float] = mapped_column(Float)
    reported_unit: Mapped[str] = mapped_column(String(32))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"), nullable=True)


class Upload(Base):
    """A file as it came in (validated before it was stored)."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # microbiome | labs
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MicrobiomeSample(Base):
    """One microbiome sample of a patient: its profile (feature -> value) and gut panel."""

    __tablename__ = "microbiome_samples"
    __table_args__ = (UniqueConstraint("patient_id", "sample_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    sample_label: Mapped[str] = mapped_column(String(128))
    collected_at: Mapped[dt.datetime] = mapped_column()
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    value_kind: Mapped[str] = mapped_column(String(16))  # counts | relative
    profile: Mapped[dict[str, Any]] = mapped_column()  # feature id -> value (non-zero only)
    taxonomy: Mapped[dict[str, Any]] = mapped_column(default=dict)  # feature id -> lineage
    panel: Mapped[dict[str, Any]] = mapped_column(default=dict)  # computed gut-health panel


class Intervention(Base):
    __tablename__ = "interventions"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"),
                                            index=True)
    type: Mapped[str] = mapped_column(String(32))  # gutaxis.data.interventions types
    product: Mapped[str] = mapped_column(String(200))  # strain, diet, programme
    dose: Mapped[float | None] = mapped_column(Float, nullable=True)
    dose_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    start: Mapped[dt.date] = mapped_column(Date)
    stop: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A background analysis, queued by the web app and run by ``gutaxis worker``."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # analyze
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0-1
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report_html: Mapped[str | None] = mapped_column(Text, nullable=True)

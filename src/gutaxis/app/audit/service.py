"""Record audit events (in the same transaction as the access they describe) and search them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import AuditEvent
from gutaxis.app.deps import Actor


def record(session: Session, actor: Actor | None, action: str, resource: str, *,
           patient_id: int | None = None, outcome: str = "allowed",
           detail: str | None = None, address: str | None = None,
           username: str | None = None) -> None:
    """Add one audit event to ``session`` (committed with the caller's transaction)."""
    session.add(AuditEvent(
        at=dt.datetime.now(dt.UTC),
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else username,
        role=actor.role if actor else None,
        action=action, resource=resource, patient_id=patient_id, outcome=outcome,
        address=address if address is not None else (actor.address if actor else None),
        detail=detail))


def search(session: Session, *, user: str | None = None, patient_id: int | None = None,
           action: str | None = None, resource: str | None = None,
           outcome: str | None = None, since: dt.datetime | None = None,
           until: dt.datetime | None = None, limit: int = 200,
           offset: int = 0) -> Sequence[AuditEvent]:
    """Audit events matching every filter given, newest first."""
    query = select(AuditEvent)
    if user:
        query = query.where(AuditEvent.username == user)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if resource:
        query = query.where(AuditEvent.resource == resource)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    query = query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()

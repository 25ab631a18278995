"""Record audit events (in the same transaction as the access they describe), search them
and export them as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import AuditEvent
from gutaxis.app.deps import Actor
from gutaxis.errors import InputError

CSV_COLUMNS: tuple[str, ...] = ("id", "at", "user_id", "username", "role", "action",
                                "resource", "patient_id", "outcome", "address", "detail")
# a spreadsheet runs a cell starting with one of these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_BATCH = 500


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


@dataclass(frozen=True)
class AuditFilters:
    """What an audit search keeps: every filter given must match (``until`` is exclusive)."""

    user: str | None = None
    patient_id: int | None = None
    action: str | None = None
    resource: str | None = None
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def described(self) -> str:
        """The filters given, as ``name=value`` pairs (for the export's own audit event)."""
        given = {k: v for k, v in asdict(self).items() if v not in (None, "")}
        return " ".join(f"{k}={v.isoformat() if isinstance(v, dt.datetime) else v}"
                        for k, v in given.items()) or "all"


def utc_time(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """``value`` in UTC for a filter (naive: taken as UTC); a time that leaves the
    calendar when moved to UTC (year 1 or 9999 with an offset) is an :class:`InputError`."""
    try:
        return _utc(value)
    except OverflowError:
        raise InputError("the time is out of range once moved to UTC", field=field,
                         found=value.isoformat() if value else None,
                         expected="a time between the years 1 and 9999 in UTC") from None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in UTC (a naive time is taken as UTC, as the events are stored)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _query(filters: AuditFilters) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if filters.user:
        query = query.where(AuditEvent.username == filters.user)
    if filters.patient_id is not None:
        query = query.where(AuditEvent.patient_id == filters.patient_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.resource:
        query = query.where(AuditEvent.resource == filters.resource)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    since, until = _utc(filters.since), _utc(filters.until)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query


def search(session: Session, *, user: str | None = None, patient_id: int | None = None,
           action: str | None = None, resource: str | None = None,
           outcome: str | None = None, since: dt.datetime | None = None,
           until: dt.datetime | None = None, limit: int = 200,
           offset: int = 0) -> Sequence[AuditEvent]:
    """Audit events matching every filter given, newest first."""
    filters = AuditFilters(user=user, patient_id=patient_id, action=action,
                           resource=resource, outcome=outcome, since=since, until=until)
    return find(session, filters, limit=limit, offset=offset)


def find(session: Session, filters: AuditFilters, *, limit: int = 200,
         offset: int = 0) -> Sequence[AuditEvent]:
    """One page of the events matching ``filters``, newest first."""
    query = _query(filters).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()


def csv_cell(value: object) -> str:
    """One CSV cell: times in ISO 8601 UTC, nothing a spreadsheet would run as a formula."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (_utc(value) or value).isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(read: Callable[[], AbstractContextManager[Session]],
              filters: AuditFilters, *, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """The CSV of every event matching ``filters`` (header first, newest event first),
    read in batches of ``batch`` rows, each batch in its own short read session."""
    yield _csv_row(CSV_COLUMNS)
    before: int | None = None
    while True:
        query = _query(filters)
        if before is not None:
            query = query.where(AuditEvent.id < before)
        with read() as session:
            events = session.scalars(query.order_by(AuditEvent.id.desc()).limit(batch)).all()
            rows = [[csv_cell(getattr(event, column)) for column in CSV_COLUMNS]
                    for event in events]
        if not rows:
            return
        yield "".join(_csv_row(row) for row in rows)
        before = events[-1].id
        if len(rows) < batch:
            return


def _csv_row(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()

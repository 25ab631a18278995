"""``/api/v1/audit``: the admins' search of the audit trail, and its CSV export."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from gutaxis.app.audit import service
from gutaxis.app.audit.service import AuditFilters
from gutaxis.app.auth.fields import DB_INT_MAX, PRINTABLE
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import UtcDatetime

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
_admin = require_roles("admin")
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not logged in"}, 403: {"description": "Not an admin"},
    422: {"description": "A filter is not valid (it is named)"}}
MAX_LIMIT = 1000


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: UtcDatetime
    user_id: int | None
    username: str | None
    role: str | None
    action: str
    resource: str
    patient_id: int | None
    outcome: str
    address: str | None
    detail: str | None


def audit_filters(
        user: str | None = Query(None, max_length=150, pattern=PRINTABLE,
                                 description="Username"),
        patient_id: int | None = Query(None, ge=0, le=DB_INT_MAX, description="Patient id"),
        action: str | None = Query(None, max_length=16, pattern=PRINTABLE,
                                   description="read, write, login, ..."),
        resource: str | None = Query(None, max_length=64, pattern=PRINTABLE,
                                     description="diary, user, ..."),
        outcome: str | None = Query(None, pattern="^(allowed|denied)$"),
        since: dt.datetime | None = Query(None, description="From this time (ISO 8601; "
                                          "without an offset, UTC)"),
        until: dt.datetime | None = Query(None, description="Before this time")
) -> AuditFilters:
    """The search filters of a request's query string."""
    return AuditFilters(user=user or None, patient_id=patient_id, action=action or None,
                        resource=resource or None, outcome=outcome or None,
                        since=service.utc_time(since, "since"),
                        until=service.utc_time(until, "until"))


@router.get("", response_model=list[AuditEventOut], responses=_ERRORS)
def search(filters: AuditFilters = Depends(audit_filters),
           limit: int = Query(200, ge=1, le=MAX_LIMIT),
           offset: int = Query(0, ge=0, le=DB_INT_MAX),
           actor: Actor = Depends(_admin), state: AppState = Depends(get_state)
           ) -> list[AuditEventOut]:
    """Events matching every filter given, newest first, ``limit`` from ``offset``."""
    with state.db.read() as session:
        events = service.find(session, filters, limit=limit, offset=offset)
        return [AuditEventOut.model_validate(e) for e in events]


@router.get("/export.csv", response_class=StreamingResponse, responses={
    **_ERRORS, 200: {"content": {"text/csv": {}}, "description": "CSV, header row first"}})
def export_csv(filters: AuditFilters = Depends(audit_filters), actor: Actor = Depends(_admin),
               state: AppState = Depends(get_state)) -> StreamingResponse:
    """Every event matching the filters as CSV (streamed, newest first); the export is
    itself recorded in the audit trail before the first row is sent."""
    with state.db.write() as session:
        service.record(session, actor, "export", "audit", detail=filters.described())
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        service.csv_lines(state.db.read, filters), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})

"""The admin's pages: ``/admin`` (accounts) and ``/admin/audit`` (the audit trail)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from gutaxis.app.admin import service
from gutaxis.app.audit import service as audit
from gutaxis.app.audit.service import AuditFilters
from gutaxis.app.auth.fields import DB_INT_MAX, has_control, printable
from gutaxis.app.db.models import User
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_admin = require_roles("admin")
PAGE_SIZE = 100
ACTIONS = ("deactivate", "reactivate", "reset", "role")


def _accounts_page(request: Request, state: AppState, actor: Actor, *,
                   message: str | None = None, error: str | None = None,
                   temporary: dict[str, str] | None = None, status: int = 200) -> Response:
    with state.db.read() as session:
        users = service.list_users(session)
    return state.templates.TemplateResponse(
        request, "admin_users.html",
        {"actor": actor, "users": users, "staff_roles": service.STAFF_ROLES,
         "message": message, "error": error, "temporary": temporary},
        status_code=status)


@router.get("/admin", response_class=HTMLResponse)
def accounts(request: Request, actor: Actor = Depends(_admin),
             state: AppState = Depends(get_state)) -> Response:
    return _accounts_page(request, state, actor)


@router.post("/admin/users", response_class=HTMLResponse)
def create_account(request: Request, username: str = Form(..., max_length=150),
                   role: str = Form(..., max_length=16),
                   actor: Actor = Depends(_admin),
                   state: AppState = Depends(get_state)) -> Response:
    """Create a staff account with a temporary password, shown on the page once."""
    try:
        with state.db.write() as session:
            user, password = service.create_staff(session, state, username=username,
                                                  role=role, password=None)
            audit.record(session, actor, "create", "user",
                         detail=f"{user.username} ({user.role})")
            name = user.username
    except InputError as exc:
        return _accounts_page(request, state, actor, error=str(exc), status=422)
    return _accounts_page(request, state, actor, message=f"Account {name} created.",
                          temporary={"username": name, "password": password or ""},
                          status=201)


@router.post("/admin/users/{user_id}", response_class=HTMLResponse)
def change_account(request: Request, user_id: int = Path(ge=1, le=DB_INT_MAX),
                   action: str = Form(..., max_length=16),
                   role: str | None = Form(None, max_length=16), actor: Actor = Depends(_admin),
                   state: AppState = Depends(get_state)) -> Response:
    """Deactivate, reactivate, reset the password of, or change the role of an account."""
    change = _change(action, role)
    if change is None:
        return _accounts_page(request, state, actor, status=422,
                              error=f"unknown action {action!r}; expected one of "
                              f"{', '.join(ACTIONS)}")
    try:
        with state.db.write() as session:
            user = session.get(User, user_id)
            if user is None:
                raise InputError("no such account", field="user", found=user_id)
            service.check_change(session, actor.user_id, user, change)
            password = service.apply_change(session, state, user, change)
            summary = service.change_summary(change)
            audit.record(session, actor, "update", "user", detail=f"{user.username}: {summary}")
            name = user.username
    except InputError as exc:
        return _accounts_page(request, state, actor, error=str(exc), status=422)
    temporary = {"username": name, "password": password} if password else None
    return _accounts_page(request, state, actor, message=f"{name}: {summary}.",
                          temporary=temporary)


def _change(action: str, role: str | None) -> service.AccountChange | None:
    if action == "deactivate":
        return service.AccountChange(is_active=False)
    if action == "reactivate":
        return service.AccountChange(is_active=True)
    if action == "reset":
        return service.AccountChange(reset_password=True)
    if action == "role":
        return service.AccountChange(role=role or "")
    return None


def _time(name: str, text: str | None) -> dt.datetime | None:
    """A time from a date or datetime-local field (UTC), or ``None`` when empty."""
    if not text or not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("not a date or time", field=name, found=text,
                         expected="YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)") from None
    return audit.utc_time(value, name)


def page_filters(query: dict[str, str]) -> AuditFilters:
    """The audit filters of the page's form (empty fields are no filter)."""
    for name in ("user", "action", "resource"):
        if has_control(query.get(name) or ""):
            raise InputError("a filter cannot hold control characters", field=name,
                             found=printable(query.get(name) or ""), expected="plain text")
    patient = (query.get("patient_id") or "").strip()
    if patient and not (patient.isascii() and patient.isdigit()
                        and int(patient) <= DB_INT_MAX):
        raise InputError("a patient id is a whole number", field="patient_id", found=patient,
                         expected="e.g. 12")
    outcome = (query.get("outcome") or "").strip()
    if outcome not in ("", "allowed", "denied"):
        raise InputError("unknown outcome", field="outcome", found=outcome,
                         expected="allowed or denied")
    return AuditFilters(user=(query.get("user") or "").strip() or None,
                        patient_id=int(patient) if patient else None,
                        action=(query.get("action") or "").strip() or None,
                        resource=(query.get("resource") or "").strip() or None,
                        outcome=outcome or None, since=_time("since", query.get("since")),
                        until=_time("until", query.get("until")))


def api_query(filters: AuditFilters) -> dict[str, str]:
    """The filters as the API's query parameters (only those given)."""
    pairs: dict[str, Any] = {"user": filters.user, "patient_id": filters.patient_id,
                             "action": filters.action, "resource": filters.resource,
                             "outcome": filters.outcome, "since": filters.since,
                             "until": filters.until}
    return {k: v.isoformat() if isinstance(v, dt.datetime) else str(v)
            for k, v in pairs.items() if v is not None}


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_trail(request: Request, actor: Actor = Depends(_admin),
                state: AppState = Depends(get_state)) -> Response:
    """Search form, a page of matching events (newest first) and the CSV export link."""
    form = {k: request.query_params.get(k, "") for k in
            ("user", "patient_id", "action", "resource", "outcome", "since", "until")}
    offset_text = request.query_params.get("offset", "0")
    offset = int(offset_text) if offset_text.isascii() and offset_text.isdigit() else 0
    offset = min(offset, DB_INT_MAX)
    error, events, filters = None, [], AuditFilters()
    try:
        filters = page_filters(form)
    except InputError as exc:
        error = str(exc)
    else:
        with state.db.read() as session:
            events = list(audit.find(session, filters, limit=PAGE_SIZE + 1, offset=offset))
    query = api_query(filters)
    more = len(events) > PAGE_SIZE
    page_query = {k: v for k, v in form.items() if v}
    return state.templates.TemplateResponse(
        request, "admin_audit.html",
        {"actor": actor, "form": form, "events": events[:PAGE_SIZE], "error": error,
         "export_url": "/api/v1/audit/export.csv" + ("?" + urlencode(query) if query else ""),
         "newer_url": ("/admin/audit?" + urlencode({**page_query, "offset": max(
             0, offset - PAGE_SIZE)})) if offset > 0 else None,
         "older_url": ("/admin/audit?" + urlencode({**page_query, "offset": offset
                                                    + PAGE_SIZE})) if more else None,
         "offset": offset},
        status_code=422 if error else 200)

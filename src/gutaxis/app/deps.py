"""Who is asking, and may they: the dependencies every route goes through.

A request is authenticated by the session cookie (browsers) or an ``Authorization: Bearer``
token (scripts, from ``POST /api/v1/auth/token``). Cookie-authenticated requests that change
anything must carry the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``); bearer requests cannot be forged by another site and need none.

Roles: ``patient`` (their own record only), ``clinician`` (the clinic's patients),
``researcher`` (de-identified cohort views only) and ``admin`` (accounts and the audit
trail; no clinical data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from sqlalchemy import bindparam, select, update

from gutaxis.app.db.models import AuthSession, User
from gutaxis.app.security.tokens import same, token_hash
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import as_utc

SESSION_COOKIE = "gutaxis_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SEEN_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Actor:
    """The authenticated user of a request."""

    user_id: int
    username: str
    role: str
    patient_id: int | None
    session_hash: str
    csrf_token: str
    address: str | None
    via: str  # cookie | bearer


class NotAuthenticated(Exception):
    """No valid session: the API answers 401, pages redirect to the login page."""


class Denied(Exception):
    """Authenticated but not allowed: 403, recorded in the audit trail."""

    def __init__(self, actor: Actor, resource: str, patient_id: int | None = None,
                 why: str = "not allowed for this role") -> None:
        super().__init__(why)
        self.actor, self.resource, self.patient_id, self.why = actor, resource, patient_id, why


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.gutaxis
    return state


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_actor(request: Request, state: AppState = Depends(get_state)) -> Actor | None:
    """The request's user, or ``None`` (the session is checked, its idle clock moved on)."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    actor = _authenticate(request, state)
    request.state.actor = actor
    return actor


def _authenticate(request: Request, state: AppState) -> Actor | None:
    header = request.headers.get("authorization", "")
    via = "bearer" if header.lower().startswith("bearer ") else "cookie"
    token = header[7:].strip() if via == "bearer" else request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    hashed = token_hash(token)
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=state.settings.idle_minutes)
    with state.db.read_engine.connect() as connection:  # columns, not ORM objects: cheaper
        row = connection.execute(_SESSION_QUERY, {"token_hash": hashed}).first()
    if row is None:
        return None
    if (row.kind != via or not row.is_active or as_utc(row.expires_at) <= now
            or as_utc(row.last_seen_at) + idle <= now):
        return None
    if now - as_utc(row.last_seen_at) > _SEEN_EVERY:
        with state.db.write() as session:
            session.execute(update(AuthSession).where(AuthSession.token_hash == hashed)
                            .values(last_seen_at=now))
    return Actor(user_id=row.user_id, username=row.username, role=row.role,
                 patient_id=row.patient_id, session_hash=hashed, csrf_token=row.csrf_token,
                 address=client_address(request), via=via)


#: The session and its user in one statement, built once (a bound parameter per call).
_SESSION_QUERY = (
    select(AuthSession.kind, AuthSession.csrf_token, AuthSession.expires_at,
           AuthSession.last_seen_at, User.id.label("user_id"), User.username, User.role,
           User.patient_id, User.is_active)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash")))


async def check_csrf(request: Request, actor: Actor) -> None:
    """Refuse a cookie-authenticated change without the session's CSRF token."""
    if request.method in SAFE_METHODS or actor.via == "bearer":
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not same(sent, actor.csrf_token):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")


async def current_actor(request: Request,
                        actor: Actor | None = Depends(optional_actor)) -> Actor:
    """The authenticated user (401 / login redirect without one); CSRF checked on changes."""
    if actor is None:
        raise NotAuthenticated()
    await check_csrf(request, actor)
    return actor


def require_roles(*roles: str) -> Callable[..., object]:
    """A dependency admitting only ``roles`` (others get 403, recorded in the audit trail)."""

    async def dependency(request: Request, actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in roles:
            raise Denied(actor, resource=request.url.path,
                         patient_id=_patient_in_path(request))
        return actor

    dependency.__name__ = f"require_{'_or_'.join(roles)}"
    return dependency


def _patient_in_path(request: Request) -> int | None:
    """The patient id of the URL, for the audit trail of a refusal (None if absent or
    beyond the table's integer)."""
    text = str(request.path_params.get("patient_id", ""))
    return int(text) if text.isdigit() and 0 < int(text) <= 2**31 - 1 else None


def check_patient_access(actor: Actor, patient_id: int, resource: str, *,
                         write: bool = False) -> None:
    """May ``actor`` reach patient ``patient_id``'s ``resource``? Raise :class:`Denied` if not.

    Patients reach their own record only; clinicians every patient of the clinic;
    researchers and admins no identified patient data.
    """
    if actor.role == "clinician":
        return
    if actor.role == "patient" and actor.patient_id == patient_id:
        return
    raise Denied(actor, resource=resource, patient_id=patient_id,
                 why="not this patient's care team" if actor.role != "patient"
                 else "another patient's record")

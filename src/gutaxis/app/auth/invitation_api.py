"""``/api/v1/invitations/{token}``: a patient's invitation link (no login needed)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.audit import service as audit
from gutaxis.app.auth import invitations, service
from gutaxis.app.auth.api import LoggedIn
from gutaxis.app.auth.cookies import set_session_cookie
from gutaxis.app.auth.fields import PRINTABLE
from gutaxis.app.deps import client_address, get_state
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import as_utc

router = APIRouter(prefix="/api/v1/invitations", tags=["auth"])


class InvitationStatus(BaseModel):
    """Whether a link can still be used; nothing about the patient but the clinic's name."""

    valid: bool
    clinic_name: str
    expires_at: dt.datetime | None = None


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=150, pattern=PRINTABLE)
    password: str = Field(min_length=1, max_length=256)


@router.get("/{token}", response_model=InvitationStatus)
def status(token: str, state: AppState = Depends(get_state)) -> InvitationStatus:
    """Is this invitation unused and unexpired?"""
    with state.db.read() as session:
        opened = invitations.open_invitation(session, token)
        expires = opened.expires_at if opened is not None else None
    expires = as_utc(expires) if expires is not None else None
    return InvitationStatus(valid=opened is not None, clinic_name=state.settings.clinic_name,
                            expires_at=expires)


@router.post("/{token}/accept", response_model=LoggedIn, status_code=201, responses={
    422: {"description": "Link used, expired or unknown; username taken; password too short"}})
def accept(token: str, body: Acceptance, request: Request, response: Response,
           state: AppState = Depends(get_state)) -> LoggedIn:
    """Create the patient's account (the link then stops working) and log them in:
    sets the session cookie and returns the CSRF token."""
    opened = accept_and_log_in(state, token, body.username, body.password,
                               client_address(request))
    set_session_cookie(response, state, opened.token)
    return LoggedIn(username=opened.user.username, role=opened.user.role,
                    patient_id=opened.user.patient_id, csrf_token=opened.csrf_token,
                    expires_at=opened.expires_at.isoformat())


def accept_and_log_in(state: AppState, token: str, username: str, password: str,
                      address: str | None) -> service.OpenedSession:
    """Spend the invitation on a new patient account and open its first session, in one
    transaction (audited: the account's creation and the login)."""
    with state.db.write() as session:
        user = invitations.accept_invitation(session, state, token, username=username,
                                             password=password)
        audit.record(session, None, "create", "account", patient_id=user.patient_id,
                     detail="invitation accepted", address=address, username=user.username)
        return service.open_session(session, state, user, kind="cookie", address=address)

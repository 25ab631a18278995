"""``/api/v1/auth``: log in (cookie or bearer token), log out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from gutaxis.app.auth import service
from gutaxis.app.auth.cookies import set_session_cookie
from gutaxis.app.auth.fields import PRINTABLE
from gutaxis.app.deps import SESSION_COOKIE, Actor, client_address, current_actor, get_state
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=150, pattern=PRINTABLE)
    password: str = Field(min_length=1, max_length=256)
    totp: str | None = Field(None, max_length=12, description="TOTP code, when enabled")


class LoggedIn(BaseModel):
    username: str
    role: str
    patient_id: int | None
    csrf_token: str = Field(description="Send as X-CSRF-Token with cookie-authenticated "
                            "changes")
    expires_at: str


class BearerToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str
    role: str
    patient_id: int | None


class Me(BaseModel):
    user_id: int
    username: str
    role: str
    patient_id: int | None
    csrf_token: str


@router.post("/login", response_model=LoggedIn, responses={401: {}, 429: {}})
def login(body: Credentials, request: Request, response: Response,
          state: AppState = Depends(get_state)) -> LoggedIn:
    """Open a browser session: sets the session cookie, returns the CSRF token."""
    opened = service.log_in(state, body.username, body.password, totp=body.totp,
                            address=client_address(request), kind="cookie")
    set_session_cookie(response, state, opened.token)
    return LoggedIn(username=opened.user.username, role=opened.user.role,
                    patient_id=opened.user.patient_id, csrf_token=opened.csrf_token,
                    expires_at=opened.expires_at.isoformat())


@router.post("/token", response_model=BearerToken, responses={401: {}, 429: {}})
def token(body: Credentials, request: Request,
          state: AppState = Depends(get_state)) -> BearerToken:
    """A bearer token for scripts (``Authorization: Bearer TOKEN``)."""
    opened = service.log_in(state, body.username, body.password, totp=body.totp,
                            address=client_address(request), kind="bearer")
    return BearerToken(access_token=opened.token, expires_at=opened.expires_at.isoformat(),
                       role=opened.user.role, patient_id=opened.user.patient_id)


@router.post("/logout", status_code=204, responses={401: {}})
def logout(response: Response, actor: Actor = Depends(current_actor),
           state: AppState = Depends(get_state)) -> Response:
    """End this session (or revoke this bearer token)."""
    service.log_out(state, actor.session_hash)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, responses={401: {}})
def me(actor: Actor = Depends(current_actor)) -> Me:
    return Me(user_id=actor.user_id, username=actor.username, role=actor.role,
              patient_id=actor.patient_id, csrf_token=actor.csrf_token)

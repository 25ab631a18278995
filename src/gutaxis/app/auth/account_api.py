"""``/api/v1/auth/password`` and ``/api/v1/auth/totp/*``: the user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.auth import account
from gutaxis.app.deps import Actor, current_actor, get_state, require_roles
from gutaxis.app.state import AppState

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
_staff = require_roles("clinician", "researcher", "admin")
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not logged in"},
    403: {"description": "Missing CSRF token, or not a staff account (TOTP)"},
    422: {"description": "Refused; the field is named"},
    429: {"description": "Too many wrong passwords; Retry-After says how long to wait"}}


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordChanged(BaseModel):
    other_sessions_ended: int


class TotpSecret(BaseModel):
    secret: str = Field(description="Base32 secret to type into an authenticator app")
    otpauth_uri: str = Field(description="The same as an otpauth:// URI (QR code content)")


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=6, max_length=12)


class TotpOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=12)


class TotpState(BaseModel):
    totp_enabled: bool


@router.post("/password", response_model=PasswordChanged, responses=_ERRORS)
def change_password(body: PasswordChange, actor: Actor = Depends(current_actor),
                    state: AppState = Depends(get_state)) -> PasswordChanged:
    """Change your password (the current one is needed); ends your other sessions and
    bearer tokens, this one stays."""
    ended = account.change_password(state, actor, current=body.current_password,
                                    new=body.new_password)
    return PasswordChanged(other_sessions_ended=ended)


@router.post("/totp/setup", response_model=TotpSecret, responses=_ERRORS)
def totp_setup(actor: Actor = Depends(_staff),
               state: AppState = Depends(get_state)) -> TotpSecret:
    """Make a new TOTP secret (staff). Login asks for codes only after ``/totp/enable``."""
    secret = account.totp_setup(state, actor)
    return TotpSecret(secret=secret, otpauth_uri=account.provisioning_uri(
        secret, actor.username, state.settings.clinic_name))


@router.post("/totp/enable", response_model=TotpState, responses=_ERRORS)
def totp_enable(body: TotpCode, actor: Actor = Depends(_staff),
                state: AppState = Depends(get_state)) -> TotpState:
    """Turn TOTP on with a code from the app that holds the secret set up."""
    account.totp_enable(state, actor, body.code)
    return TotpState(totp_enabled=True)


@router.post("/totp/disable", response_model=TotpState, responses=_ERRORS)
def totp_disable(body: TotpOff, actor: Actor = Depends(_staff),
                 state: AppState = Depends(get_state)) -> TotpState:
    """Turn TOTP off (your password and a current code are needed)."""
    account.totp_disable(state, actor, password=body.password, code=body.code)
    return TotpState(totp_enabled=False)

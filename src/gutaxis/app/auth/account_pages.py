"""``/account``: the user's own account page (password; two-factor codes for staff)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from gutaxis.app.auth import account
from gutaxis.app.auth.service import STAFF_ROLES, TooManyAttempts
from gutaxis.app.db.models import User
from gutaxis.app.deps import Actor, current_actor, get_state, require_roles
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
_staff = require_roles(*STAFF_ROLES)  # two-factor codes are for staff accounts


def _page(request: Request, state: AppState, actor: Actor, *, message: str | None = None,
          error: str | None = None, status: int = 200) -> Response:
    with state.db.read() as session:
        user = session.get(User, actor.user_id)
    totp_on = bool(user and user.totp_enabled)
    pending = user.totp_secret if user and user.totp_secret and not totp_on else None
    return state.templates.TemplateResponse(
        request, "auth_account.html",
        {"actor": actor, "user": user, "is_staff": actor.role in STAFF_ROLES,
         "totp_on": totp_on, "pending_secret": pending,
         "otpauth_uri": account.provisioning_uri(pending, actor.username,
                                                 state.settings.clinic_name)
         if pending else None,
         "message": message, "error": error}, status_code=status)


def _refused(request: Request, state: AppState, actor: Actor, exc: Exception) -> Response:
    status = 429 if isinstance(exc, TooManyAttempts) else 422
    return _page(request, state, actor, error=str(exc), status=status)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, actor: Actor = Depends(current_actor),
                 state: AppState = Depends(get_state)) -> Response:
    return _page(request, state, actor)


@router.post("/account/password", response_class=HTMLResponse)
def password_form(request: Request, current_password: str = Form(...),
                  new_password: str = Form(...), new_password_again: str = Form(...),
                  actor: Actor = Depends(current_actor),
                  state: AppState = Depends(get_state)) -> Response:
    if new_password != new_password_again:
        return _page(request, state, actor, status=422,
                     error="the two new passwords differ; type the same one twice")
    try:
        ended = account.change_password(state, actor, current=current_password,
                                        new=new_password)
    except (InputError, TooManyAttempts) as exc:
        return _refused(request, state, actor, exc)
    return _page(request, state, actor, message="Password changed"
                 + (f"; {ended} other session(s) logged out." if ended else "."))


@router.post("/account/totp/setup", response_class=HTMLResponse)
def totp_setup_form(request: Request, actor: Actor = Depends(_staff),
                    state: AppState = Depends(get_state)) -> Response:
    try:
        account.totp_setup(state, actor)
    except InputError as exc:
        return _refused(request, state, actor, exc)
    return _page(request, state, actor, message="Add the secret to your authenticator app, "
                 "then type the code it shows to turn two-factor codes on.")


@router.post("/account/totp/enable", response_class=HTMLResponse)
def totp_enable_form(request: Request, code: str = Form(...),
                     actor: Actor = Depends(_staff),
                     state: AppState = Depends(get_state)) -> Response:
    try:
        account.totp_enable(state, actor, code)
    except InputError as exc:
        return _refused(request, state, actor, exc)
    return _page(request, state, actor, message="Two-factor codes are on: the login asks "
                 "for a code from now on.")


@router.post("/account/totp/disable", response_class=HTMLResponse)
def totp_disable_form(request: Request, password: str = Form(...), code: str = Form(...),
                      actor: Actor = Depends(_staff),
                      state: AppState = Depends(get_state)) -> Response:
    try:
        account.totp_disable(state, actor, password=password, code=code)
    except (InputError, TooManyAttempts) as exc:
        return _refused(request, state, actor, exc)
    return _page(request, state, actor, message="Two-factor codes are off.")

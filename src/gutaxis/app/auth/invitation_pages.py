"""``/invite/{token}``: the patient opens the link, chooses a username and password, and is
logged in. The form is protected by a double-submit CSRF cookie (no session exists yet)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gutaxis.app.auth import invitations
from gutaxis.app.auth.cookies import set_session_cookie
from gutaxis.app.auth.invitation_api import accept_and_log_in
from gutaxis.app.deps import client_address, get_state
from gutaxis.app.security.passwords import MIN_LENGTH
from gutaxis.app.security.tokens import new_token, same
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

router = APIRouter(include_in_schema=False)
INVITE_CSRF_COOKIE = "gutaxis_invite_csrf"
PATIENT_HOME = "/me/diary"


def _form(request: Request, state: AppState, token: str, *, error: str | None = None,
          username: str = "", status: int = 200) -> Response:
    with state.db.read() as session:
        valid = invitations.open_invitation(session, token) is not None
    csrf = new_token()
    response = state.templates.TemplateResponse(
        request, "auth_invite.html",
        {"actor": None, "valid": valid, "csrf_token": csrf, "error": error,
         "username": username, "min_length": MIN_LENGTH},
        status_code=status if valid else 404)
    if valid:
        response.set_cookie(INVITE_CSRF_COOKIE, csrf, httponly=True,
                            secure=state.settings.cookie_secure, samesite="strict",
                            path="/invite")
    return response


@router.get("/invite/{token}", response_class=HTMLResponse)
def invite_page(request: Request, token: str,
                state: AppState = Depends(get_state)) -> Response:
    return _form(request, state, token)


@router.post("/invite/{token}", response_class=HTMLResponse)
def invite_submit(request: Request, token: str, username: str = Form(..., max_length=150),
                  password: str = Form(..., max_length=256),
                  password_again: str = Form(..., max_length=256),
                  csrf_token: str = Form(..., max_length=128),
                  state: AppState = Depends(get_state)) -> Response:
    cookie = request.cookies.get(INVITE_CSRF_COOKIE, "")
    if not cookie or not same(cookie, csrf_token):
        return _form(request, state, token, username=username, status=400,
                     error="The form expired; please fill it in again.")
    if password != password_again:
        return _form(request, state, token, username=username, status=422,
                     error="The two passwords differ; type the same one twice.")
    try:
        opened = accept_and_log_in(state, token, username, password, client_address(request))
    except InputError as exc:
        return _form(request, state, token, username=username, status=422,
                     error=str(exc)[:1].upper() + str(exc)[1:])
    response = RedirectResponse(PATIENT_HOME, status_code=303)
    set_session_cookie(response, state, opened.token)
    response.delete_cookie(INVITE_CSRF_COOKIE, path="/invite")
    return response

"""The login page, logging out, and the home page that sends each role to its place."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gutaxis.app.auth import service
from gutaxis.app.auth.cookies import LOGIN_CSRF_COOKIE, set_session_cookie
from gutaxis.app.deps import (
    SESSION_COOKIE,
    Actor,
    client_address,
    current_actor,
    get_state,
    optional_actor,
)
from gutaxis.app.security.tokens import new_token, same
from gutaxis.app.state import AppState

router = APIRouter(include_in_schema=False)

HOME = {"patient": "/me/diary", "clinician": "/clinic/patients", "researcher": "/research",
        "admin": "/admin"}


@router.get("/")
def home(actor: Actor | None = Depends(optional_actor)) -> Response:
    return RedirectResponse(HOME[actor.role] if actor else "/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, state: AppState = Depends(get_state),
               actor: Actor | None = Depends(optional_actor)) -> Response:
    if actor is not None:
        return RedirectResponse(HOME[actor.role], status_code=303)
    return _login_form(request, state)


def _login_form(request: Request, state: AppState, *, error: str | None = None,
                username: str = "", needs_totp: bool = False, status: int = 200) -> Response:
    csrf = new_token()
    response = state.templates.TemplateResponse(
        request, "login.html", {"csrf_token": csrf, "error": error, "username": username,
                                "needs_totp": needs_totp, "actor": None},
        status_code=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True,
                        secure=state.settings.cookie_secure, samesite="strict", path="/login")
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, username: str = Form(..., max_length=150),
                 password: str = Form(..., max_length=256),
                 csrf_token: str = Form(..., max_length=128),
                 totp: str | None = Form(None, max_length=12),
                 state: AppState = Depends(get_state)) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not same(cookie, csrf_token):
        return _login_form(request, state, error="The form expired; please log in again.",
                           username=username, status=400)
    try:
        opened = service.log_in(state, username, password, totp=totp,
                                address=client_address(request), kind="cookie")
    except service.TooManyAttempts as exc:
        return _login_form(request, state, error=_sentence(str(exc)),
                           username=username, status=429)
    except service.LoginRefused as exc:
        return _login_form(request, state, error=_sentence(str(exc)),
                           username=username, needs_totp=exc.needs_totp, status=401)
    response = RedirectResponse(HOME[opened.user.role], status_code=303)
    set_session_cookie(response, state, opened.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _sentence(text: str) -> str:
    """``text`` as a sentence: first letter up, the rest as written (``TOTP`` stays)."""
    return text[:1].upper() + text[1:] + "."


@router.post("/logout")
def logout_submit(actor: Actor = Depends(current_actor),
                  state: AppState = Depends(get_state)) -> Response:
    service.log_out(state, actor.session_hash)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

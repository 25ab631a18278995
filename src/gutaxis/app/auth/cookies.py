"""The session cookie and the login form's double-submit CSRF cookie."""

from __future__ import annotations

from fastapi import Response

from gutaxis.app.deps import SESSION_COOKIE
from gutaxis.app.state import AppState

LOGIN_CSRF_COOKIE = "gutaxis_login_csrf"


def set_session_cookie(response: Response, state: AppState, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True,
                        secure=state.settings.cookie_secure, samesite="lax", path="/",
                        max_age=int(state.settings.session_hours * 3600))

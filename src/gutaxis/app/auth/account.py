"""A user's own account: change the password, and (staff) turn TOTP on or off.

A wrong current password counts as a failed login of the account (the login rate limit
covers it, so a stolen session cannot be used to guess the password), and past the limit
every attempt is refused. Changing the password ends the user's other sessions and bearer
tokens. TOTP (RFC 6238, 30 s, 6 digits) is set up in two steps: ``setup`` stores a new
secret (not yet required at login), ``enable`` turns it on once the user proves their
authenticator app has it; ``disable`` needs the password and a current code.
"""

from __future__ import annotations

import datetime as dt

import pyotp
from sqlalchemy import func, select

from gutaxis.app.audit import service as audit
from gutaxis.app.auth.fields import is_code
from gutaxis.app.auth.service import STAFF_ROLES, TooManyAttempts, end_sessions
from gutaxis.app.db.models import LoginAttempt, User
from gutaxis.app.deps import Actor
from gutaxis.app.security.passwords import password_problem
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

ISSUER = "gutaxis"


def _user(state: AppState, actor: Actor) -> User:
    with state.db.read() as session:
        user = session.get(User, actor.user_id)
    if user is None:  # deleted while the request ran
        raise InputError("this account no longer exists", field="user", found=actor.username)
    return user


def check_password(state: AppState, actor: Actor, password: str, *, field: str) -> User:
    """The actor's account if ``password`` is theirs; otherwise the failure is counted as a
    failed login (and audited) and :class:`InputError` names ``field``."""
    settings = state.settings
    now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    with state.db.read() as session:
        failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.username == actor.username, LoginAttempt.at >= now - window,
            LoginAttempt.succeeded.is_(False))) or 0
    if failures >= settings.login_attempts:
        raise TooManyAttempts(int(window.total_seconds()))
    user = _user(state, actor)
    if state.passwords.verify(user.password_hash, password):
        return user
    with state.db.write() as session:  # committed before the refusal is raised
        session.add(LoginAttempt(username=actor.username, address=actor.address or "",
                                 at=now, succeeded=False))
        audit.record(session, actor, "verify", "password", outcome="denied",
                     detail=f"wrong {field}")
    raise InputError("the password is not right", field=field,
                     expected="your current password")


def change_password(state: AppState, actor: Actor, *, current: str, new: str) -> int:
    """Set a new password; ends the user's other sessions (returns how many ended)."""
    user = check_password(state, actor, current, field="current_password")
    problem = password_problem(new, username=user.username)
    if problem:
        raise InputError(problem, field="new_password", expected="a longer password")
    if new == current:
        raise InputError("the new password is the current one", field="new_password",
                         expected="a different password")
    new_hash = state.passwords.hash(new)
    with state.db.write() as session:
        db_user = session.get(User, actor.user_id)
        assert db_user is not None
        db_user.password_hash = new_hash
        ended = end_sessions(session, actor.user_id, keep=actor.session_hash)
        audit.record(session, actor, "update", "password",
                     detail=f"changed; {ended} other session(s) ended")
    return ended


def _staff_only(actor: Actor) -> None:
    if actor.role not in STAFF_ROLES:
        raise InputError("two-factor codes are for staff accounts", field="role",
                         found=actor.role, expected="clinician, researcher or admin")


def _code_ok(secret: str | None, code: str) -> bool:
    code = code.strip().replace(" ", "")
    return bool(secret) and is_code(code) and pyotp.TOTP(secret or "").verify(
        code, valid_window=1)


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (as text or a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def totp_setup(state: AppState, actor: Actor) -> str:
    """Store a new TOTP secret (not yet needed at login) and return it."""
    _staff_only(actor)
    user = _user(state, actor)
    if user.totp_enabled:
        raise InputError("two-factor codes are already on", field="totp",
                         expected="turn them off first to set up a new secret")
    secret = pyotp.random_base32()
    with state.db.write() as session:
        db_user = session.get(User, actor.user_id)
        assert db_user is not None
        db_user.totp_secret = secret
        audit.record(session, actor, "update", "totp", detail="new secret set up")
    return secret


def totp_enable(state: AppState, actor: Actor, code: str) -> None:
    """Turn TOTP on once ``code`` matches the secret set up."""
    _staff_only(actor)
    user = _user(state, actor)
    if user.totp_enabled:
        raise InputError("two-factor codes are already on", field="totp")
    if not user.totp_secret:
        raise InputError("set up a secret first", field="code",
                         expected="POST /api/v1/auth/totp/setup before enabling")
    if not _code_ok(user.totp_secret, code):
        raise InputError("the code does not match", field="code", found=code,
                         expected="the 6-digit code your authenticator app shows now")
    with state.db.write() as session:
        db_user = session.get(User, actor.user_id)
        assert db_user is not None
        db_user.totp_enabled = True
        audit.record(session, actor, "update", "totp", detail="enabled")


def totp_disable(state: AppState, actor: Actor, *, password: str, code: str) -> None:
    """Turn TOTP off (needs the password and a current code); the secret is deleted."""
    _staff_only(actor)
    user = check_password(state, actor, password, field="password")
    if not user.totp_enabled:
        raise InputError("two-factor codes are not on", field="totp")
    if not _code_ok(user.totp_secret, code):
        raise InputError("the code does not match", field="code", found=code,
                         expected="the 6-digit code your authenticator app shows now")
    with state.db.write() as session:
        db_user = session.get(User, actor.user_id)
        assert db_user is not None
        db_user.totp_enabled = False
        db_user.totp_secret = None
        audit.record(session, actor, "update", "totp", detail="disabled")

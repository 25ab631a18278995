"""Log in (with the rate limit and optional TOTP), open and close sessions, create users."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyotp
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from gutaxis.app.audit import service as audit
from gutaxis.app.auth.fields import has_control, is_code, printable
from gutaxis.app.db.models import ROLES, AuthSession, LoginAttempt, User
from gutaxis.app.security.passwords import password_problem
from gutaxis.app.security.tokens import new_token, token_hash
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

STAFF_ROLES: tuple[str, ...] = ("clinician", "researcher", "admin")


class LoginRefused(Exception):
    """Wrong credentials (the message never says which part was wrong)."""

    def __init__(self, message: str = "wrong username or password", *,
                 needs_totp: bool = False) -> None:
        super().__init__(message)
        self.needs_totp = needs_totp


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class OpenedSession:
    token: str
    csrf_token: str
    expires_at: dt.datetime
    user: User


def log_in(state: AppState, username: str, password: str, *, totp: str | None = None,
           address: str | None, kind: str = "cookie") -> OpenedSession:
    """Check the credentials and open a session (``kind`` cookie or bearer).

    Failed attempts are counted per account and per address over the login window; past
    the limit every attempt is refused with the seconds to wait, whether or not the
    password is right. Every attempt is in the audit trail.
    """
    settings = state.settings
    now = dt.datetime.now(dt.UTC)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    username = printable(username.strip())[:150]  # recorded as sent, never a NUL
    with state.db.read() as session:
        failures_user = _failures(session, LoginAttempt.username == username, now - window)
        failures_addr = _failures(session, LoginAttempt.address == (address or ""),
                                  now - window)
        user = (None if "\ufffd" in username
                else session.scalar(select(User).where(User.username == username)))
    if (failures_user >= settings.login_attempts
            or failures_addr >= 4 * settings.login_attempts):
        with state.db.write() as session:
            audit.record(session, None, "login", "session", outcome="denied",
                         detail="rate limited", address=address, username=username)
        raise TooManyAttempts(int(window.total_seconds()))
    ok = state.passwords.verify(user.password_hash if user else None, password)
    ok = ok and user is not None and user.is_active
    needs_totp = bool(ok and user is not None and user.totp_enabled)
    if needs_totp and user is not None:
        code = (totp or "").strip().replace(" ", "")
        ok = is_code(code) and pyotp.TOTP(user.totp_secret or "").verify(code, valid_window=1)
    if not ok or user is None:
        with state.db.write() as session:  # committed before the refusal is raised
            session.add(LoginAttempt(username=username, address=address or "", at=now,
                                     succeeded=False))
            audit.record(session, None, "login", "session", outcome="denied",
                         detail="wrong credentials" if not needs_totp else "TOTP code",
                         address=address, username=username)
        raise LoginRefused("a TOTP code is needed" if needs_totp and not totp else
                           "wrong username or password", needs_totp=needs_totp)
    with state.db.write() as session:
        db_user = session.get(User, user.id)
        assert db_user is not None
        if state.passwords.needs_rehash(db_user.password_hash):
            db_user.password_hash = state.passwords.hash(password)
        opened = open_session(session, state, db_user, kind=kind, address=address)
    return opened


def open_session(session: Session, state: AppState, user: User, *, kind: str,
                 address: str | None) -> OpenedSession:
    """A new session of ``user`` whose credentials were just checked (a login, or a patient
    who has just chosen their password): recorded as a successful login and audited."""
    now = dt.datetime.now(dt.UTC)
    session.add(LoginAttempt(username=user.username, address=address or "", at=now,
                             succeeded=True))
    token, csrf = new_token(), new_token()
    expires = now + dt.timedelta(hours=state.settings.session_hours)
    session.add(AuthSession(token_hash=token_hash(token), user_id=user.id, csrf_token=csrf,
                            kind=kind, created_at=now, expires_at=expires, last_seen_at=now))
    user.last_login_at = now
    session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    audit.record(session, None, "login", "session", detail=kind, address=address,
                 username=user.username)
    session.flush()
    return OpenedSession(token=token, csrf_token=csrf, expires_at=expires, user=user)


def _failures(session: Session, who: ColumnElement[bool], since: dt.datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        who, LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False))) or 0


def log_out(state: AppState, session_hash: str) -> None:
    with state.db.write() as session:
        session.execute(delete(AuthSession).where(AuthSession.token_hash == session_hash))


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session (and bearer token) of the user but ``keep``; returns how many."""
    query = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.token_hash != keep)
    return int(getattr(session.execute(query), "rowcount", 0) or 0)


def create_user(session: Session, state: AppState, *, username: str, password: str, role: str,
                patient_id: int | None = None) -> User:
    """A new account; the username must be free and the password long enough."""
    username = username.strip()
    if role not in ROLES:
        raise InputError("unknown role", field="role", found=role,
                         expected=f"one of {', '.join(ROLES)}")
    if not username or len(username) > 150:
        raise InputError("a username is needed", field="username", found=username,
                         expected="1 to 150 characters")
    if has_control(username) or "\ufffd" in username:
        raise InputError("a username cannot hold control characters", field="username",
                         found=printable(username), expected="letters, digits, ., _, -")
    problem = password_problem(password, username=username)
    if problem:
        raise InputError(problem, field="password", expected="a longer password")
    if (role == "patient") != (patient_id is not None):
        raise InputError("a patient account belongs to one patient record", field="role",
                         found=role, expected="patient with a patient record, or staff")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError("username already taken", field="username", found=username,
                         expected="a new username")
    user = User(username=username, password_hash=state.passwords.hash(password), role=role,
                patient_id=patient_id)
    session.add(user)
    session.flush()
    return user

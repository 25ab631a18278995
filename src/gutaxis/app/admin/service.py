"""The rules of account administration.

Staff accounts (clinician, researcher, admin) are made by an admin; patient accounts only
come from invitations. An admin may deactivate or reactivate any account, move a staff
account to another staff role and reset a password (a temporary one, shown once). An admin
never deactivates, demotes or resets themself (their own password changes in /account,
with the current one), and the clinic always keeps one active admin.
Deactivating an account or resetting its password ends every session of that account.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.auth.service import STAFF_ROLES, create_user, end_sessions
from gutaxis.app.db.models import User
from gutaxis.app.state import AppState
from gutaxis.errors import InputError

TEMPORARY_PASSWORD_BYTES = 12  # 16 URL-safe characters, 96 random bits


def temporary_password() -> str:
    """A random password for a new account or a reset (the user changes it in /account)."""
    return secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)


def list_users(session: Session, *, role: str | None = None) -> Sequence[User]:
    """Every account (or those of ``role``), by username."""
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    return session.scalars(query).all()


def create_staff(session: Session, state: AppState, *, username: str, role: str,
                 password: str | None) -> tuple[User, str | None]:
    """A new staff account; without ``password`` a temporary one is made and returned."""
    if role not in STAFF_ROLES:
        raise InputError("an admin creates staff accounts only (patients come by invitation)",
                         field="role", found=role, expected=f"one of {', '.join(STAFF_ROLES)}")
    made = temporary_password() if password is None else None
    user = create_user(session, state, username=username, password=password or made or "",
                       role=role)
    return user, made


@dataclass(frozen=True)
class AccountChange:
    """What an admin changes on one account (``None``: leave as is)."""

    is_active: bool | None = None
    role: str | None = None
    reset_password: bool = False


def check_change(session: Session, admin_id: int, user: User, change: AccountChange) -> None:
    """Raise :class:`InputError` when ``change`` breaks a rule (nothing is changed here)."""
    if change.role is not None and change.role != user.role:
        if user.role not in STAFF_ROLES or change.role not in STAFF_ROLES:
            raise InputError("roles change among staff only", field="role", found=change.role,
                             expected=f"one of {', '.join(STAFF_ROLES)} for a staff account")
        if user.id == admin_id:
            raise InputError("an admin cannot change their own role", field="role",
                             found=change.role, expected="another admin to do it")
    if change.reset_password and user.id == admin_id:
        raise InputError("an admin changes their own password on their account page",
                         field="reset_password", found=True,
                         expected="/account (the current password is asked for)")
    losing_admin = user.role == "admin" and user.is_active and (
        change.is_active is False or (change.role not in (None, "admin")))
    if change.is_active is False and user.id == admin_id:
        raise InputError("an admin cannot deactivate themself", field="is_active",
                         found=False, expected="another admin to do it")
    if losing_admin and _active_admins(session) <= 1:
        raise InputError("this is the last active admin", field="is_active"
                         if change.is_active is False else "role", found=user.username,
                         expected="another active admin first")


def apply_change(session: Session, state: AppState, user: User,
                 change: AccountChange) -> str | None:
    """Apply a checked ``change``; returns the temporary password of a reset."""
    ends_sessions = False
    if change.is_active is not None and change.is_active != user.is_active:
        user.is_active = change.is_active
        ends_sessions = not change.is_active
    if change.role is not None:
        user.role = change.role
        ends_sessions = True  # the sessions' rights followed the old role
    made = None
    if change.reset_password:
        made = temporary_password()
        user.password_hash = state.passwords.hash(made)
        ends_sessions = True
    if ends_sessions:
        end_sessions(session, user.id)
    session.flush()
    return made


def _active_admins(session: Session) -> int:
    """How many active admins there are; their rows stay locked to the end of the
    transaction on PostgreSQL, so two admins cannot remove each other at the same time."""
    return len(session.scalars(select(User.id).where(
        User.role == "admin", User.is_active.is_(True)).with_for_update()).all())


def change_summary(change: AccountChange) -> str:
    """The change in words, for the audit trail (never a password)."""
    parts = []
    if change.is_active is not None:
        parts.append("reactivated" if change.is_active else "deactivated")
    if change.role is not None:
        parts.append(f"role={change.role}")
    if change.reset_password:
        parts.append("password reset")
    return ", ".join(parts) or "no change"

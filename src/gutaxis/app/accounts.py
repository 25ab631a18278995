"""Accounts from the command line: the first admin, and whether one exists."""

from __future__ import annotations

from sqlalchemy import func, select

from gutaxis.app.auth.service import create_user
from gutaxis.app.db.models import User
from gutaxis.app.settings import Settings
from gutaxis.app.state import AppState


def has_admin(state: AppState) -> bool:
    with state.db.read() as session:
        count = session.scalar(select(func.count()).select_from(User)
                               .where(User.role == "admin", User.is_active.is_(True)))
    return bool(count)


def create_admin(settings: Settings, username: str, password: str) -> None:
    """Create an admin account (the username must be free, the password long enough)."""
    state = AppState.from_settings(settings)
    try:
        with state.db.write() as session:
            create_user(session, state, username=username, password=password, role="admin")
    finally:
        state.db.dispose()

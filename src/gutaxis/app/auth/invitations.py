"""Invitation links: a clinician invites a patient, who sets a username and password once.

The link carries a random token; the database keeps only its SHA-256. A link works once, and
for ``Settings.invitation_days``; a new invitation does not revoke an older unused one
(each expires on its own).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gutaxis.app.auth.service import create_user
from gutaxis.app.db.models import Invitation, User
from gutaxis.app.security.tokens import new_token, token_hash
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import as_utc
from gutaxis.errors import InputError


def create_invitation(session: Session, state: AppState, patient_id: int,
                      created_by: int) -> str:
    """A new invitation for the patient; returns the raw token (the link is /invite/TOKEN)."""
    if session.scalar(select(User.id).where(User.patient_id == patient_id)) is not None:
        raise InputError("this patient already has an account", field="patient_id",
                         found=patient_id, expected="a patient without an account")
    token = new_token()
    now = dt.datetime.now(dt.UTC)
    session.add(Invitation(token_hash=token_hash(token), patient_id=patient_id,
                           created_by=created_by, created_at=now,
                           expires_at=now + dt.timedelta(days=state.settings.invitation_days)))
    session.flush()
    return token


def open_invitation(session: Session, token: str) -> Invitation | None:
    """The unused, unexpired invitation of ``token``, or ``None``."""
    invitation = session.get(Invitation, token_hash(token))
    if invitation is None or invitation.used_at is not None:
        return None
    return invitation if as_utc(invitation.expires_at) > dt.datetime.now(dt.UTC) else None


def accept_invitation(session: Session, state: AppState, token: str, *, username: str,
                      password: str) -> User:
    """Create the patient's account from the invitation and spend it (the spending is a
    conditional UPDATE, so two requests racing for one link cannot both succeed)."""
    invitation = open_invitation(session, token)
    if invitation is None:
        raise InputError("this invitation link is not valid (used, expired or unknown)",
                         field="token", expected="a link from your clinic, used once")
    if session.scalar(select(User.id).where(User.patient_id == invitation.patient_id)):
        raise InputError("this patient already has an account (from another invitation)",
                         field="token", expected="log in with that account")
    spent = session.execute(
        update(Invitation).where(Invitation.token_hash == invitation.token_hash,
                                 Invitation.used_at.is_(None))
        .values(used_at=dt.datetime.now(dt.UTC)))
    if getattr(spent, "rowcount", 0) != 1:  # accepted by a concurrent request first
        raise InputError("this invitation link has just been used", field="token",
                         expected="a link from your clinic, used once")
    return create_user(session, state, username=username, password=password, role="patient",
                       patient_id=invitation.patient_id)

"""``/api/v1/users``: the admin's account management (JSON)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from gutaxis.app.admin import service
from gutaxis.app.audit import service as audit
from gutaxis.app.auth.fields import DB_INT_MAX, PRINTABLE
from gutaxis.app.db.models import User
from gutaxis.app.deps import Actor, get_state, require_roles
from gutaxis.app.state import AppState
from gutaxis.app.timestamps import UtcDatetime

router = APIRouter(prefix="/api/v1/users", tags=["admin"])
_admin = require_roles("admin")
_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Not logged in"}, 403: {"description": "Not an admin"},
    422: {"description": "Input breaks a rule (the field is named)"}}

StaffRole = Literal["clinician", "researcher", "admin"]


class UserOut(BaseModel):
    """An account as the admin sees it (never its password hash or TOTP secret)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: str
    patient_id: int | None
    is_active: bool
    totp_enabled: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None


class UserMade(UserOut):
    temporary_password: str | None = Field(
        None, description="The generated password, shown this once (when none was given, or "
        "on a reset); the user should change it in /account.")


class NewStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=150, pattern=PRINTABLE)
    role: StaffRole
    password: str | None = Field(None, max_length=256, description="Omit to generate a "
                                 "temporary password")


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool | None = Field(None, description="false deactivates (and ends the "
                                   "account's sessions), true reactivates")
    role: StaffRole | None = Field(None, description="Another staff role (staff accounts)")
    reset_password: bool = Field(False, description="Set a temporary password (returned "
                                 "once) and end the account's sessions")


def made(user: User, password: str | None) -> UserMade:
    return UserMade.model_validate({**UserOut.model_validate(user).model_dump(),
                                    "temporary_password": password})


@router.get("", response_model=list[UserOut], responses=_ERRORS)
def list_users(role: str | None = Query(None, max_length=16, pattern=PRINTABLE,
                                        description="Only this role"),
               actor: Actor = Depends(_admin), state: AppState = Depends(get_state)
               ) -> list[UserOut]:
    """Every account, by username."""
    with state.db.read() as session:
        return [UserOut.model_validate(u) for u in service.list_users(session, role=role)]


@router.post("", response_model=UserMade, status_code=201, responses=_ERRORS)
def create_staff(body: NewStaff, actor: Actor = Depends(_admin),
                 state: AppState = Depends(get_state)) -> UserMade:
    """Create a clinician, researcher or admin account (patients come by invitation)."""
    with state.db.write() as session:
        user, password = service.create_staff(session, state, username=body.username,
                                              role=body.role, password=body.password)
        audit.record(session, actor, "create", "user", detail=f"{user.username} ({user.role})")
        return made(user, password)


@router.patch("/{user_id}", response_model=UserMade,
              responses={**_ERRORS, 404: {"description": "No such account"}})
def change_user(body: UserChange, user_id: int = Path(ge=1, le=DB_INT_MAX),
                actor: Actor = Depends(_admin), state: AppState = Depends(get_state)) -> UserMade:
    """Deactivate or reactivate an account, change a staff role, or reset its password."""
    change = service.AccountChange(is_active=body.is_active, role=body.role,
                                   reset_password=body.reset_password)
    with state.db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail=f"no user {user_id}")
        service.check_change(session, actor.user_id, user, change)
        password = service.apply_change(session, state, user, change)
        audit.record(session, actor, "update", "user",
                     detail=f"{user.username}: {service.change_summary(change)}")
        return made(user, password)

"""``GET /api/v1/health``: is the app up, which database, which schema revision."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from gutaxis.app.db.migrate import current_revision
from gutaxis.app.deps import get_state
from gutaxis.app.state import AppState
from gutaxis.version import package_version

router = APIRouter(prefix="/api/v1", tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    revision: str | None


@router.get("/health", response_model=Health)
def health(state: AppState = Depends(get_state)) -> Health:
    return Health(status="ok", version=package_version(),
                  database="sqlite" if state.db.is_sqlite else "postgresql",
                  revision=current_revision(state.db.read_engine))

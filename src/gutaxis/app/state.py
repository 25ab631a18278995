"""What a running app holds: settings, database, password hasher, secret, templates.

Made by :func:`gutaxis.app.main.build_app` and kept on ``app.state.gutaxis``; routes reach
it through :func:`gutaxis.app.deps.get_state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates

from gutaxis.app.db.engine import Database
from gutaxis.app.security.passwords import Passwords
from gutaxis.app.settings import Settings

WEB = Path(__file__).parent / "web"


@dataclass
class AppState:
    settings: Settings
    db: Database
    passwords: Passwords
    secret: str
    templates: Jinja2Templates

    @classmethod
    def from_settings(cls, settings: Settings) -> AppState:
        templates = Jinja2Templates(directory=str(WEB / "templates"))
        templates.env.globals["clinic_name"] = settings.clinic_name
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url(), pool_size=settings.pool_size),
            passwords=Passwords(time_cost=settings.argon2_time_cost,
                                memory_kib=settings.argon2_memory_kib),
            secret=settings.resolved_secret_key(),
            templates=templates,
        )

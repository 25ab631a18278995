"""Settings of the clinic app, from the environment (``GUTAXIS_*``) or given in code.

Embedded default: an SQLite file in ``GUTAXIS_DATA_DIR`` (``./gutaxis-clinic``). The
secret key signs nothing that outlives a restart unless it is kept: when
``GUTAXIS_SECRET_KEY`` is unset, a random key is generated on first run and stored in
``DATA_DIR/secret_key`` (mode 0600), never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the app reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GUTAXIS_", extra="ignore")

    data_dir: Path = Field(Path("gutaxis-clinic"), description="Folder of the SQLite database, "
                           "the generated secret key and the analysis outputs.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default "
                                     "sqlite:///DATA_DIR/gutaxis.db. postgresql://... for "
                                     "PostgreSQL (psycopg 3).")
    secret_key: SecretStr | None = Field(None, description="Key of CSRF and invitation "
                                         "tokens; generated and kept in DATA_DIR when unset.")
    cookie_secure: bool = Field(True, description="Send the session cookie over HTTPS only "
                                "(browsers treat http://localhost as secure).")
    session_hours: float = Field(12.0, gt=0, description="A session ends after this many hours.")
    idle_minutes: float = Field(60.0, gt=0, description="... or after this many idle minutes.")
    login_attempts: int = Field(5, ge=1, description="Failed logins allowed per account "
                                "(and 4x that per address) in the login window.")
    login_window_minutes: float = Field(15.0, gt=0)
    invitation_days: float = Field(7.0, gt=0, description="An invitation link works this long.")
    clinic_name: str = Field("gutaxis clinic", description="Shown in the pages' header.")
    argon2_time_cost: int = Field(3, ge=1, description="Argon2id passes (RFC 9106: 3 with 64 MiB "
                                  "is the second recommended option).")
    argon2_memory_kib: int = Field(65536, ge=8, description="Argon2id memory in KiB.")
    pool_size: int = Field(20, ge=1, description="PostgreSQL connection pool size.")

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data folder;
        ``postgresql://`` is given the psycopg 3 driver."""
        url = self.database_url
        if not url:
            return f"sqlite:///{(self.data_dir / 'gutaxis.db').resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        if not url.startswith(("sqlite:///", "postgresql+psycopg://")):
            from gutaxis.errors import InputError

            raise InputError("unsupported database", field="database_url",
                             found=url.split("://", 1)[0] + "://...",
                             expected="sqlite:///PATH or postgresql://USER@HOST/DB")
        return url

    def resolved_secret_key(self) -> str:
        """The secret key: from the settings, else the one kept in DATA_DIR (made once)."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        tmp = path.with_name(f".secret_key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        try:
            os.link(tmp, path)  # first writer wins when two processes start together
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_text().strip()

"""The real clinic server for the browser tests: ``gutaxis serve`` in a subprocess on a free
port of 127.0.0.1, on SQLite (a file in a temporary data folder) or on a fresh PostgreSQL
database, with the people of the scenarios already in it.

The admin account is made the way an operator makes it (``gutaxis users create-admin
--password-stdin``); the two patients (with their records and identities), the clinician and
the researcher are made with the app's own services on the same database. Argon2 is cheap
(``GUTAXIS_ARGON2_TIME_COST=1``, ``GUTAXIS_ARGON2_MEMORY_KIB=8``): the production cost is
tested in tests/app.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
POSTGRES_ADMIN_URL = os.environ.get("GUTAXIS_TEST_POSTGRES",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")
#: Seconds the server may take to answer /api/v1/health after it was started.
START_TIMEOUT = 60.0

#: The people of the scenarios: username -> (role, full name of their patient record).
PATIENT_A, PATIENT_B = "Ada Alpha", "Ben Beta"
ACCOUNTS = {"adm": ("admin", None), "pat_a": ("patient", PATIENT_A),
            "pat_b": ("patient", PATIENT_B), "doc": ("clinician", None),
            "res": ("researcher", None)}


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server answers at :data:`POSTGRES_ADMIN_URL`."""


def _psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (its ``postgresql://`` URL), dropped at the end."""
    from sqlalchemy import create_engine, text

    admin = create_engine(_psycopg_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        admin.dispose()
        raise PostgresUnavailableError(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: "
                                  f"{type(exc).__name__}") from None
    name = f"gutaxis_browser_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def gutaxis_command(*args: str) -> list[str]:
    """The command line of ``gutaxis ARGS`` with this interpreter (so the tree under test
    is the one on its ``PYTHONPATH``, as in the test process)."""
    return [sys.executable, "-c", "from gutaxis.cli.main import run; run()", *args]


@dataclass
class ClinicServer:
    """A running ``gutaxis serve`` and what the scenarios need to know about its data."""

    backend: str
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    patients: dict[str, int] = field(default_factory=dict)  # username -> patient id

    def url(self, path: str) -> str:
        return self.base_url + path

    @contextmanager
    def bearer(self, username: str) -> Iterator[httpx.Client]:
        """An HTTP client logged in as ``username`` with a bearer token (as a script is)."""
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            answer = client.post("/api/v1/auth/token",
                                 json={"username": username, "password": PASSWORD})
            answer.raise_for_status()
            client.headers["Authorization"] = "Bearer " + answer.json()["access_token"]
            yield client

    def denials(self, username: str) -> list[dict[str, Any]]:
        """The audit trail's denied events of ``username``, read from the database itself."""
        from sqlalchemy import create_engine, select

        from gutaxis.app.db.models import AuditEvent
        from gutaxis.app.settings import Settings

        settings = Settings(data_dir=Path(self.env["GUTAXIS_DATA_DIR"]),
                            database_url=self.env.get("GUTAXIS_DATABASE_URL"))
        engine = create_engine(settings.resolved_database_url())
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(AuditEvent.resource, AuditEvent.patient_id, AuditEvent.action)
                    .where(AuditEvent.username == username, AuditEvent.outcome == "denied")
                    .order_by(AuditEvent.id)).all()
        finally:
            engine.dispose()
        return [{"resource": r.resource, "patient_id": r.patient_id, "action": r.action}
                for r in rows]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("GUTAXIS_")
           or key in ("GUTAXIS_REQUIRE_DATA", "GUTAXIS_CHROMIUM")}
    env.update({"GUTAXIS_DATA_DIR": str(data_dir), "GUTAXIS_ARGON2_TIME_COST": "1",
                "GUTAXIS_ARGON2_MEMORY_KIB": "8", "PYTHONUNBUFFERED": "1"})
    if database_url:
        env["GUTAXIS_DATABASE_URL"] = database_url
    return env


def _seed(env: dict[str, str]) -> dict[str, int]:
    """Make the admin with the CLI, the others with the app's services; return the patient
    ids of the patients' accounts."""
    done = subprocess.run(gutaxis_command("users", "create-admin", "adm", "--password-stdin"),
                          input=PASSWORD.encode(), env=env, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError("gutaxis users create-admin failed: "
                           + done.stderr.decode(errors="replace")[-2000:])
    from gutaxis.app.auth.service import create_user
    from gutaxis.app.patients.service import create_patient
    from gutaxis.app.settings import Settings
    from gutaxis.app.state import AppState

    settings = Settings(data_dir=Path(env["GUTAXIS_DATA_DIR"]),
                        database_url=env.get("GUTAXIS_DATABASE_URL"), argon2_time_cost=1,
                        argon2_memory_kib=8)
    state = AppState.from_settings(settings)
    patients: dict[str, int] = {}
    try:
        with state.db.write() as session:
            for username, (role, name) in ACCOUNTS.items():
                if role == "admin":
                    continue
                patient_id = None
                if name is not None:
                    patient_id = int(create_patient(
                        session, full_name=name, date_of_birth=dt.date(1980, 1, 2),
                        email=f"{username}@example.org").id)
                    patients[username] = patient_id
                create_user(session, state, username=username, password=PASSWORD, role=role,
                            patient_id=patient_id)
    finally:
        state.db.dispose()
    return patients


@contextmanager
def running_clinic(backend: str, data_dir: Path,
                   database_url: str | None = None) -> Iterator[ClinicServer]:
    """``gutaxis serve`` on ``data_dir`` (SQLite) or ``database_url`` (PostgreSQL), seeded,
    answering on http://127.0.0.1:PORT; stopped at the end."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _environment(data_dir, database_url)
    patients = _seed(env)
    port = free_port()
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            gutaxis_command("serve", "--host", "127.0.0.1", "--port", str(port)),
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    server = ClinicServer(backend=backend, base_url=f"http://127.0.0.1:{port}", env=env,
                          process=process, log_path=log_path, patients=patients)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: ClinicServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gutaxis serve exited with {server.process.returncode}:\n"
                               + server.log_tail())
        with suppress(httpx.HTTPError):
            answer = httpx.get(server.url("/api/v1/health"), timeout=2)
            if answer.status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gutaxis serve did not answer within {START_TIMEOUT:.0f} s:\n"
                       + server.log_tail())

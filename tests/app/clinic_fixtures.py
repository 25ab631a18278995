"""Fixtures of the clinic app tests (a plugin of tests/conftest.py): the app on SQLite and on
PostgreSQL, users of every role, logged-in clients.

Every API test that takes ``clinic`` runs on both databases. PostgreSQL is the local server
at ``GUTAXIS_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``):
the tests create a database of their own, migrate it once, empty its tables between tests
and drop it at the end. Without a server the PostgreSQL tests skip, except under
``GUTAXIS_REQUIRE_DATA=1`` (CI), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from gutaxis.app import create_app
from gutaxis.app.auth.service import create_user
from gutaxis.app.db.migrate import upgrade
from gutaxis.app.db.models import Base
from gutaxis.app.patients.service import create_patient
from gutaxis.app.settings import Settings

PASSWORD = "correct horse battery staple"
ADMIN_URL = os.environ.get("GUTAXIS_TEST_POSTGRES",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def _require(reason: str) -> None:
    if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
        pytest.fail(reason + " (GUTAXIS_REQUIRE_DATA=1: the PostgreSQL tests must run)")
    pytest.skip(reason)


def _pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run (dropped at the end)."""
    admin = create_engine(_pg(ADMIN_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # no server: skip (fail in CI)
        admin.dispose()
        _require(f"PostgreSQL not reachable at {ADMIN_URL}: {type(exc).__name__}")
    name = f"gutaxis_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(_pg(url))
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def empty_postgres(url: str) -> None:
    engine = create_engine(_pg(url))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"truncate {tables} restart identity cascade"))
    engine.dispose()


def fast_settings(**values: Any) -> Settings:
    """Settings for tests: cheap Argon2 (the production cost is tested on its own)."""
    return Settings(argon2_time_cost=1, argon2_memory_kib=8, secret_key="test-secret-" + "x" * 32,
                    **values)


@dataclass
class Clinic:
    """A running app on one database with helpers to make users and log in."""

    backend: str
    settings: Settings
    app: Any
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def state(self) -> Any:
        return self.app.state.gutaxis

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="https://testserver",
                          raise_server_exceptions=True)

    def add_patient(self, name: str = "Ada Example", **identity: Any) -> int:
        with self.state.db.write() as session:
            return int(create_patient(session, full_name=name, **identity).id)

    def add_user(self, username: str, role: str, *, patient_id: int | None = None) -> str:
        with self.state.db.write() as session:
            create_user(session, self.state, username=username, password=PASSWORD, role=role,
                        patient_id=patient_id)
        self.users[username] = {"role": role, "patient_id": patient_id}
        return username

    def login(self, username: str) -> TestClient:
        """A client with a browser session (cookie) and its CSRF header set."""
        client = self.client()
        response = client.post("/api/v1/auth/login",
                               json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    def bearer(self, username: str) -> TestClient:
        """A client authenticated by a bearer token (no cookie)."""
        client = self.client()
        response = client.post("/api/v1/auth/token",
                               json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = "Bearer " + response.json()["access_token"]
        return client


def make_clinic(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                **values: Any) -> Clinic:
    if backend == "sqlite":
        settings = fast_settings(data_dir=tmp_path / "clinic", **values)
        upgrade(settings.resolved_database_url())
    else:
        url = request.getfixturevalue("postgres_url")
        empty_postgres(url)
        settings = fast_settings(data_dir=tmp_path / "clinic", database_url=url, **values)
    return Clinic(backend=backend, settings=settings, app=create_app(settings))


@pytest.fixture(params=BACKENDS)
def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    """The app on SQLite, then on PostgreSQL."""
    made = make_clinic(request.param, tmp_path, request)
    yield made
    made.state.db.dispose()


@pytest.fixture
def sqlite_clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    """The app on SQLite only (for tests of logic that does not touch the database's kind)."""
    made = make_clinic("sqlite", tmp_path, request)
    yield made
    made.state.db.dispose()


@dataclass
class Cast:
    """Two patients, a clinician, a researcher and an admin, with their clients."""

    clinic: Clinic
    patient_a: int
    patient_b: int
    clients: dict[str, TestClient]


@pytest.fixture
def cast(clinic: Clinic) -> Cast:
    a = clinic.add_patient("Ada Alpha", date_of_birth=dt.date(1980, 1, 2),
                           email="ada@example.org")
    b = clinic.add_patient("Ben Beta", date_of_birth=dt.date(1975, 5, 6))
    clinic.add_user("pat_a", "patient", patient_id=a)
    clinic.add_user("pat_b", "patient", patient_id=b)
    clinic.add_user("doc", "clinician")
    clinic.add_user("res", "researcher")
    clinic.add_user("adm", "admin")
    clients = {name: clinic.login(name) for name in ("pat_a", "pat_b", "doc", "res", "adm")}
    return Cast(clinic=clinic, patient_a=a, patient_b=b, clients=clients)

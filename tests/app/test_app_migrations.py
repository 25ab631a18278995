"""The Alembic migrations build exactly the schema the models declare, on both databases,
and ``gutaxis db upgrade`` is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from clinic_fixtures import _pg
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from gutaxis.app.db.migrate import head_revision, upgrade
from gutaxis.app.db.models import Base
from gutaxis.cli.main import app


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_sqlite_schema_from_migrations_equals_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    assert _differences(url) == []


def test_postgres_schema_from_migrations_equals_the_models(postgres_url: str) -> None:
    assert _differences(_pg(postgres_url)) == []


def test_db_upgrade_creates_then_leaves_the_database_as_it_is(tmp_path: Path) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path / "d")])
        assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'd' / 'gutaxis.db'}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} == tables
    assert head_revision() == "0001"


@pytest.mark.parametrize(("bad", "says"), [
    ("sqlite:////proc/no/such/dir/x.db", "/proc/no"),
    ("postgresql://nobody:hunter22@127.0.0.1:1/x", "cannot open the database"),
    ("mysql://db/x", "unsupported database")])
def test_db_upgrade_on_an_unusable_database_is_one_line_and_exit_2(bad: str, says: str) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", bad])
    assert result.exit_code == 2, result.output
    assert says in result.output and "Traceback" not in result.output
    assert "hunter22" not in result.output  # a password never reaches the terminal

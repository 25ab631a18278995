"""The database of the clinic, on SQLite or PostgreSQL, tuned so that an acknowledged write
survives a crash: SQLite in WAL mode with ``synchronous=FULL`` (a committed transaction is
on disk before COMMIT returns), PostgreSQL with its defaults (``synchronous_commit=on``).

Reads and writes take separate sessions. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` (it takes the write lock first, so two writers queue instead of one
failing to upgrade its read snapshot), while reads start deferred and never wait for a
writer (WAL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """The engines and session factories of one database URL."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                                        pool_pre_ping=True)
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session committed at the end of the block (rolled back on an error)."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (rolled back at the end: it writes nothing)."""
        with self._read() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin_immediate if immediate else _begin_deferred)
    return engine


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    connection.isolation_level = None  # transactions are begun by the "begin" listeners
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")

"""A job queue in the database (the ``jobs`` table), safe with many workers.

A job is ``queued``, then ``running`` (claimed by one worker, which heartbeats), then
``done`` or ``failed``. Claiming takes the oldest queued job:

* PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers never wait on or take
  the same row), then the update, in one transaction;
* SQLite: the candidate's id is read, then ``UPDATE ... WHERE id = :id AND
  status = 'queued'`` and the row count says whether this worker won (write
  transactions are serialised by ``BEGIN IMMEDIATE`` as well).

Every change a worker makes names the worker and succeeds only while the job is still
running under that name, so a worker presumed dead that wakes up cannot overwrite the
job's new owner. :func:`requeue_stale` puts back jobs whose worker stopped
heartbeating for :data:`STALE_AFTER` (at most :data:`MAX_ATTEMPTS` attempts; then the
job fails, saying so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gutaxis.app.db.engine import Database
from gutaxis.app.db.models import Job

#: A running job whose heartbeat is older than this is taken to have lost its worker.
STALE_AFTER = dt.timedelta(seconds=60)
#: Attempts a job gets (claims); a job whose worker stopped this many times fails.
MAX_ATTEMPTS = 3
STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Claimed:
    """A job a worker holds: what to run."""

    id: int
    kind: str
    params: dict[str, Any]
    attempts: int
    worker: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enqueue(session: Session, kind: str, params: dict[str, Any], *,
            created_by: int | None) -> Job:
    """Add a queued job (committed with the caller's transaction)."""
    job = Job(kind=kind, params=params, status="queued", progress=0.0, message="queued",
              created_by=created_by, created_at=_now(), attempts=0, result={})
    session.add(job)
    session.flush()
    return job


def claim(db: Database, worker: str, *, kinds: tuple[str, ...] = ("analyze",)
          ) -> Claimed | None:
    """Take the oldest queued job of ``kinds`` for ``worker`` (``None`` when none)."""
    now = _now()
    oldest = (select(Job.id).where(Job.status == "queued", Job.kind.in_(kinds))
              .order_by(Job.created_at, Job.id).limit(1))
    with db.write() as session:
        if db.is_sqlite:
            job_id = session.scalar(oldest)
        else:
            job_id = session.scalar(oldest.with_for_update(skip_locked=True))
        if job_id is None:
            return None
        result = session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", worker=worker, started_at=now, heartbeat_at=now,
                    attempts=Job.attempts + 1, progress=0.0, message="started",
                    finished_at=None))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = session.get(Job, job_id, populate_existing=True)
        assert job is not None
        return Claimed(id=job.id, kind=job.kind, params=dict(job.params or {}),
                       attempts=job.attempts, worker=worker)


def _owned(job_id: int, worker: str) -> Any:
    return update(Job).where(Job.id == job_id, Job.worker == worker,
                             Job.status == "running")


def heartbeat(db: Database, job_id: int, worker: str) -> bool:
    """Tell the queue ``worker`` is alive; ``False`` when the job is no longer its own."""
    with db.write() as session:
        done = session.execute(_owned(job_id, worker).values(heartbeat_at=_now()))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def progress(db: Database, job_id: int, worker: str, fraction: float, message: str) -> bool:
    """Record progress (0-1, clipped) and a message; also a heartbeat."""
    value = min(1.0, max(0.0, float(fraction)))
    with db.write() as session:
        done = session.execute(_owned(job_id, worker).values(
            progress=value, message=message, heartbeat_at=_now()))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def finish(db: Database, job_id: int, worker: str, *, result: dict[str, Any],
           report_html: str | None, message: str = "done") -> bool:
    """Mark the job done with its result summary and report."""
    now = _now()
    with db.write() as session:
        done = session.execute(_owned(job_id, worker).values(
            status="done", progress=1.0, message=message, result=result,
            report_html=report_html, finished_at=now, heartbeat_at=now))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def fail(db: Database, job_id: int, worker: str, error: str) -> bool:
    """Mark the job failed with the error text (a message for a person, not a traceback)."""
    now = _now()
    with db.write() as session:
        done = session.execute(_owned(job_id, worker).values(
            status="failed", message=error, finished_at=now, heartbeat_at=now))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def requeue_stale(db: Database, *, stale_after: dt.timedelta = STALE_AFTER,
                  now: dt.datetime | None = None) -> tuple[int, int]:
    """Put back running jobs whose worker stopped heartbeating; fail those that used
    :data:`MAX_ATTEMPTS` attempts. Returns (requeued, failed)."""
    cutoff = (now or _now()) - stale_after
    stale = (Job.status == "running", Job.heartbeat_at < cutoff)
    with db.write() as session:
        failed = session.execute(update(Job).where(*stale, Job.attempts >= MAX_ATTEMPTS).values(
            status="failed", finished_at=now or _now(),
            message=f"the worker stopped (no heartbeat for {stale_after.total_seconds():.0f} s) "
                    f"in each of {MAX_ATTEMPTS} attempts"))
        requeued = session.execute(update(Job).where(*stale, Job.attempts < MAX_ATTEMPTS).values(
            status="queued", worker=None, progress=0.0,
            message="requeued: its worker stopped heartbeating"))
        return (int(requeued.rowcount),  # type: ignore[attr-defined]
                int(failed.rowcount))  # type: ignore[attr-defined]

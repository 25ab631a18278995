"""``gutaxis worker``: take queued jobs from the database and run them.

Each loop puts back jobs of stopped workers (:func:`queue.requeue_stale`), claims the
oldest queued job and runs it while a background thread heartbeats every
:data:`HEARTBEAT_SECONDS`. A job that raises :class:`gutaxis.errors.GutaxisError`
fails with that message; any other exception fails it with the exception's type and
message (the traceback goes to the worker's log, never to the job).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from gutaxis.app.db.engine import Database
from gutaxis.app.jobs import queue
from gutaxis.app.jobs.analysis import KIND, run_analyze
from gutaxis.errors import GutaxisError

HEARTBEAT_SECONDS = 10.0
log = logging.getLogger("gutaxis.worker")


def worker_name() -> str:
    """``host:pid:random`` (unique even for two workers in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Heartbeat:
    """A thread that heartbeats a job until stopped."""

    def __init__(self, db: Database, job_id: int, worker: str, every: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(db, job_id, worker, every),
                                        name=f"heartbeat-{job_id}", daemon=True)

    def _run(self, db: Database, job_id: int, worker: str, every: float) -> None:
        while not self._stop.wait(every):
            try:
                queue.heartbeat(db, job_id, worker)
            except Exception:  # a lost connection must not kill the job; next beat retries
                log.exception("heartbeat of job %s failed", job_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_job(db: Database, secret: str, job: queue.Claimed, *,
            heartbeat_every: float = HEARTBEAT_SECONDS) -> str:
    """Run one claimed job to its end; its final status (``done`` or ``failed``)."""
    def report(fraction: float, message: str) -> None:
        queue.progress(db, job.id, job.worker, fraction, message)

    try:
        with _Heartbeat(db, job.id, job.worker, heartbeat_every):
            if job.kind != KIND:
                raise GutaxisError(f"unknown job kind {job.kind!r}")
            result, html = run_analyze(db, secret, job.params, report)
    except GutaxisError as exc:
        queue.fail(db, job.id, job.worker, str(exc))
        return "failed"
    except Exception as exc:
        log.exception("job %s failed", job.id)
        queue.fail(db, job.id, job.worker, f"internal error: {type(exc).__name__}: {exc}")
        return "failed"
    queue.finish(db, job.id, job.worker, result=result, report_html=html,
                 message=str(result.get("summary", "done")).splitlines()[0])
    return "done"


def run_worker(db: Database, secret: str, *, once: bool = False, poll: float = 2.0,
               name: str | None = None, stop: threading.Event | None = None,
               say: Callable[[str], None] = print) -> int:
    """Run jobs until stopped (``once``: until the queue is empty); jobs run."""
    worker = name or worker_name()
    stop = stop or threading.Event()
    ran = 0
    while not stop.is_set():
        requeued, failed = queue.requeue_stale(db)
        if requeued or failed:
            say(f"requeued {requeued} job(s) of stopped workers, failed {failed}")
        job = queue.claim(db, worker)
        if job is None:
            if once:
                break
            stop.wait(poll)
            continue
        say(f"job {job.id} ({job.kind}, attempt {job.attempts}) started")
        started = time.monotonic()
        status = run_job(db, secret, job)
        ran += 1
        say(f"job {job.id} {status} in {time.monotonic() - started:.1f} s")
    return ran

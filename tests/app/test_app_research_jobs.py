"""The job queue on SQLite and PostgreSQL (concurrent claims, stopped workers), the
analysis job end to end, and ``gutaxis worker``."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from pathlib import Path

import pytest
from clinic_fixtures import Clinic
from research_seed import seed_cohort
from sqlalchemy import select, update
from typer.testing import CliRunner

from gutaxis.app.db.models import Job
from gutaxis.app.jobs import queue
from gutaxis.app.jobs.worker import run_job, run_worker


def _enqueue(clinic: Clinic, n: int, **params: object) -> list[int]:
    with clinic.state.db.write() as session:
        return [queue.enqueue(session, "analyze", dict(params), created_by=None).id
                for _ in range(n)]


def _job(clinic: Clinic, job_id: int) -> Job:
    with clinic.state.db.read() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_concurrent_workers_never_claim_the_same_job(clinic: Clinic) -> None:
    ids = _enqueue(clinic, 40, outcome="x")
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def work(name: str) -> None:
        mine = claimed.setdefault(name, [])
        start.wait()
        while (job := queue.claim(clinic.state.db, name)) is not None:
            mine.append(job.id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [j for jobs in claimed.values() for j in jobs]
    assert sorted(every) == ids  # each job once, none lost
    with clinic.state.db.read() as session:
        rows = session.execute(select(Job.id, Job.worker, Job.status, Job.attempts)).all()
    owner = {j: w for w, jobs in claimed.items() for j in jobs}
    assert all(r.worker == owner[r.id] and r.status == "running" and r.attempts == 1
               for r in rows)


def test_claim_takes_the_oldest_and_progress_belongs_to_the_owner(clinic: Clinic) -> None:
    first, second = _enqueue(clinic, 2, outcome="x")
    db = clinic.state.db
    job = queue.claim(db, "w1")
    assert job is not None and job.id == first and job.params == {"outcome": "x"}
    assert queue.progress(db, first, "w1", 0.4, "step 2/7: diversity")
    assert not queue.progress(db, first, "w2", 0.9, "not mine")
    assert (_job(clinic, first).progress, _job(clinic, first).message) == (
        0.4, "step 2/7: diversity")
    assert queue.finish(db, first, "w1", result={"n": 3}, report_html="<p>r</p>")
    assert not queue.fail(db, first, "w1", "too late")  # done is final
    done = _job(clinic, first)
    assert (done.status, done.progress, done.result, done.report_html) == (
        "done", 1.0, {"n": 3}, "<p>r</p>")
    assert _job(clinic, second).status == "queued"


def test_a_stopped_workers_job_is_requeued_then_failed_after_three_attempts(
        clinic: Clinic) -> None:
    (job_id,) = _enqueue(clinic, 1, outcome="x")
    db = clinic.state.db
    later = dt.datetime.now(dt.UTC) + queue.STALE_AFTER + dt.timedelta(seconds=5)
    for attempt in range(1, queue.MAX_ATTEMPTS + 1):
        job = queue.claim(db, f"crashed-{attempt}")
        assert job is not None and job.id == job_id and job.attempts == attempt
        assert queue.requeue_stale(db) == (0, 0)  # heartbeat fresh: left alone
        expected = (1, 0) if attempt < queue.MAX_ATTEMPTS else (0, 1)
        assert queue.requeue_stale(db, now=later) == expected
        if attempt < queue.MAX_ATTEMPTS:
            row = _job(clinic, job_id)
            assert (row.status, row.worker) == ("queued", None)
            # the presumed-dead worker wakes up: its writes are refused
            assert not queue.finish(db, job_id, f"crashed-{attempt}", result={},
                                    report_html=None)
    row = _job(clinic, job_id)
    assert row.status == "failed" and "3 attempts" in (row.message or "")
    assert queue.claim(db, "w") is None


def test_the_heartbeat_keeps_a_long_job_from_being_requeued(sqlite_clinic: Clinic) -> None:
    (job_id,) = _enqueue(sqlite_clinic, 1, outcome="x")
    db = sqlite_clinic.state.db
    job = queue.claim(db, "w")
    assert job is not None
    with db.write() as session:  # pretend the last beat was long ago
        session.execute(update(Job).where(Job.id == job_id).values(
            heartbeat_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    assert queue.heartbeat(db, job_id, "w")
    assert queue.requeue_stale(db) == (0, 0)
    assert not queue.heartbeat(db, job_id, "someone else")


def test_an_analysis_runs_end_to_end_and_leaves_no_temporary_folder(
        clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gutaxis.analyze.pipeline import STEPS

    seeded = seed_cohort(clinic, n_subjects=12)
    clinic.add_user("res", "researcher")
    res = clinic.login("res")
    job = res.post("/api/v1/analyses", json={
        "outcome": "pain_mean_14d", "covariates": ["fibre_servings_mean_14d"],
        "permutations": 99}).json()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[tuple[float, str]] = []
    original = queue.progress

    def spy(db: object, job_id: int, worker: str, fraction: float, message: str) -> bool:
        seen.append((fraction, message))
        return original(db, job_id, worker, fraction, message)  # type: ignore[arg-type]

    monkeypatch.setattr(queue, "progress", spy)
    lines: list[str] = []
    assert run_worker(clinic.state.db, clinic.state.secret, once=True, say=lines.append) == 1
    assert list(scratch.iterdir()) == []
    done = res.get(f"/api/v1/analyses/{job['id']}").json()
    assert done["status"] == "done", done["message"]
    assert done["progress"] == 1.0 and done["attempts"] == 1
    result = done["result"]
    assert result["n"] == len(seeded.pain) == 24 and result["n_dropped"] == 0
    assert result["outcome_variable"] == "pain_mean_14d"
    assert [s["step"] for s in result["steps"]] == list(STEPS)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] < 0.1 and fractions[-1] >= 0.9
    assert any(m.startswith(f"step 2/{len(STEPS)}: diversity") for _, m in seen)
    report = res.get(done["report_url"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "pain_mean_14d" in report.text
    for value in seeded.forbidden():
        assert value not in report.content
    page = res.get("/research")
    assert f'href="/api/v1/analyses/{job["id"]}/report"' in page.text
    assert "<progress" not in page.text  # nothing running any more


def test_a_job_with_a_wrong_column_fails_with_the_engines_message(
        sqlite_clinic: Clinic) -> None:
    seed_cohort(sqlite_clinic, n_subjects=6)
    (job_id,) = _enqueue(sqlite_clinic, 1, outcome="no_such_column")
    db = sqlite_clinic.state.db
    job = queue.claim(db, "w")
    assert job is not None
    assert run_job(db, sqlite_clinic.state.secret, job, heartbeat_every=0.05) == "failed"
    row = _job(sqlite_clinic, job_id)
    assert row.status == "failed"
    assert "no such metadata column" in (row.message or "")
    assert "no_such_column" in (row.message or "") and "Traceback" not in (row.message or "")


def test_gutaxis_worker_once_runs_the_queue_and_exits(sqlite_clinic: Clinic) -> None:
    from gutaxis.cli.main import app

    (job_id,) = _enqueue(sqlite_clinic, 1, outcome="pain_mean_14d")  # no samples: fails
    settings = sqlite_clinic.settings
    result = CliRunner().invoke(app, [
        "worker", "--once", "--data-dir", str(settings.data_dir),
        "--database-url", settings.resolved_database_url()], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert f"job {job_id} failed" in result.output and "1 job(s) run" in result.output
    row = _job(sqlite_clinic, job_id)
    assert row.status == "failed" and "no microbiome samples" in (row.message or "")

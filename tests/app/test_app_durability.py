"""Kill test: the real server, killed with SIGKILL in the middle of a stream of diary writes,
loses no entry it acknowledged (on SQLite and on PostgreSQL).

The server runs as its own process (uvicorn on ``gutaxis.app.asgi:from_environment``, the
app ``gutaxis serve`` runs) on a free port. Several client threads write diary days (each a
distinct day, going backwards from today, with values derived from the day) and note every
day answered 200 with the values sent. The server is killed while the writes stream, started
again on the same database, and every acknowledged day must be there with its values; days
whose request got no answer may or may not be stored. Three kills per database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from clinic_fixtures import PASSWORD, Clinic

from gutaxis.app.diary.schemas import GI_SYMPTOMS, PAIN_SITES

KILLS = 3
WRITERS = 4
#: Acknowledged writes to wait for in each round before the kill (then a little longer,
#: so the kill lands at a different moment of a request each time).
ACKS_PER_ROUND = 25
START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(clinic: Clinic) -> dict[str, str]:
    """The environment that makes the server process run the app of ``clinic``."""
    settings = clinic.settings
    env = {key: value for key, value in os.environ.items() if not key.startswith("GUTAXIS_")}
    env.update({
        "GUTAXIS_DATA_DIR": str(settings.data_dir),
        "GUTAXIS_SECRET_KEY": settings.resolved_secret_key(),
        "GUTAXIS_COOKIE_SECURE": "false",
        "GUTAXIS_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "GUTAXIS_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
        "PYTHONPATH": os.pathsep.join(p for p in [str(Path(__file__).parents[2] / "src"),
                                                  env.get("PYTHONPATH", "")] if p),
    })
    if settings.database_url:
        env["GUTAXIS_DATABASE_URL"] = settings.database_url
    return env


@contextmanager
def running_server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The server process, answering /api/v1/health; SIGKILLed (its process group) at exit
    if still alive."""
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "gutaxis.app.asgi:from_environment",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        wait_until_healthy(process, port)
        yield process
    finally:
        kill(process)


def wait_until_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("the server exited on start: "
                                 + (process.stderr.read().decode() if process.stderr else ""))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code \
                    == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the server did not answer within {START_TIMEOUT} s")


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


def diary_values(offset: int) -> dict[str, Any]:
    """The diary written for the day ``offset`` days before today (every field varies with
    the day, so a value stored for the wrong day or lost in part is seen)."""
    return {
        "pain": offset % 11,
        "pain_sites": sorted({PAIN_SITES[offset % len(PAIN_SITES)],
                              PAIN_SITES[(offset * 7) % len(PAIN_SITES)]},
                             key=PAIN_SITES.index),
        "bristol": 1 + offset % 7,
        "gi_symptoms": {GI_SYMPTOMS[offset % len(GI_SYMPTOMS)]: offset % 10},
        "fibre_servings": (offset % 9) / 2,
        "probiotic_taken": offset % 2 == 0,
        "exercise_minutes": float(offset % 90),
        "sleep_hours": 4 + (offset % 17) / 4,
        "notes": f"day -{offset}",
    }


class DiaryStream:
    """Client threads writing distinct diary days until the server goes away."""

    def __init__(self, port: int, token: str, patient_id: int, today: dt.date,
                 offsets: Iterator[int]) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/patients/{patient_id}/diary"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.today = today
        self.offsets = offsets
        self.lock = threading.Lock()
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.unanswered = 0
        self.refused: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._write, daemon=True)
                        for _ in range(WRITERS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a writer hangs after the kill"

    def _write(self) -> None:
        with httpx.Client(headers=self.headers, timeout=10) as client:
            while not self.stop.is_set():
                with self.lock:
                    offset = next(self.offsets)
                day = (self.today - dt.timedelta(days=offset)).isoformat()
                values = diary_values(offset)
                try:
                    response = client.put(f"{self.url}/{day}", json=values)
                except httpx.TransportError:  # the server is gone: no answer, no promise
                    with self.lock:
                        self.unanswered += 1
                    return
                with self.lock:
                    if response.status_code == 200:
                        self.acknowledged[day] = values
                    else:
                        self.refused.append(f"{day}: {response.status_code} {response.text}")


def bearer_token(port: int, username: str) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token",
                          json={"username": username, "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def stored_days(port: int, token: str, patient_id: int) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"http://127.0.0.1:{port}/api/v1/patients/{patient_id}/diary",
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return {row["day"]: row for row in response.json()}


def test_sigkill_during_diary_writes_loses_no_acknowledged_entry(clinic: Clinic) -> None:
    patient_id = clinic.add_patient("Kim Killtest")
    clinic.add_user("kim", "patient", patient_id=patient_id)
    clinic.state.db.dispose()  # the server process owns the database from here
    env, port = server_environment(clinic), free_port()
    today = dt.datetime.now(dt.UTC).date()
    offsets = itertools.count(0)
    acknowledged: dict[str, dict[str, Any]] = {}
    token = ""
    for round_number in range(KILLS):
        with running_server(env, port) as server:
            token = token or bearer_token(port, "kim")
            stream = DiaryStream(port, token, patient_id, today, offsets)
            stream.start()
            deadline = time.monotonic() + 10
            while len(stream.acknowledged) < ACKS_PER_ROUND and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.013 * (round_number + 1))
            os.killpg(server.pid, signal.SIGKILL)  # mid-stream: the writers are still sending
            server.wait(timeout=10)
            stream.join()
        assert not stream.refused, stream.refused[:3]
        assert len(stream.acknowledged) >= ACKS_PER_ROUND, "too few writes before the kill"
        assert stream.unanswered >= 1, "the kill did not interrupt the stream"
        acknowledged.update(stream.acknowledged)
        with running_server(env, port):  # the token, a row in the database, survives too
            stored = stored_days(port, token, patient_id)
        lost = sorted(set(acknowledged) - set(stored))
        assert not lost, f"kill {round_number + 1}: acknowledged days lost: {lost[:5]}"
        for day, values in acknowledged.items():
            kept = {key: stored[day][key] for key in values}
            assert kept == values, f"day {day} stored as {kept}, acknowledged as {values}"
    assert len(acknowledged) >= KILLS * ACKS_PER_ROUND

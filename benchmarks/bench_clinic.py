"""Load benchmark of the clinic app: diary write and timeline read latency (p50, p95, p99)
and throughput at 200 virtual users and an open-loop target rate of 200 requests/s, against
the app served by ``gutaxis serve`` on 127.0.0.1, on SQLite and on PostgreSQL, with 1 and 2
server processes. Not a test: it prints a table and compares it with the targets of issue 13
(p95 < 50 ms at 200 requests/s; a 10-minute soak at that rate with zero errors).

    python benchmarks/bench_clinic.py                       # both databases, 1 and 2 workers
    python benchmarks/bench_clinic.py --backend sqlite --workers 1 --duration 20
    python benchmarks/bench_clinic.py --soak 600 --backend sqlite --workers 1

How it measures:

- Each configuration gets a fresh database (an SQLite file in a temporary folder, or a
  PostgreSQL database made on ``GUTAXIS_TEST_POSTGRES``'s server and dropped after) with
  ``--users`` patients, each with ``--history`` days of diary and a patient account. The
  accounts log in through ``POST /api/v1/auth/token`` (bearer tokens; the server and the
  accounts use a cheap Argon2 cost so that 200 logins take seconds: logins are not measured).
- Open loop: request ``i`` is scheduled at ``start + i / rate`` whatever happened to the
  earlier ones, and its latency is measured from that scheduled time (so a stalled server
  shows as latency, not as a slower request rate: no coordinated omission). Request ``i``
  belongs to virtual user ``i % users``; each user keeps its own connection (pool of
  ``--users`` connections). Writes are ``PUT /api/v1/patients/{pid}/diary/{day}`` of a
  new day per request; reads ``GET /api/v1/patients/{pid}/timeline`` (or, while the app
  has no timeline route, ``GET /api/v1/patients/{pid}/diary``; ``--read-path``).
- An error is any answer other than 200, or no answer within ``--timeout`` seconds.
- CPU: the load generator's own CPU time (user + system) and the server processes' (all
  of ``gutaxis serve``'s process tree, from /proc), each over the phase's wall time, in
  per cent of one core; the machine's load average is printed with each row, since the
  generator and the server share its cores with whatever else runs.
- Bounded: every phase sends at most ``rate x duration`` requests, stops sending at
  ``duration + timeout`` seconds (the requests left are errors: "not sent in time") and
  waits at most ``timeout + 5`` seconds more for answers; the soak likewise with ``--soak``.
  SIGTERM stops the run cleanly (server stopped, benchmark database dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PASSWORD = "benchmark password 2026"
SECRET = "bench-secret-" + "k" * 40
ADMIN_URL = os.environ.get("GUTAXIS_TEST_POSTGRES",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_P95_MS = 50.0
TIMELINE = "/api/v1/patients/{patient_id}/timeline"
CHEAP_ARGON2 = {"GUTAXIS_ARGON2_TIME_COST": "1", "GUTAXIS_ARGON2_MEMORY_KIB": "8"}
_TICK = os.sysconf("SC_CLK_TCK")


# --- the database and the server ----------------------------------------------------------

@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str | None]:
    """The database URL of a new, empty database (None: SQLite in ``folder``)."""
    if backend == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg://" + ADMIN_URL.split("://", 1)[1],
                          isolation_level="AUTOCOMMIT")
    name = f"gutaxis_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def populate(folder: Path, database_url: str | None, users: int, history: int) -> list[int]:
    """``users`` patients with ``history`` diary days each and a patient account
    ``bench{i}``; returns the patient ids in user order."""
    from sqlalchemy import insert

    from gutaxis.app.auth.service import create_user
    from gutaxis.app.db.migrate import upgrade
    from gutaxis.app.db.models import DiaryEntry
    from gutaxis.app.patients.service import create_patient
    from gutaxis.app.settings import Settings
    from gutaxis.app.state import AppState

    settings = Settings(data_dir=folder, database_url=database_url, secret_key=SECRET,
                        argon2_time_cost=1, argon2_memory_kib=8)
    upgrade(settings.resolved_database_url())
    state = AppState.from_settings(settings)
    today = dt.datetime.now(dt.UTC).date()
    now = dt.datetime.now(dt.UTC)
    ids = []
    try:
        with state.db.write() as session:
            for i in range(users):
                patient = create_patient(session, full_name=f"Bench Patient {i}")
                create_user(session, state, username=f"bench{i}", password=PASSWORD,
                            role="patient", patient_id=patient.id)
                ids.append(int(patient.id))
            rows = [{"patient_id": pid, "day": today - dt.timedelta(days=1000 + d),
                     "pain": (pid + d) % 11, "pain_sites": ["lower_back"], "bristol": 4,
                     "gi_symptoms": {"bloating": d % 10}, "fibre_servings": 3.0,
                     "notes": "history", "created_at": now, "updated_at": now}
                    for pid in ids for d in range(history)]
            if rows:
                session.execute(insert(DiaryEntry), rows)
    finally:
        state.db.dispose()
    return ids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(folder: Path, database_url: str | None, workers: int,
           port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``gutaxis serve`` on 127.0.0.1:``port`` (stopped with SIGTERM, then SIGKILL)."""
    argv = [sys.executable, "-c", "from gutaxis.cli.main import run; run()", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--data-dir", str(folder), "--insecure-cookies"]
    if database_url:
        argv += ["--database-url", database_url]
    env = {**os.environ, "GUTAXIS_SECRET_KEY": SECRET, **CHEAP_ARGON2}
    process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"gutaxis serve exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gutaxis serve did not answer within 60 s")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def process_tree(root: int) -> list[int]:
    """``root`` and every process descending from it (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (processes gone count as 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


# --- the load --------------------------------------------------------------------------

@dataclass
class User:
    """A virtual user: a patient account with its bearer token and next new diary day."""

    patient_id: int
    token: str
    next_offset: int = 0


@dataclass
class Phase:
    """The outcome of one open-loop phase."""

    name: str
    latencies_ms: list[float] = field(default_factory=list)
    sent_at_s: list[float] = field(default_factory=list)  # scheduled time, from the start
    errors: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    wall_s: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    load: float = 0.0

    def error(self, why: str) -> None:
        self.errors[why] = self.errors.get(why, 0) + 1

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


#: Reuse a kept-alive connection only if idle less than this (uvicorn closes it after 5 s).
KEEP_ALIVE_S = 4.0


class Pool:
    """Keep-alive HTTP/1.1 connections to the server, opened as needed (at most ``size``).

    A request costs the generator a few tens of microseconds here, where httpx's
    AsyncClient cost ~5 ms of CPU and grew with a backlog: on 2 cores the generator,
    not the server, set the latency (its CPU at 90-95% while the server used 40%).
    """

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.last_used: dict[int, float] = {}  # id(writer) -> when it was given back
        self.opened = 0
        self.freed = asyncio.Condition()

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.opened >= self.size:
                await self.freed.wait()
            while self.idle:
                reader, writer = self.idle.pop()
                # uvicorn closes a connection idle for 5 s: do not reuse one near that age
                if time.perf_counter() - self.last_used.pop(id(writer), 0.0) < KEEP_ALIVE_S:
                    return reader, writer
                writer.close()
                self.opened -= 1
            self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except BaseException:
            self.opened -= 1
            raise

    async def _give(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None
                    ) -> None:
        async with self.freed:
            if connection is None:
                self.opened -= 1
            else:
                self.idle.append(connection)
                self.last_used[id(connection[1])] = time.perf_counter()
            self.freed.notify()

    async def send(self, method: str, path: str, token: str, body: bytes | None) -> int:
        """Send one request and read the whole answer; its status code."""
        connection = await self._take()
        reader, writer = connection
        try:
            head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"Authorization: Bearer {token}\r\n")
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + (body or b""))
            status = int((await reader.readline()).split(b" ", 2)[1])
            length, chunked, closing = 0, False, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and b"close" in value.lower():
                    closing = True
            if chunked:
                while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
                    await reader.readexactly(size + 2)
                await reader.readline()
            else:
                await reader.readexactly(length)
        except BaseException:
            writer.close()
            await self._give(None)
            raise
        if closing:
            writer.close()
            await self._give(None)
        else:
            await self._give(connection)
        return status

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


#: what one request of a phase sends: method, path, bearer token, JSON body (or None)
Request = Callable[[User, int], tuple[str, str, str, bytes | None]]


def write_request(user: User, i: int) -> tuple[str, str, str, bytes | None]:
    user.next_offset += 1
    day = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=user.next_offset)).isoformat()
    body = {"pain": i % 11, "pain_sites": ["abdomen", "lower_back"], "bristol": 1 + i % 7,
            "gi_symptoms": {"bloating": i % 10}, "fibre_servings": 2.5,
            "probiotic_taken": True, "exercise_minutes": 30, "stress": 4, "sleep_hours": 7.5,
            "notes": "benchmark"}
    return ("PUT", f"/api/v1/patients/{user.patient_id}/diary/{day}", user.token,
            json.dumps(body).encode())


def read_request(path: str) -> Request:
    def request(user: User, i: int) -> tuple[str, str, str, bytes | None]:
        return "GET", path.format(patient_id=user.patient_id), user.token, None
    return request


def mixed_request(read: Request) -> Request:
    def request(user: User, i: int) -> tuple[str, str, str, bytes | None]:
        return write_request(user, i) if i % 2 == 0 else read(user, i)
    return request


async def open_loop(base: str, users: list[User], request: Request, *, name: str, rate: float,
                    duration: float, timeout: float, server_pids: list[int]) -> Phase:
    """Send ``rate x duration`` requests, request i at ``start + i / rate``; latency from
    that scheduled time to the end of the answer."""
    phase = Phase(name)
    total = int(rate * duration)
    host, port = base.removeprefix("http://").split(":")
    pool = Pool(host, int(port), len(users))

    async def one(i: int, scheduled: float) -> None:
        try:
            status = await asyncio.wait_for(pool.send(*request(users[i % len(users)], i)),
                                            timeout)
        except TimeoutError:
            phase.error("timeout")
            return
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            phase.error(type(exc).__name__)
            return
        if status != 200:
            phase.error(f"HTTP {status}")
            return
        phase.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        phase.sent_at_s.append(scheduled - start)

    # unfinished requests only: a soak's 120,000 finished tasks kept in a list made the
    # generator's garbage collections long enough to show as server latency
    tasks: set[asyncio.Task[None]] = set()
    cpu0, server0 = os.times(), cpu_seconds(server_pids)
    start = time.perf_counter() + 0.05
    give_up = start + duration + timeout
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif time.perf_counter() > give_up:  # the generator cannot keep the schedule
            phase.errors["not sent in time"] = total - i
            break
        task = asyncio.create_task(one(i, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        phase.sent += 1
    pending = (await asyncio.wait(set(tasks), timeout=timeout + 5))[1] if tasks else set()
    for task in pending:
        task.cancel()
        phase.error("unfinished")
    phase.wall_s = time.perf_counter() - start
    cpu1 = os.times()
    phase.client_cpu = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / phase.wall_s
    phase.server_cpu = (cpu_seconds(server_pids) - server0) / phase.wall_s
    phase.load = os.getloadavg()[0]
    await pool.close()
    return phase


async def log_in(base: str, patient_ids: list[int]) -> list[User]:
    """Bearer tokens of every benchmark account (8 logins at a time)."""
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        async def token(i: int, pid: int) -> User:
            async with gate:
                response = await client.post("/api/v1/auth/token", json={
                    "username": f"bench{i}", "password": PASSWORD})
            response.raise_for_status()
            return User(pid, response.json()["access_token"])
        return list(await asyncio.gather(*(token(i, p) for i, p in enumerate(patient_ids))))


def read_path(base: str, choice: str) -> str:
    """The read route: the timeline when the app serves it (or when asked), else the diary."""
    if choice == "timeline":
        return TIMELINE
    if choice == "diary":
        return "/api/v1/patients/{patient_id}/diary"
    paths = httpx.get(base + "/api/v1/openapi.json").json()["paths"]
    return TIMELINE if TIMELINE in paths else "/api/v1/patients/{patient_id}/diary"


# --- the runs ---------------------------------------------------------------------------

def run_configuration(backend: str, workers: int, args: argparse.Namespace) -> list[Phase]:
    with tempfile.TemporaryDirectory(prefix="gutaxis-bench-") as tmp:
        folder = Path(tmp)
        with fresh_database(backend, folder) as url:
            patient_ids = populate(folder, url, args.users, args.history)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with served(folder, url, workers, port) as server:
                time.sleep(1.0)  # let every worker process come up before listing them
                pids = process_tree(server.pid)
                users = asyncio.run(log_in(base, patient_ids))
                reads = read_path(base, args.read_path)
                label = f"{backend}, {workers} worker{'s' if workers > 1 else ''}"
                read_name = "timeline read" if reads == TIMELINE else "diary read"
                common = {"rate": args.rate, "timeout": args.timeout, "server_pids": pids}
                if args.soak:
                    soaked = (write_request if args.soak_load == "write"
                              else mixed_request(read_request(reads)))
                    what = "writes" if args.soak_load == "write" else f"writes + {read_name}s"
                    return [asyncio.run(open_loop(base, users, soaked,
                                                  name=f"{label}: soak, {what}",
                                                  duration=args.soak, **common))]
                asyncio.run(open_loop(base, users, mixed_request(read_request(reads)),
                                      name="warm-up", duration=args.warmup, **common))
                return [asyncio.run(open_loop(base, users, request, name=f"{label}: {what}",
                                              duration=args.duration, **common))
                        for what, request in (("diary write", write_request),
                                              (read_name, read_request(reads)))]


def print_table(phases: list[Phase], rate: float) -> None:
    header = (f"{'configuration: request':44} {'sent':>6} {'ok':>6} {'err':>4} "
              f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'req/s':>6} "
              f"{'gen CPU':>7} {'srv CPU':>7} {'srv ms/req':>10} {'load':>5}  "
              f"p95<{TARGET_P95_MS:.0f}ms")
    print(header)
    print("-" * len(header))
    for p in phases:
        ok = len(p.latencies_ms)
        meets = (p.percentile(95) < TARGET_P95_MS and not p.errors
                 and p.throughput >= 0.95 * rate)
        print(f"{p.name:44} {p.sent:>6} {ok:>6} {sum(p.errors.values()):>4} "
              f"{p.percentile(50):>7.1f} {p.percentile(95):>7.1f} {p.percentile(99):>7.1f} "
              f"{max(p.latencies_ms, default=float('nan')):>7.1f} {p.throughput:>6.1f} "
              f"{100 * p.client_cpu:>6.0f}% {100 * p.server_cpu:>6.0f}% "
              f"{1000 * p.server_cpu * p.wall_s / max(ok, 1):>10.1f} {p.load:>5.1f}  "
              f"{'yes' if meets else 'NO'}")
        if p.errors:
            print(f"{'':44} errors: " + ", ".join(f"{k} x{v}" for k, v in p.errors.items()))
        if p.wall_s > 120:  # a soak: how latency moved, minute by minute
            print_minutes(p)
    print(f"\ntarget (issue 13): p95 < {TARGET_P95_MS:.0f} ms at {rate:.0f} requests/s "
          "with zero errors; 'yes' also needs >= 95% of the target rate served.")
    print("latency: from each request's scheduled time (open loop); CPU in % of one core "
          "(gen: this load generator; srv: the server's processes);\nsrv ms/req: server CPU "
          "time per answered request (what the load of other jobs on the machine changes "
          "least); load: 1-minute load average at the end of the phase.")


def print_minutes(phase: Phase) -> None:
    """p50 / p95 / max of the requests sent in each minute of a long phase."""
    minutes: dict[int, list[float]] = {}
    for at, latency in zip(phase.sent_at_s, phase.latencies_ms, strict=True):
        minutes.setdefault(int(at // 60), []).append(latency)
    print(f"{'':44} minute: p50 / p95 / max ms")
    for minute, values in sorted(minutes.items()):
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * len(values)) - 1)]
        print(f"{'':44} {minute + 1:>6}: {values[len(values) // 2]:.1f} / {p95:.1f} / "
              f"{values[-1]:.1f}  ({len(values)} requests)")


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", default="1,2",
                        help="server process counts to try, comma-separated (default 1,2)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--users", type=int, default=200, help="virtual users (patients)")
    parser.add_argument("--duration", type=float, default=15.0,
                        help="seconds per measured phase (at most 120)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load")
    parser.add_argument("--history", type=int, default=60,
                        help="diary days each patient has before the run")
    parser.add_argument("--read-path", choices=["auto", "timeline", "diary"], default="auto")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--soak", type=float, default=0.0, metavar="SECONDS",
                        help="instead of the phases: one soak of writes and reads alternating "
                        "at --rate for SECONDS (at most 3600)")
    parser.add_argument("--soak-load", choices=["mixed", "write"], default="mixed",
                        help="the soak's requests: writes and reads alternating, or writes")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 <= args.soak <= 3600 or args.rate <= 0:
        parser.error("--duration must be in (0, 120], --soak in [0, 3600], --rate > 0")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    workers = [int(w) for w in args.workers.split(",")]
    signal.signal(signal.SIGTERM, _stop)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(f"gutaxis clinic benchmark: {args.users} virtual users, open loop at {args.rate:.0f} "
          f"requests/s, {args.soak or args.duration:.0f} s per phase, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    phases = [phase for backend in backends for w in workers
              for phase in run_configuration(backend, w, args)]
    print_table(phases, args.rate)
    if args.soak and any(p.errors for p in phases):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

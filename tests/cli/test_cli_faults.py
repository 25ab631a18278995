"""Faults through the command line: a Dask worker process SIGKILLed while ``gutaxis
permanova --scheduler ADDRESS`` has tasks running on it.

The cluster is a real LocalCluster of 2 worker processes (each under a nanny, which starts
a new worker when one dies), started in this test module; the command runs in-process
(typer's CliRunner). A thread watches the scheduler and kills a worker process (its pid,
SIGKILL) as soon as it is processing one of the command's permutation tasks.

- One worker killed once, or both at once: Dask reruns the tasks on the other (or the
  restarted) workers, the shared Gower matrix sent again when its holders all died; the
  command exits 0 and writes the local run's files. Reference: the same command with
  ``--backend local`` (the one-process PERMANOVA, tested against vegan in its own
  tests); F, sums of squares and R² to 1e-12 relative (the caller's BLAS may run two
  threads, the workers' one), p-values and dfs identical.
- Every worker that takes a task killed, again and again: the step is given up (the
  shared input lost more often than the back-end's retries, or a task's allowed failures
  exceeded); the command exits 2 with one line on standard error and leaves no output
  folder and no staging folder.

Each test stays under ~20 s: a 300-sample Euclidean matrix, 32,000 permutations in
batches of 2,000 (BATCH_ELEMENTS lowered in this process, where the batches are cut), so
the permutations run as 4 tasks of about a second each.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.data.distance import DistanceMatrix
from gutaxis.io.matrix import write_distance_matrix

pytest.importorskip("distributed")
runner = CliRunner()
PERMANOVA_MODULE = importlib.import_module("gutaxis.stats.community.permanova")
N, PERMUTATIONS, BATCH = 300, 32_000, 2_000
TASK = "_batches_of"  # gutaxis.compute.batches: the permutation tasks


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``gutaxis permanova`` arguments (without --out) on a simulated 300-sample matrix."""
    folder = tmp_path_factory.mktemp("job")
    rng = np.random.default_rng(1)
    points = rng.normal(size=(N, 5))
    ids = [f"s{i}" for i in range(N)]
    distances = np.sqrt(((points[:, None] - points[None]) ** 2).sum(axis=-1))
    write_distance_matrix(DistanceMatrix(ids, distances), folder / "d.tsv")
    meta = pd.DataFrame({"group": rng.choice(list("abc"), N), "x": rng.normal(size=N)},
                        index=pd.Index(ids, name="sample_id"))
    meta.to_csv(folder / "meta.tsv", sep="\t")
    return ["permanova", str(folder / "d.tsv"), "--metadata", str(folder / "meta.tsv"),
            "--formula", "group + x", "--permutations", str(PERMUTATIONS), "--seed", "3",
            "--no-plot"]


@pytest.fixture(autouse=True)
def batches_of_2000(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PERMANOVA_MODULE, "BATCH_ELEMENTS", N * 3 * BATCH)


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL) the processes of the workers seen processing a permutation task,
    ``together`` at a time (once that many are busy), at most ``limit`` in all, until
    :meth:`stop`."""

    def __init__(self, cluster: Any, *, limit: int, together: int = 1) -> None:
        super().__init__(daemon=True)
        self.cluster, self.limit, self.together = cluster, limit, together
        self.killed: list[int] = []
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while (not self._stop_event.is_set() and len(self.killed) < self.limit
               and time.monotonic() < deadline):
            pids = [p for p in self._busy_worker_pids() if p not in self.killed]
            if len(pids) >= self.together:
                for pid in pids[:self.together]:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
            time.sleep(0.005)

    def _busy_worker_pids(self) -> list[int]:
        try:  # the scheduler's state, read from this thread: may change while read
            busy = {ws.address for ws in list(self.cluster.scheduler.workers.values())
                    if any(str(ts.key).startswith(TASK) for ts in list(ws.processing))}
            pids = {n.worker_address: n.pid for n in list(self.cluster.workers.values())}
        except (RuntimeError, AttributeError):
            return []
        return [pids[a] for a in sorted(busy) if pids.get(a)]


def run_with_killer(args: list[str], cluster: Any, *, limit: int, together: int = 1
                    ) -> tuple[Any, list[int]]:
    killer = WorkerKiller(cluster, limit=limit, together=together)
    killer.start()
    try:
        result = runner.invoke(app, args)
    finally:
        killer.stop()
    return result, killer.killed


def restore(cluster: Any) -> None:
    """Wait for the nannies to bring both workers back (for the next test)."""
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        client.wait_for_workers(2, timeout=30)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


@pytest.mark.parametrize("together", [1, 2], ids=["one worker", "both workers at once"])
def test_workers_killed_mid_permanova_give_the_local_files(job, dask_cluster, scheduler,
                                                           tmp_path: Path,
                                                           together: int) -> None:
    """One worker: its tasks move to the other. Both at once: the shared Gower matrix
    dies with them too, and is sent again to the new workers."""
    local, dask = tmp_path / "local", tmp_path / "dask"
    result = runner.invoke(app, [*job, "--backend", "local", "--out", str(local)])
    assert result.exit_code == 0, result.output
    result, killed = run_with_killer([*job, "--scheduler", scheduler, "--out", str(dask)],
                                     dask_cluster, limit=together, together=together)
    restore(dask_cluster)
    assert len(killed) == together, "no worker was seen running a permutation task"
    for pid in killed:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # really gone
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dask.iterdir()) == sorted(p.name for p in local.iterdir())
    expected, got = read(local / "permanova.tsv"), read(dask / "permanova.tsv")
    pd.testing.assert_frame_equal(got[["term", "df", "pval"]],
                                  expected[["term", "df", "pval"]], check_exact=True)
    for column in ("sum_of_squares", "r2", "f"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, atol=0)


def test_workers_that_keep_dying_are_one_line_and_exit_2(job, dask_cluster, scheduler,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "dask"
    result, killed = run_with_killer([*job, "--scheduler", scheduler, "--out", str(out)],
                                     dask_cluster, limit=30)
    restore(dask_cluster)
    assert len(killed) >= 3  # retries (2) + 1 losses of the input, or 3 + 1 task deaths
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert result.stdout.strip() == ""
    assert "PERMANOVA permutations failed on the Dask cluster: " in lines[0]
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # no output folder, no staging folder

"""The back-ends run the same blocks to the same answers; the Dask one on a real
LocalCluster of worker processes, surviving a worker killed mid-task."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from gutaxis.compute import DaskBackend, LocalBackend, get_backend
from gutaxis.compute.backend import ComputeError
from gutaxis.errors import InputError


def row_sums(rows: range, matrix: np.ndarray, *, scale: float = 1.0) -> np.ndarray:
    return matrix[rows.start:rows.stop].sum(axis=1) * scale


def fails(block: int) -> int:
    if block == 3:
        raise ValueError("block 3 is bad")
    return block


def dies_once(block: int, marker: str) -> int:
    """Kill this worker process the first time block 0 runs (the marker file remembers)."""
    flag = Path(marker)
    if block == 0 and not flag.exists():
        flag.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.05)
    return block * block


def test_local_and_dask_give_the_same_blocks_in_order(dask_backend: DaskBackend) -> None:
    matrix = np.random.default_rng(1).random((103, 7))
    blocks = [range(start, min(start + 10, 103)) for start in range(0, 103, 10)]
    local = LocalBackend().map(row_sums, blocks, matrix, scale=2.0)
    shared = dask_backend.share(matrix)
    remote = dask_backend.map(row_sums, blocks, shared, scale=2.0)
    assert dask_backend.n_workers == 2
    np.testing.assert_array_equal(np.concatenate(remote), np.concatenate(local))
    np.testing.assert_array_equal(np.concatenate(local), matrix.sum(axis=1) * 2.0)


def test_a_failing_task_is_one_clear_error(dask_backend: DaskBackend) -> None:
    with pytest.raises(ComputeError, match="row sums failed on the Dask cluster: "
                                           "ValueError: block 3 is bad"):
        dask_backend.map(fails, range(5), step="row sums")


def test_a_worker_killed_mid_task_is_retried_elsewhere(dask_backend: DaskBackend,
                                                       tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    assert dask_backend.map(dies_once, range(6), str(marker)) == [0, 1, 4, 9, 16, 25]
    assert marker.exists()  # a worker really died


def test_a_lost_shared_input_is_sent_again(dask_backend: DaskBackend) -> None:
    """A shared value the cluster lost (here: released by hand, as when every worker
    holding it dies) is scattered again from the handle and the step rerun."""
    matrix = np.random.default_rng(2).random((30, 4))
    shared = dask_backend.share(matrix)
    dask_backend.client.cancel(shared.future)
    assert shared.lost
    remote = dask_backend.map(row_sums, [range(0, 15), range(15, 30)], shared)
    np.testing.assert_array_equal(np.concatenate(remote), matrix.sum(axis=1))
    assert not shared.lost


def test_backend_names_and_scheduler_errors() -> None:
    assert isinstance(get_backend("local"), LocalBackend)
    with pytest.raises(InputError, match="unknown compute back-end"):
        get_backend("spark")
    with pytest.raises(InputError, match="needs the Dask back-end"):
        get_backend("local", scheduler="tcp://127.0.0.1:8786")
    unreachable = DaskBackend("tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        unreachable.client  # noqa: B018

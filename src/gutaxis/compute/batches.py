"""Row batches of a replicate matrix (bootstrap weights, permutations) on a back-end, cut
at the same boundaries wherever they run.

A resampling step draws all its replicates up front (one seeded generator), then
evaluates them ``batch`` rows at a time. :func:`map_row_batches` sends several whole
batches per task and the worker cuts them again at the same ``batch`` boundaries, so the
results are those of the one-process loop, batch for batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from gutaxis.compute.backend import Backend
from gutaxis.errors import InputError

__all__ = ["map_row_batches", "worker_count"]

R = TypeVar("R")


def map_row_batches(backend: Backend, func: Callable[..., R], rows: np.ndarray, *args: Any,
                    batch: int, step: str, **kwargs: Any) -> list[R]:
    """``[func(rows[a:a + batch], *args, **kwargs) for a in range(0, len(rows), batch)]``,
    computed on ``backend`` by tasks of whole batches (two tasks or more per worker).

    Parameters
    ----------
    backend
        Where the tasks run.
    func
        A module-level function of a block of rows (pickled to the workers).
    rows
        The replicate matrix, one replicate per row.
    *args, **kwargs
        Passed to every call; large inputs should be ``backend.share(...)`` handles.
    batch
        Rows per call of ``func``.
    step
        What is computed, for error messages.

    Examples
    --------
    >>> from gutaxis.compute import LocalBackend
    >>> map_row_batches(LocalBackend(), len, np.ones((5, 2)), batch=2, step="rows")
    [2, 2, 1]
    """
    if int(batch) < 1:
        raise InputError("a batch holds at least one row", field="batch", found=batch,
                         expected="a positive number of rows")
    total = len(rows)
    if total == 0:
        return []
    batches = -(-total // batch)
    per_task = batch * max(1, -(-batches // (2 * worker_count(backend))))
    blocks = [rows[start:start + per_task] for start in range(0, total, per_task)]
    parts = backend.map(_batches_of, blocks, func, batch, *args, step=step, **kwargs)
    return [result for part in parts for result in part]


def worker_count(backend: Backend) -> int:
    """The back-end's workers now, at least 1 (a cluster whose workers are restarting
    reports none for a moment; the tasks wait for them)."""
    return max(1, backend.n_workers)


def _batches_of(block: np.ndarray, func: Callable[..., R], batch: int, *args: Any,
                **kwargs: Any) -> list[R]:
    """One task: ``func`` of each ``batch`` rows of ``block``."""
    return [func(block[start:start + batch], *args, **kwargs)
            for start in range(0, len(block), batch)]

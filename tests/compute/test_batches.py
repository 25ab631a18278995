"""Row batches cut at the same boundaries wherever they run."""

from __future__ import annotations

import numpy as np
import pytest

from gutaxis.compute import LocalBackend
from gutaxis.compute.batches import map_row_batches
from gutaxis.errors import InputError


def first_rows(block: np.ndarray, scale: float) -> tuple[int, float]:
    return len(block), float(block[0, 0]) * scale


class Workers4(LocalBackend):
    """A local back-end that says it has 4 workers (tasks of fewer batches)."""

    @property
    def n_workers(self) -> int:
        return 4


@pytest.mark.parametrize("backend", [LocalBackend(), Workers4()])
@pytest.mark.parametrize("total", [1, 7, 10, 23])
def test_batches_are_those_of_a_plain_loop(backend: LocalBackend, total: int) -> None:
    rows = np.arange(total * 2, dtype=float).reshape(total, 2)
    expected = [first_rows(rows[a:a + 3], 2.0) for a in range(0, total, 3)]
    assert map_row_batches(backend, first_rows, rows, 2.0, batch=3, step="t") == expected


def test_no_rows_no_batch_and_a_bad_batch_size() -> None:
    assert map_row_batches(LocalBackend(), first_rows, np.empty((0, 2)), 1.0, batch=3,
                           step="t") == []
    with pytest.raises(InputError, match="at least one row"):
        map_row_batches(LocalBackend(), first_rows, np.ones((3, 2)), 1.0, batch=0, step="t")

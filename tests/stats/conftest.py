"""Fixtures shared by the stats tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from assoc_data import Hmp2


@pytest.fixture(scope="session")
def hmp2(hmp2_dir: Path) -> Hmp2:
    """The HMP2 mixed-model inputs, loaded once for the LMM tests."""
    return Hmp2(hmp2_dir)


@pytest.fixture(scope="module")
def dask_backend():
    """A real Dask LocalCluster of 2 worker processes (one per test module), for the
    tests that compare the Dask back-end with local runs."""
    from gutaxis.compute import DaskBackend

    backend = DaskBackend(n_workers=2, retries=2)
    yield backend
    backend.close()

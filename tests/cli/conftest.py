"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    """A real Dask LocalCluster of 2 worker processes (one per test module), for the
    commands run with ``--scheduler``."""
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def scheduler(dask_cluster: Any) -> str:
    """The address of the module's :func:`dask_cluster`."""
    return str(dask_cluster.scheduler_address)

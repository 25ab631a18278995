"""Fixtures shared by the gut tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def dask_backend():
    """A LocalCluster of 2 worker processes, one per test module (blocks and bands run
    there and are compared with the in-memory functions)."""
    from gutaxis.compute import DaskBackend

    with DaskBackend(n_workers=2, retries=1) as backend:
        yield backend

"""Pairwise PERMANOVA on a back-end and on a distance store equals the one-process,
in-memory run on the fibromyalgia cohort (Bray-Curtis, 101 samples, four groups: six
pairs).

Tolerances: each pair is :func:`permanova`'s backend path (batches of the permutations
drawn in the caller): F and the sums of squares to 1e-12 relative (the workers' BLAS runs
one thread, the caller's may run several: reassociation only), p-values identical. The
store path sums the quadratic forms band by band: the same 1e-12 relative, p-values
identical (as ``test_permanova_stored.py``). One LocalCluster of 2 worker processes.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
import vegan_fixtures as vf

from gutaxis.stats.community.pairwise import pairwise_permanova

pytest.importorskip("distributed")
PERMANOVA_MODULE = importlib.import_module("gutaxis.stats.community.permanova")
RTOL = 1e-12
NUMBERS = ["sum_of_squares", "r2", "f"]
EXACT = ["group1", "group2", "n1", "n2", "df", "pval", "padj"]


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several permutation batches per pair (and per task), the last one short."""
    monkeypatch.setattr(PERMANOVA_MODULE, "BATCH_ELEMENTS", 101 * 60)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got[EXACT], expected[EXACT], check_exact=True)
    for column in NUMBERS:
        np.testing.assert_allclose(got[column], expected[column], rtol=RTOL, atol=0,
                                   err_msg=column)


def test_pairs_on_dask_equal_the_local_pairs(stored, dask_backend, small_batches) -> None:
    dm, meta = stored.to_distance_matrix(), vf.metadata("fibromyalgia")
    kwargs = {"column": "group", "permutations": 299, "seed": 7}
    local = pairwise_permanova(dm, meta, **kwargs)
    remote = pairwise_permanova(dm, meta, **kwargs, backend=dask_backend)
    assert len(local.table) == 6
    assert local.table["pval"].nunique() > 2  # the p-values say something
    _same(remote.table, local.table)


def test_pairs_on_a_store_equal_the_in_memory_pairs(stored, dask_backend,
                                                    small_batches) -> None:
    """Samples with a missing group and a stratum column: the same samples and
    permutations whether the store or the matrix is read."""
    meta = vf.metadata("fibromyalgia").copy()
    meta.loc[meta.index[[3, 40]], "group"] = np.nan
    meta["site"] = np.arange(len(meta)) % 2  # integer strata
    kwargs = {"column": "group", "permutations": 199, "seed": 2, "strata": "site"}
    memory = pairwise_permanova(stored.to_distance_matrix(), meta, **kwargs)
    for backend in (None, dask_backend):
        found = pairwise_permanova(stored, meta, **kwargs, backend=backend)
        _same(found.table, memory.table)
        assert found.notes == memory.notes and "2 sample(s) left out" in found.notes[0]

"""PERMANOVA of a stored distance matrix (read band by band, never whole) equals the
in-memory PERMANOVA of the same matrix: same permutations, F and permuted F to 1e-12
relative (the stored path sums the quadratic forms band by band, without centring the
matrix: floating-point reassociation only), p-values equal. On a real LocalCluster of
two worker processes, and locally; bands of 16 rows so the 101 samples are 7 bands."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import vegan_fixtures as vf

from gutaxis.compute import DaskBackend, LocalBackend
from gutaxis.data.profile import ProfileTable
from gutaxis.gut.distance_store import distance_matrix_to_store
from gutaxis.stats.community import permanova

PERMANOVA_MODULE = importlib.import_module("gutaxis.stats.community.permanova")
FIBRO = "group + covariate_age + covariate_imc + covariate_sii"
RTOL = 1e-12


@pytest.fixture(scope="module")
def dask() -> DaskBackend:
    backend = DaskBackend(n_workers=2, retries=1)
    yield backend
    backend.close()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 240 // k permutations: several batches per band task, the last short."""
    monkeypatch.setattr(PERMANOVA_MODULE, "BATCH_ELEMENTS", 101 * 240)


def _same(stored_result, memory_result) -> None:
    np.testing.assert_allclose(stored_result.f_permuted, memory_result.f_permuted,
                               rtol=RTOL, atol=0)
    for column in ("sum_of_squares", "r2", "f"):
        np.testing.assert_allclose(stored_result.table[column], memory_result.table[column],
                                   rtol=RTOL, atol=0)
    np.testing.assert_array_equal(stored_result.table["pval"], memory_result.table["pval"])
    np.testing.assert_array_equal(stored_result.table["df"], memory_result.table["df"])
    assert stored_result.n == memory_result.n
    assert stored_result.notes == memory_result.notes


@pytest.mark.parametrize("by", ["terms", "margin"])
def test_stored_on_dask_equals_in_memory(stored, dask, small_batches, by) -> None:
    meta = vf.metadata("fibromyalgia")
    kwargs = {"formula": FIBRO, "by": by, "permutations": 999, "seed": 3}
    memory = permanova(stored.to_distance_matrix(), meta, **kwargs)
    remote = permanova(stored, meta, **kwargs, backend=dask)
    _same(remote, memory)
    assert remote.metric == "braycurtis"
    assert np.unique(remote.f_permuted[:, 0]).size > 900  # 999 distinct permutations ran


def test_stored_local_and_dask_agree_bit_for_bit(stored, dask, small_batches) -> None:
    """The bands' partial traces are added in band order on every back-end (at this size
    the band products use one BLAS thread everywhere, so the numbers are identical)."""
    meta = vf.metadata("fibromyalgia")
    kwargs = {"formula": "group + covariate_age", "permutations": 199, "seed": 11}
    here = permanova(stored, meta, **kwargs)
    local = permanova(stored, meta, **kwargs, backend=LocalBackend())
    remote = permanova(stored, meta, **kwargs, backend=dask)
    for result in (local, remote):
        np.testing.assert_array_equal(result.f_permuted, here.f_permuted)
        pd.testing.assert_frame_equal(result.table, here.table, check_exact=True)


def test_samples_with_missing_values_are_left_out_of_the_store_sums(stored, dask) -> None:
    """Samples with no value are zero in the basis: equal to the in-memory subset."""
    meta = vf.metadata("fibromyalgia").copy()
    meta.loc[meta.index[[0, 17, 50]], "covariate_age"] = np.nan
    kwargs = {"formula": "group + covariate_age", "permutations": 299, "seed": 5,
              "strata": None}
    memory = permanova(stored.to_distance_matrix(), meta, **kwargs)
    remote = permanova(stored, meta, **kwargs, backend=dask)
    assert remote.n == 98
    _same(remote, memory)


def test_vegans_permutations_on_the_store(stored) -> None:
    """Given permutations (vegan's own) run unchanged on the stored path."""
    meta = vf.metadata("fibromyalgia")
    kwargs = {"formula": "group", "permutations": vf.permutations("fibromyalgia")}
    _same(permanova(stored, meta, **kwargs),
          permanova(stored.to_distance_matrix(), meta, **kwargs))


def test_no_square_matrix_is_held(tmp_path, monkeypatch) -> None:
    """1,500 simulated samples (an 18 MB square matrix), bands of 100 rows, batches of 20
    permutations: the traced peak of the stored PERMANOVA in this process (6.1 MB: a band
    read and squared, zarr's buffers, the permutations, one batch) stays under half the
    square matrix, while the in-memory PERMANOVA's exceeds it (so the
    measurement can tell them apart); the results agree as above."""
    import tracemalloc

    rng = np.random.default_rng(4)
    n, m = 1_500, 200
    types = rng.dirichlet(np.full(m, 0.05), size=4)
    counts = rng.poisson(rng.dirichlet(np.full(4, 0.3), size=n) @ types * 2_000.0) + 1.0
    ids = [f"s{i}" for i in range(n)]
    table = ProfileTable(sp.csr_array(counts), ids, [f"f{j}" for j in range(m)])
    meta = pd.DataFrame({"group": rng.choice(["a", "b"], n), "x": rng.normal(size=n)},
                        index=ids)
    stored = distance_matrix_to_store(table, "braycurtis", tmp_path / "bc.zarr", band=100)
    monkeypatch.setattr(PERMANOVA_MODULE, "BATCH_ELEMENTS", n * 2 * 20)
    kwargs = {"formula": "group + x", "permutations": 99, "seed": 2}
    square = n * n * 8
    tracemalloc.start()
    try:
        found = permanova(stored, meta, **kwargs)
        _, stored_peak = tracemalloc.get_traced_memory()
        dm = stored.to_distance_matrix()
        tracemalloc.reset_peak()
        expected = permanova(dm, meta, **kwargs)
        _, memory_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored_peak < square / 2, (stored_peak, square)
    assert memory_peak > square
    np.testing.assert_allclose(found.f_permuted, expected.f_permuted, rtol=1e-10, atol=0)

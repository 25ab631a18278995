"""Distance stores, randomised PCoA and blocked alpha diversity on a real LocalCluster.

References: the in-memory gutaxis functions (themselves tested against scikit-bio and
scipy), dense NumPy products of the loaded matrix, and the dense eigendecomposition of
:func:`gutaxis.gut.ordination.pcoa`. Data: the fibromyalgia cohort (101 samples x 6,993
ASVs with its tree) and a seeded simulated table of 2,000 samples.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.compute import DaskBackend, LocalBackend
from gutaxis.compute.backend import ComputeError
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.alpha import alpha_diversity
from gutaxis.gut.alpha_blocks import alpha_diversity_blocks
from gutaxis.gut.beta import beta_diversity
from gutaxis.gut.distance_store import (
    STORED_METRICS,
    distance_matrix_to_store,
    open_distance_store,
)
from gutaxis.gut.ordination import pcoa
from gutaxis.gut.pcoa_stored import pcoa_stored
from gutaxis.io.newick import read_newick

#: metrics whose band kernel is the whole-matrix kernel itself (bit-for-bit equal)
EXACT = {"jaccard", "aitchison"}


@pytest.fixture(scope="module")
def cohort(fibromyalgia_dir: Path) -> ProfileTable:
    frame = pd.read_csv(fibromyalgia_dir / "feature-table.tsv.gz", sep="\t", index_col=0)
    tree = read_newick(fibromyalgia_dir / "tree.nwk")
    return ProfileTable(sp.csr_array(frame.to_numpy(dtype=float).T), frame.columns.astype(str),
                        frame.index.astype(str), tree=tree)


def simulated(n: int, n_features: int = 300, seed: int = 3) -> ProfileTable:
    """Seeded counts from four community types (clear leading PCoA axes)."""
    rng = np.random.default_rng(seed)
    types = rng.dirichlet(np.full(n_features, 0.05), size=4)
    mixing = rng.dirichlet(np.full(4, 0.3), size=n)
    counts = rng.poisson(mixing @ types * 3_000.0)
    counts[:, 0] += 1  # no empty sample
    return ProfileTable(sp.csr_array(counts.astype(float)), [f"s{i}" for i in range(n)],
                        [f"f{j}" for j in range(n_features)])


@pytest.mark.realdata
@pytest.mark.parametrize("metric", STORED_METRICS)
def test_stored_metric_equals_the_in_memory_metric(
        metric: str, cohort: ProfileTable, dask_backend: DaskBackend, tmp_path: Path) -> None:
    stored = distance_matrix_to_store(cohort, metric, tmp_path / "d.zarr",
                                      backend=dask_backend, band=16)  # 7 bands, last short
    expected = beta_diversity(cohort, metric).data
    raw = stored.band(range(0, cohort.n_samples))  # as written, before any symmetrising
    if metric in EXACT:
        np.testing.assert_array_equal(raw, expected)
    else:  # same kernel; (i, j) and (j, i) may add their terms in other orders
        np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-12)
    found = stored.to_distance_matrix()
    assert found.metric == metric
    assert list(found.ids) == list(cohort.sample_ids)
    local = distance_matrix_to_store(cohort, metric, tmp_path / "local.zarr", band=16)
    np.testing.assert_array_equal(local.band(range(0, cohort.n_samples)), raw)


@pytest.mark.realdata
def test_open_band_products_and_summary(cohort: ProfileTable, tmp_path: Path) -> None:
    written = distance_matrix_to_store(cohort, "braycurtis", tmp_path / "bc.zarr", band=40)
    stored = open_distance_store(tmp_path / "bc.zarr")
    assert (stored.n, stored.metric, stored.band_rows) == (101, "braycurtis", 40)
    assert [len(rows) for rows in stored.bands()] == [40, 40, 21]
    dense = written.to_distance_matrix().data
    np.testing.assert_array_equal(stored.band(range(40, 80)), dense[40:80])
    x = np.random.default_rng(0).standard_normal((101, 3))
    np.testing.assert_allclose(stored.matvec(x), dense @ x, rtol=1e-12)
    np.testing.assert_allclose(stored.rmatvec(x, squared=True), (dense ** 2).T @ x, rtol=1e-12)
    assert "braycurtis distances between 101 samples" in stored.summary()
    with pytest.raises(InputError, match="too large to load as one matrix"):
        stored.to_distance_matrix(limit=100)
    assert stored.to_frame(range(0, 2)).shape == (2, 101)


def test_an_existing_path_is_refused_and_left_alone(tmp_path: Path) -> None:
    table = simulated(30)
    target = tmp_path / "d.zarr"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(InputError, match="already exists"):
        distance_matrix_to_store(table, "braycurtis", target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_bad_input_fails_before_any_band_and_leaves_nothing(tmp_path: Path) -> None:
    table = simulated(30)
    with pytest.raises(InputError, match="unknown distance metric"):
        distance_matrix_to_store(table, "euclid", tmp_path / "x.zarr")
    with pytest.raises(InputError, match="needs a phylogenetic tree"):
        distance_matrix_to_store(table, "unweighted_unifrac", tmp_path / "u.zarr")
    empty = ProfileTable(sp.csr_array(np.array([[1.0, 0.0], [0.0, 0.0]])), ["a", "b"],
                         ["x", "y"])
    with pytest.raises(InputError, match="no reads"):
        distance_matrix_to_store(empty, "braycurtis", tmp_path / "e.zarr")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="no distance store here"):
        open_distance_store(tmp_path / "missing.zarr")


def test_a_cluster_killed_mid_write_leaves_no_store(tmp_path: Path) -> None:
    table = simulated(1_200, n_features=2_000)
    target = tmp_path / "bc.zarr"
    backend = DaskBackend(n_workers=2, retries=0)
    backend.client  # noqa: B018  (start the cluster before the clock matters)
    killed = threading.Event()

    def kill_when_a_band_is_written() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            written = [p for p in tmp_path.glob(".bc.zarr.partial-*/c/*/*")]
            if written:
                backend.close()
                killed.set()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_when_a_band_is_written)
    watcher.start()
    try:
        with pytest.raises(ComputeError) as raised:
            distance_matrix_to_store(table, "braycurtis", target, backend=backend, band=8)
    finally:
        watcher.join()
        backend.close()
    assert killed.is_set()  # the cluster really went away mid-write
    assert "braycurtis distance bands failed on the Dask cluster" in str(raised.value)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the partial store was removed too


def _assert_same_ordination(found: pd.DataFrame, expected: pd.DataFrame, values: pd.Series,
                            expected_values: pd.Series) -> None:
    np.testing.assert_allclose(values.to_numpy(), expected_values.to_numpy(), rtol=1e-6)
    scale = np.abs(expected.to_numpy()).max()
    np.testing.assert_allclose(np.abs(found.to_numpy()), np.abs(expected.to_numpy()),
                               rtol=0, atol=1e-6 * scale)


@pytest.mark.realdata
def test_randomised_pcoa_equals_dense_pcoa_on_the_cohort(
        cohort: ProfileTable, dask_backend: DaskBackend, tmp_path: Path) -> None:
    stored = distance_matrix_to_store(cohort, "aitchison", tmp_path / "a.zarr",
                                      backend=dask_backend, band=32)
    dense = pcoa(beta_diversity(cohort, "aitchison"), n_components=5)
    found = pcoa_stored(stored, n_components=5, oversample=30, n_iter=40,
                        backend=dask_backend)
    assert found.method == "PCoA (randomised)"
    _assert_same_ordination(found.coordinates, dense.coordinates, found.eigenvalues,
                            dense.eigenvalues)
    np.testing.assert_allclose(found.proportion_explained, dense.proportion_explained,
                               rtol=1e-6)


def test_randomised_pcoa_equals_dense_pcoa_on_2000_simulated_samples(tmp_path: Path) -> None:
    table = simulated(2_000)
    stored = distance_matrix_to_store(table, "braycurtis", tmp_path / "bc.zarr", band=256)
    dense = pcoa(stored.to_distance_matrix(), n_components=5)
    found = pcoa_stored(stored, n_components=5, oversample=20, n_iter=10,
                        backend=LocalBackend())
    _assert_same_ordination(found.coordinates, dense.coordinates, found.eigenvalues,
                            dense.eigenvalues)


@pytest.mark.realdata
def test_alpha_by_blocks_on_the_cluster_equals_alpha(cohort: ProfileTable,
                                                     dask_backend: DaskBackend) -> None:
    expected = alpha_diversity(cohort)
    assert "faith_pd" in expected.columns
    found = alpha_diversity_blocks(cohort, backend=dask_backend, block=17)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


@pytest.fixture(scope="module")
def cohort_reader(cohort: ProfileTable, tmp_path_factory: pytest.TempPathFactory):
    """The cohort as a BIOM 2.1 HDF5 file, opened for reading in blocks of 30 samples
    (4 blocks, the last one short)."""
    from gutaxis.io.biom import write_biom
    from gutaxis.io.biom_blocks import open_biom_blocks

    path = tmp_path_factory.mktemp("biom") / "cohort.biom"
    write_biom(cohort, path)
    return open_biom_blocks(path, block=30)


@pytest.mark.realdata
@pytest.mark.parametrize("metric", STORED_METRICS)
def test_store_from_a_biom_reader_equals_the_in_memory_metric(
        metric: str, cohort: ProfileTable, cohort_reader, dask_backend: DaskBackend,
        tmp_path: Path) -> None:
    """Every metric from the block reader on the cluster (bands of 16 rows against blocks
    of 30 samples): Jaccard and Aitchison bit for bit (each entry is its two rows'
    arithmetic), the others to 1e-12 absolute, as from the table."""
    stored = distance_matrix_to_store(cohort_reader, metric, tmp_path / "d.zarr",
                                      backend=dask_backend, band=16, tree=cohort.tree)
    expected = beta_diversity(cohort, metric).data
    raw = stored.band(range(0, cohort.n_samples))
    if metric in EXACT:
        np.testing.assert_array_equal(raw, expected)
    else:
        np.testing.assert_allclose(raw, expected, rtol=0, atol=1e-12)
    assert list(stored.ids) == list(cohort.sample_ids)


@pytest.mark.realdata
@pytest.mark.parametrize("metric", ["jaccard", "aitchison", "weighted_normalized_unifrac"])
def test_store_from_a_biom_reader_in_this_process(
        metric: str, cohort: ProfileTable, cohort_reader, tmp_path: Path) -> None:
    stored = distance_matrix_to_store(cohort_reader, metric, tmp_path / "d.zarr",
                                      backend=LocalBackend(), band=40, tree=cohort.tree)
    expected = beta_diversity(cohort, metric).data
    raw = stored.band(range(0, cohort.n_samples))
    np.testing.assert_allclose(raw, expected, rtol=0, atol=0 if metric in EXACT else 1e-12)


def test_unifrac_from_a_reader_without_a_tree_is_refused(cohort_reader, tmp_path: Path
                                                         ) -> None:
    with pytest.raises(InputError, match="tree"):
        distance_matrix_to_store(cohort_reader, "unweighted_unifrac", tmp_path / "u.zarr")
    assert not (tmp_path / "u.zarr").exists()

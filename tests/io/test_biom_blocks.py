"""BIOM 2.1 HDF5 read by blocks of samples: the blocks stacked are read_biom's table
exactly (values, ids, kind, taxonomy), on a file written by biom-format itself (Crawford
et al. 2009, from the unifrac package's tests: tests/reference/unifrac/README.md) and on
files without gutaxis's kind mark (the kind inferred over all blocks); reading by blocks
holds a fraction of the table (tracemalloc); alpha diversity from a reader on a real
LocalCluster equals alpha_diversity of the whole table bit for bit."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from biom import Table

from gutaxis.compute import DaskBackend
from gutaxis.errors import InputError
from gutaxis.gut.alpha import alpha_diversity
from gutaxis.gut.alpha_blocks import alpha_diversity_blocks
from gutaxis.io.biom import read_biom, write_biom
from gutaxis.io.biom_blocks import iter_biom_blocks, open_biom_blocks

CRAWFORD = Path(__file__).parents[1] / "reference" / "unifrac" / "crawford.biom"


def _foreign_biom(path: Path, values: np.ndarray) -> Path:
    """``values`` (samples x features) written by biom-format alone (no gutaxis mark)."""
    n, m = values.shape
    table = Table(sp.csr_matrix(values.T), [f"f{j}" for j in range(m)],
                  [f"s{i}" for i in range(n)])
    with h5py.File(path, "w") as h5:
        table.to_hdf5(h5, "test")
    return path


def _stacked_equals_read_biom(path: Path, block: int) -> None:
    whole = read_biom(path)
    blocks = list(iter_biom_blocks(path, block=block))
    assert [b.n_samples for b in blocks][:-1] == [block] * (len(blocks) - 1)
    stacked = sp.vstack([b.values for b in blocks]).toarray()
    np.testing.assert_array_equal(stacked, whole.values.toarray())  # exact
    np.testing.assert_array_equal(np.concatenate([b.sample_ids for b in blocks]),
                                  whole.sample_ids)
    for b in blocks:
        np.testing.assert_array_equal(b.feature_ids, whole.feature_ids)
        assert b.kind == whole.kind
        if whole.taxonomy is None:
            assert b.taxonomy is None
        else:
            pd.testing.assert_frame_equal(b.taxonomy, whole.taxonomy)


@pytest.mark.parametrize("block", [1, 2, 4, 9, 50])
def test_crawford_blocks_stack_to_read_biom(block) -> None:
    _stacked_equals_read_biom(CRAWFORD, block)
    assert read_biom(CRAWFORD).taxonomy is not None  # the taxonomy path is exercised


def test_percentages_without_a_mark_are_scaled_as_read_biom(tmp_path) -> None:
    """Only one block holds a sample summing to > 1: the kind and scale (0.01) come from
    the whole file, not from the block."""
    rng = np.random.default_rng(2)
    values = rng.dirichlet(np.full(30, 0.3), size=12)
    values[7] *= 100.0  # one percentage sample -> the whole table is percentages
    path = _foreign_biom(tmp_path / "pct.biom", values)
    assert read_biom(path).kind == "relative"
    _stacked_equals_read_biom(path, block=5)
    assert open_biom_blocks(path, block=5).scale == 0.01


def test_reading_by_blocks_holds_a_fraction_of_the_table(tmp_path) -> None:
    """4,000 samples x 2,000 features, 10% nonzero (800,000 values, ~9.6 MB as CSR):
    blocks of 100 samples keep the peak of traced allocations under a quarter of the
    table's CSR size (a block is 1/40 of it); read_biom's peak is above the table size."""
    rng = np.random.default_rng(5)
    counts = sp.random(4_000, 2_000, density=0.1, format="csr", random_state=rng,
                       data_rvs=lambda k: rng.integers(1, 50, k).astype(float))
    path = tmp_path / "big.biom"
    write_biom(_profile(counts), path)
    size = counts.data.nbytes + counts.indices.nbytes + counts.indptr.nbytes
    tracemalloc.start()
    try:
        reader = open_biom_blocks(path, block=100)
        total = 0.0
        for table in reader:
            total += float(table.values.sum())
        _, blocks_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = read_biom(path)
        _, whole_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == float(counts.sum()) == float(whole.values.sum())
    assert blocks_peak < size / 4, (blocks_peak, size)
    assert whole_peak > size  # the comparison can fail: the whole read does hold it


def _profile(values: sp.csr_array):
    from gutaxis.data.profile import ProfileTable

    return ProfileTable(sp.csr_array(values), [f"s{i}" for i in range(values.shape[0])],
                        [f"f{j}" for j in range(values.shape[1])])


def test_alpha_from_a_reader_on_dask_equals_the_whole_table() -> None:
    reader = open_biom_blocks(CRAWFORD, block=2)
    metrics = ["observed_features", "shannon", "simpson", "chao1", "pielou_evenness"]
    expected = alpha_diversity(read_biom(CRAWFORD), metrics=metrics)
    with DaskBackend(n_workers=2, retries=1) as backend:
        found = alpha_diversity_blocks(reader, metrics=metrics, backend=backend)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


def test_json_biom_is_refused_with_the_way_out(tmp_path) -> None:
    path = tmp_path / "t.biom"
    write_biom(_profile(sp.csr_array([[1.0, 2.0], [3.0, 0.0]])), path, format="json")
    with pytest.raises(InputError, match="HDF5"):
        open_biom_blocks(path)


def test_negative_values_are_refused_naming_the_sample(tmp_path) -> None:
    values = np.arange(12, dtype=float).reshape(4, 3)
    values[3, 1] = -1.0
    path = _foreign_biom(tmp_path / "neg.biom", values)
    with pytest.raises(InputError, match="negative") as info:
        open_biom_blocks(path, block=2)
    assert "s3" in str(info.value)


def test_braycurtis_store_from_a_reader_equals_the_store_of_the_table(tmp_path) -> None:
    """Bands whose columns are read block by block (blocks of 4 samples, bands of 2 rows,
    on two worker processes): the same values as the store of the whole table, bit for
    bit (each pair's sum of minima is the same arithmetic in either)."""
    from gutaxis.gut.distance_store import distance_matrix_to_store

    reader = open_biom_blocks(CRAWFORD, block=4)
    expected = distance_matrix_to_store(read_biom(CRAWFORD), "braycurtis",
                                        tmp_path / "whole.zarr", band=2)
    with DaskBackend(n_workers=2, retries=1) as backend:
        found = distance_matrix_to_store(reader, "braycurtis", tmp_path / "read.zarr",
                                         band=2, backend=backend)
    np.testing.assert_array_equal(found.ids, expected.ids)
    np.testing.assert_array_equal(found.to_distance_matrix().data,
                                  expected.to_distance_matrix().data)


def test_gutaxis_written_biom_with_empty_ranks_reads_back_by_blocks(tmp_path) -> None:
    """write_biom's taxonomy (empty ranks as bare prefixes) and kind mark, by blocks."""
    path = tmp_path / "crawford.biom"
    write_biom(read_biom(CRAWFORD), path)
    assert read_biom(path).taxonomy["species"].isna().any()
    _stacked_equals_read_biom(path, block=4)

"""BIOM: tables written by biom-format read right, tables written by gutaxis read by
biom-format equal, round trips exact in both JSON and HDF5."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import biom
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.profile import RANKS, ProfileTable
from gutaxis.errors import InputError
from gutaxis.io import read_biom, read_delimited, read_taxonomy, write_biom


@pytest.fixture(scope="module")
def fibromyalgia(fibromyalgia_dir: Path) -> ProfileTable:
    table = read_delimited(fibromyalgia_dir / "feature-table.tsv.gz")
    return replace(table, taxonomy=read_taxonomy(fibromyalgia_dir / "taxonomy.tsv.gz"))


def _assert_equal(a: ProfileTable, b: ProfileTable) -> None:
    assert list(a.sample_ids) == list(b.sample_ids)
    assert list(a.feature_ids) == list(b.feature_ids)
    assert a.kind == b.kind
    assert (a.values != b.values).nnz == 0
    if a.taxonomy is None or b.taxonomy is None:
        assert a.taxonomy is None and b.taxonomy is None
    else:
        pd.testing.assert_frame_equal(a.taxonomy[list(RANKS)], b.taxonomy[list(RANKS)])


def _biom_reads_back(table: ProfileTable, path: Path) -> None:
    """biom-format itself reads the file gutaxis wrote and finds the same table."""
    other = biom.load_table(str(path))
    assert list(other.ids(axis="sample")) == list(table.sample_ids)
    assert list(other.ids(axis="observation")) == list(table.feature_ids)
    np.testing.assert_array_equal(other.matrix_data.T.toarray(), table.dense())


@pytest.mark.realdata
@pytest.mark.parametrize("fmt", ["hdf5", "json"])
def test_fibromyalgia_round_trip_and_biom_format_agrees(
    fibromyalgia: ProfileTable, tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "fbm.biom"
    write_biom(fibromyalgia, path, format=fmt)
    back = read_biom(path)
    assert back.shape == (101, 6993)
    _assert_equal(back, fibromyalgia)
    _biom_reads_back(fibromyalgia, path)
    lineage = biom.load_table(str(path)).metadata(axis="observation")[0]["taxonomy"]
    assert lineage == ["k__Eukaryota", "p__", "c__", "o__", "f__", "g__", "s__"]


@pytest.mark.realdata
@pytest.mark.parametrize("fmt", ["hdf5", "json"])
def test_hmp2_proportions_round_trip_exactly(hmp2_dir: Path, tmp_path: Path, fmt: str) -> None:
    table = read_delimited(hmp2_dir / "HMP2_taxonomy.tsv.gz", orientation="samples-rows")
    path = tmp_path / "hmp2.biom"
    write_biom(table, path, format=fmt)
    back = read_biom(path)
    assert back.kind == "relative"
    _assert_equal(back, table)
    _biom_reads_back(table, path)


@pytest.mark.realdata
@pytest.mark.parametrize("fmt", ["hdf5", "json"])
def test_reads_tables_written_by_biom_format(
    fibromyalgia: ProfileTable, tmp_path: Path, fmt: str
) -> None:
    """Independent writer: biom-format's own HDF5 and JSON serialisers."""
    tax = fibromyalgia.taxonomy
    assert tax is not None
    metadata = [
        {"taxonomy": [f"{r[0]}__{'' if pd.isna(v) else v}" for r, v in zip(RANKS, row,
                                                                         strict=True)]}
        for row in tax[list(RANKS)].itertuples(index=False)
    ]
    table = biom.Table(sp.csr_matrix(fibromyalgia.values.T), list(fibromyalgia.feature_ids),
                       list(fibromyalgia.sample_ids), observation_metadata=metadata)
    path = tmp_path / f"other.{fmt}"
    if fmt == "hdf5":
        with h5py.File(path, "w") as h5:
            table.to_hdf5(h5, "biom-format test")
    else:
        path.write_text(table.to_json("biom-format test"))
    _assert_equal(read_biom(path), fibromyalgia)


def test_dense_biom_1_json_with_string_taxonomy(tmp_path: Path) -> None:
    document = {
        "id": None, "format": "Biological Observation Matrix 1.0.0",
        "format_url": "http://biom-format.org", "type": "OTU table",
        "generated_by": "hand", "date": "2012-01-01T00:00:00",
        "matrix_type": "dense", "matrix_element_type": "int", "shape": [2, 3],
        "data": [[0, 5, 1], [2, 0, 0]],
        "rows": [
            {"id": "OTU1", "metadata": {"taxonomy": "k__Bacteria; p__Firmicutes; c__"}},
            {"id": "OTU2", "metadata": None},
        ],
        "columns": [{"id": s, "metadata": None} for s in ("S1", "S2", "S3")],
    }
    path = tmp_path / "dense.biom"
    path.write_text(json.dumps(document))
    table = read_biom(path)
    assert table.kind == "counts"
    np.testing.assert_array_equal(table.dense(), [[0, 2], [5, 0], [1, 0]])
    assert table.taxonomy is not None
    assert table.taxonomy.loc["OTU1", "phylum"] == "Firmicutes"
    assert pd.isna(table.taxonomy.loc["OTU1", "class"])
    assert table.taxonomy.loc["OTU2"].isna().all()


# --------------------------------------------------------------------------- bad input
def test_json_that_is_not_biom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.biom"
    path.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a BIOM table") as info:
        read_biom(path)
    assert str(path) in str(info.value)


def test_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.biom"
    path.write_bytes(b"\x00\x01 not biom at all")
    with pytest.raises(InputError, match="not a BIOM file"):
        read_biom(path)


def test_negative_value_names_sample_and_feature(tmp_path: Path) -> None:
    table = biom.Table(np.array([[1.0, -2.0]]), ["OTU1"], ["S1", "S2"])
    path = tmp_path / "neg.biom"
    path.write_text(table.to_json("test"))
    with pytest.raises(InputError, match="negative value") as info:
        read_biom(path)
    assert info.value.column == "OTU1"
    assert "S2" in str(info.value.row)


def test_duplicate_sample_ids_are_refused(tmp_path: Path) -> None:
    document = {
        "id": None, "format": "Biological Observation Matrix 1.0.0", "format_url": "x",
        "type": "OTU table", "generated_by": "hand", "date": "2012-01-01",
        "matrix_type": "sparse", "matrix_element_type": "int", "shape": [1, 2],
        "data": [[0, 0, 1]], "rows": [{"id": "A", "metadata": None}],
        "columns": [{"id": "S", "metadata": None}, {"id": "S", "metadata": None}],
    }
    path = tmp_path / "dup.biom"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match="Duplicate sample IDs") as info:
        read_biom(path)
    assert str(path) in str(info.value)


def test_empty_biom_table_is_refused(tmp_path: Path) -> None:
    table = biom.Table(np.zeros((0, 0)), [], [])
    path = tmp_path / "empty.biom"
    path.write_text(table.to_json("test"))
    with pytest.raises(InputError, match="BIOM table is empty"):
        read_biom(path)


def test_unknown_write_format_leaves_no_file(tmp_path: Path) -> None:
    table = ProfileTable(sp.csr_array(np.eye(2)), ["s1", "s2"], ["f1", "f2"])
    with pytest.raises(InputError, match="unknown BIOM format"):
        write_biom(table, tmp_path / "t.biom", format="xml")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["hdf5", "json"])
def test_all_zero_table_round_trips(tmp_path: Path, fmt: str) -> None:
    """An empty sparse ``data`` list (JSON) is a table of zeros, not a broken file."""
    table = ProfileTable(sp.csr_array((2, 3)), ["s1", "s2"], ["f1", "f2", "f3"])
    write_biom(table, tmp_path / "t.biom", format=fmt)
    _assert_equal(read_biom(tmp_path / "t.biom", kind="counts"), table)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), m=st.integers(1, 6),
       fmt=st.sampled_from(["hdf5", "json"]), relative=st.booleans())
def test_biom_round_trip_is_exact(tmp_path_factory, seed, n, m, fmt, relative) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, size=(n, m)).astype(float)
    table = ProfileTable(sp.csr_array(counts), [f"s{i}" for i in range(n)],
                         [f"f{j}" for j in range(m)])
    if relative:
        table = table.relative()
    path = tmp_path_factory.mktemp("biom") / "t.biom"
    write_biom(table, path, format=fmt)
    _assert_equal(read_biom(path, kind=table.kind), table)


@pytest.mark.parametrize("fmt", ["hdf5", "json"])
def test_kind_survives_the_round_trip(tmp_path: Path, fmt: str) -> None:
    """Fractional counts and CLR values would not be recognised from the numbers alone."""
    fractional = ProfileTable(sp.csr_array(np.array([[10.5, 200.25], [0.0, 300.0]])),
                              ["s1", "s2"], ["f1", "f2"])
    clr = ProfileTable(sp.csr_array(np.array([[-1.0, 1.0], [0.5, -0.5]])), ["s1", "s2"],
                       ["f1", "f2"], kind="clr")
    for table in (fractional, clr):
        path = tmp_path / f"{table.kind}.biom"
        write_biom(table, path, format=fmt)
        _assert_equal(read_biom(path), table)
        _biom_reads_back(table, path)

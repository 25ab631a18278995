"""Delimited tables: real cohorts against a plain-Python parse, round trips, bad input."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.io import read_delimited, read_metadata, write_tsv


def _plain_parse(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Independent reference: the csv module and float(), no pandas."""
    with gzip.open(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    header, body = rows[0], rows[1:]
    values = np.array([[float(x) for x in r[1:]] for r in body])
    return header[1:], [r[0] for r in body], values


def _same(a: ProfileTable, b: ProfileTable) -> None:
    assert list(a.sample_ids) == list(b.sample_ids)
    assert list(a.feature_ids) == list(b.feature_ids)
    assert a.kind == b.kind
    assert (a.values != b.values).nnz == 0  # exact, not approximate


# ------------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_fibromyalgia_counts_match_plain_parse(fibromyalgia_dir: Path) -> None:
    path = fibromyalgia_dir / "feature-table.tsv.gz"
    table = read_delimited(path)
    samples, features, values = _plain_parse(path)
    assert table.shape == (101, 6993)
    assert table.kind == "counts"
    assert list(table.sample_ids) == samples
    assert list(table.feature_ids) == features
    np.testing.assert_array_equal(table.dense(), values.T)
    # depth range stated in the cohort's README
    assert table.sample_totals().min() == 7295
    assert table.sample_totals().max() == 135489


@pytest.mark.realdata
def test_hmp2_relative_samples_as_rows(hmp2_dir: Path) -> None:
    path = hmp2_dir / "HMP2_taxonomy.tsv.gz"
    meta = read_metadata(hmp2_dir / "HMP2_metadata.tsv")
    table = read_delimited(path, sample_ids=list(meta.index))
    features, samples, values = _plain_parse(path)
    assert table.shape == (1595, 87)
    assert list(table.feature_ids) == features
    assert table.kind == "relative"
    assert list(table.sample_ids) == samples
    np.testing.assert_array_equal(table.dense(), values)  # proportions kept as written
    assert read_delimited(path, orientation="samples-rows").shape == (1595, 87)


@pytest.mark.realdata
def test_real_tables_round_trip_tsv_losslessly(
    fibromyalgia_dir: Path, hmp2_dir: Path, tmp_path: Path
) -> None:
    counts = read_delimited(fibromyalgia_dir / "feature-table.tsv.gz")
    write_tsv(counts, tmp_path / "fbm.tsv.gz")
    _same(read_delimited(tmp_path / "fbm.tsv.gz"), counts)
    rel = read_delimited(hmp2_dir / "HMP2_taxonomy.tsv.gz", orientation="samples-rows")
    write_tsv(rel, tmp_path / "hmp2.tsv", orientation="samples-rows")
    _same(read_delimited(tmp_path / "hmp2.tsv"), rel)
    write_tsv(rel, tmp_path / "hmp2_t.tsv")
    _same(read_delimited(tmp_path / "hmp2_t.tsv"), rel)


def test_written_counts_are_integers_with_feature_id_header(tmp_path: Path) -> None:
    table = ProfileTable(sp.csr_array(np.array([[1.0, 0.0], [3.0, 4.0]])), ["s1", "s2"],
                         ["f1", "f2"])
    write_tsv(table, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text() == "feature_id\ts1\ts2\nf1\t1\t3\nf2\t0\t4\n"


# ----------------------------------------------------------------------- orientation
def test_orientation_from_sample_ids(write_text) -> None:
    path = write_text("t.tsv", "ID\ta\tb\tc\nS1\t1\t2\t3\nS2\t4\t5\t6\n")
    rows = read_delimited(path, sample_ids=["S1", "S2", "S9"])
    assert list(rows.sample_ids) == ["S1", "S2"]
    cols = read_delimited(path, sample_ids=["a", "b", "c"])
    assert list(cols.sample_ids) == ["a", "b", "c"]
    assert cols.values[0, 1] == 4


def test_orientation_from_header_names(write_text) -> None:
    features_rows = write_text("f.tsv", "#OTU ID\tS1\tS2\nASV1\t1\t2\n")
    assert list(read_delimited(features_rows).sample_ids) == ["S1", "S2"]
    samples_rows = write_text("s.tsv", "sample_id\tASV1\tASV2\nS1\t1\t2\n")
    assert list(read_delimited(samples_rows).sample_ids) == ["S1"]


def test_ambiguous_orientation_is_refused(write_text) -> None:
    path = write_text("t.tsv", "ID\ta\tb\nx\t1\t2\n")
    with pytest.raises(InputError, match="samples are rows or columns") as info:
        read_delimited(path)
    assert "t.tsv" in str(info.value)
    square = write_text("square.tsv", "ID\ta\tb\na\t1\t2\nb\t3\t4\n")
    with pytest.raises(InputError, match="2 row ids and 2 column ids match"):
        read_delimited(square, sample_ids=["a", "b"])


@pytest.mark.parametrize(("sample_ids", "says"), [
    (["S1", "S2"], "none of the metadata's sample ids"),
    (["A", "X1", "S1"], "only 1 of the metadata's sample ids"),
], ids=["no-overlap", "mostly-none"])
def test_metadata_ids_not_in_the_table_say_so_not_orientation(
        write_text, sample_ids: list[str], says: str) -> None:
    path = write_text("t.tsv", "ID\tX1\tX2\tX3\nA\t1\t2\t3\nB\t1\t2\t3\nC\t1\t2\t3\n")
    with pytest.raises(InputError) as info:
        read_delimited(path, sample_ids=sample_ids)
    text = str(info.value)
    assert says in text and "do the table and the metadata belong together" in text
    assert "rows or columns" not in text and "t.tsv" in text


def test_biom_convert_comment_and_hash_header(write_text) -> None:
    path = write_text(
        "t.txt", "# Constructed from biom file\n#OTU ID\tS1\tS2\nA\t1\t2\nB\t0\tx\n"
    )
    with pytest.raises(InputError) as info:
        read_delimited(path)
    err = info.value
    assert (err.row, err.column, err.found) == (4, "S2", "x")
    assert "'B'" in err.message


def test_csv_and_percentages(write_text) -> None:
    path = write_text("t.csv", "sample_id,a,b\nS1,25.5,74.5\nS2,50,40\n")
    table = read_delimited(path)
    assert table.kind == "relative"
    np.testing.assert_allclose(table.dense(), [[0.255, 0.745], [0.5, 0.4]], rtol=1e-15)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("text", "message", "row", "column", "found"),
    [
        ("feature_id\tS1\tS2\nA\t1\t2\nB\t3\tabc\n", "non-numeric value", 3, "S2", "abc"),
        ("feature_id\tS1\tS2\nA\t1\t-2\nB\t3\t4\n", "negative value", 2, "S2", -2.0),
        ("feature_id\tS1\tS2\nA\t1\t\nB\t3\t4\n", "empty cell", 2, "S2", ""),
        ("feature_id\tS1\tS2\nA\t1\t2\nB\tinf\t4\n", "not a finite number", 3, "S1", np.inf),
    ],
    ids=["non-numeric", "negative", "empty-cell", "infinite"],
)
def test_bad_cells_name_row_column_and_line(write_text, text, message, row, column,
                                            found) -> None:
    path = write_text("bad.tsv", text)
    with pytest.raises(InputError, match=message) as info:
        read_delimited(path)
    err = info.value
    assert err.source == str(path)
    assert (err.row, err.column) == (row, column)
    assert err.found == found
    assert "row of id" in err.message


def test_negative_allowed_for_transformed_kinds(write_text) -> None:
    path = write_text("clr.tsv", "feature_id\tS1\tS2\nA\t-1.5\t2\nB\t1.5\t-2\n")
    assert read_delimited(path, kind="clr").kind == "clr"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("feature_id\tS1\tS1\nA\t1\t2\n", "duplicate column ids"),
        ("feature_id\tS1\tS2\nA\t1\t2\nA\t3\t4\n", "duplicate row ids"),
        ("feature_id\tS1\tS2\n", "header but no rows"),
        ("feature_id\tS1\tS2\nA\t1\t2\t3\n", "rows of unequal length"),
        ("just one column\nA\n", "single column"),
        ("# only a comment\n", "only comment lines"),
        ("feature_id\tS1\tS2\nA\t0.5\t2000.25\n", "cannot tell what the values are"),
    ],
    ids=["dup-columns", "dup-rows", "no-rows", "ragged", "one-column", "comments", "kind"],
)
def test_malformed_tables_are_refused(write_text, text, match) -> None:
    path = write_text("bad.tsv", text)
    with pytest.raises(InputError, match=match) as info:
        read_delimited(path)
    assert str(path) in str(info.value)


def test_empty_file_is_refused(write_text) -> None:
    with pytest.raises(InputError, match="file is empty"):
        read_delimited(write_text("empty.tsv", ""))


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_delimited(tmp_path / "nope.tsv")


def test_writer_leaves_nothing_behind_on_failure(tmp_path: Path, monkeypatch) -> None:
    table = ProfileTable(sp.csr_array(np.eye(2)), ["s1", "s2"], ["f1", "f2"])
    target = tmp_path / "out.tsv"
    target.write_text("old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("gutaxis.io.delimited._format_rows", boom)
    with pytest.raises(OSError, match="disk full"):
        write_tsv(table, target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tsv"]


# ------------------------------------------------------------------------- properties
_ids = st.lists(st.text("abcXYZ_0123456789", min_size=1, max_size=6), min_size=1, max_size=6,
                unique=True).filter(lambda ids: not any(i.startswith("#") for i in ids))


@settings(max_examples=40, deadline=None)
@given(
    samples=_ids, features=_ids, seed=st.integers(0, 2**32 - 1),
    orientation=st.sampled_from(["samples-rows", "samples-columns"]),
    relative=st.booleans(),
)
def test_tsv_round_trip_is_exact(tmp_path_factory, samples, features, seed, orientation,
                                 relative) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(3.0, size=(len(samples), len(features))).astype(float)
    counts[counts < 2] = 0
    table = ProfileTable(sp.csr_array(counts), samples, features)
    if relative:
        table = table.relative()
    path = tmp_path_factory.mktemp("rt") / "t.tsv"
    write_tsv(table, path, orientation=orientation)
    back = read_delimited(path, orientation=orientation,
                          kind="relative" if relative else "counts")
    _same(back, table)


def test_ids_with_quotes_and_tabs_round_trip(tmp_path: Path) -> None:
    ids = ['plain', 'has "quote"', "has\ttab"]
    table = ProfileTable(sp.csr_array(np.array([[1.0, 2.0, 0.0]])), ["S1"], ids)
    write_tsv(table, tmp_path / "q.tsv")
    back = read_delimited(tmp_path / "q.tsv")
    assert list(back.feature_ids) == ids
    assert back.dense().tolist() == [[1.0, 2.0, 0.0]]


def test_windows_line_endings_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "crlf.tsv"
    path.write_bytes("\ufefffeature_id\tS1\tS2\r\nA\t1\t2\r\nB\t0\t5\r\n".encode())
    table = read_delimited(path)
    assert list(table.sample_ids) == ["S1", "S2"]
    assert table.dense().tolist() == [[1.0, 0.0], [2.0, 5.0]]


def test_a_functional_table_reads_back_what_its_values_are(tmp_path: Path) -> None:
    from dataclasses import replace

    ids = ["MGB001|g__Bacteroides", "MGB001|unclassified", "MGB005|g__Bacteroides"]
    strata = pd.DataFrame({"function": ["MGB001", "MGB001", "MGB005"],
                           "taxon": ["g__Bacteroides", "unclassified", "g__Bacteroides"]},
                          index=ids)
    table = ProfileTable(sp.csr_array(np.array([[1.5, 0.0, 2.25], [0.0, 3.0, 0.5]])),
                         ["s1", "s2"], ids, kind="relative", feature_type="module",
                         unit="CPM", strata=strata)
    path = tmp_path / "modules.tsv"
    write_tsv(table, path)
    assert path.read_text().splitlines()[0] == (
        "# gutaxis: feature_type=module unit=CPM kind=relative stratified=1")
    back = read_delimited(path)
    assert (back.feature_type, back.unit, back.kind) == ("module", "CPM", "relative")
    pd.testing.assert_frame_equal(back.strata, table.strata, check_names=False)
    np.testing.assert_array_equal(back.dense(), table.dense())
    with pytest.raises(InputError, match="the table says its values are relative"):
        read_delimited(path, kind="counts")
    plain = replace(table, kind="counts", unit=None, feature_type="taxon", strata=None)
    write_tsv(plain, path)
    assert path.read_text().startswith("feature_id\t")  # taxon tables stay as they were

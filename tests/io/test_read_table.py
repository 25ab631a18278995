"""read_table recognises every format by content and refuses the rest, listing them."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.io import TABLE_FORMATS, detect_table_format, read_table, write_biom, write_tsv


@pytest.fixture
def small() -> ProfileTable:
    return ProfileTable(sp.csr_array(np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 5.0]])),
                        ["S1", "S2"], ["f1", "f2", "f3"])


@pytest.mark.parametrize(
    ("name", "writer", "expected"),
    [
        ("t.biom", lambda t, p: write_biom(t, p, format="hdf5"), "biom"),
        ("t.json", lambda t, p: write_biom(t, p, format="json"), "biom"),
        ("t.biom.gz", lambda t, p: write_biom(t, p, format="json"), "biom"),
        ("t.tsv", write_tsv, "delimited"),
        ("t.tsv.gz", write_tsv, "delimited"),
        ("no_extension", write_tsv, "delimited"),
    ],
)
def test_formats_are_recognised_by_content(tmp_path: Path, small: ProfileTable, name, writer,
                                           expected) -> None:
    path = tmp_path / name
    writer(small, path)
    assert detect_table_format(path) == expected
    back = read_table(path)
    assert (back.values != small.values).nnz == 0
    assert list(back.sample_ids) == ["S1", "S2"]


def test_metaphlan_is_recognised(write_text) -> None:
    path = write_text("x.txt", "#mpa_v30\nclade_name\tS1\nk__Bacteria|s__A\t100\n")
    assert detect_table_format(path) == "metaphlan"
    assert read_table(path).kind == "relative"


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02\x03binary", b"\xff\xfe\xfa not utf-8", b"just some words\nno delimiters\n",
     b'{"a": 1}'],
    ids=["control-bytes", "not-utf8", "prose", "json"],
)
def test_unknown_format_lists_the_formats_read(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_table(path)
    text = str(info.value)
    assert str(path) in text
    assert all(fmt in text for fmt in TABLE_FORMATS)


def test_empty_and_gzipped_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        read_table(empty)
    gz = tmp_path / "empty.tsv.gz"
    gz.write_bytes(gzip.compress(b""))
    with pytest.raises(InputError, match="unknown table format"):
        read_table(gz)


@pytest.mark.realdata
def test_real_tables_through_the_one_door(fibromyalgia_dir: Path, hmp2_dir: Path) -> None:
    assert read_table(fibromyalgia_dir / "feature-table.tsv.gz").shape == (101, 6993)
    hmp2 = read_table(hmp2_dir / "HMP2_taxonomy.tsv.gz", orientation="samples-rows")
    assert (hmp2.shape, hmp2.kind) == ((1595, 87), "relative")


def test_written_files_get_the_usual_permissions(tmp_path: Path, small: ProfileTable) -> None:
    import os

    mask = os.umask(0o022)
    try:
        write_tsv(small, tmp_path / "t.tsv")
        write_biom(small, tmp_path / "t.biom")
    finally:
        os.umask(mask)
    for name in ("t.tsv", "t.biom"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644

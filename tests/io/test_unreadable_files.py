"""Bytes that are not (gzipped) UTF-8 text: every reader says so with an InputError naming
the file and the line, wherever in the file the problem sits (issue 7, item 2)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gutaxis.errors import InputError
from gutaxis.instruments import read_record
from gutaxis.instruments.responses import read_responses
from gutaxis.io import (
    read_biom,
    read_metadata,
    read_metaphlan,
    read_newick,
    read_table,
    read_taxonomy,
)

TABLE = "feature_id\ts1\ts2\n" + "".join(f"f{i}\t{i}\t{2 * i + 1}\n" for i in range(3000))
METADATA = "sample_id\tgroup\n" + "".join(f"s{i}\t{'ab'[i % 2]}\n" for i in range(3000))
TAXONOMY = "Feature ID\tTaxon\n" + "".join(
    f"f{i}\tk__Bacteria; p__Firmicutes; g__G{i}\n" for i in range(3000))
METAPHLAN = "#mpa_v30\nclade_name\ts1\n" + "".join(
    f"k__Bacteria|p__P{i}\t{100 / 3000}\n" for i in range(3000))
NEWICK = "(" + ",".join(f"t{i}:1" for i in range(3000)) + ");\n"

READERS: dict[str, tuple[Callable[[Path], object], str, str]] = {
    "table": (read_table, "t.tsv.gz", TABLE),
    "metadata": (read_metadata, "m.tsv.gz", METADATA),
    "taxonomy": (read_taxonomy, "x.tsv.gz", TAXONOMY),
    "metaphlan": (read_metaphlan, "p.tsv.gz", METAPHLAN),
    "newick": (read_newick, "n.nwk.gz", NEWICK),
    "biom": (read_biom, "b.biom.gz", '{"id": "x", "data": [' + ",".join(["[0,0,1]"] * 4000)),
    "record": (read_record, "r.tsv.gz", "subject_id\tkind\n" + "s\tlab\n" * 3000),
}


def _truncated_gzip(path: Path, text: str) -> int:
    """Write the first half of the gzip of ``text``; return the line where it breaks off,
    counted independently with zlib."""
    packed = gzip.compress(text.encode(), compresslevel=1)
    cut = packed[: len(packed) // 2]
    path.write_bytes(cut)
    return zlib.decompressobj(wbits=31).decompress(cut).count(b"\n") + 1


@pytest.mark.parametrize("reader", sorted(READERS))
def test_truncated_gzip_is_an_input_error_naming_file_and_line(reader: str,
                                                              tmp_path: Path) -> None:
    read, name, text = READERS[reader]
    path = tmp_path / name
    line = _truncated_gzip(path, text)
    with pytest.raises(InputError, match="gzip data is truncated or corrupt") as info:
        read(path)
    assert info.value.source == str(path)
    if reader not in ("newick", "biom"):  # whole-file formats: no line to name
        assert line > 2  # the break is past the lines a reader sniffs first
        assert info.value.row == line


def test_corrupt_gzip_body_is_an_input_error(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(TABLE.encode()))
    packed[len(packed) // 2 : len(packed) // 2 + 8] = b"\xff" * 8
    path = tmp_path / "bad.tsv.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_table(path)


@pytest.mark.parametrize(("reader", "text"), [
    (read_metadata, METADATA), (read_taxonomy, TAXONOMY), (read_record,
                                                         "subject_id\tkind\n" + "s\tlab\n" * 99),
])
def test_binary_bytes_deep_in_a_file_name_their_line(reader: Callable[[Path], object],
                                                      text: str, tmp_path: Path) -> None:
    lines = text.encode().splitlines(keepends=True)
    lines[77] = b"\xff\xfe\x00binary\n"
    path = tmp_path / "binary.tsv"
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError, match="not UTF-8 text") as info:
        reader(path)
    assert info.value.row == 78
    assert info.value.found == "byte 0xff"


def test_binary_response_csv_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "odi.csv"
    path.write_bytes(b"subject_id,administered_at\n\x89PNG\r\n\x1a\n")
    with pytest.raises(InputError, match="not UTF-8") as info:
        read_responses(path, "odi")
    assert info.value.row == 2

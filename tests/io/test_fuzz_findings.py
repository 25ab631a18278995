"""Inputs the fuzzers (tests/fuzz, scripts/fuzz_readers.py) found raising something other
than InputError, each reduced to a tiny file: now an InputError naming the file."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gutaxis.errors import InputError
from gutaxis.instruments import (
    RedcapMapping,
    read_fhir,
    read_record,
    read_redcap,
    read_responses_wide,
)
from gutaxis.io import (
    read_qza,
    read_table,
    read_taxonomy,
)
from gutaxis.io.matrix import read_distance_matrix


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("data", "message"), [
    (b"\x80\ts1\ns1\t0\n", "not UTF-8 text"),  # was UnicodeDecodeError
    (b"\n\n", "no header line"),  # was pandas EmptyDataError
    (b"\ts1\ts2\ns1\t0\t1\ns2\t1\t0\t7\n", "rows of unequal length"),  # was ParserError
])
def test_distance_matrix(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        read_distance_matrix(_write(tmp_path, "d.tsv", data))
    assert info.value.source is not None and info.value.source.endswith("d.tsv")


def test_distance_matrix_ragged_row_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_distance_matrix(_write(tmp_path, "d.tsv", b"\ts1\ts2\ns1\t0\t1\ns2\t1\t0\t7\n"))
    assert info.value.row == 3


@pytest.mark.parametrize("data", [
    b"clade_name\tS1\tS2\tS3\nk__Bacteria\t100\n",  # was ParserError: too many columns
    b"clade_name\tS1\tS2\nk__Bacteria\t100\n\tx\ty\tz\n",
    b"#mpa_v30\nclade_name\tA\t\n",  # was IndexError: a header, no rows, an empty column
])
def test_metaphlan(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InputError):
        read_table(_write(tmp_path, "profile.txt", data))


def test_taxonomy_row_longer_than_the_header_names_its_line(tmp_path: Path) -> None:
    # pandas took the extra cell's row as an index; the line lookup then raised ValueError
    path = _write(tmp_path, "t.tsv", b"Feature ID\tTaxon\nASV1\tk__B\t0.9\nASV2\tk__C\n")
    with pytest.raises(InputError, match="more cells than the header") as info:
        read_taxonomy(path)
    assert info.value.row == 2


def _qza(tmp_path: Path, qza, payload: bytes) -> Path:  # type: ignore[no-untyped-def]
    return qza(tmp_path / "t.qza", "FeatureData[Taxonomy]", "TSVTaxonomyDirectoryFormat",
               {"taxonomy.tsv": payload})


def test_qza_with_an_empty_taxonomy_payload(tmp_path: Path, qza) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no header line"):  # was EmptyDataError
        read_qza(_qza(tmp_path, qza, b""))


def test_qza_whose_entry_is_damaged(tmp_path: Path, qza) -> None:  # type: ignore[no-untyped-def]
    path = _qza(tmp_path, qza, b"Feature ID\tTaxon\n" + b"ASV\tk__Bacteria\n" * 200)
    with zipfile.ZipFile(path) as archive:
        entry = next(i for i in archive.infolist() if i.filename.endswith("taxonomy.tsv"))
    data = bytearray(path.read_bytes())
    start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra)
    data[start + 5 : start + 15] = b"\xff" * 10  # inside the deflate stream: CRC/zlib error
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged QIIME 2 artifact"):  # was BadZipFile
        read_qza(path)


def test_redcap_form_without_item_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "export.csv",  # 'nrsbpain' is no field of form nrs
                  b"record_id,nrs_date,nrsbpain,nrs_complete\na,2024-03-01T08:00:00Z,4,2\n")
    with pytest.raises(InputError, match="form 'nrs' has no item field"):  # was AttributeError
        read_redcap(path)


def test_fhir_entry_of_an_unknown_resource_type(tmp_path: Path) -> None:
    bundle = (b'{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": '
              b'"urn:uuid:1", "resource": {"resourceType": "QuestionnaireRenopsse"}}]}')
    with pytest.raises(InputError, match="not a valid FHIR R4 Bundle"):  # was KeyError
        read_fhir(_write(tmp_path, "b.json", bundle))


@pytest.mark.parametrize(("name", "read"), [("b.json", read_fhir), ("t.biom", read_table)])
def test_json_nested_too_deeply(tmp_path: Path, name: str, read) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, name, b'{"data": ' + b"[" * 100_000)  # was RecursionError
    with pytest.raises(InputError, match="nested too deeply"):
        read(path)


def test_redcap_mapping_that_is_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "mapping.json", b'{"forms": [{"form": "\xff"}]}')
    with pytest.raises(InputError, match="not UTF-8 text"):  # was UnicodeDecodeError
        RedcapMapping.from_json(path)


def test_hdf5_biom_with_a_damaged_btree(tmp_path: Path) -> None:
    from gutaxis.data.profile import ProfileTable
    from gutaxis.io import write_biom

    path = tmp_path / "t.biom"
    write_biom(ProfileTable(np.array([[1.0, 2.0], [3.0, 0.0]]), ["s1", "s2"], ["f1", "f2"],
                            kind="counts"), path)
    data = path.read_bytes()
    nodes = [i for i in range(len(data)) if data.startswith(b"TREE", i)]  # group B-trees
    assert len(nodes) > 2
    refused = 0
    for at in nodes:  # one is met only when listing a subgroup: h5py raised RuntimeError
        path.write_bytes(data[:at] + b"\xac\xad\xba\xba" + data[at + 4:])
        try:
            read_table(path)
        except InputError:
            refused += 1
    assert refused >= 1


@pytest.mark.parametrize("read", [read_redcap, read_record])
def test_a_file_of_blank_lines(tmp_path: Path, read) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no header line"):  # was pandas EmptyDataError
        read(_write(tmp_path, "blank.csv", b"\n\n"))


def test_record_times_mixing_an_unrecognised_offset_and_none(tmp_path: Path) -> None:
    # '230000+00:00' escapes the offset pattern, so pandas met an aware and a naive time
    # in one call and raised "Mixed timezones detected" (ValueError)
    header = "kind\trecord_id\tsubject\ttime\tinstrument\n"
    rows = ("administration\ta1\tp1\t2024-03-27T230000+00:00\tnrs\n"
            "administration\ta2\tp1\t2024-03-28\tnrs\n")
    path = _write(tmp_path, "record.tsv", (header + rows).encode())
    with pytest.raises(InputError, match="offset the other times lack") as info:
        read_record(path, timezone="UTC")
    assert info.value.row == 3 and info.value.column == "time"


def test_fhir_response_entry_without_full_url(tmp_path: Path) -> None:
    bundle = (b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": '
              b'{"resourceType": "QuestionnaireResponse", "status": "completed", '
              b'"identifier": {"system": "https://gutaxis.org/fhir/administration", '
              b'"value": "a1"}, "questionnaire": '
              b'"https://gutaxis.org/fhir/Questionnaire/nrs|11"}}]}')
    with pytest.raises(InputError, match="has no fullUrl"):  # was KeyError
        read_fhir(_write(tmp_path, "b.json", bundle))


def test_wide_responses_with_a_header_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "answers.csv", b"subject_id,administered_at")
    record = read_responses_wide(path, instrument="nrs", timezone="UTC")  # was AttributeError
    assert len(record.administrations) == 0 and len(record.responses) == 0


def test_hdf5_biom_whose_attribute_read_hangs_libhdf5_is_refused(monkeypatch):
    """atheris found a BIOM HDF5 file with a damaged global heap: libhdf5 never returns
    from reading its 'creation-date' attribute. The forked probe is killed at its deadline
    and the file refused (the deadline is shortened here; reading attributes takes ms)."""
    import time

    import gutaxis.io.biom as biom_module

    monkeypatch.setattr(biom_module, "HDF5_PROBE_SECONDS", 1.0)
    hang = Path(__file__).parents[1] / "fuzz" / "known_hangs" / "biom_hdf5-96702b3a5716.biom"
    started = time.monotonic()
    with pytest.raises(InputError, match="damaged HDF5 file") as caught:
        read_table(hang)
    assert str(hang) in str(caught.value)
    assert time.monotonic() - started < 30  # the probe's deadline, not libhdf5's loop


def test_hdf5_probe_passes_a_valid_biom_file_through(tmp_path):
    from gutaxis.data import ProfileTable
    from gutaxis.io import write_biom

    table = ProfileTable(np.array([[1.0, 0.0], [2.0, 3.0]]), ["s1", "s2"], ["f1", "f2"])
    path = tmp_path / "t.biom"
    write_biom(table, path, format="hdf5")
    back = read_table(path)
    np.testing.assert_array_equal(back.values.toarray(), [[1.0, 0.0], [2.0, 3.0]])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_hdf5_probe_child_ends_when_its_parent_is_killed(tmp_path):
    """A reader killed while its probe child hangs inside libhdf5 (a CI timeout, Ctrl-\\)
    must not leave the child spinning: the child dies with its parent."""
    import os
    import signal
    import subprocess
    import time
    import uuid

    hang = Path(__file__).parents[1] / "fuzz" / "known_hangs" / "biom_hdf5-96702b3a5716.biom"
    token = f"gutaxis-probe-{uuid.uuid4().hex}"
    script = ("import sys, gutaxis.io.biom as b; b.HDF5_PROBE_SECONDS = 600.0; "
              "print('reading', flush=True); b.read_biom(sys.argv[1])")
    reader = subprocess.Popen([sys.executable, "-c", script, str(hang), token],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        deadline = time.monotonic() + 60
        while not _processes_with(token, besides=reader.pid):  # wait for the fork
            assert time.monotonic() < deadline, "the probe child never started"
            time.sleep(0.05)
    finally:
        reader.send_signal(signal.SIGKILL)
        reader.wait()
    deadline = time.monotonic() + 10
    while _processes_with(token, besides=reader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _processes_with(token, besides=reader.pid)
    for pid in left:  # don't leave it behind even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "the probe child outlived its killed parent"


def _processes_with(token: str, *, besides: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == besides:
            continue
        try:
            if token.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found

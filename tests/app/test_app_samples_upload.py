"""Microbiome uploads on SQLite and PostgreSQL: every table format the engine reads is
accepted; a bad file is refused with the very text ``gutaxis metrics`` prints for the same
bytes, and nothing is stored; who may upload and read."""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from clinic_fixtures import Cast
from sqlalchemy import func, select
from typer.testing import CliRunner

from gutaxis.app.db.models import AuditEvent, MicrobiomeSample, Upload
from gutaxis.cli.main import app as cli_app
from gutaxis.data.profile import ProfileTable
from gutaxis.io.biom import write_biom

EXAMPLES = resources.files("gutaxis") / "data" / "examples"
ONE_SAMPLE_TSV = b"feature_id\tstool_1\nASV001\t40\nASV003\t30\nASV004\t20\nASV005\t10\n"
TAXONOMY_TSV = (b"Feature ID\tTaxon\n"
                b"ASV001\tk__Bacteria; p__Firmicutes; c__Clostridia; o__Oscillospirales; "
                b"f__Ruminococcaceae; g__Faecalibacterium\n"
                b"ASV003\tk__Bacteria; p__Bacteroidota; c__Bacteroidia; o__Bacteroidales; "
                b"f__Bacteroidaceae; g__Bacteroides\n"
                b"ASV004\tk__Bacteria; p__Proteobacteria; c__Gammaproteobacteria; "
                b"o__Enterobacterales; f__Enterobacteriaceae; g__Escherichia-Shigella\n"
                b"ASV005\tk__Bacteria; p__Firmicutes; c__Clostridia; o__Lachnospirales; "
                b"f__Lachnospiraceae; g__Roseburia\n")


def post(cast: Cast, files: dict[str, tuple[str, bytes]], *, who: str = "doc",
         collected_at: str | None = "2024-03-01T08:00:00+01:00", pid: int | None = None):  # type: ignore[no-untyped-def]
    data = {} if collected_at is None else {"collected_at": collected_at}
    return cast.clients[who].post(f"/api/v1/patients/{pid or cast.patient_a}/samples",
                                  files=files, data=data)


def stored(cast: Cast) -> tuple[int, int]:
    with cast.clinic.state.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Upload)) or 0,
                session.scalar(select(func.count()).select_from(MicrobiomeSample)) or 0)


def small_profile() -> ProfileTable:
    values = sp.csr_array(np.array([[40.0, 30.0, 20.0, 10.0]]))
    return ProfileTable(values, np.array(["stool_1"]),
                        np.array(["ASV001", "ASV003", "ASV004", "ASV005"]), kind="counts")


def biom_bytes(tmp_path: Path, fmt: str) -> bytes:
    path = tmp_path / f"t-{fmt}.biom"
    write_biom(small_profile(), path, format=fmt)  # type: ignore[arg-type]
    return path.read_bytes()


def qza_bytes(tmp_path: Path) -> bytes:
    """A FeatureTable[Frequency] artifact laid out as QIIME 2 writes it."""
    payload = biom_bytes(tmp_path, "hdf5")
    buffer = io.BytesIO()
    root = "0b7a8f2e-2d0c-4bd6-9a51-1f1d2b3c4d5e"
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{root}/VERSION", "QIIME 2\narchive: 5\nframework: 2023.9.1\n")
        archive.writestr(f"{root}/metadata.yaml", f"uuid: {root}\ntype: FeatureTable"
                         "[Frequency]\nformat: BIOMV210DirFmt\n")
        archive.writestr(f"{root}/data/feature-table.biom", payload)
    return buffer.getvalue()


def test_each_table_format_is_stored_with_its_profile(cast: Cast, tmp_path: Path) -> None:
    files = {"t.tsv": ONE_SAMPLE_TSV, "t.csv": ONE_SAMPLE_TSV.replace(b"\t", b","),
             "json.biom": biom_bytes(tmp_path, "json"), "hdf5.biom": biom_bytes(tmp_path, "hdf5"),
             "t.qza": qza_bytes(tmp_path)}
    for number, (name, data) in enumerate(files.items(), start=1):
        pid = cast.clinic.add_patient(f"Format {name}")
        response = post(cast, {"file": (name, data), "taxonomy": ("taxonomy.tsv", TAXONOMY_TSV)},
                        pid=pid)
        assert response.status_code == 201, (name, response.text)
        body = response.json()
        assert [s["sample_label"] for s in body["samples"]] == ["stool_1"]
        sample = body["samples"][0]
        assert sample["collected_at"].startswith("2024-03-01T07:00:00")  # +01:00 -> UTC
        assert sample["value_kind"] == "counts" and sample["n_features"] == 4
        with cast.clinic.state.db.read() as session:
            row = session.scalars(select(MicrobiomeSample).where(
                MicrobiomeSample.patient_id == pid)).one()
            upload = session.get(Upload, row.upload_id)
            assert upload is not None and upload.content == data and upload.filename == name
            assert row.profile == {"ASV001": 40.0, "ASV003": 30.0, "ASV004": 20.0,
                                   "ASV005": 10.0}
            assert row.taxonomy["ASV004"].startswith("Bacteria; Proteobacteria")
            assert row.panel["reference"]["n"] == 51
        assert stored(cast) == (number, number)


def test_relative_species_profiles_are_compared_with_hmp2(cast: Cast) -> None:
    table = (b"sample_id\tFaecalibacterium prausnitzii\tEscherichia coli\tBacteroides "
             b"vulgatus\nstool_2\t0.5\t0.2\t0.3\n")
    response = post(cast, {"file": ("species.tsv", table)})
    assert response.status_code == 201, response.text
    sample = response.json()["samples"][0]
    assert sample["value_kind"] == "relative"
    panel = sample["panel"]
    assert panel["reference"]["name"].startswith("HMP2")
    assert any("No taxonomy" in note for note in panel["notes"])
    assert any("from 27 people" in note for note in panel["notes"])
    rows = {m["name"]: m for m in panel["metrics"]}
    assert rows["enterobacteriaceae_share"]["value"] == pytest.approx(0.2)
    assert rows["butyrate_producer_share"]["value"] == pytest.approx(0.5)
    # -(0.5 log2 0.5 + 0.2 log2 0.2 + 0.3 log2 0.3)
    assert rows["shannon"]["value"] == pytest.approx(1.4854752972273344)
    assert rows["observed_features"]["note"] == "not rarefied"


def test_the_packaged_example_with_sample_times_stores_every_sample(cast: Cast) -> None:
    table = (EXAMPLES / "example-table.tsv").read_bytes()
    ids = table.split(b"\n", 1)[0].decode().split("\t")[1:]
    times = "sample_id\tcollected_at\n" + "".join(
        f"{s}\t2024-03-{i // 2 + 1:02d}T08:00:00\n" for i, s in enumerate(ids))
    response = post(cast, {"file": ("example-table.tsv", table),
                           "taxonomy": ("t.tsv", (EXAMPLES / "example-taxonomy.tsv").read_bytes()),
                           "sample_times": ("times.tsv", times.encode())}, collected_at=None)
    assert response.status_code == 201, response.text
    assert len(response.json()["samples"]) == len(ids) == 40
    assert stored(cast) == (1, 40)
    listed = cast.clients["doc"].get(f"/api/v1/patients/{cast.patient_a}/samples").json()
    assert [s["sample_label"] for s in listed][:2] == ids[:2]  # oldest first
    assert listed[0]["collected_at"].startswith("2024-03-01T08:00:00")  # patient in UTC
    panel = cast.clients["pat_a"].get(
        f"/api/v1/patients/{cast.patient_a}/samples/{listed[0]['id']}/panel")
    assert panel.status_code == 200 and panel.json() == listed[0]["panel"]


def cli_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes,
                *extra: str) -> str:
    """What ``gutaxis metrics NAME`` prints on stderr for ``data`` saved as NAME."""
    folder = tmp_path / "cli"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli_app, ["metrics", name, "--out", "out", *extra])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.startswith("error: ") and "\n" not in line, result.output
    return line.removeprefix("error: ")


BAD_FILES = {
    "negative.tsv": b"feature_id\tstool_1\nASV001\t5\nASV003\t-2\n",
    "words.csv": b"feature_id,stool_1\nASV001,5\nASV003,many\n",
    "cut.biom": b'{"id": "x", "format": "Biological Observation Matrix 1.0.0", "rows": [',
    "fake.qza": b"PK\x03\x04 this is no zip archive",
    "latin1.tsv": "feature_id\tstool_1\nASVé\t5\n".encode("latin-1"),
    "cut.tsv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03+I-.\x01",
    "notes.txt": b"just some notes\nwith no table in them\n",
}


def test_a_bad_table_is_refused_with_the_cli_text_and_nothing_stored(
        cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, data in BAD_FILES.items():
        response = post(cast, {"file": (name, data)})
        assert response.status_code == 422, (name, response.text)
        expected = cli_message(tmp_path, monkeypatch, name, data)
        assert response.json()["detail"] == expected
        assert name in expected
    assert stored(cast) == (0, 0)


def test_a_taxonomy_missing_features_is_refused_as_the_cli_says(
        cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    short = b"\n".join(TAXONOMY_TSV.split(b"\n")[:3]) + b"\n"
    response = post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV), "taxonomy": ("tax.tsv", short)})
    assert response.status_code == 422
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "tax.tsv").write_bytes(short)
    expected = cli_message(tmp_path, monkeypatch, "t.tsv", ONE_SAMPLE_TSV,
                           "--taxonomy", "tax.tsv")
    assert response.json()["detail"] == expected
    assert "tax.tsv" in expected and "ASV004" in expected
    assert stored(cast) == (0, 0)


def test_collection_times_are_checked_before_anything_is_stored(cast: Cast) -> None:
    table = (EXAMPLES / "example-table.tsv").read_bytes()
    several = post(cast, {"file": ("example-table.tsv", table)})
    assert several.status_code == 422 and several.json()["field"] == "collected_at"
    times = b"sample_id\tcollected_at\nS01_v1\t2024-03-01T08:00:00Z\n"
    missing = post(cast, {"file": ("example-table.tsv", table),
                          "sample_times": ("times.tsv", times)}, collected_at=None)
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("times.tsv, column 'sample_id': 39 sample(s)")
    bad_time = post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)}, collected_at="yesterday")
    assert bad_time.status_code == 422 and "collected_at" in bad_time.json()["detail"]
    neither = post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)}, collected_at=None)
    assert neither.status_code == 422
    assert stored(cast) == (0, 0)


def test_a_sample_already_stored_is_refused(cast: Cast) -> None:
    assert post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)}).status_code == 201
    again = post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)})
    assert again.status_code == 422 and "stool_1" in again.json()["detail"]
    assert stored(cast) == (1, 1)


def test_a_file_over_the_limit_is_413(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    from gutaxis.app.samples import service

    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", len(ONE_SAMPLE_TSV) - 1)
    response = post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)})
    assert response.status_code == 413
    assert stored(cast) == (0, 0)


def test_who_may_upload_and_read_samples(cast: Cast) -> None:
    a, b = cast.patient_a, cast.patient_b
    for who in ("res", "adm", "pat_a", "pat_b"):
        assert post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)}, who=who).status_code == 403
    assert stored(cast) == (0, 0)
    assert post(cast, {"file": ("t.tsv", ONE_SAMPLE_TSV)}).status_code == 201
    sid = cast.clients["doc"].get(f"/api/v1/patients/{a}/samples").json()[0]["id"]
    for who, code in (("pat_a", 200), ("pat_b", 403), ("res", 403), ("adm", 403),
                      ("doc", 200)):
        assert cast.clients[who].get(f"/api/v1/patients/{a}/samples").status_code == code
        panel = cast.clients[who].get(f"/api/v1/patients/{a}/samples/{sid}/panel")
        assert panel.status_code == code, who
    # a sample of patient A is not reachable through patient B's URL
    assert cast.clients["doc"].get(f"/api/v1/patients/{b}/samples/{sid}/panel"
                                   ).status_code == 404
    assert cast.clients["doc"].get(f"/api/v1/patients/{b}/samples").json() == []
    # an id no row can have is refused before the database sees it
    assert cast.clients["doc"].get(f"/api/v1/patients/{a}/samples/{2**63}/panel"
                                   ).status_code == 422
    with cast.clinic.state.db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.resource == "samples")
                                 ).all()
    assert any(e.action == "create" and e.patient_id == a for e in events)
    assert any(e.outcome == "denied" and e.username == "pat_b" for e in events)

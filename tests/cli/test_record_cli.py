"""``gutaxis import-redcap``, ``import-responses``, ``export-fhir``, ``import-fhir`` end to end:
results, round trip, and clean failures (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.data.measurements import Measurements
from gutaxis.instruments.record_tsv import write_record

runner = CliRunner()


def redcap_args(reference_dir: Path, out: Path, *extra: str) -> list[str]:
    folder = reference_dir / "redcap"
    return ["import-redcap", str(folder / "pain_clinic_export.csv"), "--out", str(out),
            "--mapping", str(folder / "pain_clinic_mapping.json"), *extra]


def test_redcap_to_tsv_to_fhir_and_back(reference_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.tsv"
    result = runner.invoke(app, redcap_args(reference_dir, record,
                                            "--timezone", "Europe/Berlin"))
    assert result.exit_code == 0, result.output
    assert "2 subjects, 7 administrations" in result.output
    bundle = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export-fhir", str(record), "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    fast = tmp_path / "fast.json"
    result = runner.invoke(app, ["export-fhir", str(record), "--out", str(fast),
                                 "--validate", "shapes"])
    assert result.exit_code == 0, result.output
    assert fast.read_bytes() == bundle.read_bytes()
    data = json.loads(bundle.read_text())
    assert data["resourceType"] == "Bundle" and data["type"] == "collection"
    back = tmp_path / "back.tsv"
    result = runner.invoke(app, ["import-fhir", str(bundle), "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_text() == record.read_text()


def test_responses_csv_import(tmp_path: Path) -> None:
    answers = tmp_path / "nrs.csv"
    answers.write_text("subject_id,administered_at,pain\np1,2024-03-01 08:00,3\n")
    out = tmp_path / "record.tsv"
    result = runner.invoke(app, ["import-responses", str(answers), "--instrument", "nrs",
                                 "--timezone", "Europe/Berlin", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert any(line.startswith("score\t") and "\t3.0\t" in line for line in lines)
    assert "2024-03-01T07:00:00+00:00" in lines[1]


def test_import_redcap_refuses_a_csv_that_is_not_an_export(tmp_path: Path) -> None:
    other = tmp_path / "metadata.csv"
    other.write_text("sample_id,group\ns1,pain\ns2,control\n")
    out = tmp_path / "record.tsv"
    result = runner.invoke(app, ["import-redcap", str(other), "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "metadata.csv, row 1: not a REDCap export" in text and "_complete" in text
    assert not out.exists()


def test_missing_timezone_fails_in_one_line_and_writes_nothing(reference_dir: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "record.tsv"
    result = runner.invoke(app, redcap_args(reference_dir, out))
    assert result.exit_code == 2
    assert "row 3, column 'nrs_date': a time without a timezone" in " ".join(
        result.output.split())
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_record_fails_cleanly(tmp_path: Path) -> None:
    record = tmp_path / "record.tsv"
    record.write_text("kind\trecord_id\tsubject\ttime\tname\treported_value\treported_unit\n"
                      "lab\tl1\tp1\t2024-03-01T08:00:00Z\tcrp\t5\tmm/h\n")
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export-fhir", str(record), "--out", str(out)])
    assert result.exit_code == 2
    assert "row 2, field 'unit': C-reactive protein: cannot convert mm/h" in " ".join(
        result.output.split())
    assert not out.exists()
    missing = runner.invoke(app, ["export-fhir", str(tmp_path / "nope.tsv"), "--out",
                                  str(out)])
    assert missing.exit_code == 2 and "file not found" in missing.output


def test_fhir_base_that_is_not_an_absolute_url_fails_before_reading(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    for command in ("export-fhir", "import-fhir"):
        result = runner.invoke(app, [command, str(tmp_path / "nope"), "--out", str(out),
                                     "--base", "gutaxis.org/fhir"])
        assert result.exit_code == 2, result.output
        assert "field '--base': the FHIR base is not an absolute URL; found " \
            "'gutaxis.org/fhir'" in " ".join(result.output.split())
        assert not out.exists()


def test_empty_record_exports_a_bundle_without_entry_and_back(tmp_path: Path) -> None:
    record = write_record(Measurements(), tmp_path / "empty.tsv")
    bundle = tmp_path / "bundle.json"
    result = runner.invoke(app, ["export-fhir", str(record), "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert json.loads(bundle.read_text()) == {"resourceType": "Bundle", "type": "collection"}
    back = tmp_path / "back.tsv"
    result = runner.invoke(app, ["import-fhir", str(bundle), "--out", str(back)])
    assert result.exit_code == 0, result.output
    assert back.read_text() == record.read_text()

"""``gutaxis instruments`` and ``gutaxis score`` end to end through the Typer app."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()

ODI_HEADER = ("subject_id,administered_at,pain_intensity,personal_care,lifting,walking,"
              "sitting,standing,sleeping,sex_life,social_life,travelling")


def odi_file(tmp_path: Path) -> Path:
    path = tmp_path / "odi.csv"
    path.write_text(
        f"{ODI_HEADER}\n"
        "s1,2024-03-01T09:30:00+01:00,2,2,2,2,2,2,1,1,1,1\n"     # 16/50 = 32 %
        "s2,2024-03-01,2,2,2,2,2,2,2,,1,1\n"                      # no timezone
        "s3,2024-03-02T10:00:00Z,2,2,2,2,2,2,2,,1,1\n"            # 16/45 = 35.56 %
        "s4,2024-03-02T10:00:00Z,2,2,2,2,2,2,2,1,1,6\n",          # 6 > 5
        encoding="utf-8")
    return path


def read_tsv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def test_instruments_tsv_lists_every_instrument_with_licence_status() -> None:
    result = runner.invoke(app, ["instruments", "--tsv"])
    assert result.exit_code == 0
    rows = read_tsv(result.stdout)
    by_key = {row["instrument"]: row for row in rows}
    assert by_key["odi@2.1a"]["items"] == "10"
    assert by_key["odi@2.1a"]["licence"].startswith("licensed")
    assert by_key["nrs@11"]["licence"].startswith("open")
    assert "gut-diet@0.1" in by_key


def test_instruments_table_renders() -> None:
    result = runner.invoke(app, ["instruments"])
    assert result.exit_code == 0 and "odi@2.1a" in result.stdout


def test_template_prints_the_header() -> None:
    result = runner.invoke(app, ["score", "odi", "--template"])
    assert result.exit_code == 0
    assert result.stdout.strip() == ODI_HEADER


def test_score_writes_valid_rows_and_reports_invalid_ones(tmp_path: Path) -> None:
    out, errors = tmp_path / "scores.tsv", tmp_path / "errors.tsv"
    result = runner.invoke(app, ["score", "odi", str(odi_file(tmp_path)), "--out", str(out),
                                 "--errors", str(errors)])
    assert result.exit_code == 0, result.output
    rows = read_tsv(out.read_text(encoding="utf-8"))
    assert [(r["row"], r["subject_id"], r["disability"]) for r in rows] == [
        ("2", "s1", "32"), ("4", "s3", "35.555556")]
    assert rows[1]["missing_rule_applied"] == "true"
    assert rows[1]["disability_band"] == "moderate disability"
    bad = read_tsv(errors.read_text(encoding="utf-8"))
    assert [(r["row"], r["field"], r["found"]) for r in bad] == [
        ("3", "administered_at", "2024-03-01"), ("5", "travelling", "6")]
    assert "row 3, field 'administered_at'" in result.stderr
    assert "2 invalid row(s)" in result.stderr


def test_score_to_stdout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "odi@2.1a", str(odi_file(tmp_path))])
    assert result.exit_code == 0
    assert read_tsv(result.stdout)[0]["disability"] == "32"


def test_alternative_band_set_option(tmp_path: Path) -> None:
    path = tmp_path / "pss.csv"
    path.write_text("subject_id,pss1,pss2,pss3,pss4,pss5,pss6,pss7,pss8,pss9,pss10\n"
                    "s1,3,2,3,1,1,2,1,2,3,2\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "pss-10", str(path), "--bands",
                                 "total=secondary-0-13-26"])
    assert result.exit_code == 0
    row = read_tsv(result.stdout)[0]
    assert (row["total"], row["total_band"]) == ("26", "moderate")


def test_unknown_column_is_a_bad_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("subject_id,pain_intensty\ns1,2\n", encoding="utf-8")
    out = tmp_path / "scores.tsv"
    result = runner.invoke(app, ["score", "odi", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "pain_intensty" in result.stderr and "unknown column" in result.stderr
    assert not out.exists()


def test_unknown_instrument_exit_2() -> None:
    result = runner.invoke(app, ["score", "sf36", "--template"])
    assert result.exit_code == 2 and "odi" in result.stderr


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "odi", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_no_valid_row_exit_2_and_no_output(tmp_path: Path) -> None:
    path = tmp_path / "all_bad.csv"
    path.write_text(f"{ODI_HEADER}\ns1,2024-03-01,1,1,1,1,1,1,1,1,1,1\n", encoding="utf-8")
    out = tmp_path / "scores.tsv"
    result = runner.invoke(app, ["score", "odi", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "no row could be scored" in result.stderr
    assert not out.exists()


def test_bad_bands_option_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "odi", str(odi_file(tmp_path)), "--bands", "x"])
    assert result.exit_code == 2 and "SCORE=BANDSET" in result.stderr


def test_instruments_detail_view_shows_items_scores_and_conventions() -> None:
    result = runner.invoke(app, ["instruments", "psqi"])
    assert result.exit_code == 0
    assert "q4_sleep_hours" in result.stdout and "psqi-c3-v1" in result.stdout
    assert "University of Pittsburgh" in result.stdout


def test_instruments_detail_tsv_lists_items_in_order() -> None:
    result = runner.invoke(app, ["instruments", "das28-crp", "--tsv"])
    assert result.exit_code == 0
    rows = read_tsv(result.stdout)
    assert [r["item"] for r in rows] == ["tjc28", "sjc28", "crp_mg_l", "gh_mm"]
    assert rows[2]["unit"] == "mg/L" and rows[2]["maximum"] == ""


def test_instruments_detail_unknown_exit_2() -> None:
    result = runner.invoke(app, ["instruments", "nope"])
    assert result.exit_code == 2 and "unknown instrument" in result.stderr


def test_many_invalid_rows_are_summarised_on_stderr_but_all_written(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    bad_rows = "".join(f"b{i},,1,1,1,1,1,1,1,1,1,9\n" for i in range(30))
    path.write_text(f"{ODI_HEADER}\ns1,,1,1,1,1,1,1,1,1,1,1\n{bad_rows}", encoding="utf-8")
    errors = tmp_path / "errors.tsv"
    result = runner.invoke(app, ["score", "odi", str(path), "--errors", str(errors)])
    assert result.exit_code == 0
    assert result.stderr.count("invalid row:") == 20
    assert "and 10 more invalid row(s)" in result.stderr
    assert len(read_tsv(errors.read_text(encoding="utf-8"))) == 30


def test_score_refuses_two_administrations_at_the_same_time(tmp_path: Path) -> None:
    # the same instant written in two offsets; s2 at that time is another subject: fine.
    # Was scored as two rows (exit 0); import-responses refused it.
    answers = tmp_path / "nrs.csv"
    answers.write_text("subject_id,administered_at,pain\n"
                       "s1,2024-03-01T09:30:00+01:00,5\n"
                       "s2,2024-03-01T08:30:00Z,7\n"
                       "s1,2024-03-01T08:30:00Z,7\n", encoding="utf-8")
    out = tmp_path / "scores.tsv"
    for command in (["score", "nrs", str(answers), "--out", str(out)],
                    ["import-responses", str(answers), "--instrument", "nrs", "--out", str(out)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "row 4, column 'administered_at': a second administration" in text
        assert "the first is on row 2" in text and "subject s1" in text
        assert not out.exists()


def test_score_compares_only_rows_with_a_time(tmp_path: Path) -> None:
    answers = tmp_path / "nrs.csv"
    answers.write_text("subject_id,administered_at,pain\ns1,,5\ns1,,7\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "nrs", str(answers)])
    assert result.exit_code == 0, result.output
    assert [row["pain"] for row in read_tsv(result.stdout)] == ["5", "7"]

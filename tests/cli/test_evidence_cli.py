"""``gutaxis evidence`` end to end: listing with sources, pooling decisions, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gutaxis.cli.evidence import CONDITION_WORDS, OUTCOME_WORDS
from gutaxis.cli.main import app
from gutaxis.evidence import CONDITIONS, EVIDENCE_VERSION, OUTCOMES

runner = CliRunner()


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["evidence", *(str(a) for a in args)], env={"COLUMNS": "80"})


def read_tsv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8")), delimiter="\t"))


def one_line_error(result, *patterns: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for pattern in patterns:
        assert pattern in lines[0], lines[0]


def test_listing_writes_every_contrast_with_its_sources(tmp_path: Path) -> None:
    result = invoke("--out", tmp_path / "ev")
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "ev").iterdir())
    assert files == [".gutaxis-output", "evidence.json", "evidence.tsv", "meta_analyses.tsv",
                     "numbers.tsv"]
    rows = read_tsv(tmp_path / "ev" / "evidence.tsv")
    assert len(rows) == 48 and all(row["sources"] for row in rows)
    numbers = read_tsv(tmp_path / "ev" / "numbers.tsv")
    shown = [n for n in numbers if n["status"] in ("reported", "disputed")]
    assert all(n["source_url"].startswith("http") for n in shown)
    assert "34 trials" in result.output and "Wrote" in result.output
    provenance = json.loads((tmp_path / "ev" / "evidence.json").read_text("utf-8"))
    assert provenance["evidence_version"] == EVIDENCE_VERSION
    assert len(provenance["evidence_sha256"]) == 64


def test_condition_filter_and_pooling_decisions(tmp_path: Path) -> None:
    result = invoke("--condition", "rheumatoid_arthritis", "--pool", "--out", tmp_path / "ra")
    assert result.exit_code == 0, result.output
    rows = read_tsv(tmp_path / "ra" / "evidence.tsv")
    assert {row["condition"] for row in rows} == {"rheumatoid_arthritis"}
    pooled = read_tsv(tmp_path / "ra" / "pooled.tsv")
    assert all(row["pooled"] == "False" and row["reason"].startswith("not pooled: ")
               for row in pooled)
    das28 = next(row for row in pooled if row["outcome"] == "das28")
    assert das28["estimate"] == "NA" and "1 of 8 trials usable" in das28["reason"]
    verdicts = read_tsv(tmp_path / "ra" / "pooling_decisions.tsv")
    assert len(verdicts) == len(rows)
    assert "das28" in result.output  # the overview table on the terminal


def test_pooling_writes_the_pooled_group_and_says_why_not_elsewhere(tmp_path: Path) -> None:
    result = invoke("--condition", "ibs", "--pool", "--out", tmp_path / "ibs")
    assert result.exit_code == 0, result.output
    pooled = {row["outcome"]: row for row in read_tsv(tmp_path / "ibs" / "pooled.tsv")}
    assert pooled["ibs_sss_total"]["pooled"] == "True" and pooled["ibs_sss_total"]["k"] == "3"
    assert float(pooled["ibs_sss_total"]["estimate"]) == pytest.approx(-41.266, abs=1e-3)
    assert pooled["abdominal_pain"]["pooled"] == "False"
    assert "MD -41.3" in result.output


@pytest.mark.parametrize(("args", "patterns"), [
    (["--condition", "gout"], ["--condition", "unknown condition", "'gout'",
                               "osteoarthritis"]),
    (["--outcome", "womac"], ["--outcome", "unknown outcome", "pain_intensity"]),
    (["--condition", "low_back_pain", "--outcome", "das28"],
     ["no contrasts", "pain_intensity"]),
])
def test_bad_selection_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str],
                                                      patterns: list[str]) -> None:
    result = invoke(*args, "--out", tmp_path / "out")
    one_line_error(result, *patterns)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_broken_table_copy_is_one_line_naming_file_row_and_column(tmp_path: Path) -> None:
    from importlib import resources

    table = tmp_path / "table"
    table.mkdir()
    for name in ("contrasts.tsv", "numbers.tsv", "meta_analyses.tsv"):
        text = (resources.files("gutaxis.evidence") / "data" / name).read_text("utf-8")
        (table / name).write_text(text.replace("\treported\t", "\testimated\t", 1), "utf-8")
    result = invoke("--table", table, "--out", tmp_path / "out")
    one_line_error(result, "numbers.tsv", "row 2", "'status'", "'estimated'")
    assert not (tmp_path / "out").exists()


def test_an_existing_output_is_kept_without_force(tmp_path: Path) -> None:
    assert invoke("--condition", "fibromyalgia", "--out", tmp_path / "ev").exit_code == 0
    one_line_error(invoke("--condition", "fibromyalgia", "--out", tmp_path / "ev"), "--force")
    assert invoke("--condition", "fibromyalgia", "--out", tmp_path / "ev",
                  "--force").exit_code == 0


def test_help_lists_the_engines_conditions_and_outcomes() -> None:
    assert tuple(CONDITIONS) == CONDITION_WORDS
    assert tuple(OUTCOMES) == OUTCOME_WORDS
    result = runner.invoke(app, ["evidence", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert all(len(line) <= 80 for line in result.output.splitlines())
    text = " ".join(result.output.split())
    assert all(word in text for word in CONDITION_WORDS)
    assert "Examples:" in result.output

"""``gutaxis meta``: the tables it writes (equal to metafor), CSV/TSV and column mapping,
and bad input: one line naming row and field, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()
REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "metafor"
BCG = REFERENCE / "input_bcg.tsv"
META_COLUMNS = ["model", "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high",
                "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_pval"]
EXP = ["estimate_exp", "ci_low_exp", "ci_high_exp", "pi_low_exp", "pi_high_exp"]


def invoke(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["meta", *map(str, args)])


def assert_bad_input(result, out: Path, *patterns: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for pattern in patterns:
        assert pattern in text, text
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bcg_risk_ratios_write_every_table_equal_to_metafor(tmp_path):
    out = tmp_path / "bcg"
    result = invoke(BCG, "--measure", "RR", "--method", "DL", "--subgroup", "alloc",
                    "--moderators", "ablat,year", "--out", out)
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} >= {
        "meta.tsv", "studies.tsv", "bias.tsv", "moderators.tsv", "subgroup_test.tsv",
        "summary.txt", "forest.png", "funnel.png"}
    meta = pd.read_csv(out / "meta.tsv", sep="\t")
    assert list(meta.columns) == [*META_COLUMNS, *EXP, "pval"]
    assert list(meta.model) == ["overall", "alloc=alternate", "alloc=random",
                                "alloc=systematic"]
    models = pd.read_csv(REFERENCE / "models.tsv", sep="\t")
    ref = models.query("case == 'bcg_RR' and method == 'DL' and test == 'z'").iloc[0]
    for column in META_COLUMNS[1:]:
        assert meta.loc[0, column] == pytest.approx(ref[column], rel=1e-6, abs=1e-6), column
    assert meta.loc[0, "estimate_exp"] == pytest.approx(np.exp(ref.estimate))
    studies = pd.read_csv(out / "studies.tsv", sep="\t")
    for column in ["study", "alloc", "yi", "vi", "conversion", "weight", "hat", "rstudent",
                   "cook_d", "tau2_del", "qe_del", "loo_estimate"]:
        assert column in studies.columns
    bias = pd.read_csv(out / "bias.tsv", sep="\t")
    assert list(bias.test) == ["egger", "begg", "trimfill"]
    moderators = pd.read_csv(out / "moderators.tsv", sep="\t")
    assert list(moderators.term) == ["intercept", "ablat", "year"]


def test_csv_with_other_column_names_is_read_through_columns(tmp_path):
    table = pd.read_csv(BCG, sep="\t")
    table = table.rename(columns={"events_t": "tpos", "n_t": "total_t"})
    path = tmp_path / "bcg.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke(path, "--measure", "OR", "--method", "REML", "--test", "knha",
                    "--columns", "events_t=tpos,n_t=total_t", "--no-plots", "--out", out)
    assert result.exit_code == 0, result.output
    assert not (out / "forest.png").exists()
    meta = pd.read_csv(out / "meta.tsv", sep="\t")
    models = pd.read_csv(REFERENCE / "models.tsv", sep="\t")
    ref = models.query("case == 'bcg_OR' and method == 'REML' and test == 'knha'").iloc[0]
    assert meta.loc[0, "ci_low"] == pytest.approx(ref.ci_low, rel=1e-6)
    assert meta.loc[0, "pi_high"] == pytest.approx(ref.pi_high, rel=1e-6)


def test_generic_effects_with_standard_errors_and_force(tmp_path):
    path = tmp_path / "gen.csv"
    pd.DataFrame({"study": list("abcdef"), "yi": [0.1, 0.4, 0.3, 0.2, 0.6, 0.0],
                  "sei": [0.1, 0.2, 0.15, 0.1, 0.3, 0.2]}).to_csv(path, index=False)
    out = tmp_path / "gen"
    assert invoke(path, "--measure", "GEN", "--method", "PM", "--out", out).exit_code == 0
    meta = pd.read_csv(out / "meta.tsv", sep="\t")
    assert "estimate_exp" not in meta.columns
    again = invoke(path, "--measure", "GEN", "--method", "HS", "--out", out)
    assert again.exit_code == 2
    assert invoke(path, "--measure", "GEN", "--method", "HS", "--out", out,
                  "--force").exit_code == 0
    studies = pd.read_csv(out / "studies.tsv", sep="\t")
    assert set(studies.conversion) == {"yi_sei"}


def test_three_studies_are_called_thin_evidence(tmp_path):
    path = tmp_path / "few.csv"
    pd.DataFrame({"yi": [0.1, 0.4, 0.3], "vi": [0.01, 0.04, 0.02]}).to_csv(path, index=False)
    result = invoke(path, "--measure", "GEN", "--out", tmp_path / "few")
    assert result.exit_code == 0, result.output
    assert "Evidence is thin" in (tmp_path / "few" / "summary.txt").read_text()


def continuous(**changes: list[object]) -> pd.DataFrame:
    table = pd.DataFrame({"study": ["a", "b", "c"], "mean_t": [5.0, 6.0, 4.0],
                          "sd_t": [1.0, 2.0, 1.5], "n_t": [20, 30, 25],
                          "mean_c": [4.0, 5.5, 4.2], "sd_c": [1.0, 2.0, 1.4],
                          "n_c": [20, 31, 24]})
    for column, values in changes.items():
        table[column] = values
    return table


def binary(**changes: list[object]) -> pd.DataFrame:
    table = pd.DataFrame({"study": ["a", "b", "c"], "events_t": [3, 5, 2],
                          "n_t": [30, 40, 20], "events_c": [6, 9, 4], "n_c": [30, 41, 22]})
    for column, values in changes.items():
        table[column] = values
    return table


@pytest.mark.parametrize("table, measure, patterns", [
    (continuous(sd_t=[1.0, -2.0, 1.5]), "SMD",
     ["row 3 (study 'b'), field 'sd_t'", "negative standard deviation", "found -2.0"]),
    (continuous(n_c=[20, 1, 24]), "MD", ["row 3", "field 'n_c'", "at least 2 participants"]),
    (binary(n_t=[30, 1, 20]), "OR", ["row 3", "field 'n_t'", "at least 2 participants"]),
    (continuous().head(1), "SMD", ["a meta-analysis needs at least 2 studies"]),
    (continuous().drop(columns=["sd_t", "sd_c"]), "SMD",
     ["missing column(s) sd_t, sd_c for SMD", "expected mean_t, sd_t, n_t"]),
    (binary().drop(columns=["n_c"]), "RR", ["missing column(s) n_c for RR"]),
    (binary(events_t=[3, 50, 2]), "RR",
     ["row 3", "field 'events_t'", "more events than participants", "found 50"]),
])
def test_bad_studies_exit_2_naming_row_and_field_and_write_nothing(tmp_path, table, measure,
                                                                   patterns):
    path = tmp_path / "studies.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke(path, "--measure", measure, "--out", out)
    assert_bad_input(result, out, "studies.csv", *patterns)


@pytest.mark.parametrize("args, patterns", [
    (["--subgroup", "nope"], ["--subgroup", "no such column", "nope"]),
    (["--columns", "events_t"], ["--columns must be NAME=COLUMN"]),
    (["--columns", "bogus=tpos"], ["unknown column name in --columns"]),
    (["--moderators", "ablat,ablat"], ["collinear"]),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, args, patterns):
    out = tmp_path / "out"
    result = invoke(BCG, "--measure", "RR", *args, "--out", out)
    assert_bad_input(result, out, *patterns)


def test_help_lists_the_options_and_examples():
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for word in ["--measure", "SMD|MD|ROM|OR|RR|RD|GEN", "--method",
                 "DL|REML|ML|PM|SJ|HE|HS|EB|FE", "--test", "z|knha", "--subgroup",
                 "--moderators", "--columns", "--force", "Examples:"]:
        assert word in text, word

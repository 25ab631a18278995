"""``gutaxis trial``: outputs for wide (TSV) and long (CSV) data; bad input exits 2 with one
line naming the row and field, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_metrics_cli import assert_bad_input
from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()
FOLDER = Path(__file__).resolve().parents[1] / "reference" / "trial"
LONG = FOLDER / "trial_long.csv"
WIDE = FOLDER / "trial_wide.tsv"
WIDE_ARGS = ("--arm", "arm", "--baseline", "baseline", "--followup", "week12")
LONG_ARGS = ("--arm", "arm", "--baseline", "baseline", "--followup", "pain",
             "--subject", "subject", "--visit", "visit")


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["trial", *args])


def write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    return pd.read_csv(WIDE, sep="\t", dtype=str, keep_default_na=False)


def test_long_data_write_effects_arms_models_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "t"
    result = invoke(str(LONG), *LONG_ARGS, "--covariates", "age,sex", "--out", str(out))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert list(effects.columns[:6]) == ["analysis", "contrast", "estimate", "stderr",
                                         "ci_low", "ci_high"]
    assert {"ancova", "change", "percent_change", "hedges_g", "responder_30", "responder_50",
            "lmm", "lmm_arm_at_visit"} == set(effects["analysis"])
    nnt = effects[(effects["analysis"] == "responder_50")
                  & effects["contrast"].str.startswith("nnt")].iloc[0]
    assert "NNT benefit" in nnt["note"] and "NNT harm" in nnt["note"]
    arms = pd.read_csv(out / "arms.tsv", sep="\t")
    assert len(arms) == 6 and set(arms["role"]) == {"treatment", "control"}
    assert (out / "trial.png").stat().st_size > 10_000
    assert "lower is better" in (out / "summary.txt").read_text()
    assert "ANCOVA" in result.output


def test_wide_tsv_without_visits_has_no_mixed_model(tmp_path: Path) -> None:
    out = tmp_path / "t"
    result = invoke(str(WIDE), *WIDE_ARGS, "--no-plots", "--out", str(out))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert not effects["analysis"].str.startswith("lmm").any()
    assert not (out / "trial.png").exists()


def test_higher_is_better_flips_who_responds(tmp_path: Path) -> None:
    counts = {}
    for flag in ("--lower-is-better", "--higher-is-better"):
        out = tmp_path / flag.strip("-")
        assert invoke(str(WIDE), *WIDE_ARGS, flag, "--no-plots", "--out", str(out)).exit_code == 0
        effects = pd.read_csv(out / "effects.tsv", sep="\t").set_index(["analysis", "contrast"])
        counts[flag] = effects.loc[("responder_30", "proportion probiotic"), "estimate"]
    assert counts["--lower-is-better"] > 0.5 > counts["--higher-is-better"]


def test_treatment_picks_the_active_arm(tmp_path: Path) -> None:
    out = tmp_path / "t"
    result = invoke(str(WIDE), *WIDE_ARGS, "--treatment", "placebo", "--no-plots",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert effects.loc[0, "contrast"] == "placebo - probiotic" and effects.loc[0, "estimate"] > 0


def test_three_arms_need_treatment_and_control(tmp_path: Path, wide: pd.DataFrame) -> None:
    frame = wide.copy()
    frame.loc[frame.index[:5], "arm"] = "diet"
    data = write(tmp_path, frame)
    out = tmp_path / "t"
    assert_bad_input(invoke(str(data), *WIDE_ARGS, "--out", str(out)), out,
                     "bad.csv", "column 'arm'", "must have two levels", "3 level(s)",
                     "--treatment and --control")
    result = invoke(str(data), *WIDE_ARGS, "--treatment", "probiotic", "--control", "placebo",
                    "--no-plots", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "5 row(s) of other arms left out" in result.output


def test_missing_baseline_names_row_and_column(tmp_path: Path, wide: pd.DataFrame) -> None:
    frame = wide.copy()
    frame.loc[6, "baseline"] = ""
    out = tmp_path / "t"
    assert_bad_input(invoke(str(write(tmp_path, frame)), *WIDE_ARGS, "--out", str(out)), out,
                     "bad.csv, row 8, column 'baseline': missing baseline")


def test_non_numeric_outcome_names_row_and_value(tmp_path: Path) -> None:
    frame = pd.read_csv(LONG, dtype=str, keep_default_na=False)
    frame.loc[10, "pain"] = "severe"
    out = tmp_path / "t"
    assert_bad_input(invoke(str(write(tmp_path, frame)), *LONG_ARGS, "--out", str(out)), out,
                     "row 12, column 'pain': non-numeric outcome", "'severe'", "a number")


def test_fewer_than_two_subjects_per_arm(tmp_path: Path, wide: pd.DataFrame) -> None:
    frame = pd.concat([wide[wide["arm"] == "placebo"], wide[wide["arm"] == "probiotic"][:1]])
    out = tmp_path / "t"
    assert_bad_input(invoke(str(write(tmp_path, frame)), *WIDE_ARGS, "--out", str(out)), out,
                     "fewer than 2 subjects", "1 in arm 'probiotic'")


def test_unknown_column_and_lonely_subject_option(tmp_path: Path) -> None:
    out = tmp_path / "t"
    assert_bad_input(invoke(str(WIDE), "--arm", "group", "--baseline", "baseline",
                            "--followup", "week12", "--out", str(out)), out,
                     "column 'group'", "no such column")
    assert_bad_input(invoke(str(WIDE), *WIDE_ARGS, "--subject", "subject", "--out", str(out)),
                     out, "--visit", "both --subject and --visit")


def test_subject_with_two_baselines_in_long_data(tmp_path: Path) -> None:
    frame = pd.read_csv(LONG, dtype=str, keep_default_na=False)
    frame.loc[1, "baseline"] = "9.9"
    out = tmp_path / "t"
    assert_bad_input(invoke(str(write(tmp_path, frame)), *LONG_ARGS, "--out", str(out)), out,
                     "row 3, column 'baseline'", "differs between its visits", "subject S01")


def test_unknown_treatment_level(tmp_path: Path) -> None:
    out = tmp_path / "t"
    assert_bad_input(invoke(str(WIDE), *WIDE_ARGS, "--treatment", "drug", "--out", str(out)),
                     out, "--treatment", "'drug'", "probiotic")


def test_visit_without_one_arm_and_constant_covariate(tmp_path: Path) -> None:
    frame = pd.read_csv(LONG, dtype=str, keep_default_na=False)
    gap = frame[~((frame["visit"] == "week4") & (frame["arm"] == "probiotic"))]
    out = tmp_path / "t"
    assert_bad_input(invoke(str(write(tmp_path, gap)), *LONG_ARGS, "--out", str(out)), out,
                     "column 'arm': a visit has no outcome in one arm",
                     "visit 'week4': none in arm 'probiotic'")
    frame["site"] = "A"
    assert_bad_input(invoke(str(write(tmp_path, frame)), *LONG_ARGS, "--covariates", "site",
                            "--out", str(out)), out, "column 'site': covariate has one value")

"""``gutaxis nof1`` end to end: effects.tsv columns, the timeline, several outcomes, CSV and
TSV, the randomised-pairs design, the factor scan, the record door; and bad input (exit 2,
one line naming the row and field, nothing written)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.instruments.record_tsv import write_record

sys.path.insert(0, str(Path(__file__).parents[1] / "stats" / "nof1"))
from nof1_record import pain_record
from nof1_simulate import ar1_errors, taye_like_series
from test_metrics_cli import assert_bad_input

runner = CliRunner()
REQUIRED = ["outcome", "contrast", "level_change", "ci_low", "ci_high", "pval",
            "slope_change", "prob_mcid_points", "prob_mcid_percent"]


def diary(path: Path, *, sep: str = ",", n: int = 84) -> Path:
    rng = np.random.default_rng(1)
    t = np.arange(n)
    phase = np.where((t // 21) % 2 == 0, "A", "B")
    pain = 6 - 2.5 * (phase == "B") + ar1_errors(rng, np.array([0.4]), n)[0]
    pd.DataFrame({"day": t, "phase": phase, "pain": pain.round(2),
                  "stool_form": (4 + rng.normal(0, 1, n)).round(1),
                  "sleep": rng.normal(7, 1, n).round(1)}).to_csv(path, sep=sep, index=False)
    return path


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["nof1", *args])


def test_effects_and_timeline_for_several_outcomes(tmp_path: Path) -> None:
    out = tmp_path / "nof1"
    result = invoke(str(diary(tmp_path / "diary.csv")), "--outcome", "pain,stool_form",
                    "--time", "day", "--phase", "phase", "--control-phase", "A", "--mcid",
                    "2", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert list(effects.columns[:6]) == REQUIRED[:6]
    assert set(REQUIRED) <= set(effects.columns)
    assert effects["outcome"].tolist() == ["pain", "stool_form"]
    pain = effects.iloc[0]
    assert pain["ci_low"] < -2.5 < pain["ci_high"] and pain["contrast"] == "B vs A"
    assert (out / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((out / "nof1.json").read_text())
    assert len(meta["inputs"]["series"]["sha256"]) == 64
    assert "level change" in result.output and "95% CI" in result.output


def test_tsv_is_accepted_and_gives_the_same_effects(tmp_path: Path) -> None:
    for name, sep in (("d.csv", ","), ("d.tsv", "\t")):
        result = invoke(str(diary(tmp_path / name, sep=sep)), "--outcome", "pain",
                        "--out", str(tmp_path / f"out-{name}"))
        assert result.exit_code == 0, result.output
    a = pd.read_csv(tmp_path / "out-d.csv" / "effects.tsv", sep="\t")
    b = pd.read_csv(tmp_path / "out-d.tsv" / "effects.tsv", sep="\t")
    pd.testing.assert_frame_equal(a, b)


def test_randomised_pairs_as_taye_ran_them(tmp_path: Path) -> None:
    data = tmp_path / "taye.csv"
    taye_like_series(np.random.default_rng(2)).to_csv(data, index=False)
    out = tmp_path / "taye"
    result = invoke(str(data), "--outcome", "vas", "--block", "period", "--randomised-pairs",
                    "--washout", "14", "--last-days", "7", "--out", str(out))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t").set_index("contrast")
    assert effects.loc["B vs A (paired days)", "df"] == 20
    assert effects.loc["B vs A (pair means)", "randomisation_pval"] >= 0.25
    tests = pd.read_csv(out / "randomisation.tsv", sep="\t")
    assert tests["n_assignments"].tolist() == [8]
    assert "cannot give p below 0.25" in " ".join(result.output.split())


def test_factor_scan_writes_factors_tsv(tmp_path: Path) -> None:
    out = tmp_path / "f"
    result = invoke(str(diary(tmp_path / "d.csv")), "--outcome", "pain", "--factors",
                    "sleep", "--out", str(out))
    assert result.exit_code == 0, result.output
    factors = pd.read_csv(out / "factors.tsv", sep="\t")
    assert factors["lag"].tolist() == [0, 1] and factors["enough_data"].all()
    assert "associations, not causes" in " ".join(result.output.split())


def run_record(tmp_path: Path, **record):  # type: ignore[no-untyped-def]
    """``gutaxis nof1 --record`` on :func:`pain_record` (``record``: its settings)."""
    path = write_record(pain_record(**record), tmp_path / "record.tsv")
    out = tmp_path / "out"
    return invoke("--record", str(path), "--subject", "p01", "--intervention", "probiotic",
                  "--out", str(out)), out


def test_record_door(tmp_path: Path) -> None:
    result, out = run_record(tmp_path, co_start=29)
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert effects["outcome"].tolist() == ["nrs.pain"]
    assert effects["level_change"].iloc[0] < -2
    assert "low-FODMAP diet started at time 29" in " ".join(result.output.split())


def test_intervention_outside_the_series_exits_2(tmp_path: Path) -> None:
    result, out = run_record(tmp_path, start=75)
    assert_bad_input(result, out, "row intervention i1", "field 'start'",
                     "intervention period outside the series")


def test_too_few_points_in_a_phase_exits_2(tmp_path: Path) -> None:
    data = diary(tmp_path / "d.csv")
    frame = pd.read_csv(data)
    frame.loc[(frame["day"] >= 21) & (frame["day"] < 39), "pain"] = np.nan
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    result = invoke(str(data), "--outcome", "pain", "--out", str(out))
    assert_bad_input(result, out, "row 23", "column 'pain'", "too few points in phase 'B'",
                     "at least 5 per phase block")


def test_non_randomised_design_given_to_the_randomisation_test_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "ab.csv"
    pd.DataFrame({"day": range(40), "phase": ["A"] * 20 + ["B"] * 20,
                  "pain": np.linspace(5, 4, 40)}).to_csv(data, index=False)
    out = tmp_path / "out"
    result = invoke(str(data), "--outcome", "pain", "--randomised-pairs", "--out", str(out))
    assert_bad_input(result, out, "not a randomised design", "column 'phase'",
                     "field '--randomised-pairs'", "found 'A B'")


def test_unknown_column_and_control_phase_exit_2(tmp_path: Path) -> None:
    data = diary(tmp_path / "d.csv")
    out = tmp_path / "out"
    assert_bad_input(invoke(str(data), "--outcome", "pian", "--out", str(out)), out,
                     "column 'pian'", "field '--outcome'", "column not found")
    assert_bad_input(invoke(str(data), "--outcome", "pain", "--control-phase", "placebo",
                            "--out", str(out)), out, "the control phase does not occur",
                     "expected one of A, B")


def test_randomised_blocks_add_the_test_to_the_regression_rows(tmp_path: Path) -> None:
    out = tmp_path / "blocks"
    result = invoke(str(diary(tmp_path / "d.csv")), "--outcome", "pain",
                    "--randomised-blocks", "--out", str(out))
    assert result.exit_code == 0, result.output
    tests = pd.read_csv(out / "randomisation.tsv", sep="\t")
    assert tests[["scheme", "n_assignments"]].values.tolist() == [["blocks", 6]]
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert effects["randomisation_pval"].tolist() == tests["pval"].tolist()
    assert "not declared randomised" not in result.output


def test_a_bad_factor_value_names_its_line(tmp_path: Path) -> None:
    data = diary(tmp_path / "d.csv")
    frame = pd.read_csv(data).astype({"sleep": object})
    frame.loc[10, "sleep"] = "lots"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    assert_bad_input(invoke(str(data), "--outcome", "pain", "--factors", "sleep", "--out",
                            str(out)), out, "row 12", "column 'sleep'", "not a number",
                     "found 'lots'")

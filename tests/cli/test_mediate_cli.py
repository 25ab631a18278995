"""``gutaxis mediate``: outputs, the fibromyalgia example, and clean failures (exit 2,
one line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()
SEVERITY = "ctl=0,fbm_12_20=1,fbm_21_25=2,fbm_26_31=3"


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 80
    t = np.repeat(["low", "high"], n // 2)
    crp = 0.6 * (t == "high") + rng.normal(size=n)
    pain = 0.7 * crp + rng.normal(size=n)
    frame = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "fibre": t,
        "age": rng.normal(50, 8, size=n).round(1), "crp": crp.round(4),
        "pain": pain.round(4), "flat": 3.0, "healthy": 0, "fm": (pain > 0.3).astype(int)})
    path = tmp_path / "meta.tsv"
    frame.to_csv(path, sep="\t", index=False)
    return path


def _args(metadata: Path, out: Path, *extra: str) -> list[str]:
    return ["mediate", "--metadata", str(metadata), "--exposure", "fibre", "--treated",
            "high", "--out", str(out), "--boot", "200", "--seed", "1", *extra]


def test_writes_effects_paths_figure_and_settings(metadata: Path, tmp_path: Path) -> None:
    out = tmp_path / "med"
    result = runner.invoke(app, _args(metadata, out, "--mediators", "crp", "--outcome",
                                      "pain", "--covariates", "age", "--sensitivity"))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert list(effects.columns) == ["effect", "estimate", "ci_low", "ci_high", "pval"]
    assert {"acme", "ade", "total", "prop_mediated"} <= set(effects["effect"])
    assert (out / "path_diagram.png").stat().st_size > 0 and (out / "path_diagram.svg").exists()
    sens = pd.read_csv(out / "sensitivity.tsv", sep="\t")
    assert list(sens.columns) == ["rho", "acme", "ci_low", "ci_high"]
    record = json.loads((out / "mediation.json").read_text())
    assert record["treated"] == "high" and -1 < record["rho_at_zero"] < 1


def test_a_binary_outcome_uses_logistic_models(metadata: Path, tmp_path: Path) -> None:
    out = tmp_path / "bin"
    result = runner.invoke(app, _args(metadata, out, "--mediators", "crp", "--outcome", "fm",
                                      "--method", "quasi-bayes"))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t").set_index("effect")
    assert effects.loc["acme_control", "estimate"] != effects.loc["acme_treated", "estimate"]
    assert (pd.read_csv(out / "paths.tsv", sep="\t")["model"] == "logistic").any()


def test_a_serial_chain_reports_every_path(metadata: Path, tmp_path: Path) -> None:
    out = tmp_path / "chain"
    result = runner.invoke(app, _args(metadata, out, "--mediators", "crp,age", "--serial",
                                      "--outcome", "pain", "--ci", "bca"))
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t").set_index("effect")
    paths = ["acme[crp]", "acme[crp>age]", "acme[age]"]
    assert effects.loc[paths, "estimate"].sum() == pytest.approx(effects.loc["acme",
                                                                             "estimate"])


@pytest.mark.parametrize(("extra", "message"), [
    (["--mediators", "flat", "--outcome", "pain"], "column 'flat': the mediator has no variance"),
    (["--mediators", "crp", "--outcome", "nope"], "column 'nope': the outcome column is not in"),
    (["--mediators", "crp", "--outcome", "healthy"], "binary outcome has one class only"),
    (["--mediators", "crp", "--outcome", "pain", "--exposure", "diet"],
     "column 'diet': the exposure column is not in"),
    (["--mediators", "shannon", "--outcome", "pain"], "needs the microbiome table"),
    (["--mediators", "crp,pain", "--outcome", "pain"], "a column has two roles"),
    (["--mediators", "crp", "--outcome", "pain", "--method", "quasi-bayes", "--ci", "bca"],
     "BCa intervals need the bootstrap"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
        metadata: Path, tmp_path: Path, extra: list[str], message: str) -> None:
    out = tmp_path / "bad"
    result = runner.invoke(app, _args(metadata, out, *extra))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["meta.tsv"]


def test_fibromyalgia_ibs_shannon_severity(fibromyalgia_dir: Path, tmp_path: Path) -> None:
    """The note's example: IBS -> Shannon -> severity band, age and BMI (few replicates)."""
    out = tmp_path / "fm"
    result = runner.invoke(app, [
        "mediate", "--metadata", str(fibromyalgia_dir / "metadata.tsv"), "--table",
        str(fibromyalgia_dir / "feature-table.tsv.gz"), "--exposure", "covariate_sii",
        "--treated", "y", "--mediators", "shannon", "--outcome", "group",
        "--outcome-codes", SEVERITY, "--covariates", "covariate_age,covariate_imc",
        "--boot", "200", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t").set_index("effect")
    total = effects.loc["total", "estimate"]
    assert total == pytest.approx(effects.loc["acme", "estimate"] + effects.loc["ade",
                                                                                 "estimate"])
    assert json.loads((out / "mediation.json").read_text())["n"] == 101


def test_fibromyalgia_taxa_as_mediators(fibromyalgia_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "taxa"
    result = runner.invoke(app, [
        "mediate", "--metadata", str(fibromyalgia_dir / "metadata.tsv"), "--table",
        str(fibromyalgia_dir / "feature-table.tsv.gz"), "--taxonomy",
        str(fibromyalgia_dir / "taxonomy.tsv.gz"), "--rank", "genus", "--taxa-as-mediators",
        "--exposure", "covariate_sii", "--treated", "y", "--outcome", "group",
        "--outcome-codes", SEVERITY, "--covariates", "covariate_age,covariate_imc",
        "--boot", "100", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert list(effects.columns) == ["mediator", "effect", "estimate", "ci_low", "ci_high",
                                     "pval", "qval"]
    paths = pd.read_csv(out / "taxa_paths.tsv", sep="\t")
    assert len(effects) == 10 * len(paths) and len(paths) == 160
    assert (out / "top_taxa.png").exists()

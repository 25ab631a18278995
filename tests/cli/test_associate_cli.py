"""``gutaxis associate``: results on real data, and clean failures (exit 2, nothing written)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.stats.association_results import RESULT_COLUMNS, read_results

runner = CliRunner()
FM_FIXED = "group,covariate_age,covariate_imc,covariate_sii"


def _fm_args(data, out, *extra):
    return ["associate", str(data / "feature-table.tsv.gz"), "--metadata",
            str(data / "metadata.tsv"), "--taxonomy", str(data / "taxonomy.tsv.gz"),
            "--rank", "genus", "--out", str(out), *extra]


def test_fibromyalgia_genus_scan_writes_results_and_figures(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", FM_FIXED,
                                         "--reference", "group=ctl", "--top", "2"))
    assert result.exit_code == 0, result.output
    assert "160 tested of 318" in result.output
    table = read_results(out / "all_results.tsv")
    assert tuple(table.columns) == RESULT_COLUMNS
    assert len(table) == 160 * 6
    sig = read_results(out / "significant_results.tsv")
    assert (sig["qval"] <= 0.25).all() and sig["qval"].is_monotonic_increasing
    assert len(sig) == int((table["qval"] <= 0.25).sum()) > 0
    model = json.loads((out / "model.json").read_text())
    assert model["reference"]["group"] == "ctl" and model["transform"] == "LOG"
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures[0].startswith("01_") and "overview.png" in figures
    assert len(figures) == 1 + min(2, len(sig))
    assert (out / "report.html").is_file()


def test_fibromyalgia_genus_scan_matches_r_lm_and_p_adjust(fibromyalgia_dir, reference_dir,
                                                           tmp_path):
    """The CLI's written results against R's lm + p.adjust (make_fibromyalgia_reference.R),
    with the control/FM column that script adds to the metadata."""
    meta = pd.read_csv(fibromyalgia_dir / "metadata.tsv", sep="\t")
    meta["fm"] = np.where(meta["group"] == "ctl", "control", "FM")
    metadata = tmp_path / "metadata.tsv"
    meta.to_csv(metadata, sep="\t", index=False)
    out = tmp_path / "assoc"
    result = runner.invoke(app, [
        "associate", str(fibromyalgia_dir / "feature-table.tsv.gz"), "--metadata", str(metadata),
        "--taxonomy", str(fibromyalgia_dir / "taxonomy.tsv.gz"), "--rank", "genus",
        "--fixed", "fm,covariate_age,covariate_imc,covariate_sii", "--reference", "fm=control",
        "--no-median-comparison-abundance", "--no-plots", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ref = pd.read_csv(reference_dir / "associate" / "fibromyalgia_genus_lm.tsv.gz", sep="\t")
    ref = ref[ref["model"] == "fm_log"]
    ours = read_results(out / "all_results.tsv").assign(term=lambda t: np.where(
        t["metadata"] == t["value"], t["metadata"], t["metadata"] + t["value"]))
    merged = ref.merge(ours, on=["feature", "term"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(ref) == len(ours) == 160 * 4
    for column in ("coef", "stderr", "pval", "qval"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=1e-9,
                                   atol=1e-13, err_msg=column)


def test_options_reach_the_model(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(
        fibromyalgia_dir, out, "--fixed", "covariate_age,covariate_sii", "--normalization",
        "CLR", "--transform", "NONE", "--min-prevalence", "0.5", "--correction", "BY",
        "--max-significance", "0.1", "--standardize", "--no-plots"))
    assert result.exit_code == 0, result.output
    model = json.loads((out / "model.json").read_text())
    assert (model["normalization"], model["transform"], model["correction"]) == (
        "CLR", "NONE", "BY")
    assert model["standardize"] is True and model["min_prevalence"] == 0.5
    assert not (out / "figures").exists()
    sig = read_results(out / "significant_results.tsv")
    assert (sig["qval"] <= 0.1).all()


def test_prevalence_model_option(fibromyalgia_dir, tmp_path):
    pytest.importorskip("gutaxis.stats.models.logistic_mixed")
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", FM_FIXED,
                                         "--reference", "group=ctl", "--prevalence-model",
                                         "--no-plots"))
    assert result.exit_code == 0, result.output
    table = read_results(out / "all_results.tsv")
    assert set(table["model"]) == {"abundance", "prevalence"}
    assert json.loads((out / "model.json").read_text())["prevalence_model"] is True
    prevalence = table[table["model"] == "prevalence"]
    assert prevalence["df"].isna().all() and (prevalence["n"] == 101).all()


def test_hmp2_mixed_model_scan(hmp2_dir, tmp_path):
    pytest.importorskip("gutaxis.stats.models.linear_mixed")
    out = tmp_path / "hmp2"
    result = runner.invoke(app, [
        "associate", str(hmp2_dir / "HMP2_taxonomy.tsv.gz"), "--metadata",
        str(hmp2_dir / "HMP2_metadata.tsv"), "--fixed",
        "diagnosis,dysbiosisnonIBD,dysbiosisUC,dysbiosisCD,antibiotics,age",
        "--random", "site,subject", "--reference", "diagnosis=nonIBD", "--transform", "AST",
        "--no-median-comparison-abundance", "--no-plots", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # against MaAsLin 2's own results (not the API): the same 207 rows, the same values
    expected = pd.read_csv(hmp2_dir / "maaslin2_expected_run1.tsv", sep="\t")
    ours = read_results(out / "significant_results.tsv").assign(
        feature=lambda t: t["feature"].str.replace(r"[^A-Za-z0-9._]", ".", regex=True))
    merged = expected.merge(ours, on=["feature", "metadata", "value"], suffixes=("_r", ""),
                            validate="1:1")
    assert len(merged) == len(ours) == len(expected) == 207
    for column, tol in (("coef", 1e-4), ("stderr", 1e-4), ("pval", 1e-3), ("qval", 1e-3)):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=tol,
                                   err_msg=column)


def _assert_failed_cleanly(result, out, *fragments):
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.output
    assert not out.exists()


def test_hmp2_random_effect_that_is_also_fixed_is_refused(hmp2_dir, tmp_path):
    # was exit 0 with "mixed model not fitted" for each of the 87 features
    out = tmp_path / "hmp2"
    result = runner.invoke(app, [
        "associate", str(hmp2_dir / "HMP2_taxonomy.tsv.gz"), "--metadata",
        str(hmp2_dir / "HMP2_metadata.tsv"), "--fixed", "diagnosis,site,age",
        "--random", "site,subject", "--reference", "diagnosis=nonIBD,site=Cedars-Sinai",
        "--no-plots", "--out", str(out)])
    _assert_failed_cleanly(result, out, "column 'site'", "both a fixed and a random effect")


def test_unknown_fixed_column_lists_the_columns(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", "group,agee",
                                         "--reference", "group=ctl"))
    _assert_failed_cleanly(result, out, "agee", "covariate_age, covariate_imc")


def test_reference_that_is_not_a_level_lists_the_levels(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", "group",
                                         "--reference", "group=control"))
    _assert_failed_cleanly(result, out, "control", "ctl, fbm_12_20, fbm_21_25, fbm_26_31")


def test_malformed_reference(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", "group",
                                         "--reference", "group"))
    _assert_failed_cleanly(result, out, "VARIABLE=LEVEL")


def test_a_failed_run_leaves_an_existing_output_folder_untouched(fibromyalgia_dir, tmp_path):
    out = tmp_path / "assoc"
    out.mkdir()
    (out / "keep.txt").write_text("previous results")
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--fixed", "nope"))
    assert result.exit_code == 2
    assert (out / "keep.txt").read_text() == "previous results"


@pytest.fixture
def tiny(tmp_path):
    """Five samples, three features; metadata with an all-missing column."""
    counts = pd.DataFrame(np.arange(1, 16, dtype=float).reshape(3, 5),
                          index=["f1", "f2", "f3"], columns=[f"s{i}" for i in range(5)])
    counts.index.name = "feature_id"
    table = tmp_path / "table.tsv"
    counts.to_csv(table, sep="\t")
    meta = pd.DataFrame({"sample_id": counts.columns, "site": ["a", "b", "c", "d", "e"],
                         "age": [30, 41, 52, 63, 74], "empty": [""] * 5})
    metadata = tmp_path / "meta.tsv"
    meta.to_csv(metadata, sep="\t", index=False)
    return table, metadata


def test_more_parameters_than_samples(tiny, tmp_path):
    table, metadata = tiny
    out = tmp_path / "assoc"
    result = runner.invoke(app, ["associate", str(table), "--metadata", str(metadata),
                                 "--fixed", "site,age", "--reference", "site=a",
                                 "--min-prevalence", "0", "--out", str(out)])
    _assert_failed_cleanly(result, out, "more model parameters than samples")


def test_all_missing_covariate(tiny, tmp_path):
    table, metadata = tiny
    out = tmp_path / "assoc"
    result = runner.invoke(app, ["associate", str(table), "--metadata", str(metadata),
                                 "--fixed", "age,empty", "--out", str(out)])
    _assert_failed_cleanly(result, out, "empty", "all missing")

"""``gutaxis associate --strata / --unscaled-abundance``: MaAsLin 3's strata_effects and
unscaled_abundance from the command line, against MaAsLin 3 0.99.1's own runs
(tests/reference/maaslin3/, tolerance 1e-6), and clean failures (exit 2, nothing written)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.stats.association_results import read_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stats"))
from maaslin3_fixture import joined, read_all_results

runner = CliRunner()
M3 = Path(__file__).resolve().parents[1] / "reference" / "maaslin3"


def _hmp2_args(hmp2_dir, out, *extra):
    return ["associate", str(hmp2_dir / "HMP2_taxonomy.tsv.gz"), "--metadata",
            str(hmp2_dir / "HMP2_metadata.tsv"), "--no-plots", "--out", str(out), *extra]


def _fm_args(data, out, *extra):
    return ["associate", str(data / "feature-table.tsv.gz"), "--metadata",
            str(data / "metadata.tsv"), "--fixed",
            "group,covariate_age,covariate_imc,covariate_sii", "--reference", "group=ctl",
            "--prevalence-model", "--standardize", "--min-prevalence", "0.1", "--no-plots",
            "--out", str(out), *extra]


def _assert_close_to_maaslin3(out: Path, fixture: str, model: str) -> int:
    both = joined(read_results(out / "all_results.tsv"), read_all_results(M3 / fixture))
    rows = both[(both.model == model) & both.coef.notna()]
    for ours, theirs in (("coef", "coef_m3"), ("stderr", "stderr_m3"),
                         ("pval", "pval_individual")):
        np.testing.assert_allclose(rows[ours], rows[theirs], rtol=0, atol=1e-6, err_msg=ours)
    return len(rows)


def test_strata_scan_matches_maaslin3(hmp2_dir, tmp_path):
    out = tmp_path / "strata"
    result = runner.invoke(app, _hmp2_args(hmp2_dir, out, "--fixed", "antibiotics", "--strata",
                                           "subject", "--prevalence-model",
                                           "--min-prevalence", "0",
                                           "--no-median-comparison-abundance"))
    assert result.exit_code == 0, result.output
    assert _assert_close_to_maaslin3(out, "hmp2_strata.tsv.gz", "abundance") == 87
    assert _assert_close_to_maaslin3(out, "hmp2_strata.tsv.gz", "prevalence") == 87
    model = json.loads((out / "model.json").read_text())
    assert model["strata"] == "subject" and model["formula"].endswith("strata(subject)")


def test_total_load_scan_matches_maaslin3(fibromyalgia_dir, tmp_path):
    out = tmp_path / "unscaled"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--unscaled-abundance",
                                         str(M3 / "fibro_total_load.tsv")))
    assert result.exit_code == 0, result.output
    assert _assert_close_to_maaslin3(out, "fibro_unscaled.tsv.gz", "abundance") >= 900
    assert json.loads((out / "model.json").read_text())["unscaled_abundance"] == "total"


def test_samples_missing_from_the_load_file_are_named(fibromyalgia_dir, tmp_path):
    load = pd.read_csv(M3 / "fibro_total_load.tsv", sep="\t")
    path = tmp_path / "load.tsv"
    load[~load.sample_id.isin(["fbm_p02", "ctl_p05"])].to_csv(path, sep="\t", index=False)
    out = tmp_path / "scan"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--unscaled-abundance",
                                         str(path)))
    assert result.exit_code == 2, result.output
    assert "load.tsv" in result.output and "2 sample(s)" in result.output
    assert "fbm_p02" in result.output
    assert not out.exists()


def test_a_text_load_names_the_row_and_column(fibromyalgia_dir, tmp_path):
    load = pd.read_csv(M3 / "fibro_total_load.tsv", sep="\t").astype({"total": object})
    load.loc[3, "total"] = "lots"
    path = tmp_path / "load.tsv"
    load.to_csv(path, sep="\t", index=False)
    out = tmp_path / "scan"
    result = runner.invoke(app, _fm_args(fibromyalgia_dir, out, "--unscaled-abundance",
                                         str(path)))
    assert result.exit_code == 2, result.output
    assert f"row {load.sample_id[3]}" in result.output and "'total'" in result.output
    assert "lots" in result.output and not out.exists()


def test_strata_with_random_effects_is_refused(hmp2_dir, tmp_path):
    out = tmp_path / "scan"
    result = runner.invoke(app, _hmp2_args(hmp2_dir, out, "--fixed", "antibiotics", "--strata",
                                           "subject", "--random", "site"))
    assert result.exit_code == 2, result.output
    assert "strata and random effects cannot be combined" in result.output
    assert not out.exists()


def test_help_names_the_maaslin3_arguments():
    result = runner.invoke(app, ["associate", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "strata_effects" in text and "unscaled_abundance" in text
    assert "--strata" in text and "--unscaled-abundance" in text

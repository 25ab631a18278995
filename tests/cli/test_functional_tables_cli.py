"""HUMAnN and PICRUSt2 tables behind a command's TABLE argument: read, used, and bad ones
refused in one line with exit code 2, leaving nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy
from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "io" / "data"


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_refused(args: list[str], out: Path, *patterns: str) -> None:
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = flat(result.output)
    assert text.count("error:") == 1, text
    for pattern in patterns:
        assert pattern in text, text
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


def test_metrics_on_a_picrust2_pathway_table(tmp_path: Path) -> None:
    path = DATA / "picrust2" / "metacyc_unstrat_exp.txt.gz"
    out = tmp_path / "m"
    result = runner.invoke(app, ["metrics", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "chao1 needs read counts; the table holds predicted values" in flat(result.output)
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    with gzip.open(path, "rt") as fh:
        raw = pd.read_csv(fh, sep="\t", index_col=0).drop(columns="description")
    assert list(alpha.index) == list(raw.columns)
    assert alpha["chao1"].isna().all()
    # Shannon entropy in bits of each sample's pathway abundances (scipy, independent)
    np.testing.assert_allclose(alpha["shannon_entropy"], entropy(raw.to_numpy(), base=2,
                                                                 axis=0), rtol=1e-12)


def test_rarefying_a_cpm_table_is_refused(tmp_path: Path) -> None:
    assert_refused(["metrics", str(DATA / "humann" / "renorm_table-cpm_output.txt"),
                    "--rarefy", "10"], tmp_path / "m",
                   "rarefaction needs counts; found 'a table of relative values'")


def test_rarefying_rpk_is_refused(tmp_path: Path) -> None:
    assert_refused(["metrics", str(DATA / "humann" / "multi_sample_genefamilies.tsv"),
                    "--rarefy", "10"], tmp_path / "m",
                   "rarefaction needs whole-number read counts; found 'a table of RPK "
                   "values'")


def test_a_stratified_only_table_where_community_totals_are_needed(tmp_path: Path) -> None:
    assert_refused(["metrics", str(DATA / "humann" / "humann2_strat_example.tsv.gz")],
                   tmp_path / "m", "humann2_strat_example.tsv.gz: the file holds only "
                   "stratified (function x taxon) rows, no community totals")


def test_a_picrust2_contribution_table_where_community_totals_are_needed(
        tmp_path: Path) -> None:
    assert_refused(["metrics", str(DATA / "picrust2" / "expected_metagenome_contrib.txt.gz")],
                   tmp_path / "m", "only stratified", "found 'a contribution table'")


@pytest.mark.parametrize(("text", "message"), [
    ("# Gene Family\ta_Abundance-RPKs\tb_Abundance-CPM\nUniRef90_A\t1.5\t2.5\n",
     "row 1: sample columns in different units; found 'b_Abundance-CPM, a_Abundance-RPKs'"),
    ("# Gene Family\ts1_Abundance-RPKs\ts2_Abundance-RPKs\nUniRef90_A\t1\t2\nUniRef90_B\t3\tx\n",
     "row 3, column 's2_Abundance-RPKs': non-numeric value in the row of 'UniRef90_B'; "
     "found 'x'"),
    ("# Gene Family\ts1_Abundance-RPKs\nK00001\t1\nK00001\t2\n",
     "row 3: function listed twice; found 'K00001'"),
    ("", "file is empty"),
    ("function\ts1\ts2\nK00001\t1\t2\nK00001\t3\t4\n",
     "row 3: function listed twice; found 'K00001'"),
])
def test_bad_functional_tables(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "table.tsv"
    path.write_text(text, encoding="utf-8")
    assert_refused(["metrics", str(path)], tmp_path / "m", message)

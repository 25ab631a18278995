"""``gutaxis associate --group / --ordered / --levels`` (MaAsLin 3's group_effects and
ordered_effects): the rows written, the model recorded, and clean refusals."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gutaxis.cli.associate import parse_levels
from gutaxis.cli.main import app
from gutaxis.errors import InputError
from gutaxis.stats.association_results import read_results

runner = CliRunner()
LEVELS = "group=ctl,fbm_12_20,fbm_21_25,fbm_26_31"


def _args(data, out, *extra):
    return ["associate", str(data / "feature-table.tsv.gz"), "--metadata",
            str(data / "metadata.tsv"), "--taxonomy", str(data / "taxonomy.tsv.gz"),
            "--rank", "genus", "--no-plots", "--out", str(out), *extra]


@pytest.mark.realdata
def test_ordered_rows_are_levels_against_the_previous_level(fibromyalgia_dir, tmp_path):
    out = tmp_path / "ordered"
    result = runner.invoke(app, _args(fibromyalgia_dir, out, "--fixed", "covariate_age",
                                      "--ordered", "group", "--levels", LEVELS))
    assert result.exit_code == 0, result.output
    assert "ordered(group)" in result.output
    table = read_results(out / "all_results.tsv")
    rows = table[table["metadata"] == "group"]
    assert sorted(set(rows["value"])) == ["fbm_12_20", "fbm_21_25", "fbm_26_31"]
    assert len(rows) == 3 * 160 and rows["coef"].notna().all()
    model = json.loads((out / "model.json").read_text())
    assert model["ordered_effects"] == ["group"]
    assert model["levels"]["group"] == LEVELS.split("=")[1].split(",")
    assert "fbm_21_25 vs fbm_12_20" in (out / "report.html").read_text()


@pytest.mark.realdata
def test_group_is_one_row_per_feature_and_model_without_fixed_effects(fibromyalgia_dir,
                                                                      tmp_path):
    out = tmp_path / "group"
    result = runner.invoke(app, _args(fibromyalgia_dir, out, "--group", "group",
                                      "--prevalence-model"))
    assert result.exit_code == 0, result.output
    table = read_results(out / "all_results.tsv")
    assert (table["value"] == "group").all()
    assert table.groupby("model").size().to_dict() == {"abundance": 160, "prevalence": 160}
    assert table["coef"].isna().all() and table["pval"].notna().any()
    assert json.loads((out / "model.json").read_text())["group_effects"] == ["group"]


@pytest.mark.realdata
@pytest.mark.parametrize(("extra", "fragment"), [
    (["--ordered", "group"], "needs its level order"),
    (["--ordered", "group", "--levels", "group=ctl,fbm_12_20"], "values not listed"),
    (["--ordered", "group", "--reference", "group=ctl"], "not a reference"),
    (["--fixed", "group", "--group", "group"], "both a fixed and a group effect"),
    (["--group", "group", "--levels", "group"], "VARIABLE=LEVEL1,LEVEL2"),
])
def test_bad_special_predictor_options_fail_cleanly(fibromyalgia_dir, tmp_path, extra,
                                                    fragment):
    out = tmp_path / "bad"
    result = runner.invoke(app, _args(fibromyalgia_dir, out, *extra))
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert not out.exists()


def test_parse_levels_takes_one_variable_per_value():
    assert parse_levels(["a=x,y,z", " b = 1, 2 "]) == {"a": ["x", "y", "z"], "b": ["1", "2"]}
    with pytest.raises(InputError, match="given twice"):
        parse_levels(["a=x,y", "a=y,x"])
    with pytest.raises(InputError, match="VARIABLE=LEVEL1"):
        parse_levels(["a=x,,y"])

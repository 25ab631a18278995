"""``gutaxis analyze``: one command writes every step's results, its config and the report;
rerunning from the written config gives the same tables; bad input exits 2 with one line
and leaves nothing; partial sample overlap is reported; the fibromyalgia cohort runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths

pytest.importorskip("sklearn")
runner = CliRunner()
FAST = """[community]\npermutations = 99\n[classify]\nrepeats = 1\npermutations = 0\n
[mediation]\nboot = 50\n[checks]\nmin_depth = 1\n"""


def example_args(out: Path, *extra: str) -> list[str]:
    p = example_paths()
    return ["analyze", str(p["table"]), "--taxonomy", str(p["taxonomy"]), "--tree",
            str(p["tree"]), "--metadata", str(p["metadata"]), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "fast.toml"
    path.write_text(FAST, encoding="utf-8")
    return path


def one_line_error(result, out: Path, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error:"), text
    for word in words:
        assert word in text
    assert not out.exists()


def test_analyze_writes_everything_and_reruns_from_its_config(tmp_path: Path,
                                                              fast_config: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, example_args(out, "--outcome", "pain_nrs", "--covariates",
                                             "age", "--subject", "subject", "--exposure",
                                             "age", "--mediators", "crp_mg_l", "--config",
                                             str(fast_config), "--seed", "3"))
    assert result.exit_code == 0, result.output
    for name in ("report.html", "config.toml", "diversity/alpha.tsv",
                 "community/permanova.tsv", "association/all_results.tsv",
                 "mediation/effects.tsv", "cohort/table1.tsv"):
        assert (out / name).is_file(), name
    again = tmp_path / "again"
    result = runner.invoke(app, ["analyze", "--config", str(out / "config.toml"), "--out",
                                 str(again)])
    assert result.exit_code == 0, result.output
    for name in ("diversity/alpha.tsv", "community/permanova.tsv",
                 "association/all_results.tsv", "mediation/effects.tsv",
                 "diversity/alpha_association/all_results.tsv"):
        assert (out / name).read_text() == (again / name).read_text(), name
    html = (out / "report.html").read_text()
    assert "What we found" in html
    assert 'src="http' not in html and "<link" not in html  # self-contained


def test_missing_outcome_column_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "x"
    one_line_error(runner.invoke(app, example_args(out, "--outcome", "painscore")), out,
                   "no such metadata column", "painscore")


def test_constant_outcome_exits_2(tmp_path: Path) -> None:
    meta = pd.read_csv(example_paths()["metadata"], sep="\t").assign(flat=1)
    path = tmp_path / "meta.tsv"
    meta.to_csv(path, sep="\t", index=False)
    p = example_paths()
    out = tmp_path / "x"
    result = runner.invoke(app, ["analyze", str(p["table"]), "--metadata", str(path),
                                 "--outcome", "flat", "--out", str(out)])
    one_line_error(result, out, "fewer than two distinct values", "flat")


def test_unknown_config_key_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[classify]\nrepeat = 3\n", encoding="utf-8")
    out = tmp_path / "x"
    result = runner.invoke(app, example_args(out, "--outcome", "pain_nrs", "--config",
                                             str(config)))
    one_line_error(result, out, "unknown configuration key", "classify.repeat")


def test_partial_overlap_and_small_groups_are_reported(tmp_path: Path,
                                                       fast_config: Path) -> None:
    meta = pd.read_csv(example_paths()["metadata"], sep="\t")
    part = meta.iloc[:30]  # 10 table samples have no metadata row
    path = tmp_path / "meta.tsv"
    part.to_csv(path, sep="\t", index=False)
    p = example_paths()
    out = tmp_path / "run"
    config = tmp_path / "c.toml"
    config.write_text(FAST + "min_group_size = 20\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(p["table"]), "--metadata", str(path),
                                 "--outcome", "group", "--outcome-type", "binary",
                                 "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    dropped = pd.read_csv(out / "cohort" / "dropped.tsv", sep="\t")
    assert len(dropped) == 10
    assert set(dropped["reason"]) == {"in the table but not in the metadata"}
    html = (out / "report.html").read_text()
    assert "10 left out" in html and "Steps not run" in html
    assert "too few samples in group" in html
    assert not (out / "classify").exists() and (out / "association").is_dir()


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ordinal", "binary"])
def test_fibromyalgia_cohort(fibromyalgia_dir: Path, tmp_path: Path, kind: str) -> None:
    d = fibromyalgia_dir
    config = tmp_path / "fm.toml"
    config.write_text('[design]\npositive = ["fbm_12_20", "fbm_21_25", "fbm_26_31"]\n'
                      '[classify]\npermutations = 19\n', encoding="utf-8")
    out = tmp_path / kind
    result = runner.invoke(app, [
        "analyze", str(d / "feature-table.tsv.gz"), "--taxonomy", str(d / "taxonomy.tsv.gz"),
        "--tree", str(d / "tree.nwk"), "--metadata", str(d / "metadata.tsv"),
        "--outcome", "group", "--outcome-type", kind, "--covariates",
        "covariate_age,covariate_imc,covariate_sii", "--config", str(config),
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    steps = pd.read_csv(out / "steps.tsv", sep="\t").set_index("step")["status"]
    expected = {"diversity", "alpha", "community", "association"} | (
        {"classify"} if kind == "binary" else set())
    assert expected <= set(steps[steps == "done"].index)
    perm = pd.read_csv(out / "community" / "permanova.tsv", sep="\t").set_index("term")
    assert perm.loc["Total", "df"] == 100
    assert 0 < perm.loc[f"group_{'score' if kind == 'ordinal' else 'positive'}", "r2"] < 0.1
    if kind == "binary":
        auroc = pd.read_csv(out / "classify" / "performance.tsv", sep="\t").iloc[0]
        assert 0.55 < auroc["estimate"] < 0.95
    assert "What we found" in (out / "report.html").read_text()


def test_demo_simulates_and_analyses_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    for name in ("report.html", "truth.tsv", "config.toml", "data/table.tsv",
                 "association/all_results.tsv", "mediation/effects.tsv"):
        assert (out / name).is_file(), name
    truth = pd.read_csv(out / "truth.tsv", sep="\t")
    scan = pd.read_csv(out / "association" / "all_results.tsv", sep="\t")
    hits = scan[(scan["metadata"] == "pain") & (scan["qval"] <= 0.25)].merge(truth, on="feature")
    assert len(hits) >= 3 and (hits["effect"] != 0).mean() >= 0.6  # planted taxa found
    assert f'"{out / "data" / "table.tsv"}"' in (out / "config.toml").read_text()
    again = tmp_path / "again"
    result = runner.invoke(app, ["analyze", "--config", str(out / "config.toml"),
                                 "--out", str(again)])
    assert result.exit_code == 0, result.output
    assert ((again / "association" / "all_results.tsv").read_text()
            == (out / "association" / "all_results.tsv").read_text())

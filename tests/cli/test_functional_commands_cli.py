"""``associate``, ``permanova``, ``mediate`` and ``analyze`` on functional tables: the real
HUMAnN2 KO table of 109 Indian stool metagenomes (``ko_study`` in tests/conftest.py), a
pathway-style coverage table made of Omixer-RPM's real GBM coverage values, and HUMAnN's
own stratified example. Output columns are those of a taxon table; a coverage table is
scanned without TSS; a stratified table is refused in one line with exit code 2."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.stats.association_results import RESULT_COLUMNS

pytest.importorskip("gutaxis.io.humann")
runner = CliRunner()
STRATIFIED = Path(__file__).parents[1] / "io" / "data" / "humann" / "humann2_strat_example.tsv.gz"


@pytest.fixture(scope="module")
def files(ko_study: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("functional")
    meta = folder / "meta.tsv"
    ko_study.metadata.to_csv(meta, sep="\t")
    coverage = folder / "pathcoverage.tsv"  # HUMAnN's layout: '# Pathway', <sample>_Coverage
    cov = ko_study.coverage.T
    cov.columns = [f"{s}_Coverage" for s in cov.columns]
    cov.rename_axis("# Pathway").to_csv(coverage, sep="\t")
    return {"ko": ko_study.ko_path, "meta": meta, "coverage": coverage}


def one_line_error(result: Any, out: Path, *words: str) -> None:
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.startswith("error:") and len(result.output.strip().splitlines()) == 1, text
    for word in words:
        assert word in text, text
    assert not out.exists()


def associate(table: Path, meta: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["associate", str(table), "--metadata", str(meta), "--fixed",
                               "pain,series", "--reference", "series=C_M", "--no-plots",
                               "--out", str(out), *extra])


def test_associate_scans_kos_as_features_with_the_usual_columns(files: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "scan"
    result = associate(files["ko"], files["meta"], out, "--rank", "genus")
    assert result.exit_code == 0, result.output
    assert "--rank genus left out: the table's features are functions (ko)" in result.output
    table = pd.read_csv(out / "all_results.tsv", sep="\t")
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert table["feature"].str.fullmatch(r"K\d{5}").all()
    assert (out / "report.html").is_file()


def test_a_coverage_table_is_scanned_without_tss_or_refused(files: dict[str, Path],
                                                            tmp_path: Path) -> None:
    refused = tmp_path / "refused"
    one_line_error(associate(files["coverage"], files["meta"], refused), refused,
                   "coverage table is scanned as it is", "--normalization")
    out = tmp_path / "cov"
    result = associate(files["coverage"], files["meta"], out, "--normalization", "NONE",
                       "--transform", "NONE")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "all_results.tsv", sep="\t")
    assert set(table["feature"]) <= {str(c) for c in pd.read_csv(
        files["coverage"], sep="\t", index_col=0).index}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert re.search(r"Acetate synthesis III \(MGB045\)", html)  # modules read by name


def test_a_stratified_table_is_refused_in_one_line(files: dict[str, Path],
                                                   tmp_path: Path) -> None:
    for command in (["associate", str(STRATIFIED), "--metadata", str(files["meta"]),
                     "--fixed", "pain"],
                    ["permanova", str(STRATIFIED), "--metric", "braycurtis", "--metadata",
                     str(files["meta"]), "--formula", "pain"]):
        out = tmp_path / command[0]
        one_line_error(runner.invoke(app, [*command, "--out", str(out)]), out, "stratified")


def test_permanova_on_ko_abundances_and_not_on_coverage(files: dict[str, Path],
                                                       tmp_path: Path) -> None:
    out = tmp_path / "perm"
    args = ["--metric", "braycurtis", "--metadata", str(files["meta"]), "--formula",
            "series + pain", "--permutations", "99", "--no-plot"]
    result = runner.invoke(app, ["permanova", str(files["ko"]), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    terms = pd.read_csv(out / "permanova.tsv", sep="\t")["term"].tolist()
    assert terms == ["series", "pain", "Residual", "Total"]
    refused = tmp_path / "perm-cov"
    one_line_error(runner.invoke(app, ["permanova", str(files["coverage"]), *args, "--out",
                                       str(refused)]), refused, "not coverage")


@pytest.mark.parametrize("mediator", ["MGB047", "K01895"])
def test_a_module_or_a_ko_is_a_mediator(files: dict[str, Path], tmp_path: Path,
                                        mediator: str) -> None:
    pytest.importorskip("gutaxis.gut.modules")
    out = tmp_path / mediator
    result = runner.invoke(app, ["mediate", "--metadata", str(files["meta"]), "--table",
                                 str(files["ko"]), "--exposure", "series", "--treated", "H",
                                 "--mediators", mediator, "--outcome", "pain", "--boot", "50",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"mediator {mediator}:" in result.output and "log2 relative abundance" in result.output
    effects = pd.read_csv(out / "effects.tsv", sep="\t")
    assert {"acme", "ade", "total"} <= set(effects["effect"])


def test_an_unknown_mediator_with_a_table_is_one_line(files: dict[str, Path],
                                                      tmp_path: Path) -> None:
    out = tmp_path / "nope"
    result = runner.invoke(app, ["mediate", "--metadata", str(files["meta"]), "--table",
                                 str(files["ko"]), "--exposure", "series", "--mediators",
                                 "K99999", "--outcome", "pain", "--out", str(out)])
    one_line_error(result, out, "K99999", "feature id of --table")


def test_analyze_a_ko_table_adds_the_mechanism_section(files: dict[str, Path],
                                                      tmp_path: Path) -> None:
    pytest.importorskip("gutaxis.gut.modules")
    pytest.importorskip("sklearn")
    config = tmp_path / "fast.toml"
    config.write_text("[community]\npermutations = 99\n[mediation]\nboot = 100\n"
                      "[checks]\nmin_depth = 1\n[association]\nrank = \"\"\n", encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(app, ["analyze", str(files["ko"]), "--metadata", str(files["meta"]),
                                 "--outcome", "pain", "--covariates", "series", "--config",
                                 str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("mechanism/scan-gbm.tsv", "mechanism/scan-gmm.tsv", "mechanism/modules-gbm.tsv",
                 "mechanism/mediation.tsv", "association/all_results.tsv"):
        assert (out / name).is_file(), name
    scan = pd.read_csv(out / "mechanism" / "scan-gbm.tsv", sep="\t")
    assert list(scan.columns) == list(RESULT_COLUMNS)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Mechanism: what the gut makes and lets through" in html
    assert "Acetate degradation (MGB047)" in html and "crp" in html
    steps = pd.read_csv(out / "steps.tsv", sep="\t").set_index("step")
    assert steps.loc["mechanism", "status"] == "done"
    again = tmp_path / "again"  # config.toml round trip keeps the new sections
    result = runner.invoke(app, ["analyze", "--config", str(out / "config.toml"), "--out",
                                 str(again)])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "mechanism" / "functions.tsv", sep="\t"),
                                  pd.read_csv(again / "mechanism" / "functions.tsv", sep="\t"))


@pytest.fixture(scope="module")
def module_files(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
                 ) -> Path:
    """``gutaxis modules`` run on the real KO table: module-abundance.tsv and
    module-coverage.tsv as a user would get them."""
    out = tmp_path_factory.mktemp("modules") / "gbm"
    result = runner.invoke(app, ["modules", str(files["ko"]), "--set", "gbm", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_gutaxis_modules_output_is_a_table_for_associate(files: dict[str, Path],
                                                         module_files: Path,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "modules-scan"
    result = associate(module_files / "module-abundance.tsv", files["meta"], out,
                       "--kind", "counts")
    assert result.exit_code == 0, result.output
    assert "Acetate degradation (MGB047)" in (out / "report.html").read_text(encoding="utf-8")
    out = tmp_path / "coverage-scan"
    result = associate(module_files / "module-coverage.tsv", files["meta"], out)
    # the file says it holds coverage (its '# gutaxis:' line): no TSS on it
    assert result.exit_code == 2
    assert "a coverage table is scanned as it is, without TSS or CLR" in " ".join(
        result.output.split())
    result = associate(module_files / "module-coverage.tsv", files["meta"], out,
                       "--normalization", "NONE", "--transform", "NONE")
    assert result.exit_code == 0, result.output


def test_analyze_with_the_module_table_beside_and_not_its_coverage(
        files: dict[str, Path], module_files: Path, tmp_path: Path) -> None:
    from gutaxis.analyze import DEFAULTS, merge_config, run_analysis

    base = {"input": {"table": str(files["ko"]), "metadata": str(files["meta"])},
            "design": {"outcome": "pain", "covariates": ["series"]},
            "community": {"permutations": 9}, "mediation": {"boot": 50}}
    ran = run_analysis(merge_config(DEFAULTS, {**base, "input": {
        **base["input"], "function_table": str(module_files / "module-abundance.tsv")}}))
    assert [s.key for s in ran.mechanism.scans] == ["modules"]
    assert ran.mechanism.scans[0].names["MGB047"] == "Acetate degradation"
    refused = run_analysis(merge_config(DEFAULTS, {**base, "input": {
        **base["input"], "function_table": str(module_files / "module-coverage.tsv")}}))
    assert "module-abundance.tsv" in refused.skipped["mechanism"]

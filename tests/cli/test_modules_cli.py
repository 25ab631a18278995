"""``gutaxis modules``: the files match Omixer-RPM's output, read back as TABLEs, and bad
input exits 2 leaving nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_metrics_cli import assert_bad_input
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths
from gutaxis.cli.modules import ko_orientation
from gutaxis.gut.modules import OUTPUT_FILES, TIDY_COLUMNS
from gutaxis.io import read_table

runner = CliRunner()
OMIXER = Path(__file__).resolve().parents[1] / "reference" / "omixer"
INDIAN = str(OMIXER / "indian_ko_modules.tsv.gz")
SYNTHETIC = OMIXER / "synthetic"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def gmm_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("modules") / "gmm"
    result = invoke("modules", INDIAN, "--set", "gmm", "--kind", "counts", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_writes_omixer_rpm_values_in_every_file(gmm_out: Path) -> None:
    assert sorted(p.name for p in gmm_out.iterdir() if not p.name.startswith(".")) == \
        sorted(OUTPUT_FILES)
    reference = pd.read_csv(OMIXER / "gmm-1.07_c0.66_abundance.tsv.gz", sep="\t", index_col=0)
    abundance = pd.read_csv(gmm_out / "module-abundance.tsv", sep="\t", index_col=0, comment="#")
    assert abundance.index.name == "feature_id" and len(abundance) == 103
    expected = reference.reindex(index=abundance.index, columns=abundance.columns).fillna(0)
    np.testing.assert_allclose(abundance.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=0)
    tidy = pd.read_csv(gmm_out / "modules.tsv", sep="\t")
    assert tuple(tidy.columns) == TIDY_COLUMNS and len(tidy) == 109 * 103
    wide = tidy.pivot(index="module_id", columns="sample_id", values="abundance")
    np.testing.assert_allclose(wide.loc[abundance.index, abundance.columns].to_numpy(),
                               abundance.to_numpy(), rtol=1e-15)
    assert (tidy["present"] == (tidy["coverage"] >= 0.66)).all()
    definitions = pd.read_csv(gmm_out / "module-definitions.tsv", sep="\t")
    assert definitions.columns.tolist() == ["module_id", "name", "n_steps", "ko_steps",
                                            "n_alternatives"]
    summary = json.loads((gmm_out / "summary.json").read_text())
    assert (summary["set"], summary["version"], summary["cutoff"]) == ("gmm", "1.07", 0.66)
    assert summary["n_samples"] == 109 and summary["n_modules_present"] == len(reference)
    # UNMAPPED and UNGROUPED: left out by the HUMAnN reader, else by the engine
    assert summary["unknown_ids_first"] in ([], ["UNMAPPED", "UNGROUPED"])
    assert summary["n_unknown_ids"] == len(summary["unknown_ids_first"])
    assert "VIB" in summary["licence"] and "nmicrobiol.2016.88" in summary["citation"]
    assert summary["inputs"]["table"]["sha256"].startswith("sha256:")


def test_module_tables_read_back_as_tables(gmm_out: Path) -> None:
    abundance = read_table(gmm_out / "module-abundance.tsv")  # its '# gutaxis:' line says
    coverage = read_table(gmm_out / "module-coverage.tsv")  # what the values are
    assert abundance.shape == coverage.shape == (109, 103)
    assert (abundance.feature_type, abundance.unit, abundance.kind) == ("module", "RPK", "counts")
    assert (coverage.feature_type, coverage.unit, coverage.kind) == (
        "module", "coverage", "transformed")
    tidy = pd.read_csv(gmm_out / "modules.tsv", sep="\t")
    first = tidy[tidy["sample_id"] == abundance.sample_ids[0]].set_index("module_id")
    np.testing.assert_array_equal(abundance.dense()[0], first.loc[abundance.feature_ids,
                                                                  "abundance"].to_numpy())
    np.testing.assert_array_equal(coverage.dense()[0], first.loc[coverage.feature_ids,
                                                                 "coverage"].to_numpy())


@pytest.mark.slow
def test_associate_scans_the_module_table(gmm_out: Path, tmp_path: Path) -> None:
    samples = pd.read_csv(gmm_out / "module-abundance.tsv", sep="\t", comment="#",
                          nrows=0).columns[1:]
    metadata = tmp_path / "meta.tsv"
    rng = np.random.default_rng(1)
    pd.DataFrame({"sample_id": samples, "score": rng.normal(size=len(samples))}).to_csv(
        metadata, sep="\t", index=False)
    out = tmp_path / "scan"
    result = invoke("associate", str(gmm_out / "module-abundance.tsv"), "--kind", "counts",
                    "--metadata", str(metadata), "--fixed", "score", "--no-plots",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    scanned = pd.read_csv(out / "all_results.tsv", sep="\t")
    assert scanned["feature"].str.match(r"^MF\d{4}$").all() and len(scanned) > 80


def test_custom_definitions_match_omixer_rpm(tmp_path: Path) -> None:
    out = tmp_path / "custom"
    result = invoke("modules", str(SYNTHETIC / "ko_table.tsv"), "--definitions",
                    str(SYNTHETIC / "definitions.txt"), "--coverage", "0.5", "--kind", "counts",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    mine = pd.read_csv(out / "module-abundance.tsv", sep="\t", index_col=0, comment="#")
    reference = pd.read_csv(SYNTHETIC / "c0.5_abundance.tsv", sep="\t", index_col=0)
    expected = reference.reindex(index=mine.index, columns=mine.columns).fillna(0)
    np.testing.assert_allclose(mine.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["set"] == "definitions" and summary["inputs"]["definitions"]["path"]


def test_ids_that_are_not_kegg_orthologs_are_counted_in_a_note(tmp_path: Path) -> None:
    table = tmp_path / "ko.tsv"
    table.write_text("id\tS1\tS2\nNOG12345\t5\t1\nK00001\t3\t4\nK01593\t2\t0\n")
    out = tmp_path / "out"
    result = invoke("modules", str(table), "--out", str(out))
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"note: {table}: left out 1 feature id that is neither a KEGG ortholog nor named " \
        "by a module: NOG12345" in text
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_unknown_ids"], summary["unknown_ids_first"]) == (1, ["NOG12345"])
    assert (summary["n_ko_features"], summary["n_ko_used"]) == (2, 1)


def test_ko_ids_tell_the_orientation(tmp_path: Path) -> None:
    rows = tmp_path / "rows.tsv"
    rows.write_text("id\tS1\tS2\nNOG12345\t1\t2\nK00001\t3\t4\n")
    columns = tmp_path / "columns.csv"
    columns.write_text("id,K00001,K00002\nS1,1,2\n")
    other = tmp_path / "other.tsv"
    other.write_text("id\tS1\nEC:1.1.1.1\t3\n")
    assert (ko_orientation(rows), ko_orientation(columns), ko_orientation(other)) == (
        "samples-columns", "samples-rows", None)


@pytest.mark.parametrize("args,patterns", [
    (["--set", "kegg"], ["unknown module set", "gbm 1.0, gmm 1.07", "--set"]),
    (["--set", "gmm", "--version", "2"], ["no version '2'", "['1.07']", "--version"]),
    (["--coverage", "1.5"], ["coverage cutoff must be a fraction", "--coverage"]),
])
def test_bad_options_exit_2_in_one_line(tmp_path: Path, args: list[str],
                                        patterns: list[str]) -> None:
    out = tmp_path / "out"
    result = invoke("modules", INDIAN, "--kind", "counts", *args, "--out", str(out))
    assert_bad_input(result, out, *patterns)
    assert len(result.output.strip().splitlines()) == 1


def test_a_taxon_table_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("modules", str(example_paths()["table"]), "--out", str(out))
    assert_bad_input(result, out, "needs a table of KEGG orthologs", "no KEGG ortholog ids")


def test_an_earlier_output_is_not_replaced_without_force(gmm_out: Path) -> None:
    result = invoke("modules", INDIAN, "--set", "gmm", "--kind", "counts", "--out",
                    str(gmm_out))
    assert result.exit_code == 2 and "--force" in result.output


def test_help_shows_examples() -> None:
    result = invoke("modules", "--help")
    assert result.exit_code == 0
    assert "gutaxis modules humann_ko_unstratified.tsv --set gbm --out gbm" in result.output


def test_the_progress_bar_appears_only_after_a_second(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    from gutaxis.cli import modules

    class Bar:
        def __init__(self) -> None:
            self.tasks: list[tuple[str, int]] = []
            self.done: list[int] = []

        def add_task(self, description: str, *, total: int) -> int:
            self.tasks.append((description, total))
            return 0

        def update(self, task: int, *, completed: int) -> None:
            self.done.append(completed)

    quick, slow = Bar(), Bar()
    monkeypatch.setattr(modules, "_SLOW", float("inf"))  # never slow enough: no bar
    advance = modules._late_bar(quick, 10)  # type: ignore[arg-type]
    advance(4)
    advance(6)
    assert quick.tasks == [] and quick.done == []
    monkeypatch.setattr(modules, "_SLOW", -1.0)  # always slow enough: the bar at once
    advance = modules._late_bar(slow, 10)  # type: ignore[arg-type]
    advance(4)
    advance(6)
    assert slow.tasks == [("scoring modules", 10)] and slow.done == [4, 10]


def test_per_taxon_reads_humann_stratified_rows_and_matches_omixer_rpm(tmp_path: Path) -> None:
    # Omixer-RPM's taxon-annotated input (-a 2), rewritten as a HUMAnN stratified table
    frame = pd.read_csv(SYNTHETIC / "taxon_ko_table.tsv", sep="\t")
    samples = [c for c in frame.columns if c not in ("Taxon", "KO")]
    humann = frame[samples].rename(columns=lambda s: f"{s}_Abundance-RPKs")
    humann.insert(0, "# Gene Family", frame["KO"] + "|" + frame["Taxon"])
    table = tmp_path / "ko_stratified.tsv"
    humann.to_csv(table, sep="\t", index=False)
    out = tmp_path / "per-taxon"
    result = invoke("modules", str(table), "--per-taxon", "--definitions",
                    str(SYNTHETIC / "definitions.txt"), "--coverage", "0.66", "--out", str(out))
    assert result.exit_code == 0, result.output
    expected = pd.read_csv(SYNTHETIC / "taxon_c0.66_abundance.tsv", sep="\t")
    expected.index = expected["Module"] + "|" + expected["Taxon"]
    expected = expected.drop(columns=["Module", "Taxon"])
    tidy = pd.read_csv(out / "modules.tsv", sep="\t")
    mine = tidy.assign(feature=tidy["module_id"] + "|" + tidy["taxon"]).pivot(
        index="feature", columns="sample_id", values="abundance")
    assert sorted(mine.index) == sorted(expected.index)
    np.testing.assert_allclose(mine.loc[expected.index, samples].fillna(0).to_numpy(),
                               expected[samples].to_numpy(), rtol=1e-9, atol=0)
    # without --per-taxon the stratified-only file is refused in one line
    refused = invoke("modules", str(table), "--out", str(tmp_path / "community"))
    assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1

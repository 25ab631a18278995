"""``gutaxis metrics``: outputs on the example and on real data; bad input exits 2 and
leaves nothing behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths

runner = CliRunner()

ALPHA_COLUMNS = ["observed_features", "shannon_entropy", "simpson", "inverse_simpson",
                 "pielou_e", "chao1"]
BETA = ["braycurtis", "jaccard", "aitchison", "unweighted_unifrac",
        "weighted_normalized_unifrac", "weighted_unifrac"]
UNIFRAC_REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "unifrac"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def assert_bad_input(result, out: Path, *patterns: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    for pattern in patterns:
        assert pattern in text, text
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


def test_example_writes_every_output(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    result = invoke("metrics", "--example", "--out", str(out))
    assert result.exit_code == 0, result.output
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert list(alpha.columns) == [*ALPHA_COLUMNS, "faith_pd"]
    assert alpha.index.name == "sample_id" and len(alpha) == 40
    for metric in BETA:
        dm = pd.read_csv(out / "beta" / f"{metric}.tsv", sep="\t", index_col=0)
        assert list(dm.index) == list(dm.columns) == list(alpha.index)
        np.testing.assert_array_equal(dm.to_numpy(), dm.to_numpy().T)
        coords = pd.read_csv(out / "pcoa" / f"{metric}.tsv", sep="\t", index_col=0)
        assert list(coords.columns[:2]) == ["PC1", "PC2"]
    summary = pd.read_csv(out / "gut_summary.tsv", sep="\t", index_col=0)
    assert {"butyrate_producer_share", "md_index", "dysbiosis_score"} <= set(summary.columns)
    # the planted effect: fewer butyrate producers in the pain group of the example
    meta = pd.read_csv(example_paths()["metadata"], sep="\t", index_col=0)
    groups = summary["butyrate_producer_share"].groupby(meta["group"]).mean()
    assert groups["chronic_pain"] < groups["control"]


def test_relative_table_keeps_alpha_columns_with_empty_chao1(tmp_path: Path) -> None:
    table = pd.read_csv(example_paths()["table"], sep="\t", index_col=0)
    rel = tmp_path / "rel.tsv"
    (table / table.sum(axis=0)).to_csv(rel, sep="\t")
    out = tmp_path / "out"
    result = invoke("metrics", str(rel), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "chao1 needs read counts" in " ".join(result.output.split())
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert list(alpha.columns) == ALPHA_COLUMNS
    assert alpha["chao1"].isna().all() and alpha["shannon_entropy"].notna().all()


def test_rank_aggregation_drops_tree_metrics(tmp_path: Path) -> None:
    paths = example_paths()
    out = tmp_path / "genus"
    result = invoke("metrics", str(paths["table"]), "--taxonomy", str(paths["taxonomy"]),
                    "--tree", str(paths["tree"]), "--rank", "genus", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in (out / "beta").iterdir()) == ["aitchison", "braycurtis",
                                                                "jaccard"]
    assert len(pd.read_csv(out / "alpha.tsv", sep="\t").columns) == 1 + len(ALPHA_COLUMNS)


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "table.xyz"
    bad.write_bytes(b"\x00\x01binary junk")
    out = tmp_path / "out"
    assert_bad_input(invoke("metrics", str(bad), "--out", str(out)), out, "table.xyz")


def test_truncated_gzip_table_exits_2_with_one_line_not_aborted(tmp_path: Path) -> None:
    packed = gzip.compress(example_paths()["table"].read_bytes())
    bad = tmp_path / "table.tsv.gz"
    bad.write_bytes(packed[: len(packed) * 2 // 3])
    out = tmp_path / "out"
    result = invoke("metrics", str(bad), "--out", str(out))
    assert_bad_input(result, out, "table.tsv.gz", "gzip data is truncated")
    assert "Aborted" not in result.output


@pytest.fixture
def short_metadata(tmp_path: Path) -> Path:
    """The example metadata without its first three samples."""
    meta = pd.read_csv(example_paths()["metadata"], sep="\t")
    short = tmp_path / "meta.tsv"
    meta.iloc[3:].to_csv(short, sep="\t", index=False)
    return short


def test_samples_missing_from_metadata_are_left_out_named_and_counted(
        tmp_path: Path, short_metadata: Path) -> None:
    meta = pd.read_csv(short_metadata, sep="\t")
    out = tmp_path / "out"
    result = invoke("metrics", str(example_paths()["table"]), "--metadata", str(short_metadata),
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "left out 3 of the 40 samples" in result.output
    assert "S01_v1, S01_v2, S02_v1" in result.output
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert list(alpha.index) == list(meta["sample_id"])


def test_strict_refuses_samples_missing_from_metadata(tmp_path: Path,
                                                      short_metadata: Path) -> None:
    out = tmp_path / "out"
    result = invoke("metrics", str(example_paths()["table"]), "--metadata", str(short_metadata),
                    "--out", str(out), "--strict")
    assert_bad_input(result, out, "3 of the 40", "S01_v1")


@pytest.mark.parametrize(("name", "row", "col", "value"),
                         [("neg.tsv", 4, 7, -3), ("text.tsv", 2, 5, "lots")],
                         ids=["negative", "non-numeric"])
def test_bad_cell_names_file_row_and_column(tmp_path: Path, name: str, row: int, col: int,
                                           value: object) -> None:
    table = pd.read_csv(example_paths()["table"], sep="\t", index_col=0).astype(object)
    table.iloc[row, col] = value
    bad = tmp_path / name
    table.to_csv(bad, sep="\t")
    out = tmp_path / "out"
    result = invoke("metrics", str(bad), "--out", str(out))
    assert_bad_input(result, out, name, table.index[row], table.columns[col], str(value))


def test_proportions_where_counts_are_needed(tmp_path: Path) -> None:
    table = pd.read_csv(example_paths()["table"], sep="\t", index_col=0)
    rel = tmp_path / "rel.tsv"
    (table / table.sum(axis=0)).to_csv(rel, sep="\t")
    out = tmp_path / "out"
    result = invoke("metrics", str(rel), "--rarefy", "1000", "--out", str(out))
    assert_bad_input(result, out, "rarefaction needs counts", "relative")


def test_tree_missing_tips(tmp_path: Path) -> None:
    paths = example_paths()
    tree = tmp_path / "small.nwk"
    tree.write_text("((ASV001:0.1,ASV002:0.2):0.1,ASV003:0.3);\n")
    out = tmp_path / "out"
    result = invoke("metrics", str(paths["table"]), "--tree", str(tree), "--out", str(out))
    assert_bad_input(result, out, "small.nwk", "missing 46 feature(s)", "ASV004")


def test_failure_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous results")
    bad = tmp_path / "table.xyz"
    bad.write_text("nothing")
    result = invoke("metrics", str(bad), "--out", str(out))
    assert result.exit_code == 2
    assert (out / "keep.txt").read_text() == "previous results"


@pytest.mark.realdata
def test_fibromyalgia_writes_all_outputs(fibromyalgia_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fm"
    result = invoke("metrics", str(fibromyalgia_dir / "feature-table.tsv.gz"),
                    "--taxonomy", str(fibromyalgia_dir / "taxonomy.tsv.gz"),
                    "--tree", str(fibromyalgia_dir / "tree.nwk"),
                    "--metadata", str(fibromyalgia_dir / "metadata.tsv"),
                    "--reference", "group=ctl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "no singletons" in " ".join(result.output.split())
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert alpha.shape == (101, 7)
    with gzip.open(fibromyalgia_dir / "feature-table.tsv.gz", "rt") as fh:
        counts = pd.read_csv(fh, sep="\t", index_col=0)
    np.testing.assert_array_equal(alpha["observed_features"].to_numpy(),
                                  (counts > 0).sum(axis=0).loc[alpha.index].to_numpy())
    for metric in BETA:
        assert (out / "beta" / f"{metric}.tsv").stat().st_size > 0
        assert (out / "pcoa" / f"{metric}.tsv").stat().st_size > 0
    summary = pd.read_csv(out / "gut_summary.tsv", sep="\t", index_col=0)
    assert len(summary) == 101 and summary["dysbiosis_score"].notna().all()


# ------------------------------------------- QIIME 2 names, settings, provenance
def _example_counts() -> pd.DataFrame:
    """The example table as samples x features counts."""
    return pd.read_csv(example_paths()["table"], sep="\t", index_col=0).T


def test_metrics_json_records_settings_version_hashes_and_citations(tmp_path: Path) -> None:
    import hashlib
    import json

    import gutaxis

    out = tmp_path / "ex"
    assert invoke("metrics", "--example", "--out", str(out)).exit_code == 0
    record = json.loads((out / "metrics.json").read_text())
    assert record["gutaxis_version"] == gutaxis.__version__
    assert record["settings"]["shannon_base"] == 2.0
    assert record["settings"]["generalized_alpha"] == 0.5
    assert record["settings"]["beta_metrics"] == BETA
    assert record["shannon_entropy_unit"] == "bits (log base 2)"
    for name in ("table", "tree", "taxonomy", "metadata"):
        entry = record["inputs"][name]
        digest = hashlib.sha256(Path(entry["path"]).read_bytes()).hexdigest()
        assert entry["sha256"] == "sha256:" + digest
    assert record["table_hash"].startswith("sha256:") and record["n_samples"] == 40
    assert any("Lozupone" in c for c in record["citations"])
    assert any("Bolyen" in c for c in record["citations"])
    assert "beta/weighted_normalized_unifrac.tsv" in record["outputs"]


@pytest.mark.parametrize(("option", "log"), [([], np.log2), (["--shannon-base", "e"], np.log)])
def test_shannon_entropy_base_is_an_option_defaulting_to_bits(tmp_path: Path, option: list[str],
                                                            log: object) -> None:
    import json

    out = tmp_path / "out"
    result = invoke("metrics", str(example_paths()["table"]), "--metrics",
                    "shannon_entropy,pielou_e", *option, "--out", str(out))
    assert result.exit_code == 0, result.output
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    assert list(alpha.columns) == ["shannon_entropy", "pielou_e"]
    counts = _example_counts().loc[alpha.index].to_numpy(dtype=float)
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = -np.nansum(np.where(p > 0, p * log(p), 0.0), axis=1)  # type: ignore[operator]
    np.testing.assert_allclose(alpha["shannon_entropy"].to_numpy(), expected, rtol=1e-12)
    base = json.loads((out / "metrics.json").read_text())["settings"]["shannon_base"]
    assert base == (2.0 if not option else "e")


def test_weighted_unifrac_is_unnormalized_as_in_qiime2(tmp_path: Path) -> None:
    import skbio
    from skbio.diversity import beta_diversity as skbio_beta_diversity

    out = tmp_path / "out"
    paths = example_paths()
    result = invoke("metrics", str(paths["table"]), "--tree", str(paths["tree"]), "--metrics",
                    "weighted_unifrac,weighted_normalized_unifrac", "--out", str(out))
    assert result.exit_code == 0, result.output
    counts = _example_counts()
    tree = skbio.TreeNode.read(str(paths["tree"]), convert_underscores=False)
    for name, normalized in (("weighted_unifrac", False), ("weighted_normalized_unifrac", True)):
        written = pd.read_csv(out / "beta" / f"{name}.tsv", sep="\t", index_col=0)
        theirs = skbio_beta_diversity("weighted_unifrac", counts.loc[written.index].to_numpy(),
                                      taxa=list(counts.columns), tree=tree,
                                      normalized=normalized).data
        np.testing.assert_allclose(written.to_numpy(), theirs, rtol=1e-9, atol=1e-12)
    assert sorted(p.name for p in (out / "beta").iterdir()) == [
        "weighted_normalized_unifrac.tsv", "weighted_unifrac.tsv"]


@pytest.mark.parametrize(("metric", "options", "expected"), [
    ("generalized_unifrac", ["--generalized-alpha", "0"], "test.generalized_unifrac_alpha0"),
    ("generalized_unifrac", [], "test.generalized_unifrac_alpha0.5"),
    ("variance_adjusted_weighted_unifrac", [], "test.variance_adjusted_weighted_unifrac"),
])
def test_unifrac_variants_match_the_unifrac_package_reference(
    tmp_path: Path, metric: str, options: list[str], expected: str
) -> None:
    out = tmp_path / "out"
    result = invoke("metrics", str(UNIFRAC_REFERENCE / "test.biom"), "--tree",
                    str(UNIFRAC_REFERENCE / "test.rooted.tre"), "--metrics", metric, *options,
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    mine = pd.read_csv(out / "beta" / f"{metric}.tsv", sep="\t", index_col=0)
    theirs = pd.read_csv(UNIFRAC_REFERENCE / f"{expected}.tsv", sep="\t", index_col=0)
    np.testing.assert_allclose(mine.to_numpy(), theirs.loc[mine.index, mine.columns].to_numpy(),
                               rtol=0, atol=1e-6)  # the reference has 7 decimals


def test_every_tsv_holds_full_float64_precision(tmp_path: Path) -> None:
    """One precision everywhere: the shortest text that reads back to the same float64
    (alpha, PCoA and summaries were rounded to 10 digits, distances were not)."""
    from gutaxis.gut import alpha_diversity
    from gutaxis.io import read_table

    out = tmp_path / "out"
    table_path = example_paths()["table"]
    result = invoke("metrics", "--example", "--metrics", "simpson,braycurtis",
                    "--out", str(out))
    assert result.exit_code == 0, result.output
    alpha = pd.read_csv(out / "alpha.tsv", sep="\t", index_col=0)
    computed = alpha_diversity(read_table(table_path), metrics=["simpson"])
    np.testing.assert_array_equal(alpha["simpson"].to_numpy(),
                                  computed.loc[alpha.index, "simpson"].to_numpy())
    for path in [out / "alpha.tsv", *sorted((out / "pcoa").iterdir()),
                 out / "gut_summary.tsv", out / "beta" / "braycurtis.tsv"]:
        cells = pd.read_csv(path, sep="\t", index_col=0, dtype=str).to_numpy().ravel()
        numbers = [c for c in cells if isinstance(c, str) and _is_number(c)]
        assert numbers and all(c == repr(float(c)) for c in numbers), path
        assert max(len(c.lstrip("-").replace(".", "").lstrip("0")) for c in numbers) > 11, path


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text not in ("True", "False")


@pytest.mark.parametrize(("options", "patterns"), [
    (["--metrics", "shannon,braycurtis"], ["unknown diversity metric", "shannon",
                                           "shannon_entropy"]),
    (["--metrics", "faith_pd,generalized_unifrac"], ["need a tree", "faith_pd",
                                                     "generalized_unifrac"]),
    (["--shannon-base", "one"], ["--shannon-base", "one", "2 (QIIME 2) or e"]),
    (["--shannon-base", "1"], ["--shannon-base", "2 (QIIME 2) or e"]),
    (["--generalized-alpha", "1.5"], ["--generalized-alpha", "1.5"]),
], ids=["unknown-name", "no-tree", "base-text", "base-one", "alpha-range"])
def test_bad_metric_options_exit_2_naming_them(tmp_path: Path, options: list[str],
                                               patterns: list[str]) -> None:
    out = tmp_path / "out"
    result = invoke("metrics", str(example_paths()["table"]), *options, "--out", str(out))
    assert_bad_input(result, out, *patterns)


def test_counts_only_metric_on_proportions_is_refused(tmp_path: Path) -> None:
    paths = example_paths()
    table = pd.read_csv(paths["table"], sep="\t", index_col=0)
    rel = tmp_path / "rel.tsv"
    (table / table.sum(axis=0)).to_csv(rel, sep="\t")
    out = tmp_path / "out"
    result = invoke("metrics", str(rel), "--tree", str(paths["tree"]), "--metrics",
                    "variance_adjusted_weighted_unifrac", "--out", str(out))
    assert_bad_input(result, out, "need read counts", "relative",
                     "variance_adjusted_weighted_unifrac")

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

ALPHA_COLUMNS = ["observed_features", "shannon", "simpson", "inverse_simpson",
                 "pielou_evenness", "chao1"]
BETA = ["braycurtis", "jaccard", "aitchison", "unweighted_unifrac", "weighted_unifrac"]


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
    assert alpha["chao1"].isna().all() and alpha["shannon"].notna().all()


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


def test_samples_missing_from_metadata_are_named_and_counted(tmp_path: Path) -> None:
    paths = example_paths()
    meta = pd.read_csv(paths["metadata"], sep="\t")
    short = tmp_path / "meta.tsv"
    meta.iloc[3:].to_csv(short, sep="\t", index=False)
    out = tmp_path / "out"
    result = invoke("metrics", str(paths["table"]), "--metadata", str(short), "--out", str(out))
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

"""``gutaxis permanova`` on a Zarr distance store (``beta/braycurtis.zarr`` as ``gutaxis
metrics --backend dask`` writes it) writes what it writes for the TSV matrix, on the
fibromyalgia cohort (101 samples, four groups).

Reference: the command on ``beta/braycurtis.tsv`` of a local ``gutaxis metrics`` run (the
in-memory distances and the in-memory PERMANOVA, PERMDISP and pairwise tests, checked
against vegan in their own tests). Tolerances: the store's distances equal the in-memory
ones to ~1e-16 and the stored PERMANOVA sums its quadratic forms band by band, so sums of
squares, R² and F agree to 1e-12 relative (measured ~1e-15); p-values, dfs, group sizes
and names are identical. PERMDISP loads the store (101 <= DENSE_LIMIT): its eigenvectors
see the same ~1e-16 differences, so its numbers are compared to 1e-9 relative.
One LocalCluster of 2 worker processes for the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_backend_cli import tasks_run
from typer.testing import CliRunner

from gutaxis.cli.main import app

pytest.importorskip("distributed")
runner = CliRunner()
EXACT_WORDS = ("term", "group1", "group2", "n1", "n2", "df", "pval", "padj", "sample_id")


@pytest.fixture(scope="module")
def beta(fibromyalgia_dir: Path, scheduler: str, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Path]:
    """``tsv``: beta/braycurtis.tsv of a local metrics run; ``zarr``: the store of a
    metrics run on the cluster (several bands); ``metadata``."""
    folder = tmp_path_factory.mktemp("metrics")
    table = str(fibromyalgia_dir / "feature-table.tsv.gz")
    for name, extra in (("local", []), ("dask", ["--scheduler", scheduler])):
        result = runner.invoke(app, ["metrics", table, "--metrics",
                                     "shannon_entropy,braycurtis", *extra,
                                     "--out", str(folder / name)])
        assert result.exit_code == 0, result.output
    return {"tsv": folder / "local" / "beta" / "braycurtis.tsv",
            "zarr": folder / "dask" / "beta" / "braycurtis.zarr",
            "metadata": fibromyalgia_dir / "metadata.tsv"}


def permanova_args(beta: dict[str, Path], source: str, out: Path) -> list[str]:
    return ["permanova", str(beta[source]), "--metadata", str(beta["metadata"]),
            "--formula", "group + covariate_age", "--permdisp", "group", "--pairwise",
            "group", "--permutations", "199", "--seed", "4", "--no-plot", "--out", str(out)]


def assert_same_tables(got: Path, expected: Path, *, files: list[str]) -> None:
    """Each TSV: same columns and rows; names, counts and p-values identical; the other
    numbers to 1e-12 relative (PERMDISP's to 1e-9)."""
    assert sorted(p.name for p in got.iterdir()) == sorted(p.name for p in expected.iterdir())
    for name in files:
        a = pd.read_csv(expected / name, sep="\t", keep_default_na=False)
        b = pd.read_csv(got / name, sep="\t", keep_default_na=False)
        assert list(b.columns) == list(a.columns) and b.shape == a.shape, name
        rtol = 1e-9 if name.startswith("permdisp") else 1e-12
        for column in a.columns:
            if column in EXACT_WORDS:
                assert b[column].tolist() == a[column].tolist(), (name, column)
            else:
                x = pd.to_numeric(a[column].replace("", np.nan))
                y = pd.to_numeric(b[column].replace("", np.nan))
                np.testing.assert_allclose(y, x, rtol=rtol, atol=0, err_msg=f"{name} {column}")


FILES = ["permanova.tsv", "pairwise.tsv", "permdisp.tsv", "permdisp_distances.tsv"]


@pytest.mark.parametrize("where", ["local", "dask"])
def test_a_store_gives_the_tsv_matrix_tables(beta, scheduler, tmp_path, where) -> None:
    expected = tmp_path / "tsv"
    result = runner.invoke(app, permanova_args(beta, "tsv", expected))
    assert result.exit_code == 0, result.output
    got = tmp_path / "zarr"
    extra = ["--scheduler", scheduler] if where == "dask" else ["--backend", "local"]
    before = tasks_run(scheduler)
    result = runner.invoke(app, [*permanova_args(beta, "zarr", got), *extra])
    assert result.exit_code == 0, result.output
    assert (tasks_run(scheduler) > before) == (where == "dask")  # the bands ran there
    assert_same_tables(got, expected, files=FILES)
    table = pd.read_csv(got / "pairwise.tsv", sep="\t")
    assert len(table) == 6 and table["pval"].nunique() > 2
    assert "PERMDISP: the stored matrix (101 samples) was loaded whole" in result.output
    settings = pd.read_json(got / "permanova.json", typ="series")
    assert settings["metric"] == "braycurtis" and settings["n"] == 101


def test_a_store_draws_its_pcoa_figure(beta, tmp_path) -> None:
    out = tmp_path / "perm"
    result = runner.invoke(app, ["permanova", str(beta["zarr"]), "--metadata",
                                 str(beta["metadata"]), "--formula", "group",
                                 "--permutations", "9", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "pcoa.png").stat().st_size > 1000


def test_permdisp_above_the_dense_limit_is_skipped_with_a_note(
        beta, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gutaxis.stats.community.pipeline as pipeline

    monkeypatch.setattr(pipeline, "DENSE_LIMIT", 50)
    out = tmp_path / "perm"
    result = runner.invoke(app, permanova_args(beta, "zarr", out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "pairwise.tsv", "permanova.json", "permanova.tsv"]
    note = ("PERMDISP skipped: it needs every principal coordinate of the whole matrix, "
            "and the store holds 101 samples (more than 50 cannot be loaded)")
    assert note in " ".join(result.output.split())
    assert note in pd.read_json(out / "permanova.json", typ="series")["notes"]


@pytest.mark.parametrize("case", ["absent", "not a store", "with --metric"])
def test_a_bad_store_is_one_line_and_exit_2(beta, tmp_path, case) -> None:
    path = tmp_path / "bc.zarr"
    extra: list[str] = []
    if case == "not a store":
        path.mkdir()
        (path / "notes.txt").write_text("hello", encoding="utf-8")
    elif case == "with --metric":
        path = beta["zarr"]
        extra = ["--metric", "braycurtis"]
    out = tmp_path / "out"
    result = runner.invoke(app, ["permanova", str(path), "--metadata", str(beta["metadata"]),
                                 "--formula", "group", *extra, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert str(path) in lines[0] or "--metric" in lines[0]
    assert not out.exists()

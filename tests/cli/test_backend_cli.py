"""``--backend dask`` / ``--scheduler`` / ``--workers`` on the heavy commands: the same
output files as the local run, one-line errors (exit 2) for a scheduler that cannot be
used, and nothing left in the output folder's place when a task fails on the cluster.

One LocalCluster of 2 worker processes serves the module (passed as ``--scheduler``);
one test starts the commands' own LocalCluster (``--backend dask --workers 2``).
Reference: each command's local run (``--backend local``, the engines' one-process
path, tested against R and Python references in its own test files). Tolerances are the
engines' stated ones: bit for bit (LM scan, permutations, bootstrap, classifier,
alpha, Jaccard, Aitchison), UniFrac and Bray-Curtis distances read back from the Zarr
store to 1e-12 absolute (measured ~4e-16), their PCoA to 1e-10 absolute (measured 6e-15).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.cli.metrics import example_paths

pytest.importorskip("distributed")
runner = CliRunner()
EXAMPLE = example_paths()


@pytest.fixture(scope="module")
def local_metrics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("metrics") / "local"
    result = runner.invoke(app, ["metrics", "--example", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def tsv_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.tsv"))


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", comment="#", keep_default_na=False, dtype=str)


def assert_same_tsvs(local: Path, dask: Path, *, close: tuple[str, ...] = ()) -> None:
    """Every TSV of ``local`` is in ``dask`` with the same text, or (names containing one
    of ``close``) the same strings and numbers to 1e-12 (distances) / 1e-10 (PCoA)."""
    names = tsv_files(local)
    assert names and names == tsv_files(dask)
    for name in names:
        if not any(word in name for word in close):
            assert (local / name).read_bytes() == (dask / name).read_bytes(), name
            continue
        a, b = read_tsv(local / name), read_tsv(dask / name)
        assert list(a.columns) == list(b.columns) and a.shape == b.shape, name
        x = a.iloc[:, 1:].apply(pd.to_numeric).to_numpy(dtype=float)
        y = b.iloc[:, 1:].apply(pd.to_numeric).to_numpy(dtype=float)
        assert (a.iloc[:, 0] == b.iloc[:, 0]).all(), name
        np.testing.assert_allclose(y, x, rtol=0,
                                   atol=1e-10 if name.startswith("pcoa") else 1e-12,
                                   err_msg=name)


def one_line_error(result, out: Path, *words: str) -> None:  # type: ignore[no-untyped-def]
    """Exit 2, the error on one line (the last; a note such as "Using the synthetic
    example cohort" may come before it), no traceback, no output folder."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == [lines[-1]] and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[-1], lines[-1]
    assert not out.exists()


def tasks_run(scheduler: str) -> int:
    """Tasks the cluster's workers have executed so far."""
    from distributed import Client

    with Client(scheduler) as client:
        counts = client.run(_executed)
    return sum(counts.values())


def _executed(dask_worker) -> int:  # type: ignore[no-untyped-def]
    return int(dask_worker.state.executed_count)


def run_both(tmp_path: Path, args: list[str], scheduler: str) -> tuple[Path, Path]:
    """Run the command locally, then on the cluster (which must execute tasks)."""
    local, dask = tmp_path / "local", tmp_path / "dask"
    result = runner.invoke(app, [*args, "--out", str(local)])
    assert result.exit_code == 0, result.output
    before = tasks_run(scheduler)
    result = runner.invoke(app, [*args, "--out", str(dask), "--scheduler", scheduler])
    assert result.exit_code == 0, result.output
    assert tasks_run(scheduler) > before  # the engine's blocks ran on the cluster
    return local, dask


def test_metrics_on_its_own_local_cluster_writes_the_local_files_and_stores(
        tmp_path: Path, local_metrics: Path) -> None:
    from gutaxis.gut.distance_store import open_distance_store
    from gutaxis.io.matrix import read_distance_matrix

    out = tmp_path / "dask"
    result = runner.invoke(app, ["metrics", "--example", "--backend", "dask", "--workers",
                                 "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert_same_tsvs(local_metrics, out, close=("unifrac",))
    for name in ("braycurtis", "jaccard", "aitchison", "unweighted_unifrac"):
        stored = open_distance_store(out / "beta" / f"{name}.zarr")
        dense = read_distance_matrix(local_metrics / "beta" / f"{name}.tsv")
        assert list(stored.ids) == list(dense.ids)
        np.testing.assert_allclose(stored.band(range(stored.n)), dense.data, rtol=0,
                                   atol=1e-12)


def test_metrics_on_a_scheduler(tmp_path: Path, local_metrics: Path, scheduler: str) -> None:
    out = tmp_path / "dask"
    before = tasks_run(scheduler)
    result = runner.invoke(app, ["metrics", "--example", "--metrics",
                                 "shannon_entropy,chao1,braycurtis,jaccard", "--scheduler",
                                 scheduler, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert tasks_run(scheduler) > before
    assert sorted(p.name for p in (out / "beta").iterdir()) == [
        "braycurtis.tsv", "braycurtis.zarr", "jaccard.tsv", "jaccard.zarr"]
    for name in ("beta/braycurtis.tsv", "beta/jaccard.tsv", "pcoa/braycurtis.tsv",
                 "pcoa/jaccard_axes.tsv"):
        assert (out / name).read_bytes() == (local_metrics / name).read_bytes(), name
    alpha_local = read_tsv(local_metrics / "alpha.tsv")
    alpha = read_tsv(out / "alpha.tsv")
    pd.testing.assert_frame_equal(alpha, alpha_local[list(alpha.columns)])


def test_associate_on_a_scheduler(tmp_path: Path, scheduler: str) -> None:
    args = ["associate", str(EXAMPLE["table"]), "--metadata", str(EXAMPLE["metadata"]),
            "--taxonomy", str(EXAMPLE["taxonomy"]), "--rank", "genus",
            "--fixed", "group,age", "--no-plots"]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask)  # the LM scan: bit for bit


def test_permanova_on_a_scheduler(tmp_path: Path, local_metrics: Path,
                                  scheduler: str) -> None:
    args = ["permanova", str(local_metrics / "beta" / "braycurtis.tsv"), "--metadata",
            str(EXAMPLE["metadata"]), "--formula", "group + age", "--permdisp", "group",
            "--permutations", "199", "--seed", "4", "--no-plot"]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask)


def test_mediate_on_a_scheduler(tmp_path: Path, scheduler: str) -> None:
    args = ["mediate", "--metadata", str(EXAMPLE["metadata"]), "--exposure", "age",
            "--mediators", "crp_mg_l", "--outcome", "pain_nrs", "--boot", "60",
            "--seed", "2"]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask)


def test_classify_on_a_scheduler(tmp_path: Path, scheduler: str) -> None:
    pytest.importorskip("sklearn")
    args = ["classify", str(EXAMPLE["table"]), "--metadata", str(EXAMPLE["metadata"]),
            "--outcome", "group", "--positive", "chronic_pain", "--subject", "subject",
            "--repeats", "1", "--folds", "3", "--permutations", "6", "--no-plots"]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask)


def test_analyze_on_a_scheduler_and_its_config(tmp_path: Path, scheduler: str) -> None:
    pytest.importorskip("sklearn")
    config = tmp_path / "fast.toml"
    config.write_text("[community]\npermutations = 99\n[classify]\nrepeats = 1\n"
                      "permutations = 0\n[mediation]\nboot = 50\n[checks]\nmin_depth = 1\n",
                      encoding="utf-8")
    args = ["analyze", str(EXAMPLE["table"]), "--taxonomy", str(EXAMPLE["taxonomy"]),
            "--metadata", str(EXAMPLE["metadata"]), "--outcome", "pain_nrs",
            "--covariates", "age", "--exposure", "age", "--mediators", "crp_mg_l",
            "--config", str(config)]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask)
    written = (dask / "config.toml").read_text(encoding="utf-8")
    assert f'[compute]\nbackend = "dask"\nscheduler = "{scheduler}"\nworkers = 0' in written
    assert '[compute]\nbackend = "local"\nscheduler = ""\nworkers = 0' in \
        (local / "config.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [
    ["metrics", "--example"],
    ["associate", str(EXAMPLE["table"]), "--metadata", str(EXAMPLE["metadata"]),
     "--fixed", "group"],
])
def test_a_scheduler_with_the_local_backend_is_one_line(tmp_path: Path,
                                                       command: list[str]) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [*command, "--backend", "local", "--scheduler",
                                 "tcp://127.0.0.1:8786", "--out", str(out)])
    one_line_error(result, out, "--scheduler", "--backend dask")


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["metrics", "--example", "--scheduler",
                                 "tcp://127.0.0.1:9", "--out", str(out)])
    one_line_error(result, out, "cannot reach the Dask scheduler", "tcp://127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []


def _break_band_writes() -> None:
    import gutaxis.gut.distance_store as store

    def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full (test)")

    store._write_band = broken  # type: ignore[assignment]


def _mend_band_writes() -> None:
    import importlib

    import gutaxis.gut.distance_store as store

    importlib.reload(store)


def test_a_failed_band_leaves_nothing_in_the_output_folder(tmp_path: Path,
                                                           scheduler: str) -> None:
    from distributed import Client

    out = tmp_path / "out"
    with Client(scheduler) as client:
        client.run(_break_band_writes)
        try:
            result = runner.invoke(app, ["metrics", "--example", "--metrics",
                                         "shannon_entropy,braycurtis", "--scheduler",
                                         scheduler, "--out", str(out)])
        finally:
            client.run(_mend_band_writes)
    one_line_error(result, out, "failed on the Dask cluster", "disk full (test)")
    assert list(tmp_path.iterdir()) == []  # no staging folder, no partial store


def test_above_the_dense_limit_metrics_writes_the_store_and_its_pcoa_only(
        tmp_path: Path, local_metrics: Path, scheduler: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the limit lowered below the example's 40 samples: no square TSV, the PCoA is
    the randomised one from the store. Reference: the exact PCoA of the local run
    (eigenvalues to 1e-12 relative, coordinates to 1e-9 of their scale, up to each
    axis's sign; measured 2e-15 and 5e-11): 30 directions on 40 samples."""
    import gutaxis.gut.pipeline

    monkeypatch.setattr(gutaxis.gut.pipeline, "DENSE_LIMIT", 10)
    out = tmp_path / "dask"
    result = runner.invoke(app, ["metrics", "--example", "--metrics",
                                 "shannon_entropy,braycurtis", "--scheduler", scheduler,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "beta").iterdir()) == ["braycurtis.zarr"]
    axes = pd.read_csv(out / "pcoa" / "braycurtis_axes.tsv", sep="\t", index_col=0)
    exact = pd.read_csv(local_metrics / "pcoa" / "braycurtis_axes.tsv", sep="\t",
                        index_col=0)
    np.testing.assert_allclose(axes["eigenvalue"], exact["eigenvalue"], rtol=1e-12)
    coords = pd.read_csv(out / "pcoa" / "braycurtis.tsv", sep="\t", index_col=0)
    reference = pd.read_csv(local_metrics / "pcoa" / "braycurtis.tsv", sep="\t",
                            index_col=0)
    assert list(coords.index) == list(reference.index)
    signs = np.sign((coords.to_numpy() * reference.to_numpy()).sum(axis=0))
    scale = np.abs(reference.to_numpy()).max()
    np.testing.assert_allclose(coords.to_numpy() * signs, reference.to_numpy(), rtol=0,
                               atol=1e-9 * scale)


@pytest.mark.realdata
def test_metrics_of_a_biom_file_on_the_cluster_reads_it_by_blocks(
        tmp_path: Path, scheduler: str, fibromyalgia_dir: Path) -> None:
    """The fibromyalgia cohort as BIOM HDF5 (with taxonomy) and its tree, every default
    metric, gut summaries with a reference: the workers read the file by blocks, and the
    files are the local run's (alpha, gut summaries, Jaccard, Aitchison: same text;
    Bray-Curtis and UniFrac from the store to 1e-12, PCoA to 1e-10); metrics.json says
    where the steps ran."""
    import json

    from gutaxis.io import read_cohort
    from gutaxis.io.biom import write_biom

    cohort = read_cohort(fibromyalgia_dir / "feature-table.tsv.gz", None,
                         taxonomy=fibromyalgia_dir / "taxonomy.tsv.gz")
    table = tmp_path / "cohort.biom"
    write_biom(cohort.table, table)
    args = ["metrics", str(table), "--tree", str(fibromyalgia_dir / "tree.nwk"),
            "--metadata", str(fibromyalgia_dir / "metadata.tsv"), "--reference", "group=ctl"]
    local, dask = run_both(tmp_path, args, scheduler)
    assert_same_tsvs(local, dask, close=("unifrac", "braycurtis"))
    summary = read_tsv(local / "gut_summary.tsv")
    assert {"dysbiosis_score", "dysbiotic", "butyrate_inferred"} <= set(summary.columns)
    assert json.loads((local / "metrics.json").read_text())["compute"] == {
        "backend": "local", "scheduler": None, "workers": None, "read_by_blocks": False}
    assert json.loads((dask / "metrics.json").read_text())["compute"] == {
        "backend": "dask", "scheduler": scheduler, "workers": 2, "read_by_blocks": True}


def test_workers_help_says_what_0_means_and_a_negative_count_is_refused(tmp_path) -> None:
    result = runner.invoke(app, ["metrics", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    workers = text[text.index("--workers N"):text.index("--kind")]
    assert "Default: the CPU count, at most 8 (0 also means that)." in workers
    assert "x>=0" not in workers and "[default" not in workers
    result = runner.invoke(app, ["associate", "--workers", "-1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "worker count" in result.output

"""Scale benchmark (issue 15): alpha diversity, Bray-Curtis and UniFrac to a Zarr store, and
randomised PCoA of the store, on a Dask LocalCluster, for simulated cohorts of growing size.

Cohorts: :func:`gutaxis.simulate.simulate_cohort` with a 5,000-taxon template made from
the fibromyalgia cohort's 5,000 most prevalent ASVs (their prevalence, log-abundance mean
and spread; depth quantiles of the real cohort; identity copula: the real cohort's 101
samples cannot estimate a 5,000 x 5,000 correlation), drawn in blocks of 2,000 subjects
with consecutive seeds so no n x 5,000 dense array exceeds one block. UniFrac runs on the
real tree of those ASVs (sheared). Tables are cached as sparse ``.npz`` in ``--cache``.

Every (size, step) runs in a fresh subprocess with its own LocalCluster, which reports
wall time and each worker's peak resident memory (``VmHWM``, which includes the
worker's ~0.2 GB start-up) and the client's. The time-vs-n exponent is the slope of
log time on log n over the sizes run; sizes not run are extrapolated from it, with the
arithmetic printed.

    python benchmarks/bench_scale.py --sizes 2500,5000,10000 --steps alpha,braycurtis
    python benchmarks/bench_scale.py --sizes 30000 --steps braycurtis --store-dir /tmp/s
    python benchmarks/bench_scale.py --skbio 2500      # scikit-bio at one size, in process
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    from distributed import Client

    from gutaxis.data.profile import ProfileTable
    from gutaxis.simulate.template import SimulationTemplate

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fibromyalgia"
N_TAXA = 5_000
BLOCK_SUBJECTS = 2_000
STEPS = ("alpha", "braycurtis", "unifrac", "pcoa")


def template_of_asvs(n_taxa: int = N_TAXA) -> SimulationTemplate:
    """A simulation template of the ``n_taxa`` most prevalent real ASVs (identity copula)."""
    from gutaxis.simulate.template import DEPTH_LEVELS, TEMPLATE_RANKS, SimulationTemplate

    frame = pd.read_csv(DATA / "feature-table.tsv.gz", sep="\t", index_col=0)
    counts = frame.to_numpy(dtype=float).T
    depth = counts.sum(axis=1)
    prevalence = (counts > 0).mean(axis=0)
    keep = np.sort(np.argsort(-prevalence, kind="stable")[:n_taxa])
    rel = counts[:, keep] / depth[:, None]
    present = rel > 0
    logs = np.where(present, np.log(np.where(present, rel, 1.0)), np.nan)
    mu = np.nanmean(logs, axis=0)
    with np.errstate(invalid="ignore"):
        sigma = np.nan_to_num(np.nanstd(logs, axis=0, ddof=1), nan=0.5)
    taxonomy = pd.read_csv(DATA / "taxonomy.tsv.gz", sep="\t", index_col=0)
    ids = frame.index.astype(str)[keep]
    return SimulationTemplate(
        np.asarray(ids), taxonomy.reindex(ids)[list(TEMPLATE_RANKS)],
        present.mean(axis=0), mu, np.maximum(sigma, 0.1), np.eye(keep.size),
        np.quantile(depth, DEPTH_LEVELS), f"fibromyalgia, {n_taxa} most prevalent ASVs")


def simulated_table(n: int, cache: Path) -> ProfileTable:
    """``n`` simulated samples x 5,000 ASVs with the real tree (cached)."""
    from gutaxis.data.profile import ProfileTable
    from gutaxis.io.newick import read_newick
    from gutaxis.simulate import simulate_cohort

    cache.mkdir(parents=True, exist_ok=True)
    values_file, ids_file = cache / f"table-{n}.npz", cache / f"features-{N_TAXA}.txt"
    if not values_file.exists():
        template = template_of_asvs()
        parts = []
        for block, start in enumerate(range(0, n, BLOCK_SUBJECTS)):
            size = min(BLOCK_SUBJECTS, n - start)
            drawn = simulate_cohort(template, n_subjects=size, n_planted=0, n_diary=0,
                                    seed=1_000 + block)
            parts.append(drawn.cohort.table.values)
        values = sp.csr_array(sp.vstack(parts, format="csr"))
        sp.save_npz(values_file, sp.csr_matrix(values))
        ids_file.write_text("\n".join(template.features))
    values = sp.csr_array(sp.load_npz(values_file))
    features = ids_file.read_text().split("\n")
    keep = np.asarray(values.sum(axis=1)).ravel() > 0
    values = values[keep]
    tree = read_newick(DATA / "tree.nwk").shear(features)
    return ProfileTable(values, [f"s{i}" for i in range(values.shape[0])], features,
                        kind="counts", tree=tree)


def peak_rss_gb() -> float:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss``, not inherited
    from the parent process across fork and exec), in GB."""
    with open("/proc/self/status") as fh:
        line = next(row for row in fh if row.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 2**20, 2)


def worker_peaks(client: Client) -> list[float]:
    """Peak resident memory (GB) of every worker process so far."""
    return sorted(client.run(peak_rss_gb).values())


def run_one(n: int, step: str, cache: Path, store_dir: Path, workers: int) -> dict:
    """One step at one size on a fresh LocalCluster (runs in a subprocess)."""
    from gutaxis.compute import DaskBackend
    from gutaxis.gut.alpha_blocks import alpha_diversity_blocks
    from gutaxis.gut.distance_store import distance_matrix_to_store
    from gutaxis.gut.pcoa_stored import pcoa_stored

    table = simulated_table(n, cache)
    store_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=store_dir))
    result: dict = {"n": table.n_samples, "step": step, "taxa": table.n_features,
                    "nnz_per_sample": round(table.values.nnz / table.n_samples, 1)}
    with DaskBackend(n_workers=workers, memory_limit="8GiB") as backend:
        result["worker_start_gb"] = worker_peaks(backend.client)
        tic = time.perf_counter()
        if step == "alpha":
            alpha_diversity_blocks(table, backend=backend)
        elif step in ("braycurtis", "unifrac"):
            metric = "braycurtis" if step == "braycurtis" else "unweighted_unifrac"
            distance_matrix_to_store(table, metric, work / "d.zarr", backend=backend)
        elif step == "pcoa":  # on a Bray-Curtis store made first (not timed)
            stored = distance_matrix_to_store(table, "braycurtis", work / "d.zarr",
                                              backend=backend)
            backend.close()  # fresh workers: the peak is the PCoA's own
            backend = DaskBackend(n_workers=workers, memory_limit="8GiB")
            result["worker_start_gb"] = worker_peaks(backend.client)
            tic = time.perf_counter()
            pcoa_stored(stored, n_components=10, oversample=10, n_iter=4, backend=backend)
        result["seconds"] = round(time.perf_counter() - tic, 2)
        result["worker_peak_gb"] = worker_peaks(backend.client)
        backend.close()
    if (work / "d.zarr").exists():
        result["store_gb"] = round(sum(p.stat().st_size for p in (work / "d.zarr").rglob("*")
                                       if p.is_file()) / 1e9, 2)
    shutil.rmtree(work, ignore_errors=True)
    result["client_peak_gb"] = peak_rss_gb()
    return result


def run_skbio(n: int, cache: Path) -> list[dict]:
    """scikit-bio on the same table in one process (its dense n x n output)."""
    import skbio
    from skbio.diversity import alpha_diversity, beta_diversity

    table = simulated_table(n, cache)
    counts = table.dense().astype(np.int64)
    taxa = list(table.feature_ids)
    tree = skbio.TreeNode.read(str(DATA / "tree.nwk"), convert_underscores=False).shear(taxa)
    calls = {
        "alpha (shannon+simpson+observed)": lambda: [alpha_diversity(m, counts) for m in
                                                    ("shannon", "simpson", "observed_otus")],
        "braycurtis": lambda: beta_diversity("braycurtis", counts),
        "unifrac": lambda: beta_diversity("unweighted_unifrac", counts, taxa=taxa, tree=tree),
    }
    rows = []
    for name, call in calls.items():
        tic = time.perf_counter()
        call()
        rows.append({"n": table.n_samples, "tool": "scikit-bio", "step": name,
                     "seconds": round(time.perf_counter() - tic, 2)})
    rows.append({"tool": "scikit-bio", "process_peak_gb": peak_rss_gb()})
    return rows


def exponent(rows: list[dict], step: str, *, last: int | None = None
             ) -> tuple[float, float, float] | None:
    """Slope b and intercept a of log t = a + b log n over the sizes run for ``step`` (the
    ``last`` largest only, when given: start-up costs flatten the curve at small n)."""
    points = sorted((r["n"], r["seconds"]) for r in rows
                    if r.get("step") == step and "seconds" in r)
    if last is not None:
        points = points[-last:]
    if len(points) < 2:
        return None
    logs = np.log(np.asarray(points, dtype=float))
    slope, intercept = np.polyfit(logs[:, 0], logs[:, 1], 1)
    return float(slope), float(intercept), float(max(n for n, _ in points))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2500,5000,10000")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "gutaxis-scale")
    parser.add_argument("--store-dir", type=Path, default=None,
                        help="where the stores are written (default: under --cache)")
    parser.add_argument("--extrapolate", default="30000,100000")
    parser.add_argument("--skbio", type=int, default=None, help="run scikit-bio at this size")
    parser.add_argument("--fit", type=Path, nargs="+", default=None,
                        help="only fit and extrapolate the JSON rows in these logs")
    parser.add_argument("--one", nargs=2, metavar=("N", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    store_dir = args.store_dir or args.cache / "stores"
    if args.one:
        print(json.dumps(run_one(int(args.one[0]), args.one[1], args.cache, store_dir,
                                 args.workers)))
        return
    if args.fit:
        rows = [json.loads(line) for log in args.fit for line in log.read_text().splitlines()
                if line.startswith("{")]
        report_fits(rows, args.steps.split(","), args.extrapolate)
        return
    if args.skbio:
        for row in run_skbio(args.skbio, args.cache):
            print(json.dumps(row), flush=True)
        return
    with open("/proc/loadavg") as fh:
        print(f"load average before: {fh.read().split()[:3]}", flush=True)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        simulated_table(n, args.cache)  # build the cache outside the timed runs
        for step in args.steps.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(n), step, "--cache", str(args.cache),
                 "--store-dir", str(store_dir), "--workers", str(args.workers)],
                capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"n={n} {step}: failed\n{out.stderr[-2000:]}", flush=True)
                continue
            row = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    report_fits(rows, args.steps.split(","), args.extrapolate)
    with open("/proc/loadavg") as fh:
        print(f"load average after: {fh.read().split()[:3]}")


def report_fits(rows: list[dict], steps: list[str], extrapolate: str) -> None:
    """Print the fitted exponents (all sizes; the two largest) and the extrapolations from
    the two largest sizes."""
    for step in steps:
        fit_all = exponent(rows, step)
        fit = exponent(rows, step, last=2)
        if fit is None or fit_all is None:
            continue
        slope, intercept, largest = fit
        print(f"{step}: time ~ n^{fit_all[0]:.2f} over all sizes; n^{slope:.2f} over the two "
              f"largest (log t = {intercept:.2f} + {slope:.2f} log n)")
        for target in [int(s) for s in extrapolate.split(",") if s]:
            if target > largest:
                seconds = float(np.exp(intercept + slope * np.log(target)))
                print(f"  n={target}: exp({intercept:.2f} + {slope:.2f} * ln {target}) "
                      f"= {seconds:,.0f} s ({seconds / 3600:.2f} h)")


if __name__ == "__main__":
    main()

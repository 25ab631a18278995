"""Scale of the statistics on a compute back-end: the LM association scan and PERMANOVA
on simulated cohorts, in this process (``local``) and on a Dask LocalCluster of 2 worker
processes (``dask``), with wall time and peak memory (peak RSS) of the client and of each
worker.

Cohorts (:mod:`gutaxis.simulate`): ``n`` samples x 5,010 taxa. The shipped template has
150 genera, so the table is 34 independent draws of ``simulate_cohort(n_subjects=n,
n_features=150)`` (seeds 0..33) placed side by side (5,100 taxa, the first 5,010 kept);
the metadata (pain, age, sex, BMI) and the planted taxa are those of the first draw, the
other blocks are null taxa. The statistics cost the same whatever the taxa mean.

- LM scan: ``associate(cohort, fixed=["pain", "age", "sex", "bmi"],
  median_comparison_abundance=False)`` (TSS, LOG, prevalence > 10%, BH; MaAsLin 2's
  pipeline) with ``backend=None`` (one pass) or a :class:`~gutaxis.compute.DaskBackend`
  (feature chunks of 500). MaAsLin 3's median comparison is left out: it runs in the
  client over all features after the chunks (about 16 s for 5,000 features on this
  machine whatever n, profiled at n = 1,000), so it would hide the part that scales.
- PERMANOVA: ``pain + age + sex`` on the Bray-Curtis matrix of the same table
  (computed once and cached; not timed), timed at ``P`` and ``3 P`` permutations
  (``--permutations``, default 33), so that the fixed part (centring, observed F,
  on Dask also sending the Gower matrix) and the time per permutation are separated:
  ``per = (t(3P) - t(P)) / 2P``, ``fixed = t(P) - P per``; the time of 999 permutations
  is ``fixed + 999 per`` (the arithmetic is printed).

Each (step, n, back-end) runs in a fresh subprocess so that its peak RSS is its own;
simulated tables and distance matrices are cached in ``--cache`` (default
``$TMPDIR/gutaxis-bench-scale``). Sizes that do not fit this machine are extrapolated
on paper, with the arithmetic printed: time of the LM scan ~ n x m, PERMANOVA ~ n^2
per permutation, memory of the square matrices 8 n^2 bytes.

Usage: ``python benchmarks/bench_scale_stats.py [--sizes 10000 30000]
[--permanova-sizes 10000] [--permutations 99] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

N_TAXA = 5_010
BLOCK = 150
WORKERS = 2


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cohort_of(n: int, cache: Path):
    """The simulated cohort of ``n`` samples x ``N_TAXA`` taxa (cached as .npz + .pkl)."""
    import pandas as pd

    from gutaxis.data import Cohort, ProfileTable
    from gutaxis.simulate import simulate_cohort

    counts_path, meta_path = cache / f"counts_{n}.npz", cache / f"meta_{n}.pkl"
    if not counts_path.exists():
        blocks, meta = [], None
        for seed in range(-(-N_TAXA // BLOCK)):  # independent draws, side by side
            sim = simulate_cohort(n_subjects=n, seed=seed)
            blocks.append(sp.csr_array(sim.cohort.table.values))
            meta = sim.cohort.metadata if meta is None else meta
        counts = sp.csr_array(sp.hstack(blocks, format="csr")[:, :N_TAXA])
        sp.save_npz(counts_path, sp.csr_matrix(counts))
        assert meta is not None
        meta.to_pickle(meta_path)
    counts = sp.csr_array(sp.load_npz(counts_path))
    meta = pd.read_pickle(meta_path)
    features = np.array([f"taxon_{j:05d}" for j in range(counts.shape[1])])
    table = ProfileTable(counts, np.asarray(meta.index), features, kind="counts")
    return Cohort(table, meta)


def distances_of(n: int, cache: Path):
    """Bray-Curtis of the cohort of ``n`` samples (cached as .npy)."""
    from gutaxis.data.distance import DistanceMatrix
    from gutaxis.gut.beta import braycurtis

    cohort = cohort_of(n, cache)
    path = cache / f"braycurtis_{n}.npy"
    if not path.exists():
        np.save(path, braycurtis(cohort.table).data)
    return DistanceMatrix(cohort.sample_ids, np.load(path, mmap_mode="r"),
                          metric="braycurtis"), cohort.metadata


def worker_peak_rss_mib() -> float:
    """Run on each worker: its peak RSS."""
    return peak_rss_mib()


def warm_up() -> None:
    """Run on each worker before the clock: the imports a first task would pay for."""
    import gutaxis.stats.associate
    import gutaxis.stats.community.permanova  # noqa: F401


def run_case(step: str, n: int, backend_name: str, cache: Path, permutations: int) -> dict:
    """One timed run in this (fresh) process; the inputs are loaded before the clock."""
    from gutaxis.compute import DaskBackend
    from gutaxis.stats import associate
    from gutaxis.stats.community import permanova

    backend = DaskBackend(n_workers=WORKERS) if backend_name == "dask" else None
    if backend is not None:
        backend.client.run(warm_up)  # the cluster is started before the clock
    out: dict = {"step": step, "n": n, "backend": backend_name}
    if step == "lm":
        cohort = cohort_of(n, cache)
        start = time.perf_counter()
        res = associate(cohort, fixed=["pain", "age", "sex", "bmi"], backend=backend,
                        median_comparison_abundance=False)
        out["seconds"] = time.perf_counter() - start
        out["features_tested"] = res.spec.n_features_tested
        out["checksum"] = float(np.nansum(res.table["coef"].to_numpy()))
    else:
        dm, meta = distances_of(n, cache)
        dm = type(dm)(dm.ids, np.asarray(dm.data), metric=dm.metric)  # in memory
        times = []
        for count in (permutations, 3 * permutations):
            start = time.perf_counter()
            res = permanova(dm, meta, formula="pain + age + sex", permutations=count,
                            seed=1, backend=backend)
            times.append(time.perf_counter() - start)
        per = (times[1] - times[0]) / (2 * permutations)
        out["seconds"] = times[1]
        out["per_permutation"] = per
        out["fixed_seconds"] = times[0] - permutations * per
        out["permutations"] = 3 * permutations
        out["checksum"] = float(res.f_permuted.sum())
        out["pval"] = res.table["pval"].tolist()[:3]
    out["client_peak_mib"] = peak_rss_mib()
    if backend is not None:
        peaks = backend.client.run(worker_peak_rss_mib)
        out["worker_peak_mib"] = sorted(float(v) for v in peaks.values())
        backend.close()
    return out


def in_subprocess(step: str, n: int, backend: str, cache: Path, permutations: int) -> dict:
    cmd = [sys.executable, __file__, "--case", step, str(n), backend, "--cache", str(cache),
           "--permutations", str(permutations)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"step": step, "n": n, "backend": backend,
                "error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1])


def report(row: dict) -> str:
    if "error" in row:
        return f"{row['step']:<10} n={row['n']:>6} {row['backend']:<6} FAILED: {row['error']}"
    workers = row.get("worker_peak_mib")
    text = (f"{row['step']:<10} n={row['n']:>6} {row['backend']:<6} "
            f"{row['seconds']:8.1f} s  client peak {row['client_peak_mib']:7.0f} MiB")
    if workers:
        text += "  workers peak " + " / ".join(f"{w:.0f}" for w in workers) + " MiB"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 30_000])
    parser.add_argument("--permanova-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--permutations", type=int, default=33)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "gutaxis-bench-scale")
    parser.add_argument("--case", nargs=3, metavar=("STEP", "N", "BACKEND"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.case:
        step, n, backend = args.case
        print(json.dumps(run_case(step, int(n), backend, args.cache, args.permutations)))
        return
    print(f"{os.cpu_count()} CPUs; Dask LocalCluster of {WORKERS} workers x 1 thread; "
          f"{N_TAXA} taxa")
    rows = []
    for n in args.sizes:
        cohort_of(n, args.cache)  # simulate once, outside the timings
        for backend in ("local", "dask"):
            rows.append(in_subprocess("lm", n, backend, args.cache, args.permutations))
            print(report(rows[-1]), flush=True)
    for n in args.permanova_sizes:
        distances_of(n, args.cache)
        for backend in ("local", "dask"):
            rows.append(in_subprocess("permanova", n, backend, args.cache,
                                      args.permutations))
            print(report(rows[-1]), flush=True)
    extrapolate(rows)


def extrapolate(rows: list[dict]) -> None:
    """The arithmetic for the sizes not run."""
    ok = [r for r in rows if "error" not in r]
    print("\nExtrapolation (on paper):")
    for backend in ("local", "dask"):
        lm = sorted((r["n"], r["seconds"]) for r in ok if r["step"] == "lm"
                    and r["backend"] == backend)
        if len(lm) >= 2:
            (n1, t1), (n2, t2) = lm[0], lm[-1]
            k = np.log(t2 / t1) / np.log(n2 / n1)
            print(f"  LM scan {backend}: time ~ n^{k:.2f} from n={n1} ({t1:.1f} s) and "
                  f"n={n2} ({t2:.1f} s); n=100,000: {t2:.1f} x (100000/{n2})^{k:.2f} = "
                  f"{t2 * (100_000 / n2) ** k:.0f} s")
        if lm:
            last = max((r for r in ok if r["step"] == "lm" and r["backend"] == backend),
                       key=lambda r: r["n"])
            peak = last["client_peak_mib"] / 1024
            print(f"  LM scan {backend}: the dense n x m values at n=100,000, m={N_TAXA}: "
                  f"8 x 1e5 x {N_TAXA} = {8e5 * N_TAXA / 2**30:.1f} GiB per copy; caller "
                  f"peak {peak:.1f} GiB x 100000/{last['n']} = "
                  f"{peak * 100_000 / last['n']:.1f} GiB")
        perm = [r for r in ok if r["step"] == "permanova" and r["backend"] == backend]
        for r in perm:
            per = r["per_permutation"]
            t999 = r["fixed_seconds"] + 999 * per
            print(f"  PERMANOVA {backend} n={r['n']}: {r['seconds']:.1f} s for "
                  f"{r['permutations']} permutations = {r['fixed_seconds']:.1f} s fixed + "
                  f"{r['permutations']} x {per:.4f} s; 999 permutations: "
                  f"{r['fixed_seconds']:.1f} + 999 x {per:.4f} = {t999:.0f} s")
            for target in (30_000, 100_000):
                scale = (target / r["n"]) ** 2
                print(f"    n={target}: x (n ratio)^2 = {scale:.0f}: {t999 * scale:.0f} s; "
                      f"Gower matrix 8 n^2 = {8 * target**2 / 2**30:.1f} GiB (per worker "
                      "when shared whole)")


if __name__ == "__main__":
    main()

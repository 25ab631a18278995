"""Scale of the statistics on a compute back-end: the LM association scan and PERMANOVA
on simulated cohorts, in this process (``local``) and on a Dask LocalCluster of 2 worker
processes (``dask``), with wall time and peak memory (peak RSS) of the client and of each
worker.

Cohorts (:mod:`gutaxis.simulate`): ``n`` samples x 5,010 taxa. The shipped template has
150 genera, so the table is 34 independent draws of ``simulate_cohort(n_subjects=n,
n_features=150)`` (seeds 0..33) placed side by side (5,100 taxa, the first 5,010 kept);
the metadata (pain, age, sex, BMI) and the planted taxa are those of the first draw, the
other blocks are null taxa. The statistics cost the same whatever the taxa mean. Above
10,000 samples the cohort is made of blocks of at most 10,000 subjects drawn that way
(block ``b``: seeds ``1000 b + 0..33``), stacked as sparse rows, so no dense
``n x 5,010`` array is ever built (about 2,150 nonzeros per sample).

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
- PERMANOVA from the store (``--stored-sizes``, Dask only): the same test on
  ``open_distance_store`` of the same Bray-Curtis matrix written as a Zarr store
  (:func:`store_of`, built once on the cluster and cached; not timed), timed at
  ``--stored-permutations`` (default 19 and 99): ``per = (t2 - t1) / (c2 - c1)``,
  ``fixed = t1 - c1 per``. The caller never loads the table or the matrix.

Each (step, n, back-end) runs in a fresh subprocess so that its peak RSS is its own;
simulated tables and distance matrices are cached in ``--cache`` (default
``$TMPDIR/gutaxis-bench-scale``). Sizes that do not fit this machine are extrapolated
on paper, with the arithmetic printed: time of the LM scan ~ n x m, PERMANOVA ~ n^2
per permutation, memory of the square matrices 8 n^2 bytes.

Usage: ``python benchmarks/bench_scale_stats.py [--sizes 10000 30000]
[--permanova-sizes 10000] [--permutations 99] [--stored-sizes 10000 30000]
[--stored-permutations 19 99] [--workers 2] [--cache DIR]``; all steps at once, with the
distance steps and the fits: ``bench_scale_all.py``.
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
SUBJECT_BLOCK = 10_000
WORKERS = 2


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cohort_of(n: int, cache: Path):
    """The simulated cohort of ``n`` samples x ``N_TAXA`` taxa (cached as .npz + .pkl).

    Built by blocks of at most ``SUBJECT_BLOCK`` subjects (34 draws side by side per
    block; block 0 uses seeds 0..33, block ``b`` seeds ``1000 b + 0..33``; sample and
    subject ids of block ``b > 0`` are prefixed ``B<b>_``), so the largest dense array is
    one draw of a block (``SUBJECT_BLOCK x 150``) and the caller holds the sparse blocks,
    never ``n x N_TAXA`` dense values.
    """
    import pandas as pd

    from gutaxis.data import Cohort, ProfileTable

    counts_path = cache / f"counts_{n}_b{SUBJECT_BLOCK}.npz"
    meta_path = cache / f"meta_{n}_b{SUBJECT_BLOCK}.pkl"
    if not counts_path.exists():
        parts, metas = [], []
        sizes = [len(b) for b in np.array_split(np.arange(n), -(-n // SUBJECT_BLOCK))]
        for block, size in enumerate(sizes):
            counts, meta = _side_by_side(size, seed=1000 * block)
            if block:
                meta.index = f"B{block}_" + meta.index.astype(str)
                meta["subject"] = f"B{block}_" + meta["subject"].astype(str)
            parts.append(counts)
            metas.append(meta)
        counts = sp.csr_array(sp.vstack(parts, format="csr"))
        del parts
        sp.save_npz(counts_path, sp.csr_matrix(counts))
        pd.concat(metas).to_pickle(meta_path)
    counts = sp.csr_array(sp.load_npz(counts_path))
    meta = pd.read_pickle(meta_path)
    features = np.array([f"taxon_{j:05d}" for j in range(counts.shape[1])])
    table = ProfileTable(counts, np.asarray(meta.index), features, kind="counts")
    return Cohort(table, meta)


def _side_by_side(n: int, *, seed: int):
    """``n`` subjects: 34 independent draws of the genus template side by side (the
    first ``N_TAXA`` taxa kept, sparse) and the metadata of the first draw."""
    from gutaxis.simulate import simulate_cohort

    blocks, meta = [], None
    for draw in range(-(-N_TAXA // BLOCK)):  # independent draws, side by side
        sim = simulate_cohort(n_subjects=n, seed=seed + draw)
        blocks.append(sp.csr_array(sim.cohort.table.values))
        meta = sim.cohort.metadata if meta is None else meta
    assert meta is not None
    return sp.csr_array(sp.hstack(blocks, format="csr")[:, :N_TAXA]), meta


def distances_of(n: int, cache: Path):
    """Bray-Curtis of the cohort of ``n`` samples (cached as .npy)."""
    from gutaxis.data.distance import DistanceMatrix
    from gutaxis.gut.beta import braycurtis

    cohort = cohort_of(n, cache)
    path = cache / f"braycurtis_{n}_b{SUBJECT_BLOCK}.npy"
    if not path.exists():
        np.save(path, braycurtis(cohort.table).data)
    return DistanceMatrix(cohort.sample_ids, np.load(path, mmap_mode="r"),
                          metric="braycurtis"), cohort.metadata


def store_path(n: int, cache: Path) -> Path:
    """Where :func:`store_of` keeps the Bray-Curtis store of the cohort of ``n``."""
    return cache / f"braycurtis_{n}_b{SUBJECT_BLOCK}.zarr"


def store_of(n: int, cache: Path, workers: int = WORKERS) -> Path:
    """Bray-Curtis of the cohort of ``n`` samples as a Zarr distance store (computed by
    row bands on a LocalCluster of ``workers`` once, then cached; never timed)."""
    from gutaxis.compute import DaskBackend
    from gutaxis.gut.distance_store import distance_matrix_to_store

    path = store_path(n, cache)
    if not path.exists():
        cohort = cohort_of(n, cache)
        with DaskBackend(n_workers=workers) as backend:
            distance_matrix_to_store(cohort.table, "braycurtis", path, backend=backend)
    return path


def metadata_of(n: int, cache: Path):
    """The cohort's metadata alone (the stored PERMANOVA's caller never loads the table)."""
    import pandas as pd

    path = cache / f"meta_{n}_b{SUBJECT_BLOCK}.pkl"
    if not path.exists():
        cohort_of(n, cache)
    return pd.read_pickle(path)


def worker_peak_rss_mib() -> float:
    """Run on each worker: its peak RSS."""
    return peak_rss_mib()


def warm_up() -> None:
    """Run on each worker before the clock: the imports a first task would pay for."""
    import gutaxis.gut.distance_store
    import gutaxis.stats.associate
    import gutaxis.stats.community.permanova
    import gutaxis.stats.community.stored_traces  # noqa: F401


def timed_permanova(distances, meta, counts: tuple[int, int], backend, *,
                    warm: bool = False) -> dict:
    """PERMANOVA ``pain + age + sex`` at two permutation counts ``c1 < c2``: the fixed
    part and the time per permutation, ``per = (t2 - t1) / (c2 - c1)``,
    ``fixed = t1 - c1 per``. ``distances``: in memory or a store. ``warm``: a first,
    untimed call at ``c1`` (its time is reported as ``first_call_seconds``), so that
    one-time costs (first tasks on the workers, the first read of the store) do not
    land in ``t1`` and bias the split."""
    from gutaxis.stats.community import permanova

    times, out = [], {}
    if warm:
        start = time.perf_counter()
        permanova(distances, meta, formula="pain + age + sex", permutations=counts[0],
                  seed=1, backend=backend)
        out["first_call_seconds"] = time.perf_counter() - start
    for count in counts:
        start = time.perf_counter()
        res = permanova(distances, meta, formula="pain + age + sex", permutations=count,
                        seed=1, backend=backend)
        times.append(time.perf_counter() - start)
    per = (times[1] - times[0]) / (counts[1] - counts[0])
    return out | {"seconds": times[1], "per_permutation": per,
            "fixed_seconds": times[0] - counts[0] * per, "permutations": counts[1],
            "times": times, "counts": list(counts),
            "checksum": float(res.f_permuted.sum()), "pval": res.table["pval"].tolist()[:3],
            "f": res.table["f"].tolist()[:3]}


def run_case(step: str, n: int, backend_name: str, cache: Path, permutations: int, *,
             workers: int = WORKERS, stored_permutations: tuple[int, int] = (19, 99)) -> dict:
    """One timed run in this (fresh) process; the inputs are loaded before the clock.

    ``step``: ``lm``, ``permanova`` (in memory, timed at ``permutations`` and
    ``3 permutations``) or ``permanova_stored`` (from the Bray-Curtis store of
    :func:`store_of`, built beforehand; timed at ``stored_permutations``).
    """
    from gutaxis.compute import DaskBackend
    from gutaxis.gut.distance_store import open_distance_store
    from gutaxis.stats import associate

    backend = DaskBackend(n_workers=workers) if backend_name == "dask" else None
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
    elif step == "permanova_stored":
        path = store_path(n, cache)
        if not path.exists():
            raise SystemExit(f"no store at {path}: build it first (store_of)")
        stored = open_distance_store(path)
        out.update(timed_permanova(stored, metadata_of(n, cache), stored_permutations,
                                   backend, warm=True))
        out["band_rows"] = stored.bands()[0].stop
    else:
        dm, meta = distances_of(n, cache)
        dm = type(dm)(dm.ids, np.asarray(dm.data), metric=dm.metric)  # in memory
        out.update(timed_permanova(dm, meta, (permutations, 3 * permutations), backend))
    out["client_peak_mib"] = peak_rss_mib()
    if backend is not None:
        peaks = backend.client.run(worker_peak_rss_mib)
        out["worker_peak_mib"] = sorted(float(v) for v in peaks.values())
        backend.close()
    return out


def in_subprocess(step: str, n: int, backend: str, cache: Path, permutations: int, *,
                  workers: int = WORKERS, stored_permutations: tuple[int, int] = (19, 99)
                  ) -> dict:
    """:func:`run_case` in a fresh process (its own peak RSS); errors become a row."""
    cmd = [sys.executable, __file__, "--case", step, str(n), backend, "--cache", str(cache),
           "--permutations", str(permutations), "--workers", str(workers),
           "--stored-permutations", *map(str, stored_permutations)]
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
    parser.add_argument("--stored-sizes", type=int, nargs="*", default=[],
                        help="PERMANOVA from a Bray-Curtis store (Dask only) at these sizes")
    parser.add_argument("--stored-permutations", type=int, nargs=2, default=[19, 99])
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--case", nargs=3, metavar=("STEP", "N", "BACKEND"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    stored_counts = (args.stored_permutations[0], args.stored_permutations[1])
    if args.case:
        step, n, backend = args.case
        print(json.dumps(run_case(step, int(n), backend, args.cache, args.permutations,
                                  workers=args.workers, stored_permutations=stored_counts)))
        return
    print(f"{os.cpu_count()} CPUs; Dask LocalCluster of {args.workers} workers x 1 thread; "
          f"{N_TAXA} taxa")
    rows = []
    for n in args.sizes:
        cohort_of(n, args.cache)  # simulate once, outside the timings
        for backend in ("local", "dask"):
            rows.append(in_subprocess("lm", n, backend, args.cache, args.permutations,
                                      workers=args.workers))
            print(report(rows[-1]), flush=True)
    for n in args.permanova_sizes:
        distances_of(n, args.cache)
        for backend in ("local", "dask"):
            rows.append(in_subprocess("permanova", n, backend, args.cache,
                                      args.permutations, workers=args.workers))
            print(report(rows[-1]), flush=True)
    for n in args.stored_sizes:
        store_of(n, args.cache, args.workers)
        rows.append(in_subprocess("permanova_stored", n, "dask", args.cache,
                                  args.permutations, workers=args.workers,
                                  stored_permutations=stored_counts))
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
        perm = [r for r in ok if r["step"] in ("permanova", "permanova_stored")
                and r["backend"] == backend]
        for r in perm:
            per = r["per_permutation"]
            t999 = r["fixed_seconds"] + 999 * per
            where = "from the store" if r["step"] == "permanova_stored" else "in memory"
            print(f"  PERMANOVA {where}, {backend} n={r['n']}: {r['seconds']:.1f} s for "
                  f"{r['permutations']} permutations = {r['fixed_seconds']:.1f} s fixed + "
                  f"{r['permutations']} x {per:.4f} s; 999 permutations: "
                  f"{r['fixed_seconds']:.1f} + 999 x {per:.4f} = {t999:.0f} s")
            for target in (30_000, 100_000):
                scale = (target / r["n"]) ** 2
                held = ("on disk, never in memory" if r["step"] == "permanova_stored"
                        else "per worker when shared whole")
                print(f"    n={target}: x (n ratio)^2 = {scale:.0f}: {t999 * scale:.0f} s; "
                      f"Gower matrix 8 n^2 = {8 * target**2 / 2**30:.1f} GiB ({held})")


if __name__ == "__main__":
    main()

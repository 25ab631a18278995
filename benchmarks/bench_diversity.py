"""Diversity speed and memory: gutaxis vs scikit-bio on the same real data.

Prints ratios (scikit-bio time / gutaxis time; > 1 means gutaxis is faster):

1. alpha diversity (observed features, Shannon, Simpson, inverse Simpson, Pielou,
   Chao1) on the fibromyalgia table (101 samples x 6,993 ASVs);
2. Bray-Curtis on a 2,000-sample sparse table built from the fibromyalgia samples
   by seeded multinomial resampling (each synthetic sample draws its depth and a
   source sample at random, then reads from that source's composition);
3. the peak memory of gutaxis's Bray-Curtis beside the table's nonzeros and the
   n x n output.

scikit-bio's Bray-Curtis on 2,000 samples takes over a minute. ``--quick`` times it on
a subset and extrapolates with its O(n^2) pair count; the line says so.

Usage: ``python benchmarks/bench_diversity.py [--quick] [--samples 2000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from skbio.diversity import alpha_diversity as skbio_alpha
from skbio.diversity import beta_diversity as skbio_beta

from gutaxis.data.profile import ProfileTable
from gutaxis.gut.alpha import alpha_diversity
from gutaxis.gut.beta import braycurtis

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fibromyalgia"
SKBIO_ALPHA = ["observed_features", "shannon", "simpson", "inv_simpson", "pielou_e", "chao1"]


def best_of(function: Callable[[], object], repeats: int) -> float:
    """Fastest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def load_counts(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "feature-table.tsv.gz", sep="\t", index_col="feature_id").T


def resampled_table(counts: pd.DataFrame, n_samples: int, seed: int) -> ProfileTable:
    """``n_samples`` multinomial draws from real samples' compositions, seeded."""
    rng = np.random.default_rng(seed)
    source = sp.csr_array(counts.to_numpy(dtype=np.float64))
    depths = np.asarray(source.sum(axis=1)).ravel()
    picks = rng.integers(0, source.shape[0], size=n_samples)
    draw_depths = rng.choice(depths, size=n_samples).astype(np.int64)
    indptr, indices, data = [0], [], []
    for pick, depth in zip(picks, draw_depths, strict=True):  # one numpy draw per sample
        lo, hi = source.indptr[pick], source.indptr[pick + 1]
        drawn = rng.multinomial(depth, source.data[lo:hi] / depths[pick])
        keep = drawn > 0
        indices.append(source.indices[lo:hi][keep])
        data.append(drawn[keep].astype(np.float64))
        indptr.append(indptr[-1] + int(keep.sum()))
    values = sp.csr_array((np.concatenate(data), np.concatenate(indices), np.array(indptr)),
                          shape=(n_samples, source.shape[1]))
    return ProfileTable(values, [f"r{i}" for i in range(n_samples)],
                        np.asarray(counts.columns))


def bench_alpha(counts: pd.DataFrame) -> None:
    table = ProfileTable.from_dataframe(counts)
    dense = counts.to_numpy(dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = best_of(lambda: alpha_diversity(table), 20)
        theirs = best_of(lambda: [skbio_alpha(m, dense) for m in SKBIO_ALPHA], 3)
    print(f"alpha (6 metrics, {table.n_samples} x {table.n_features}): "
          f"gutaxis {ours * 1e3:.2f} ms, scikit-bio {theirs * 1e3:.1f} ms, "
          f"ratio {theirs / ours:.0f}x")


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def bench_braycurtis(counts: pd.DataFrame, n_samples: int, seed: int, quick: bool) -> None:
    table = resampled_table(counts, n_samples, seed)
    braycurtis(table.subset_samples(slice(0, 4)))  # compile (or load the numba cache)
    rss_before = max_rss_mb()
    tracemalloc.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    braycurtis(table)
    ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = max_rss_mb() - rss_before
    n = table.n_samples
    print(f"Bray-Curtis table: {n} samples x {table.n_features} features, nnz {table.nnz:,} "
          f"({table.nnz / n:.0f} per sample), seed {seed}")
    print(f"  gutaxis: {ours:.2f} s wall, {ours_cpu:.2f} s CPU (all threads)")
    subset = min(n, 300) if quick else n
    dense = table.subset_samples(slice(0, subset)).dense()
    start, cpu_start = time.perf_counter(), time.process_time()
    skbio_beta("braycurtis", dense)
    theirs, theirs_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    label = "measured"
    if subset < n:
        pairs = n * (n - 1) / (subset * (subset - 1))
        theirs, theirs_cpu = theirs * pairs, theirs_cpu * pairs
        label = f"EXTRAPOLATED from {subset} samples by pair count (x{pairs:.1f}, --quick)"
    print(f"  scikit-bio: {theirs:.1f} s wall, {theirs_cpu:.1f} s CPU ({label})")
    print(f"  ratio: {theirs / ours:.0f}x wall, {theirs_cpu / ours_cpu:.0f}x CPU")
    nnz_mb = table.nnz * 12 / 2**20
    output_mb = n * n * 8 / 2**20
    dense_mb = n * table.n_features * 8 / 2**20
    print(f"  memory: numpy-traced peak {traced_peak / 2**20:.0f} MiB, process peak RSS growth "
          f"{rss_growth:.0f} MiB; table nonzeros {nnz_mb:.1f} MiB, one n x n float64 "
          f"{output_mb:.0f} MiB (peak = {traced_peak / 2**20 / output_mb:.1f} x n^2); "
          f"the dense table scikit-bio needs is {dense_mb:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time scikit-bio's Bray-Curtis on 300 samples and extrapolate")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DATA, help="the fibromyalgia folder")
    args = parser.parse_args()
    counts = load_counts(args.data)
    bench_alpha(counts)
    bench_braycurtis(counts, args.samples, args.seed, args.quick)


if __name__ == "__main__":
    main()

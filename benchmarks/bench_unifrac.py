"""UniFrac and Faith PD speed: gutaxis against scikit-bio, on the fibromyalgia cohort.

Part 1 times every metric on the real 101 samples x 6,993 ASVs (best of 3; numba
compilation is excluded for every tool by a first call on three samples) and prints the
ratio peer / gutaxis (> 1 means gutaxis is faster). Peers: scikit-bio 0.7.4 with its
default engine (``skbio``: cython node counts + scipy ``pdist`` over a Python callable)
and with ``engine="numba"`` (``skbio-numba``: its parallel dense kernel).

Part 2 scales to larger cohorts made from the real one: each synthetic sample is a
seeded multinomial draw (depth 20,000) from the proportions of a randomly chosen real
sample, so presence patterns and abundance skew stay realistic. Every run happens in a
fresh subprocess that reports its time and its peak resident memory above the
baseline (data loaded, before the call).

    python benchmarks/bench_unifrac.py [--sizes 500,1000,2000] [--skbio-max 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.gut.phylogenetic import faith_pd, unifrac
from gutaxis.io.newick import read_newick

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fibromyalgia"
METRICS = ("unweighted", "weighted_normalized", "weighted_unnormalized", "faith_pd")
#: scikit-bio's default engine (cython + scipy pdist) and its parallel numba engine
PEERS = ("skbio", "skbio-numba")


def load(n_samples: int | None, seed: int = 7) -> ProfileTable:
    frame = pd.read_csv(DATA / "feature-table.tsv.gz", sep="\t", index_col=0)
    counts = frame.to_numpy(dtype=np.float64).T
    if n_samples is not None:
        rng = np.random.default_rng(seed)
        chosen = rng.integers(0, counts.shape[0], size=n_samples)
        shares = counts[chosen] / counts[chosen].sum(axis=1, keepdims=True)
        counts = rng.multinomial(20_000, shares).astype(np.float64)
    ids = [f"s{i}" for i in range(counts.shape[0])]
    return ProfileTable(sp.csr_array(counts), ids, frame.index.astype(str),
                        tree=read_newick(DATA / "tree.nwk"))


def gutaxis_call(table: ProfileTable, metric: str) -> Callable[[], object]:
    if metric == "faith_pd":
        return lambda: faith_pd(table)
    weighted = metric != "unweighted"
    normalized = metric == "weighted_normalized"
    return lambda: unifrac(table, weighted=weighted, normalized=normalized)


def skbio_call(table: ProfileTable, metric: str, engine: str | None) -> Callable[[], object]:
    import skbio
    from skbio.diversity import alpha_diversity, beta_diversity

    tree = skbio.TreeNode.read(str(DATA / "tree.nwk"), convert_underscores=False)
    counts = table.dense().astype(np.int64)
    taxa = list(table.feature_ids)
    if metric == "faith_pd":
        return lambda: alpha_diversity("faith_pd", counts, taxa=taxa, tree=tree)
    if metric == "unweighted":
        return lambda: beta_diversity("unweighted_unifrac", counts, taxa=taxa, tree=tree,
                                      engine=engine)
    normalized = metric == "weighted_normalized"
    return lambda: beta_diversity("weighted_unifrac", counts, taxa=taxa, tree=tree,
                                  normalized=normalized, engine=engine)


def timed(func: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (CPU summed over all threads: robust to a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_above_baseline(func: Callable[[], object]) -> tuple[tuple[float, float], float]:
    """:func:`timed` and the peak resident memory (MB) above the level before the call,
    sampled every millisecond by a watcher thread."""
    baseline = peak = rss_mb()
    running = True

    def watch() -> None:
        nonlocal peak
        while running:
            peak = max(peak, rss_mb())
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    seconds = timed(func)
    running = False
    watcher.join()
    return seconds, max(peak, rss_mb()) - baseline


def one_run(tool: str, n_samples: int | None, metric: str, repeats: int) -> dict[str, float]:
    table = load(n_samples)

    def make(t: ProfileTable) -> Callable[[], object]:
        if tool == "gutaxis":
            return gutaxis_call(t, metric)
        return skbio_call(t, metric, "numba" if tool == "skbio-numba" else None)

    make(table.subset_samples(slice(0, 3)))()  # compile numba code (every tool)
    call = make(table)  # scikit-bio's dense input is made here, before the baseline
    first, peak = peak_above_baseline(call)
    runs = [first] + [timed(call) for _ in range(repeats - 1)]
    return {"seconds": min(r[0] for r in runs), "cpu": min(r[1] for r in runs),
            "peak_mb": max(peak, 0.0), "nnz": float(table.nnz)}


def in_subprocess(tool: str, n_samples: int | None, metric: str, repeats: int) -> dict[str, float]:
    args = [sys.executable, __file__, "--one", tool, str(n_samples or 0), metric, str(repeats)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--skbio-max", type=int, default=1000,
                        help="largest cohort also timed with scikit-bio (numba engine)")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        tool, n, metric, repeats = args.one
        print(json.dumps(one_run(tool, int(n) or None, metric, int(repeats))))
        return
    print("fibromyalgia cohort, 101 samples x 6,993 ASVs, best of 5, wall / CPU ms "
          "(ratio = peer / gutaxis, wall / CPU)")
    for metric in METRICS:
        ours = in_subprocess("gutaxis", None, metric, 5)
        line = f"  {metric:<22} gutaxis {_ms(ours)}"
        for peer in PEERS if metric != "faith_pd" else PEERS[:1]:
            theirs = in_subprocess(peer, None, metric, 5)
            line += f"   {peer} {_ms(theirs)} ratio {_ratios(theirs, ours)}"
        print(line, flush=True)
    print("\nresampled cohorts (depth 20,000), one call, wall / CPU s, peak RSS above baseline")
    for n in (int(s) for s in args.sizes.split(",")):
        for metric in METRICS[:3]:
            ours = in_subprocess("gutaxis", n, metric, 1)
            line = (f"  n={n:<5} {metric:<22} gutaxis {_s(ours)} +{ours['peak_mb']:4.0f} MB"
                    f" (table nnz {ours['nnz']:.0f})")
            if n <= args.skbio_max:
                peer = in_subprocess("skbio-numba", n, metric, 1)
                line += (f"   skbio-numba {_s(peer)} +{peer['peak_mb']:4.0f} MB"
                         f" ratio {_ratios(peer, ours)}")
            print(line, flush=True)


def _ms(run: dict[str, float]) -> str:
    return f"{run['seconds'] * 1000:7.1f} / {run['cpu'] * 1000:7.1f} ms"


def _s(run: dict[str, float]) -> str:
    return f"{run['seconds']:6.2f} / {run['cpu']:6.2f} s"


def _ratios(peer: dict[str, float], ours: dict[str, float]) -> str:
    return f"{peer['seconds'] / ours['seconds']:5.1f} / {peer['cpu'] / ours['cpu']:5.1f}"


if __name__ == "__main__":
    main()

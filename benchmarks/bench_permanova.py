"""PERMANOVA speed: gutaxis vs vegan ``adonis2`` (three terms) and scikit-bio ``permanova``
(one factor), on a 2,000-sample Bray-Curtis matrix.

The table is built as ``bench_diversity.py`` builds it (seeded multinomial draws from the
fibromyalgia samples' compositions); its Bray-Curtis matrix comes from gutaxis. Three
covariates: ``group`` (4 levels, drawn at random), ``age`` (normal) and ``log_depth``
(the log of each synthetic sample's read depth, a real nuisance covariate).

1. ``group + age + log_depth``, sequential sums of squares, 999 permutations: gutaxis vs
   vegan 2.6-4 ``adonis2`` (Rscript in a subprocess, niced; the time is taken inside R
   around the ``adonis2`` call, reading the matrix excluded). F and R² are compared too.
2. ``group`` alone, 999 permutations: gutaxis vs ``skbio.stats.distance.permanova``
   (whose time includes building its ``DistanceMatrix`` from the array: excluded).

Prints ratios (their time / gutaxis time; > 1 means gutaxis is faster). ``--quick`` runs
vegan with 99 permutations and extrapolates to 999 linearly (the line says so).

Usage: ``python benchmarks/bench_permanova.py [--quick] [--samples 2000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from skbio import DistanceMatrix as SkbioDistanceMatrix
from skbio.stats.distance import permanova as skbio_permanova

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_diversity import DATA, load_counts, resampled_table
from gutaxis.gut.beta import braycurtis
from gutaxis.stats.community import permanova

FORMULA = "group + age + log_depth"
R_SCRIPT = r"""
suppressMessages(library(vegan))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[3]); nperm <- as.integer(args[4])
d <- matrix(readBin(args[1], "double", n * n), n, n)
meta <- read.delim(args[2], stringsAsFactors = TRUE)
d <- as.dist(d)
t <- system.time(res <- adonis2(d ~ group + age + log_depth, data = meta,
                                permutations = nperm, by = "terms"))
cat(sprintf("%.17g", t[["elapsed"]]), sprintf("%.17g", t[["user.self"]]), "\n")
cat(sprintf("%.17g", res$F[1:3]), "\n")
cat(sprintf("%.17g", res$R2[1:3]), "\n")
"""


def covariates(table_depths: np.ndarray, seed: int) -> pd.DataFrame:
    """Three covariates: a random 4-level group, a normal age, the log read depth."""
    rng = np.random.default_rng(seed + 1)
    n = table_depths.size
    return pd.DataFrame({
        "group": rng.choice(np.array(["a", "b", "c", "d"]), size=n),
        "age": np.round(rng.normal(50, 12, size=n), 1),
        "log_depth": np.log(table_depths),
    }, index=[f"r{i}" for i in range(n)])


def timed(function, repeats: int = 1) -> tuple[float, float, object]:
    """Best wall time, its CPU time and the result of that run."""
    best = (np.inf, np.inf, None)
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = function()
        wall = time.perf_counter() - start
        if wall < best[0]:
            best = (wall, time.process_time() - cpu, result)
    return best


def run_vegan(dm_data: np.ndarray, meta: pd.DataFrame, nperm: int) -> tuple[float, float,
                                                                            np.ndarray,
                                                                            np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.asarray(dm_data, dtype="<f8").T.tofile(folder / "d.bin")
        meta.to_csv(folder / "meta.tsv", sep="\t", index=False)
        (folder / "run.R").write_text(R_SCRIPT)
        out = subprocess.run(
            ["nice", "Rscript", str(folder / "run.R"), str(folder / "d.bin"),
             str(folder / "meta.tsv"), str(len(meta)), str(nperm)],
            check=True, capture_output=True, text=True).stdout.split("\n")
    wall, user = map(float, out[0].split())
    return wall, user, np.array(out[1].split(), float), np.array(out[2].split(), float)


def compare_vegan(dm_data: np.ndarray, meta: pd.DataFrame, table: pd.DataFrame, ours: float,
                  ours_cpu: float, nperm: int) -> None:
    """Time adonis2 on the same matrix and covariates; print its time, the agreement of F
    and R2, and the ratios."""
    v_wall, v_user, v_f, v_r2 = run_vegan(dm_data, meta, nperm)
    label = "measured"
    if nperm < 999:
        v_wall, v_user = v_wall * 1000 / (nperm + 1), v_user * 1000 / (nperm + 1)
        label = f"EXTRAPOLATED from {nperm} permutations (--quick)"
    f_diff = float(np.max(np.abs(v_f - table["f"].to_numpy()[:3]) / v_f))
    r2_diff = float(np.max(np.abs(v_r2 - table["r2"].to_numpy()[:3])))
    print(f"  vegan adonis2 (3 terms): {v_wall:.1f} s wall, {v_user:.1f} s CPU ({label}); "
          f"F max rel. diff {f_diff:.1e}, R2 max abs. diff {r2_diff:.1e}")
    print(f"  ratio vs vegan: {v_wall / ours:.0f}x wall, {v_user / ours_cpu:.0f}x CPU")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="vegan with 99 permutations, extrapolated to 999")
    parser.add_argument("--no-vegan", action="store_true", help="skip vegan (no R)")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    table = resampled_table(load_counts(DATA), args.samples, args.seed)
    dm = braycurtis(table)
    meta = covariates(np.asarray(table.values.sum(axis=1)).ravel(), args.seed)
    n = dm.n
    print(f"Bray-Curtis matrix: {n} samples (resampled fibromyalgia, seed {args.seed}); "
          f"formula {FORMULA}, 999 permutations")

    ours, ours_cpu, res = timed(lambda: permanova(dm, meta, formula=FORMULA,
                                                  permutations=999, seed=1), 3)
    print(f"  gutaxis (3 terms): {ours:.2f} s wall, {ours_cpu:.2f} s CPU (best of 3)")
    if not args.no_vegan:
        compare_vegan(dm.data, meta, res.table, ours, ours_cpu, 99 if args.quick else 999)

    one, one_cpu, res1 = timed(lambda: permanova(dm, meta, formula="group",
                                                 permutations=999, seed=1), 3)
    sk_dm = SkbioDistanceMatrix(dm.data, ids=list(dm.ids), validate=False)
    grouping = meta["group"].to_numpy()
    sk, sk_cpu, sk_res = timed(lambda: skbio_permanova(sk_dm, grouping, permutations=999), 3)
    print(f"  one factor (group): gutaxis {one:.2f} s wall ({one_cpu:.2f} s CPU), "
          f"scikit-bio {sk:.2f} s wall ({sk_cpu:.2f} s CPU), ratio {sk / one:.1f}x wall, "
          f"{sk_cpu / one_cpu:.1f}x CPU; F {res1.table['f'][0]:.6f} vs "
          f"{sk_res['test statistic']:.6f}")


if __name__ == "__main__":
    main()

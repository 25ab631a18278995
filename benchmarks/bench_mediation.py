"""Taxa-as-mediators speed: gutaxis vs per-taxon loops (statsmodels, R ``mediation``).

The scan of ``mediate_taxa`` on 300 fibromyalgia ASVs (the 300 most prevalent, CLR),
``IBS (covariate_sii y vs n) -> ASV -> severity band (0-3)`` with age and BMI, 2,000
bootstrap replicates (target: under a minute), against

1. a naive statsmodels loop: per taxon and per bootstrap replicate, ``OLS(M_j ~ T + C)``
   and ``OLS(Y ~ T + M_j + C)`` on the resampled rows, timed on a few taxa and
   extrapolated to 300;
2. R ``mediation::mediate(boot = TRUE, sims = 2000)`` per taxon (``lm`` models), timed on
   a few taxa and extrapolated (skipped with ``--skip-r`` or when R ``mediation`` is not
   installed; see ``tests/reference/mediation/install_mediation.sh``).

Ratios are peer time / gutaxis time (> 1: gutaxis is faster). BLAS runs single-threaded
for every side (threadpoolctl).

Usage: ``python benchmarks/bench_mediation.py [--taxa 300] [--boot 2000] [--peer-taxa 3]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from gutaxis.data.cohort import Cohort
from gutaxis.io import read_cohort
from gutaxis.stats.mediation import mediate_taxa
from gutaxis.stats.mediation.taxa import taxa_values

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fibromyalgia"
SEVERITY = {"ctl": 0.0, "fbm_12_20": 1.0, "fbm_21_25": 2.0, "fbm_26_31": 3.0}
COVARIATES = ["covariate_age", "covariate_imc"]

R_SCRIPT = """
suppressPackageStartupMessages(library(mediation))
args <- commandArgs(TRUE)
d <- read.delim(args[1])
sims <- as.integer(args[2])
start <- proc.time()[["elapsed"]]
for (j in grep("^taxon", names(d), value = TRUE)) {
  d$m <- d[[j]]
  fm <- lm(m ~ t + age + bmi, d)
  fy <- lm(y ~ t + m + age + bmi, d)
  invisible(mediate(fm, fy, treat = "t", mediator = "m", boot = TRUE, sims = sims))
}
cat(proc.time()[["elapsed"]] - start, "\\n")
"""


def cohort_with_top_taxa(n_taxa: int) -> Cohort:
    """The fibromyalgia cohort restricted to its ``n_taxa`` most prevalent ASVs."""
    cohort = read_cohort(DATA / "feature-table.tsv.gz", DATA / "metadata.tsv")
    order = np.argsort(-cohort.table.prevalence(), kind="stable")[:n_taxa]
    return cohort.with_table(cohort.table.subset_features(np.sort(order)))


def statsmodels_loop(t: np.ndarray, C: np.ndarray, M: np.ndarray, y: np.ndarray,
                     index: np.ndarray) -> np.ndarray:
    """The peer: two statsmodels OLS fits per taxon per bootstrap replicate -> ACME."""
    acme = np.empty((index.shape[0], M.shape[1]))
    for j in range(M.shape[1]):  # the per-taxon loop being compared against
        for r, rows in enumerate(index):  # the per-replicate loop being compared against
            Xa = np.column_stack([np.ones(rows.size), t[rows], C[rows]])
            a = sm.OLS(M[rows, j], Xa).fit().params[1]
            b = sm.OLS(y[rows], np.column_stack([Xa, M[rows, j]])).fit().params[-1]
            acme[r, j] = a * b
    return acme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taxa", type=int, default=300)
    parser.add_argument("--boot", type=int, default=2000)
    parser.add_argument("--peer-taxa", type=int, default=3)
    parser.add_argument("--skip-r", action="store_true")
    args = parser.parse_args()
    cohort = cohort_with_top_taxa(args.taxa)
    kw = {"exposure": "covariate_sii", "treated": "y", "outcome": "group",
          "outcome_codes": SEVERITY, "covariates": COVARIATES, "min_prevalence": 0.0}
    with threadpool_limits(1):
        start = time.perf_counter()
        cpu = time.process_time()
        res = mediate_taxa(cohort, n_draws=args.boot, seed=1, **kw)
        ours = time.perf_counter() - start
        ours_cpu = time.process_time() - cpu
    n_taxa = len(res.paths)
    print(f"gutaxis mediate_taxa: {n_taxa} taxa x {args.boot} bootstraps: {ours:.2f} s wall, "
          f"{ours_cpu:.2f} s CPU ({'under' if ours < 60 else 'OVER'} the 60 s target)")

    meta = cohort.metadata
    t = (meta["covariate_sii"] == "y").to_numpy(float)
    C = meta[COVARIATES].to_numpy(float)
    y = meta["group"].map(SEVERITY).to_numpy(float)
    M, _, _ = taxa_values(cohort.table, rank=None, min_prevalence=0.0, transform="clr")
    k = args.peer_taxa
    index = np.random.default_rng(1).integers(0, len(t), size=(args.boot, len(t)))
    with threadpool_limits(1):
        start = time.perf_counter()
        statsmodels_loop(t, C, M[:, :k], y, index)
        peer = (time.perf_counter() - start) * n_taxa / k
    print(f"statsmodels loop ({k} taxa timed, extrapolated to {n_taxa}): {peer:.1f} s; "
          f"ratio {peer / ours:.0f}x")

    if args.skip_r or shutil.which("Rscript") is None:
        print("R mediation: skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        frame = pd.DataFrame({"t": t, "age": C[:, 0], "bmi": C[:, 1], "y": y})
        for j in range(k):
            frame[f"taxon{j}"] = M[:, j]
        frame.to_csv(Path(tmp) / "d.tsv", sep="\t", index=False)
        (Path(tmp) / "run.R").write_text(R_SCRIPT)
        env = {**os.environ, "R_LIBS_USER": os.environ.get("R_LIBS_USER", "/work/rlib"),
               "OPENBLAS_NUM_THREADS": "1"}
        done = subprocess.run(["Rscript", str(Path(tmp) / "run.R"), str(Path(tmp) / "d.tsv"),
                               str(args.boot)], capture_output=True, text=True, env=env,
                              check=False)
    if done.returncode != 0:
        print(f"R mediation: not run ({done.stderr.strip().splitlines()[-1:]})")
        return
    r_time = float(done.stdout.split()[-1]) * n_taxa / k
    print(f"R mediation boot ({k} taxa timed, extrapolated to {n_taxa}): {r_time:.0f} s; "
          f"ratio {r_time / ours:.0f}x")


if __name__ == "__main__":
    main()

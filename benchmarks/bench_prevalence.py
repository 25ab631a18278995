"""Prevalence-model speed: gutaxis vs per-feature loops (statsmodels, R glm, R glmer).

The prevalence half of MaAsLin 3 on the HMP2 model of ``../shared/data/hmp2/README.md``:
for each of the 87 species, presence (> 0) ~ diagnosis + dysbiosisnonIBD/UC/CD +
antibiotics + age (complete cases, 1,576 samples), with random intercepts for site and
subject in the mixed model, MaAsLin 3's augmentation on (its default) or off.

Prints, per model, the seconds taken and the ratio (peer time / gutaxis time, > 1 means
gutaxis is faster):

1. fixed effects: ``fit_logistic`` vs a ``statsmodels`` Logit loop and an R ``glm`` loop;
2. mixed: ``fit_logistic_mixed`` vs an R ``lme4::glmer`` loop with MaAsLin 3's control
   (``nloptwrap``, ``maxeval = 1e5``, default PIRLS tolerance), augmented as MaAsLin 3
   does. This is the loop MaAsLin 3 runs for its prevalence model; MaAsLin 3 itself is
   not installed here (Bioconductor), so its own overhead is not included.

R times are measured inside R (``proc.time``), excluding R's start-up. gutaxis runs with
``--threads`` numba threads (default 1, to compare with single-threaded R fairly).

Usage: ``python benchmarks/bench_prevalence.py [--threads 1] [--repeat 3] [--skip-r]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(os.environ.get("GUTAXIS_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data")) / "hmp2"

R_LOOP = r"""
suppressPackageStartupMessages(library(lme4))
meta <- read.delim(file.path("{data}", "HMP2_metadata.tsv"), stringsAsFactors = FALSE)
tax <- read.delim(gzfile(file.path("{data}", "HMP2_taxonomy.tsv.gz")), check.names = FALSE)
meta <- meta[complete.cases(meta), ]
tax <- tax[match(meta$ID, tax$ID), ]
meta$diagnosis <- factor(meta$diagnosis, levels = c("nonIBD", "UC", "CD"))
species <- setdiff(colnames(tax), "ID")
fixed <- "y ~ diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD + antibiotics + age"
augment <- function(d, p) {{
  n <- nrow(d); a <- rbind(d, d, d)
  a$y[(n + 1):(2 * n)] <- 1; a$y[(2 * n + 1):(3 * n)] <- 0
  a$w <- c(rep(1, n), rep(p / (2 * n), 2 * n)); a
}}
ctrl <- glmerControl(optimizer = "nloptwrap", optCtrl = list(maxeval = 100000))
t_glm <- 0; t_glmer <- 0
for (sp in species) {{
  d <- meta; d$y <- as.numeric(tax[[sp]] > 0)
  t0 <- proc.time()[["elapsed"]]
  fit <- suppressWarnings(glm(as.formula(fixed), data = d, family = binomial()))
  s <- coef(summary(fit))
  t_glm <- t_glm + proc.time()[["elapsed"]] - t0
  if ({mixed}) {{
    a <- augment(d, 7)
    t0 <- proc.time()[["elapsed"]]
    fit <- suppressWarnings(suppressMessages(glmer(
      as.formula(paste(fixed, "+ (1 | site) + (1 | subject)")), data = a, family = binomial,
      weights = w, control = ctrl)))
    s <- suppressWarnings(coef(summary(fit)))
    t_glmer <- t_glmer + proc.time()[["elapsed"]] - t0
  }}
}}
cat(t_glm, t_glmer, "\n")
"""


def load() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    meta = pd.read_csv(DATA / "HMP2_metadata.tsv", sep="\t").dropna()
    tax = pd.read_csv(DATA / "HMP2_taxonomy.tsv.gz", sep="\t", index_col=0).loc[meta["ID"]]
    X = np.column_stack([
        np.ones(len(meta)), meta["diagnosis"].eq("UC"), meta["diagnosis"].eq("CD"),
        meta["dysbiosisnonIBD"].eq("Yes"), meta["dysbiosisUC"].eq("Yes"),
        meta["dysbiosisCD"].eq("Yes"), meta["antibiotics"].eq("Yes"), meta["age"],
    ]).astype(float)
    Y = (tax.to_numpy() > 0).astype(np.int8)
    groups = [pd.factorize(meta["site"])[0], pd.factorize(meta["subject"])[0]]
    return Y, X, groups


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run_r(mixed: bool) -> tuple[float, float] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(R_LOOP.format(data=DATA, mixed="TRUE" if mixed else "FALSE"))
    try:
        out = subprocess.run([rscript, handle.name], capture_output=True, text=True,
                             check=True).stdout.split()
    finally:
        os.unlink(handle.name)
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-r", action="store_true")
    args = parser.parse_args()

    import numba
    import statsmodels.api as sm
    from threadpoolctl import threadpool_limits

    from gutaxis.stats.models.logistic import fit_logistic
    from gutaxis.stats.models.logistic_mixed import fit_logistic_mixed

    numba.set_num_threads(args.threads)
    Y, X, groups = load()
    n, m = Y.shape
    print(f"HMP2 prevalence: {n} samples x {m} species, {X.shape[1]} fixed terms, "
          f"random intercepts site + subject; gutaxis on {args.threads} thread(s)")
    with threadpool_limits(1):
        fit_logistic_mixed(Y[:, :2], X, groups, augment=True)  # compile the kernel
        t_glm = best_of(args.repeat, lambda: fit_logistic(Y, X))
        t_mixed = best_of(args.repeat, lambda: fit_logistic_mixed(Y, X, groups, augment=True))
        t_mixed_plain = best_of(args.repeat, lambda: fit_logistic_mixed(Y, X, groups))

        def statsmodels_loop() -> None:
            warnings.simplefilter("ignore")  # non-convergence on the separated species
            for j in range(m):
                # perfect separation may raise in statsmodels
                with contextlib.suppress(Exception):
                    sm.Logit(Y[:, j], X).fit(disp=False, maxiter=100)
        t_sm = best_of(1, statsmodels_loop)
    fit = fit_logistic_mixed(Y, X, groups, augment=True)
    print(f"  fit_logistic (87 glm fits)          {t_glm:8.3f} s")
    print(f"  statsmodels Logit loop              {t_sm:8.3f} s   ratio {t_sm / t_glm:7.1f}x")
    print(f"  fit_logistic_mixed, augmented       {t_mixed:8.3f} s   "
          f"({int(fit.converged.sum())} converged, {int(fit.separated.sum())} separated)")
    print(f"  fit_logistic_mixed, not augmented   {t_mixed_plain:8.3f} s")
    if args.skip_r:
        return
    r = run_r(mixed=True)
    if r is None:
        print("  R not found: R loops skipped")
        return
    r_glm, r_glmer = r
    print(f"  R glm loop                          {r_glm:8.3f} s   ratio {r_glm / t_glm:7.1f}x")
    print(f"  R glmer loop (MaAsLin 3 control)    {r_glmer:8.3f} s   "
          f"ratio {r_glmer / t_mixed:7.1f}x")


if __name__ == "__main__":
    main()

"""Mixed-model speed: gutaxis ``fit_lmm`` vs the lmerTest loop MaAsLin 2 runs, on HMP2.

The model is MaAsLin 2's demo model on its own HMP2 data (87 species, TSS then AST,
fixed diagnosis + dysbiosis* + antibiotics + age, complete cases: 1,576 samples):

1. random ``(1|site) + (1|subject)``: R loops ``lmerTest::lmer`` + ``summary()`` over the
   87 features (timed in R around the loop only) vs one ``fit_lmm`` call (best of 3);
2. random ``(1|subject)``: the same, plus a ``statsmodels`` ``MixedLM`` REML loop
   (no Satterthwaite df there; timed on ``--statsmodels-features`` features and scaled
   to 87, which the line says);
3. scaling and memory: a seeded synthetic table (4,000 samples, 800 subjects in 8 sites,
   1,000 features) with ``(1|site) + (1|subject)``: time, and fit_lmm's peak traced memory
   beside the table's own size.

Prints times, ratios (peer time / gutaxis time; > 1 means gutaxis is faster) and the largest
coefficient difference to R in standard errors. Needs ``Rscript`` with lme4 and lmerTest.

Usage: ``python benchmarks/bench_lmm.py [--statsmodels-features 20] [--skip-r]``
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import timeit
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.stats.models.linear_mixed import fit_lmm

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hmp2"
FIXED = ["diagnosisCD", "diagnosisUC", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD",
         "antibiotics", "age"]

R_LOOP = r"""
suppressPackageStartupMessages(library(lmerTest))
args <- commandArgs(trailingOnly = TRUE)
d <- read.delim(args[1])
random <- args[2]
ys <- grep("^y", names(d), value = TRUE)
form <- paste("~", paste(c(%s), collapse = " + "), "+", random)
out <- vector("list", length(ys))
elapsed <- system.time(for (j in seq_along(ys)) {
  fit <- suppressMessages(suppressWarnings(lmer(as.formula(paste(ys[j], form)), data = d)))
  out[[j]] <- summary(fit)$coefficients[, 1:2]
})[["elapsed"]]
write.table(do.call(rbind, out), args[3], sep = "\t", quote = FALSE, col.names = FALSE)
cat(elapsed, "\n")
"""


def load_hmp2(folder: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """AST(TSS) of the 87 filtered species and the complete-case model metadata."""
    tax = pd.read_csv(folder / "HMP2_taxonomy.tsv.gz", sep="\t", index_col="ID")
    meta = pd.read_csv(folder / "HMP2_metadata.tsv", sep="\t").set_index("ID").loc[tax.index]
    tax = tax.loc[:, ((tax > 0).sum() > 0.1 * len(tax)) & (tax.var() > 0)]
    ast = np.arcsin(np.sqrt(tax.div(tax.sum(axis=1), axis=0)))
    model = pd.DataFrame({
        "diagnosisCD": meta.diagnosis.eq("CD"), "diagnosisUC": meta.diagnosis.eq("UC"),
        **{c: meta[c].eq("Yes") for c in FIXED[2:6]}, "age": meta.age,
        "site": meta.site, "subject": meta.subject,
    }).astype({c: float for c in FIXED})
    complete = meta[["age", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD"]].notna().all(axis=1)
    return ast[complete].to_numpy(), model[complete]


def r_loop(Y: np.ndarray, model: pd.DataFrame, random: str) -> tuple[float, np.ndarray]:
    """Seconds R spends in the lmerTest loop, and its (estimate, stderr) rows."""
    with tempfile.TemporaryDirectory() as tmp:
        data = model.copy()
        for j in range(Y.shape[1]):
            data[f"y{j}"] = Y[:, j]
        data_path, out_path = Path(tmp) / "d.tsv", Path(tmp) / "out.tsv"
        data.to_csv(data_path, sep="\t", index=False, float_format="%.17g")
        script = Path(tmp) / "loop.R"
        script.write_text(R_LOOP % ", ".join(f'"{c}"' for c in FIXED))
        done = subprocess.run(["Rscript", str(script), str(data_path), random, str(out_path)],
                              check=True, capture_output=True, text=True)
        table = pd.read_csv(out_path, sep="\t", header=None).iloc[:, 1:].to_numpy()
        return float(done.stdout.split()[-1]), table


def statsmodels_loop(Y: np.ndarray, X: np.ndarray, subject: np.ndarray, count: int) -> float:
    """Seconds for ``count`` statsmodels MixedLM REML fits (random subject intercept)."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(count):
            MixedLM(Y[:, j], X, groups=subject).fit(reml=True)
    return time.perf_counter() - start


def synthetic(seed: int = 1) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """4,000 samples of 800 subjects in 8 sites, 1,000 features with varied variances."""
    rng = np.random.default_rng(seed)
    n, subjects, m = 4000, 800, 1000
    subject = rng.integers(0, subjects, n)
    site = subject % 8
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3)), rng.integers(0, 2, n)])
    Y = (X @ rng.normal(size=(5, m))
         + rng.normal(size=(subjects, m))[subject] * rng.uniform(0, 2, m)
         + rng.normal(size=(8, m))[site] * rng.uniform(0, 0.5, m) + rng.normal(size=(n, m)))
    return Y, X, [site, subject]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statsmodels-features", type=int, default=20)
    parser.add_argument("--skip-r", action="store_true")
    args = parser.parse_args()
    Y, model = load_hmp2(DATA)
    X = np.column_stack([np.ones(len(model)), model[FIXED].to_numpy()])
    site = pd.factorize(model.site)[0]
    subject = pd.factorize(model.subject)[0]
    m = Y.shape[1]
    print(f"HMP2: {Y.shape[0]} samples x {m} features, p = {X.shape[1]}")
    for label, random, groups in [
        ("(1|site) + (1|subject)", "(1 | site) + (1 | subject)", [site, subject]),
        ("(1|subject)", "(1 | subject)", [subject]),
    ]:
        fit_lmm(Y, X, groups)
        ours = min(timeit.repeat(lambda g=groups: fit_lmm(Y, X, g), number=1, repeat=3))
        print(f"\n{label}: gutaxis fit_lmm {ours:.3f} s for {m} features")
        if not args.skip_r:
            seconds, table = r_loop(Y, model, random)
            fit = fit_lmm(Y, X, groups)
            est, se = table[:, 0].reshape(m, -1), table[:, 1].reshape(m, -1)
            worst = np.max(np.abs(fit.coef - est) / se)
            print(f"  R lmerTest loop   {seconds:.3f} s   ratio {seconds / ours:6.1f}x   "
                  f"max |coef diff| {worst:.1e} stderr")
        if len(groups) == 1 and args.statsmodels_features > 0:
            count = min(m, args.statsmodels_features)
            seconds = statsmodels_loop(Y, X, subject, count) * m / count
            note = "" if count == m else f" (timed on {count}, scaled to {m})"
            print(f"  statsmodels loop  {seconds:.3f} s   ratio {seconds / ours:6.1f}x{note}")
    Y, X, groups = synthetic()
    tracemalloc.start()
    start = time.perf_counter()
    fit = fit_lmm(Y, X, groups)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\nsynthetic {Y.shape[0]} x {Y.shape[1]}, 800 subjects / 8 sites: fit_lmm "
          f"{seconds:.2f} s ({1e3 * seconds / Y.shape[1]:.1f} ms per feature), "
          f"converged {fit.converged.mean():.0%}; peak memory {peak / 1e6:.0f} MB = "
          f"{peak / Y.nbytes:.1f} x the table ({Y.nbytes / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()

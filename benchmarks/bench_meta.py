"""Meta-analysis speed: gutaxis vs R metafor 3.8-1 on the same studies.

Times the whole analysis ``gutaxis meta`` runs, without files and plots: the REML model
with its Q-profile tau² interval, Egger's and Begg's tests, trim-and-fill, leave-one-out
and influence, on dat.bcg (k = 13, the fixture) and on simulated studies (k = 50 and 200,
seed 1). metafor's side is timed inside R (``system.time``, R start-up excluded), with the
fixtures' tight convergence settings. Prints both times, the ratio (metafor / gutaxis, > 1
means gutaxis is faster) and the largest difference of the pooled estimates and tau².

Needs R with metafor. Usage: ``python benchmarks/bench_meta.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.stats.meta.analysis import meta_analysis

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "metafor"
R_SCRIPT = """
suppressPackageStartupMessages(library(metafor))
d <- read.delim("{path}")
ctl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
run <- function() {{
  fit <- rma(yi, vi, data = d, method = "REML", control = ctl)
  ci <- confint(fit, control = list(tol = 1e-12))
  eg <- regtest(fit); rk <- ranktest(fit); tf <- trimfill(fit, control = ctl)
  l1 <- leave1out(fit); inf <- influence(fit)
  c(fit$beta[1], fit$tau2)
}}
best <- Inf
for (i in seq_len({repeat})) best <- min(best, system.time(out <- run())[["elapsed"]])
cat(sprintf("%.17g %.17g %.17g\\n", best, out[1], out[2]))
"""


def simulated(k: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(-0.3, np.sqrt(0.05 + vi))
    return pd.DataFrame({"study": [f"s{i}" for i in range(k)], "yi": yi, "vi": vi})


def bcg() -> pd.DataFrame:
    from gutaxis.stats.meta import effect_sizes

    table = pd.read_csv(REFERENCE / "input_bcg.tsv", sep="\t")
    effects = effect_sizes(table, measure="RR")
    return pd.DataFrame({"study": effects.study, "yi": effects.yi, "vi": effects.vi})


def time_gutaxis(table: pd.DataFrame, repeat: int) -> tuple[float, float, float]:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = meta_analysis(table, measure="GEN", method="REML")
        best = min(best, time.perf_counter() - start)
    return best, float(result.overall.coef[0]), result.overall.tau2


def time_metafor(table: pd.DataFrame, repeat: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "studies.tsv"
        table.to_csv(path, sep="\t", index=False, float_format="%.17g")
        out = subprocess.run(["nice", "Rscript", "-e", R_SCRIPT.format(path=path,
                                                                       repeat=repeat)],
                             capture_output=True, text=True, check=True).stdout.split()
    seconds, estimate, tau2 = map(float, out)
    return seconds, estimate, tau2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'studies':>10} {'gutaxis s':>10} {'metafor s':>10} {'ratio':>7} {'max diff':>9}")
    for name, table in [("dat.bcg", bcg()), ("sim k=50", simulated(50)),
                        ("sim k=200", simulated(200))]:
        ours, est, tau2 = time_gutaxis(table, args.repeat)
        theirs, r_est, r_tau2 = time_metafor(table, args.repeat)
        diff = max(abs(est - r_est), abs(tau2 - r_tau2))
        print(f"{name:>10} {ours:10.3f} {theirs:10.3f} {theirs / ours:7.1f} {diff:9.1e}")


if __name__ == "__main__":
    main()

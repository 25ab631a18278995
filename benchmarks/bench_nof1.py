"""n-of-1 speed: gutaxis's batched AR(1) GLS vs a per-series ``nlme::gls`` loop in R.

Simulates ``--series`` interrupted time series (AB design, 120 daily points, phi 0.4,
seeded), fits ``y ~ time + level + slope`` with AR(1) errors by REML:

1. gutaxis: one ``fit_gls_ar1`` call on all series (best of ``--repeat``), and the full
   n-of-1 inference (plus ``integrate_phi``: intervals with phi integrated out);
2. R: ``nlme::gls(..., correlation = corAR1(), method = "REML")`` in a loop over the
   series (timed in R around the loop only; the R session start is not counted).

Prints CPU/wall times, the ratio (R time / gutaxis time; > 1 means gutaxis is faster) and
the largest |difference| of phi and of the level coefficient to nlme. Needs ``Rscript``
with nlme (a recommended package). Usage:
``python benchmarks/bench_nof1.py [--series 1000] [--repeat 3] [--skip-r]``
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from gutaxis.stats.nof1.gls import fit_gls_ar1, integrate_phi

R_LOOP = r"""
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
ids <- unique(d$series)
out <- matrix(NA_real_, length(ids), 2)
elapsed <- system.time(for (i in seq_along(ids)) {
  x <- d[d$series == ids[i], ]
  fit <- gls(y ~ time + level + slope, data = x, correlation = corAR1(), method = "REML")
  out[i, ] <- c(coef(fit)[["level"]],
                coef(fit$modelStruct$corStruct, unconstrained = FALSE)[[1]])
})
write.table(out, args[2], sep = "\t", quote = FALSE, row.names = FALSE, col.names = FALSE)
cat(elapsed[["user.self"]] + elapsed[["sys.self"]], elapsed[["elapsed"]], "\n")
"""


def simulate(series: int, n: int = 120, phi: float = 0.4, seed: int = 1):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    level = (t >= n // 2).astype(float)
    X = np.column_stack([np.ones(n), t, level, (t - n // 2) * level])
    shocks = rng.normal(size=(series, n))
    shocks[:, 0] /= np.sqrt(1 - phi**2)
    Y = 5 - 1.5 * level + lfilter([1.0], [1.0, -phi], shocks, axis=1)
    return X, Y


def timed(func, repeat: int):  # type: ignore[no-untyped-def]
    best = (np.inf, np.inf)
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        result = func()
        best = min(best, (time.process_time() - c, time.perf_counter() - w))
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-r", action="store_true")
    args = parser.parse_args()
    X, Y = simulate(args.series)
    fit, (cpu, wall) = timed(lambda: fit_gls_ar1(Y, X), args.repeat)
    print(f"gutaxis fit_gls_ar1, {args.series} series x 120 points: {cpu:.2f} s CPU, "
          f"{wall:.2f} s wall")
    _, (cpu2, wall2) = timed(lambda: integrate_phi(Y, X, column=2).interval(), args.repeat)
    print(f"gutaxis integrate_phi (phi-integrated intervals): {cpu2:.2f} s CPU, "
          f"{wall2:.2f} s wall")
    if args.skip_r:
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = X.shape[0]
        frame = pd.DataFrame({"series": np.repeat(np.arange(args.series), n),
                              "time": np.tile(X[:, 1], args.series),
                              "level": np.tile(X[:, 2], args.series),
                              "slope": np.tile(X[:, 3], args.series), "y": Y.ravel()})
        frame.to_csv(folder / "d.csv", index=False, float_format="%.12g")
        (folder / "loop.R").write_text(R_LOOP)
        done = subprocess.run(["nice", "Rscript", str(folder / "loop.R"), str(folder / "d.csv"),
                               str(folder / "out.tsv")], capture_output=True, text=True,
                              check=True)
        r_cpu, r_wall = map(float, done.stdout.split())
        ref = np.loadtxt(folder / "out.tsv")
    print(f"R nlme::gls loop: {r_cpu:.2f} s CPU, {r_wall:.2f} s wall")
    print(f"ratio (R / gutaxis fit): {r_cpu / cpu:.0f}x CPU, {r_wall / wall:.0f}x wall")
    print(f"max |phi - nlme|: {np.max(np.abs(fit.phi - ref[:, 1])):.1e}; "
          f"max |level - nlme|: {np.max(np.abs(fit.coef[:, 2] - ref[:, 0])):.1e}")


if __name__ == "__main__":
    main()

"""Whole-process speed against MaAsLin 3: ``gutaxis associate`` and ``maaslin3()`` on HMP2
with the same model and settings, each a fresh subprocess (start-up, imports, reading the
two files, fitting, writing the results).

- MaAsLin 3 (0.99.1, installed with ``tests/reference/maaslin3/install_maaslin3.sh``): an
  ``Rscript`` that reads ``HMP2_taxonomy.tsv.gz`` and ``HMP2_metadata.tsv``, calls
  ``maaslin3()`` with its defaults (TSS, LOG, standardize, min_prevalence 0, median
  comparison of abundance coefficients, warn_prevalence, max_significance 0.1, BH), the
  formula ``~ diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD + antibiotics + age +
  (1|site) + (1|subject)``, reference ``diagnosis,nonIBD``, no plots, one core, and writes
  its result tables (what ``make_fixtures.R`` part ``hmp2_seed1`` runs). The R library is
  taken from ``--r-lib`` (default: ``$R_LIBS``, else ``/work/m3lib``). Without Rscript or
  MaAsLin 3 the time recorded below (:data:`RECORDED_MAASLIN3`) is used and the output
  says so.
- gutaxis: ``gutaxis associate`` with the same model (``--prevalence-model --standardize
  --min-prevalence 0 --max-significance 0.1 --no-plots``).

Each side runs ``--repeat`` times (default 3); the median wall time and the median CPU
time (user + system of the child; steadier on a shared machine) are printed with the
ratios MaAsLin 3 / gutaxis (> 1: gutaxis is faster). A first gutaxis run is printed
apart and not compared: in a new checkout numba compiles the kernels into their on-disk
cache then (see benchmarks/README.md).

Usage: ``python benchmarks/bench_maaslin3.py [--repeat 3] [--r-repeat N] [--skip-r] [--r-lib DIR]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench_whole_process import HMP2, gutaxis_command, line, run_timed  # benchmarks/ on sys.path

#: MaAsLin 3's whole-process time on HMP2 measured by this script on the shared 2-core
#: machine (R 4.2.2, lme4 1.1.31, MaAsLin 3 0.99.1; median of 2 runs at load average 7-10,
#: which inflates the wall time several-fold), used when R or MaAsLin 3 is missing.
RECORDED_MAASLIN3 = {"wall": 1438.1, "cpu": 287.8, "when": "2026-12-05"}

GUTAXIS_ARGS = ["associate", str(HMP2 / "HMP2_taxonomy.tsv.gz"),
                "--metadata", str(HMP2 / "HMP2_metadata.tsv"),
                "--fixed", "diagnosis,dysbiosisnonIBD,dysbiosisUC,dysbiosisCD,antibiotics,age",
                "--random", "site,subject", "--reference", "diagnosis=nonIBD",
                "--prevalence-model", "--standardize", "--min-prevalence", "0",
                "--max-significance", "0.1", "--no-plots"]

R_MAASLIN3 = r"""
suppressPackageStartupMessages(library(maaslin3))
args <- commandArgs(trailingOnly = TRUE)
tax <- read.delim(gzfile(args[1]), row.names = 1, check.names = FALSE)
meta <- read.delim(args[2], row.names = 1)
set.seed(1)
fit <- maaslin3(input_data = tax, input_metadata = meta, output = args[3],
                formula = paste("~ diagnosis + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD +",
                                "antibiotics + age + (1|site) + (1|subject)"),
                reference = "diagnosis,nonIBD", normalization = "TSS", transform = "LOG",
                standardize = TRUE, min_prevalence = 0, median_comparison_abundance = TRUE,
                warn_prevalence = TRUE, max_significance = 0.1, correction = "BH",
                plot_summary_plot = FALSE, plot_associations = FALSE, cores = 1,
                verbosity = "ERROR")
"""


def median_runs(cmd: Sequence[str], repeat: int, out: Path, env: dict[str, str] | None = None
                ) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``repeat`` runs of ``cmd``; its output
    folder ``out`` is removed before each run so every run writes from scratch."""
    runs: list[tuple[float, float]] = []
    for _ in range(repeat):  # timing loop
        shutil.rmtree(out, ignore_errors=True)
        runs.append(run_timed(cmd, env=env))
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))


def r_environment(r_lib: str) -> dict[str, str]:
    return {**os.environ, "R_LIBS": r_lib}


def maaslin3_available(env: dict[str, str]) -> bool:
    try:
        probe = subprocess.run(["Rscript", "-e", "library(maaslin3)"], capture_output=True,
                               env=env, check=False)
    except FileNotFoundError:
        return False
    return probe.returncode == 0


def _r_name(name: str) -> str:
    """R's ``make.names`` for the species names here (letters, digits, spaces)."""
    return "".join(c if c.isalnum() or c in "._" else "." for c in name)


def abundance_gap(maaslin_results: Path, gutaxis_results: Path) -> tuple[int, float]:
    """Abundance tests both report, and their largest |coef difference| / MaAsLin 3's SE."""
    m = pd.read_csv(maaslin_results, sep="\t")
    g = pd.read_csv(gutaxis_results, sep="\t")
    m = m[(m["model"] == "abundance") & m["error"].isna()]
    g = g[g["model"] == "abundance"].assign(feature=lambda d: d["feature"].map(_r_name))
    both = m.merge(g, on=["feature", "metadata", "value"], suffixes=("_m", "_g"))
    gap = np.abs(both["coef_m"] - both["coef_g"]) / both["stderr_m"]
    return len(both), float(np.nanmax(gap)) if len(both) else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--r-repeat", type=int, default=None,
                        help="runs of MaAsLin 3 (default: --repeat; each takes minutes)")
    parser.add_argument("--skip-r", action="store_true", help="use the recorded MaAsLin 3 time")
    parser.add_argument("--r-lib", default=os.environ.get("R_LIBS", "/work/m3lib"),
                        help="R library holding maaslin3")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; median of "
          f"{args.repeat}; ratios are MaAsLin 3 / gutaxis (> 1: gutaxis faster)")
    print("HMP2: 1,595 samples, 87 species; abundance LMM + prevalence logistic GLMM, "
          "(1|site) + (1|subject)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = tmp / "gutaxis"
        cmd = gutaxis_command([*GUTAXIS_ARGS, "--out", str(out)])
        print(line("first gutaxis run (numba cache, if cold)", run_timed(cmd)))
        ours = median_runs(cmd, args.repeat, out)
        print(line("gutaxis associate --no-plots", ours))
        env = r_environment(args.r_lib)
        if args.skip_r or not maaslin3_available(env):
            why = "--skip-r" if args.skip_r else f"Rscript with maaslin3 not found ({args.r_lib})"
            print(f"  ({why}: MaAsLin 3 time RECORDED on {RECORDED_MAASLIN3['when']}, "
                  "not measured now)")
            peer = (RECORDED_MAASLIN3["wall"], RECORDED_MAASLIN3["cpu"])
        else:
            script = tmp / "maaslin3.R"
            script.write_text(R_MAASLIN3)
            r_out = tmp / "maaslin3"
            peer = median_runs(["Rscript", str(script), str(HMP2 / "HMP2_taxonomy.tsv.gz"),
                                str(HMP2 / "HMP2_metadata.tsv"), str(r_out)],
                               args.r_repeat or args.repeat, r_out, env=env)
            n, gap = abundance_gap(r_out / "all_results.tsv", out / "all_results.tsv")
            print(f"  (same tests: {n} abundance rows in both; largest coefficient "
                  f"difference {gap:.1e} MaAsLin 3 SE)")
        print(line("MaAsLin 3, whole process", peer, ours))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Module profiling speed: ``gutaxis modules`` vs Omixer-RPM (the authors' jar), GBM 1.0
and GMM 1.07 at cutoff 0.66.

Inputs:

- the real HUMAnN2 KO table of 109 stool metagenomes committed in tests/reference/omixer
  (427 rows: the KOs the modules name, UNMAPPED, UNGROUPED), or ``--table`` another one,
  e.g. the full 5,526-row table it was cut from;
- a 2,000-sample table made from it by resampling its columns (seeded, with
  replacement), each column scaled by a log-normal factor (sd 0.3) and rounded to 3
  decimals so no two columns are identical.

Each side is a fresh subprocess timed from start to exit (interpreter or JVM start,
reading the table, computing, writing the matrices): ``gutaxis modules TABLE --set S
--kind counts --out DIR`` and ``java -jar omixer-rpm.jar -i TABLE -d DEFS -c 0.66 -e 2
-o DIR`` (definitions written from gutaxis' package data in Omixer-RPM's format). Best
wall time of ``--repeat`` runs, with the child's CPU time and peak RSS (``wait4``).
Printed too: gutaxis' in-process engine time (``module_profile`` on a table already
read) with its tracemalloc peak, and the largest relative difference between the two
tools' abundances (a check that they computed the same thing). Ratios are jar time /
gutaxis time (> 1: gutaxis is faster). Without Java or the jar, only gutaxis runs.

Usage: ``python benchmarks/bench_modules.py [--jar PATH] [--table PATH] [--samples 2000]
[--repeat 3] [--seed 1]``
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.gut.modules import module_profile, module_set
from gutaxis.io import read_delimited

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "reference" / "omixer" / "indian_ko_modules.tsv.gz"
JAR = Path("/work/ref/omixer/omixer-rpm.jar")
SETS = ("gbm", "gmm")
CUTOFF = 0.66


def resampled(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` columns drawn with replacement, each scaled by a log-normal factor."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, table.shape[1], size=n)
    scale = rng.lognormal(0.0, 0.3, size=n)
    values = np.round(table.to_numpy()[:, picks] * scale, 3)
    return pd.DataFrame(values, index=table.index, columns=[f"s{i}" for i in range(n)])


#: Runs a command and prints its CPU seconds and peak RSS (KiB). A child's peak RSS
#: counts the memory of the process it was forked from (Linux keeps the high-water mark
#: across exec), so the command is started from this small interpreter, not from the
#: benchmark with its tables in memory.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one child."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *command],
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    cpu, rss, code = done.stdout.split()[-3:]
    if int(code) != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr[-500:]}")
    return wall, float(cpu), int(rss) / 1024


def best(command: list[str], repeat: int, clean: Path) -> tuple[float, float, float]:
    runs = []
    for _ in range(repeat):
        shutil.rmtree(clean, ignore_errors=True)
        runs.append(run(command))
    return min(runs)


def engine(path: Path, name: str) -> tuple[float, float]:
    """In-process ``module_profile`` on a table already read: seconds, tracemalloc MiB."""
    table = read_delimited(path, orientation="samples-columns", kind="counts")
    start = time.perf_counter()
    module_profile(table, set=name, coverage=CUTOFF)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    module_profile(table, set=name, coverage=CUTOFF)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def largest_difference(gutaxis_out: Path, jar_out: Path) -> float:
    mine = pd.read_csv(gutaxis_out / "module-abundance.tsv", sep="\t", index_col=0)
    theirs = pd.read_csv(jar_out / "modules.tsv", sep="\t", index_col=0)
    theirs = theirs.reindex(index=mine.index, columns=mine.columns).fillna(0.0).to_numpy()
    scale = np.where(theirs == 0, 1.0, np.abs(theirs))
    return float(np.max(np.abs(mine.to_numpy() - theirs) / scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jar", type=Path, default=JAR)
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    have_jar = args.jar.is_file() and shutil.which("java") is not None
    if not have_jar:
        print(f"Omixer-RPM not found ({args.jar} and java on PATH): gutaxis only")
    raw = pd.read_csv(args.table, sep="\t", index_col=0)
    gutaxis = [sys.executable, "-c", "from gutaxis.cli.main import run; run()"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inputs = {f"{raw.shape[1]} samples": tmp / "real.tsv",
                  f"{args.samples} samples (resampled)": tmp / "resampled.tsv"}
        raw.to_csv(inputs[f"{raw.shape[1]} samples"], sep="\t")
        resampled(raw, args.samples, args.seed).to_csv(
            inputs[f"{args.samples} samples (resampled)"], sep="\t")
        print(f"table: {args.table.name}, {raw.shape[0]} rows; best of {args.repeat}; "
              f"cutoff {CUTOFF}")
        for label, path in inputs.items():
            for name in SETS:
                definitions = tmp / f"{name}.txt"
                definitions.write_text(module_set(name).to_omixer())
                ours, theirs = tmp / f"out-{name}", tmp / f"jar-{name}"
                g = best([*gutaxis, "modules", str(path), "--set", name, "--kind", "counts",
                          "--out", str(ours)], args.repeat, ours)
                seconds, peak = engine(path, name)
                line = (f"{label}, {name}: gutaxis {g[0]:.2f} s wall / {g[1]:.2f} s CPU / "
                        f"{g[2]:.0f} MiB RSS (engine {seconds * 1e3:.0f} ms, "
                        f"tracemalloc peak {peak:.1f} MiB)")
                if have_jar:
                    j = best(["java", "-jar", str(args.jar), "-i", str(path), "-d",
                              str(definitions), "-c", str(CUTOFF), "-e", "2", "-o",
                              str(theirs)], args.repeat, theirs)
                    line += (f"; Omixer-RPM {j[0]:.2f} s wall / {j[1]:.2f} s CPU / "
                             f"{j[2]:.0f} MiB RSS; ratio {j[0] / g[0]:.1f}x wall, "
                             f"{j[1] / g[1]:.1f}x CPU; largest relative difference "
                             f"{largest_difference(ours, theirs):.1e}")
                print(line, flush=True)


if __name__ == "__main__":
    main()

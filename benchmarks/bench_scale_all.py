"""Scale benchmark of issue 15 in one run: every step at every size that fits, one log,
one table (step x n -> wall time, peak memory per worker, caller peak), the fitted
exponent of time vs n per step and the extrapolation to the sizes not run, with the
arithmetic; the `unifrac` package (Striped UniFrac) and scikit-bio as peers.

Steps (each in a fresh process with its own LocalCluster of ``--workers`` worker
processes, 1 thread each; the functions are those of ``bench_scale.py`` and
``bench_scale_stats.py``):

- ``alpha``, ``braycurtis``, ``unifrac`` (unweighted, to a Zarr store), optionally
  ``pcoa``: :func:`bench_scale.run_one` on the ASV cohort (5,000 ASVs of the fibromyalgia
  cohort as template, real tree; drawn by blocks of 2,000 subjects, kept sparse).
- ``lm`` (LM scan, 5,010 taxa, MaAsLin 2 pipeline), ``permanova`` (in memory, timed at
  ``P`` and ``3P`` permutations), ``permanova_stored`` (from a Bray-Curtis Zarr store,
  timed at ``--stored-permutations``, default 19 and 99): :func:`bench_scale_stats.run_case`
  on the genus cohort (34 draws of the 150-genus template side by side, by blocks of
  10,000 subjects, kept sparse; with pain, age, sex, BMI).
- ``prepare ...`` rows: building the cached inputs (cohorts, the store, the in-memory
  distance matrix), each in its own process: its time and the caller's peak memory.

A step is skipped, with the reason and the arithmetic printed, when its estimated memory
(scaled from the same step at the largest smaller size run, else a formula) exceeds 90% of
the memory available, or its store / matrix file exceeds 90% of the free disk.

    python benchmarks/bench_scale_all.py --sizes 10000,30000,100000 \\
        --unifrac-sizes 2500,10000 --skbio 2500 --log scale.log
    python benchmarks/bench_scale_all.py --fit scale.log      # the table again from a log
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as scale
import bench_scale_stats as stats

STEPS = ("alpha", "braycurtis", "unifrac", "lm", "permanova", "permanova_stored")
ON_ASV = ("alpha", "braycurtis", "unifrac", "pcoa")
STORE_STEPS = ("braycurtis", "unifrac", "pcoa", "permanova_stored")
GIB = 2**30
START_GIB = 0.25  # a worker or caller with gutaxis and Dask imported, nothing loaded
PEER_PYTHON = "/work/venv-unifrac/bin/python"
ONE_PROCESS = "unifrac, one process"  # gutaxis beta_diversity, no cluster
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_striped_unifrac.py"


class Log:
    """Prints and appends to the log file (JSON rows are lines starting with ``{``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        with open(self.path, "a") as fh:
            fh.write(text + "\n")

    def row(self, row: dict) -> dict:
        self.say(json.dumps(row))
        return row


def child(cmd: list[str], step: str, n: int, env: dict | None = None) -> dict:
    """Run ``cmd``; its last JSON line, or an error row naming the step."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"step": step, "n": n, "error": tail[-300:]}
    return json.loads(lines[-1])


def prepare(kind: str, n: int, cache: Path, workers: int) -> dict:
    """Build one cached input in this (fresh) process: its time and peak memory."""
    import time

    tic = time.perf_counter()
    out: dict[str, Any] = {"step": f"prepare {kind}", "n": n}
    for folder in ("asv", "genus"):
        (cache / folder).mkdir(parents=True, exist_ok=True)
    if kind == "asv":
        table = scale.simulated_table(n, cache / "asv")
        out["nnz_per_sample"] = round(table.values.nnz / table.n_samples, 1)
    elif kind == "genus":
        table = stats.cohort_of(n, cache / "genus").table
        out["nnz_per_sample"] = round(table.values.nnz / table.n_samples, 1)
    elif kind == "store":
        path = stats.store_of(n, cache / "genus", workers)
        out["store_gb"] = round(sum(p.stat().st_size for p in path.rglob("*")
                                    if p.is_file()) / 1e9, 2)
    elif kind == "distances":
        stats.distances_of(n, cache / "genus")
    out["seconds"] = round(time.perf_counter() - tic, 2)
    out["caller_peak_gib"] = scale.peak_rss_gb()
    return out


def run_step(step: str, n: int, args: argparse.Namespace) -> dict:
    """One step at one size in fresh processes; a row in GiB whatever the script."""
    if step in ON_ASV:
        row = child([sys.executable, scale.__file__, "--one", str(n), step, "--cache",
                     str(args.cache / "asv"), "--store-dir", str(args.store_dir),
                     "--workers", str(args.workers)], step, n)
        if "error" not in row:
            row["worker_peak_gib"] = row.pop("worker_peak_gb")
            row["caller_peak_gib"] = row.pop("client_peak_gb")
        return row
    row = stats.in_subprocess(step, n, "dask", args.cache / "genus", args.permutations,
                              workers=args.workers,
                              stored_permutations=tuple(args.stored_permutations))
    if "error" not in row:
        row["worker_peak_gib"] = [round(w / 1024, 2) for w in row.pop("worker_peak_mib")]
        row["caller_peak_gib"] = round(row.pop("client_peak_mib") / 1024, 2)
        row["seconds"] = round(row["seconds"], 2)
    return row


def formula_estimate(step: str, n: int, workers: int, stored_counts: list[int]
                     ) -> tuple[float, str]:
    """Memory (GiB, caller + all workers) of ``step`` at ``n`` when no smaller size was
    run: from the sizes of what each process holds."""
    m, base = stats.N_TAXA, 0.3  # a process with gutaxis and Dask imported
    if step == "permanova":
        square = 8 * n**2 / GIB
        return (3 + workers) * square + (1 + workers) * base, \
            f"distances + copy + Gower in the caller and Gower per worker: " \
            f"({3} + {workers}) x 8 n^2 = {(3 + workers) * square:.1f} GiB"
    if step == "lm":
        dense = 8 * n * m / GIB
        return 6 * dense + (1 + workers) * base, \
            f"~6 copies of the dense values in the caller: 6 x 8 x {n} x {m} = " \
            f"{6 * dense:.1f} GiB"
    if step == "permanova_stored":
        perms = stored_counts[-1] * n * (8 + workers * 4) / GIB
        return perms + (1 + workers) * (base + 0.3), \
            f"permutations {stored_counts[-1]} x {n} (int64 caller, int32 per worker) " \
            f"= {perms:.2f} GiB + a 64 MiB band and its square per worker"
    if step == "unifrac":
        return 0.5 + 1.2e-5 * n + workers * (base + 3.3e-5 * n), \
            "clade totals ~3.3e-5 GiB per sample per worker (0.95 GiB at 30,000)"
    return 1.0 + 1e-5 * n + workers * 0.5, "table nonzeros + one band or block per worker"


def estimate(step: str, n: int, rows: list[dict], args: argparse.Namespace
             ) -> tuple[float, str]:
    """Memory (GiB) of ``step`` at ``n``: scaled from the largest smaller size run of the
    same step (linear in n; quadratic for the in-memory PERMANOVA), else a formula."""
    done = [r for r in rows if r.get("step") == step and "seconds" in r and r["n"] < n]
    if not done:
        return formula_estimate(step, n, args.workers, args.stored_permutations)
    last = max(done, key=lambda r: r["n"])
    power = 2 if step == "permanova" else 1
    growth = (n / last["n"]) ** power
    measured = last["caller_peak_gib"] + sum(last["worker_peak_gib"])
    return measured * growth, (f"measured {measured:.2f} GiB (caller + workers) at "
                               f"n={last['n']} x ({n}/{last['n']})^{power}")


def disk_needed(step: str, n: int) -> float:
    """Bytes the step writes: a square float64 matrix for the stores and the cached
    in-memory distance matrix (the stores hardly compress: 0.91 of it measured)."""
    return 8.0 * n**2 if step in STORE_STEPS or step == "permanova" else 0.0


def available_gib() -> float:
    with open("/proc/meminfo") as fh:
        line = next(row for row in fh if row.startswith("MemAvailable:"))
    return int(line.split()[1]) / 2**20


def why_not(step: str, n: int, rows: list[dict], args: argparse.Namespace) -> str | None:
    """The reason ``step`` does not fit at ``n`` (with the arithmetic), or None."""
    if step in args.force:
        return None
    gib, how = estimate(step, n, rows, args)
    free = args.memory_gib or available_gib()
    if gib > 0.9 * free:
        return f"memory: estimated {gib:.1f} GiB ({how}) > 90% of {free:.1f} GiB available"
    need = disk_needed(step, n)
    where = args.store_dir if step in ON_ASV else args.cache
    where.mkdir(parents=True, exist_ok=True)
    disk = shutil.disk_usage(where).free
    if need > 0.9 * disk:
        return (f"disk: 8 n^2 = 8 x {n}^2 = {need / 1e9:.0f} GB for the matrix > 90% of "
                f"{disk / 1e9:.0f} GB free at {where}")
    return None


def run_size(n: int, steps: list[str], rows: list[dict], log: Log,
             args: argparse.Namespace) -> None:
    """Every step at ``n`` that fits, with the inputs prepared first (not timed)."""
    ready: set[str] = set()
    failed: set[str] = set()

    def need(kind: str) -> bool:
        if kind not in ready and kind not in failed:
            row = child([sys.executable, __file__, "--prepare", kind, str(n), "--cache",
                         str(args.cache), "--workers", str(args.workers)], f"prepare {kind}",
                        n)
            rows.append(log.row(row))
            (failed if "error" in row else ready).add(kind)
        return kind in ready

    for step in steps:
        reason = why_not(step, n, rows, args)
        if reason is not None:
            rows.append(log.row({"step": step, "n": n, "skipped": reason}))
            continue
        if not need("asv" if step in ON_ASV else "genus"):
            rows.append(log.row({"step": step, "n": n, "skipped": "its cohort failed"}))
            continue
        extra = {"permanova": "distances", "permanova_stored": "store"}.get(step)
        if extra and not need(extra):
            rows.append(log.row({"step": step, "n": n, "skipped": f"its {extra} failed"}))
            continue
        rows.append(log.row(run_step(step, n, args)))
        if extra and not args.keep:  # the square matrices are 8 n^2 bytes each
            genus = args.cache / "genus"
            target = (stats.store_path(n, genus) if extra == "store"
                      else genus / f"braycurtis_{n}_b{stats.SUBJECT_BLOCK}.npy")
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else \
                target.unlink(missing_ok=True)


def run_peers(rows: list[dict], log: Log, args: argparse.Namespace) -> None:
    """Striped UniFrac (the `unifrac` package, in its own venv) and scikit-bio on the
    ASV cohort, next to gutaxis on the same table and tree."""
    for n in args.unifrac_sizes:
        if not Path(args.peer_python).exists():
            rows.append(log.row({"step": "unifrac peer", "n": n,
                                 "skipped": f"no {args.peer_python} (see the doc)"}))
            continue
        with tempfile.TemporaryDirectory(dir=args.cache) as folder:
            mine = child([sys.executable, __file__, "--peer-input", str(n), folder,
                          "--cache", str(args.cache)], ONE_PROCESS, n)
            rows.append(log.row(mine))
            env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": str(args.workers)}
            peer = child([args.peer_python, str(PEER_SCRIPT), folder,
                          "--threads", str(args.workers)], "unifrac peer", n, env=env)
            if "error" not in peer and "error" not in mine:
                peer["max_abs_diff"] = compare(Path(folder))
            rows.append(log.row(peer))
    for n in args.skbio:
        out = subprocess.run([sys.executable, scale.__file__, "--skbio", str(n), "--cache",
                              str(args.cache / "asv")], capture_output=True, text=True,
                             check=False)
        for line in out.stdout.splitlines():
            if line.startswith("{"):
                rows.append(log.row(json.loads(line)))
        if out.returncode != 0:
            rows.append(log.row({"step": "scikit-bio", "n": n,
                                 "error": (out.stderr.strip().splitlines() or ["?"])[-1]}))


def peer_input(n: int, folder: Path, cache: Path) -> dict:
    """Write the ASV table (BIOM HDF5) and its tree (Newick) for the peer, and time
    gutaxis's unweighted UniFrac on them in this one process (numba: all cores)."""
    import time

    from gutaxis.gut.beta import beta_diversity
    from gutaxis.io.biom import write_biom
    from gutaxis.io.newick import write_newick

    table = scale.simulated_table(n, cache / "asv")
    write_biom(table, folder / "table.biom")
    assert table.tree is not None
    write_newick(table.tree, folder / "tree.nwk")
    beta_diversity(table.subset_samples(list(table.sample_ids[:50])),
                   "unweighted_unifrac")  # compile / load the kernels before the clock
    tic = time.perf_counter()
    dm = beta_diversity(table, "unweighted_unifrac")
    seconds = time.perf_counter() - tic
    np.save(folder / "gutaxis.npy", dm.data)
    (folder / "gutaxis-ids.txt").write_text("\n".join(map(str, dm.ids)))
    return {"step": ONE_PROCESS, "n": table.n_samples,
            "seconds": round(seconds, 2), "caller_peak_gib": scale.peak_rss_gb()}


def compare(folder: Path) -> float:
    """Largest |gutaxis - unifrac| over the matrix, in gutaxis's sample order."""
    ours = np.load(folder / "gutaxis.npy")
    theirs = np.load(folder / "unifrac.npy")
    ids = (folder / "gutaxis-ids.txt").read_text().split("\n")
    where = {s: i for i, s in enumerate((folder / "unifrac-ids.txt").read_text().split("\n"))}
    order = np.array([where[s] for s in ids])
    return float(np.max(np.abs(ours - theirs[np.ix_(order, order)])))


def cell(row: dict) -> str:
    """wall | peak per worker | caller peak | note, for the table."""
    if "skipped" in row:
        return f"{'-':>9} | {'-':>14} | {'-':>9} | skipped: {row['skipped']}"
    if "error" in row:
        return f"{'-':>9} | {'-':>14} | {'-':>9} | FAILED: {row['error']}"
    workers = row.get("worker_peak_gib") or []
    note = ""
    if "per_permutation" in row:
        c1, c2 = row["counts"]
        note = (f"{c2} permutations = {row['fixed_seconds']:.1f} s fixed + {c2} x "
                f"{1000 * row['per_permutation']:.1f} ms (from {c1} and {c2})")
    elif "store_gb" in row:
        note = f"store {row['store_gb']} GB"
    elif "nnz_per_sample" in row:
        note = f"{row['nnz_per_sample']} nonzeros per sample"
    if "features_tested" in row:
        note = f"{row['features_tested']} features tested"
    peaks = " / ".join(f"{w:.2f}" for w in workers) if workers else "-"
    caller = row.get("caller_peak_gib", row.get("process_peak_gb"))
    return (f"{row['seconds']:>9.1f} | {peaks:>14} | "
            f"{'-' if caller is None else f'{caller:.2f}':>9} | {note}")


def print_table(rows: list[dict], log: Log) -> None:
    """ONE table: step x n -> wall time, peak memory per worker, caller peak."""
    log.say(f"\n{'step':<25} | {'n':>6} | {'wall (s)':>9} | {'workers (GiB)':>14} | "
            f"{'caller':>9} | note")
    log.say("-" * 100)
    for row in rows:
        if "n" not in row or "step" not in row:
            continue
        step = row["step"] if row.get("tool") != "scikit-bio" else \
            f"scikit-bio {row['step'].split(' ')[0]}"
        log.say(f"{step:<25} | {row['n']:>6} | {cell(row)}")


def report_fits(rows: list[dict], steps: list[str], targets: list[int], log: Log) -> None:
    """Fitted exponent of time vs n per step, the extrapolation with its arithmetic, and
    the fixed + per-permutation split of PERMANOVA extrapolated to 999 permutations."""
    log.say("\nScaling: log t = a + b log n, fitted over the sizes run (all; the two largest)")
    for step in steps:
        fit_all = scale.exponent(rows, step)
        fit = scale.exponent(rows, step, last=2)
        if fit is None or fit_all is None:
            log.say(f"  {step}: fewer than two sizes run, no fit")
            continue
        slope, intercept, largest = fit
        log.say(f"  {step}: time ~ n^{fit_all[0]:.2f} over all sizes; n^{slope:.2f} over the "
                f"two largest (a = {intercept:.2f})")
        last = max((r for r in rows if r.get("step") == step and "seconds" in r),
                   key=lambda r: r["n"])
        for target in (t for t in targets if t > largest):
            seconds = float(np.exp(intercept + slope * np.log(target)))
            ratio = target / last["n"]
            log.say(f"    n={target}: exp({intercept:.2f} + {slope:.2f} x ln {target}) = "
                    f"{seconds:,.0f} s; from n={last['n']}: {last['seconds']:.1f} s x "
                    f"({target}/{last['n']})^{slope:.2f} = "
                    f"{last['seconds'] * ratio ** slope:,.0f} s")
            if step == "permanova":
                continue
            worker, caller = max(last["worker_peak_gib"] or [0.0]), last["caller_peak_gib"]
            log.say(f"      memory, linear in n above a {START_GIB} GiB start-up: worker "
                    f"{START_GIB} + ({worker:.2f} - {START_GIB}) x {ratio:.2f} = "
                    f"{START_GIB + max(0.0, worker - START_GIB) * ratio:.2f} GiB; caller "
                    f"{START_GIB} + ({caller:.2f} - {START_GIB}) x {ratio:.2f} = "
                    f"{START_GIB + max(0.0, caller - START_GIB) * ratio:.2f} GiB")
    for step in ("permanova", "permanova_stored"):
        permanova_arithmetic([r for r in rows if r.get("step") == step
                              and "per_permutation" in r], step, targets, log)
    memory = {r["n"]: r["f"] for r in rows if r.get("step") == "permanova" and "f" in r}
    for r in rows:
        if r.get("step") == "permanova_stored" and r.get("n") in memory and "f" in r:
            ours, ref = np.asarray(r["f"]), np.asarray(memory[r["n"]])
            log.say(f"  check n={r['n']}: F from the store vs in memory, largest relative "
                    f"difference {float(np.max(np.abs(ours - ref) / np.abs(ref))):.1e}")


def permanova_arithmetic(done: list[dict], step: str, targets: list[int], log: Log) -> None:
    """999 permutations = fixed + 999 x per, at each size run; beyond, both parts ~ n^b
    (b fitted on the fixed and per-permutation parts over the two largest sizes, else 2:
    both are O(n^2), one pass over the matrix and n^2 k per permutation)."""
    if not done:
        return
    done = sorted(done, key=lambda r: r["n"])
    where = "from the store" if step == "permanova_stored" else "in memory"
    log.say(f"\nPERMANOVA {where}, 999 permutations:")
    done = [r for r in done if r["per_permutation"] > 0]
    if not done:
        log.say("  the time per permutation is below the noise at the sizes run")
        return
    for r in done:
        log.say(f"  n={r['n']}: {r['fixed_seconds']:.1f} s + 999 x "
                f"{r['per_permutation']:.4f} s = "
                f"{r['fixed_seconds'] + 999 * r['per_permutation']:,.0f} s")
    last = done[-1]
    slopes = {"fixed_seconds": 2.0, "per_permutation": 2.0}
    if len(done) >= 2:
        prev = done[-2]
        for key in slopes:
            if last[key] > 0 and prev[key] > 0:
                slopes[key] = float(np.log(last[key] / prev[key])
                                    / np.log(last["n"] / prev["n"]))
        log.say(f"  exponents from n={prev['n']} and n={last['n']}: fixed n^"
                f"{slopes['fixed_seconds']:.2f}, per permutation n^"
                f"{slopes['per_permutation']:.2f}")
    else:
        log.say("  one size run: both parts taken as n^2")
    for target in (t for t in targets if t > last["n"]):
        r = target / last["n"]
        fixed = last["fixed_seconds"] * r ** slopes["fixed_seconds"]
        per = last["per_permutation"] * r ** slopes["per_permutation"]
        log.say(f"  n={target}: fixed {last['fixed_seconds']:.1f} x ({target}/{last['n']})^"
                f"{slopes['fixed_seconds']:.2f} = {fixed:,.0f} s; per permutation "
                f"{last['per_permutation']:.4f} x ({target}/{last['n']})^"
                f"{slopes['per_permutation']:.2f} = {per:.3f} s; 999 permutations: "
                f"{fixed:,.0f} + 999 x {per:.3f} = {fixed + 999 * per:,.0f} s "
                f"({(fixed + 999 * per) / 3600:.2f} h)")
        if step == "permanova":
            log.say(f"    memory: the distance and Gower matrices, 8 n^2 = "
                    f"{8 * target**2 / GIB:.1f} GiB each, in the caller and on every worker")
        else:
            log.say(f"    memory: permutations 999 x {target} x 8 B = "
                    f"{999 * target * 8 / GIB:.2f} GiB in the caller, x 4 B = "
                    f"{999 * target * 4 / GIB:.2f} GiB per worker, plus one 64 MiB band "
                    f"and its products; disk: the store, 8 n^2 = {8 * target**2 / 1e9:.0f} GB")


def report_peers(rows: list[dict], log: Log) -> None:
    """Peer / gutaxis time ratios (above 1: gutaxis faster) at the sizes both ran."""
    ours = {(r["step"], r["n"]): r["seconds"] for r in rows
            if "seconds" in r and "tool" not in r and "step" in r}
    lines = []
    for r in rows:
        n = r.get("n")
        if r.get("step") == "unifrac peer" and "seconds" in r:
            for name in (ONE_PROCESS, "unifrac"):
                if (name, n) in ours:
                    diff = r.get("max_abs_diff", float("nan"))
                    lines.append(f"  {r['tool']} unweighted_fp64 {r['seconds']:.1f} s "
                                 f"(default fp32: {r.get('default_fp32_seconds')} s) / {name} "
                                 f"{ours[(name, n)]:.1f} s = "
                                 f"{r['seconds'] / ours[(name, n)]:.2f} at n={n}; "
                                 f"max |difference| {diff:.1e}")
        if r.get("tool") == "scikit-bio" and "seconds" in r:
            mine = {"braycurtis": "braycurtis", "unifrac": "unifrac"}.get(
                r["step"], "alpha" if r["step"].startswith("alpha") else None)
            if mine and (mine, n) in ours:
                lines.append(f"  scikit-bio {r['step']} {r['seconds']:.1f} s / gutaxis "
                             f"{mine} {ours[(mine, n)]:.1f} s = "
                             f"{r['seconds'] / ours[(mine, n)]:.2f} at n={n}")
    if lines:
        log.say("\nPeers (peer time / gutaxis time; above 1: gutaxis faster):")
        for line in lines:
            log.say(line)


def ints(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=ints, default=[10_000, 30_000, 100_000])
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="of alpha, braycurtis, unifrac, pcoa, lm, permanova, "
                             "permanova_stored")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--permutations", type=int, default=333,
                        help="in-memory PERMANOVA: timed at P and 3P")
    parser.add_argument("--stored-permutations", type=int, nargs=2, default=[19, 99])
    parser.add_argument("--unifrac-sizes", type=ints, default=[])
    parser.add_argument("--peer-python", default=PEER_PYTHON,
                        help="a Python with the `unifrac` package")
    parser.add_argument("--skbio", type=ints, default=[])
    parser.add_argument("--extrapolate", type=ints, default=[100_000])
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "gutaxis-scale-all")
    parser.add_argument("--store-dir", type=Path, default=None)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--keep", action="store_true",
                        help="keep the PERMANOVA store and matrix files in the cache")
    parser.add_argument("--force", type=lambda t: t.split(","), default=[],
                        help="steps to run even when the estimates say they do not fit")
    parser.add_argument("--memory-gib", type=float, default=None,
                        help="memory to plan for (default: MemAvailable now)")
    parser.add_argument("--fit", type=Path, default=None, help="only report this log")
    parser.add_argument("--prepare", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--peer-input", nargs=2, metavar=("N", "DIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.store_dir = args.store_dir or args.cache / "stores"
    steps = args.steps.split(",")
    if args.prepare:
        print(json.dumps(prepare(args.prepare[0], int(args.prepare[1]), args.cache,
                                 args.workers)))
        return
    if args.peer_input:
        print(json.dumps(peer_input(int(args.peer_input[0]), Path(args.peer_input[1]),
                                    args.cache)))
        return
    if args.fit:
        rows = [json.loads(ln) for ln in args.fit.read_text().splitlines()
                if ln.startswith("{")]
        log = Log(Path(tempfile.mkdtemp()) / "refit.log")
    else:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        log = Log(args.log or Path(f"scale-all-{stamp}.log"))
        with open("/proc/loadavg") as fh:
            load = fh.read().split()[:3]
        log.say(f"sizes {args.sizes}; steps {steps}; LocalCluster of {args.workers} workers "
                f"x 1 thread; load average {load}; {available_gib():.1f} GiB available; "
                f"log {log.path}")
        rows = []
        for n in args.sizes:
            run_size(n, steps, rows, log, args)
        run_peers(rows, log, args)
        with open("/proc/loadavg") as fh:
            log.say(f"load average after: {fh.read().split()[:3]}")
    print_table(rows, log)
    skipped = sorted({r["n"] for r in rows if "skipped" in r and "n" in r})
    report_fits(rows, [s for s in steps if s in STEPS or s == "pcoa"],
                sorted(set(args.extrapolate) | set(skipped)), log)
    report_peers(rows, log)


if __name__ == "__main__":
    main()

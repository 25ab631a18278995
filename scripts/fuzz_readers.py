"""Coverage-guided fuzzing of every gutaxis reader with atheris (libFuzzer).

Each reader runs in its own process for ``--runs`` inputs, starting from the committed
seed corpus ``tests/fuzz/corpus/<reader>/`` (new inputs libFuzzer finds go to a temporary
folder, never into the corpus). gutaxis is instrumented for coverage. An input counts as
read (the reader returned), as an InputError, or as *other*: any other exception, a bug.
Inputs that raise other exceptions are saved (``--crashes``) with their traceback.

    python scripts/fuzz_readers.py --runs 10000          # every reader, the long run
    python scripts/fuzz_readers.py --runs 200 --readers newick,qza

Prints one line per reader; exits 1 when any reader raised anything but InputError.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: An input still running after this long is a hang (libFuzzer stops the process).
HANG_SECONDS = 20
#: A reader whose process died (hang, native crash) is restarted this many times at most.
MAX_RESTARTS = 20
FUZZ_DIR = ROOT / "tests" / "fuzz"


def fuzz_one(reader: str, runs: int, stats_path: Path, crashes: Path, seed: int) -> None:
    """Run libFuzzer on one reader in this process (it exits when done)."""
    import atheris

    sys.path.insert(0, str(FUZZ_DIR))
    with atheris.instrument_imports(include=["gutaxis"]):
        import fuzz_targets

        from gutaxis.errors import InputError

    counts = {"reader": reader, "inputs": 0, "read": 0, "InputError": 0, "other": 0,
              "signatures": {}}
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{reader}-"))
    started = time.monotonic()

    def one_input(data: bytes) -> None:
        counts["inputs"] += 1
        stats_path.write_text(json.dumps(counts))  # an input that hangs is counted too
        try:
            fuzz_targets.run_reader(reader, data, work)
        except InputError:
            counts["InputError"] += 1
        except Exception as exc:
            counts["other"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            signature = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            seen = counts["signatures"]
            if signature not in seen:
                name = hashlib.sha1(data).hexdigest()[:12]
                folder = crashes / reader
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(data)
                (folder / f"{name}.txt").write_text("".join(traceback.format_exception(exc)))
                seen[signature] = f"{folder / name}"
        else:
            counts["read"] += 1
        counts["seconds"] = round(time.monotonic() - started, 1)
        stats_path.write_text(json.dumps(counts))

    seeds = FUZZ_DIR / "corpus" / reader
    largest = max(p.stat().st_size for p in seeds.iterdir())
    found = Path(tempfile.mkdtemp(prefix=f"fuzz-corpus-{reader}-"))
    hangs = crashes / reader
    hangs.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-runs={runs}", f"-seed={seed}", f"-max_len={max(4096, 2 * largest)}",
            f"-timeout={HANG_SECONDS}", "-rss_limit_mb=4096", "-print_final_stats=0",
            f"-artifact_prefix={hangs}/", str(found), str(seeds)]
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def fuzz_reader(name: str, runs: int, crashes: Path, seed: int) -> dict[str, Any]:
    """Fuzz one reader for ``runs`` inputs in child processes, restarting a child that
    died (an input that hangs in native code, e.g. the HDF5 library) with the next seed."""
    total: dict[str, Any] = {"inputs": 0, "read": 0, "InputError": 0, "other": 0,
                             "seconds": 0.0, "signatures": {}}
    with tempfile.TemporaryDirectory() as folder:
        for restart in range(MAX_RESTARTS + 1):
            left = runs - total["inputs"]
            if left <= 0:
                break
            stats = Path(folder) / f"{name}-{restart}.json"
            subprocess.run(
                [sys.executable, __file__, "--one", name, "--runs", str(left),
                 "--stats", str(stats), "--crashes", str(crashes),
                 "--seed", str(seed + restart)],
                check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not stats.exists():
                break
            counts = json.loads(stats.read_text())
            for key in ("inputs", "read", "InputError", "other", "seconds"):
                total[key] += counts[key]
            total["signatures"].update(counts["signatures"])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="inputs per reader")
    parser.add_argument("--readers", default="", help="comma-separated (default: all)")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"),
                        help="where inputs raising other exceptions are saved")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        fuzz_one(args.one, args.runs, args.stats, args.crashes, args.seed)
        return 0
    names = sorted(p.name for p in (FUZZ_DIR / "corpus").iterdir() if p.is_dir())
    if args.readers:
        names = [n for n in names if n in args.readers.split(",")]
    print(f"{'reader':<16} {'inputs':>7} {'read':>7} {'InputError':>10} {'other':>6} "
          f"{'hangs':>6} {'s':>6}")
    total_bad = 0
    for name in names:
        counts = fuzz_reader(name, args.runs, args.crashes.resolve(), args.seed)
        hangs = counts["inputs"] - counts["read"] - counts["InputError"] - counts["other"]
        total_bad += counts["other"] + hangs
        print(f"{name:<16} {counts['inputs']:>7} {counts['read']:>7} "
              f"{counts['InputError']:>10} {counts['other']:>6} {hangs:>6} "
              f"{counts['seconds']:>6.0f}", flush=True)
        for signature, saved in counts["signatures"].items():
            print(f"    {signature}  {saved}", flush=True)
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())

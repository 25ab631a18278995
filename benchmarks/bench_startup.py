"""How fast ``gutaxis`` starts: whole-process wall time of ``gutaxis --help`` and of
``gutaxis COMMAND --help`` (median of N runs), and the top import-time offenders of
``import gutaxis.cli.main`` (``python -X importtime``).

There is no peer to compare with here; the reference points printed are a bare
``python -c pass`` and ``import typer`` (what every typer CLI pays), so the line
"gutaxis's own cost" is the part gutaxis controls.

    python benchmarks/bench_startup.py [runs=10] [top=12]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = ["metrics", "associate", "instruments", "score", "import-redcap",
            "import-responses", "export-fhir", "import-fhir"]
ENTRY = "from gutaxis.cli.main import run; run()"


#: Bytecode is cached (in a temporary folder, not in the tree) as it is for an installed
#: package, even where PYTHONDONTWRITEBYTECODE is set: compiling gutaxis's sources on
#: every start would be measured otherwise.
PYCACHE = tempfile.mkdtemp(prefix="gutaxis-bench-pycache-")
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "COLUMNS": "80", "PYTHONPYCACHEPREFIX": PYCACHE}


def median_wall(argv: list[str], runs: int) -> float:
    """Median wall time in seconds of running ``argv`` ``runs`` times (output discarded),
    after one untimed run that fills the bytecode cache."""
    env = ENV
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_offenders(module: str, top: int) -> list[tuple[float, str]]:
    """The ``top`` modules with the largest cumulative import time (ms) of ``module``."""
    argv = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    subprocess.run(argv, env=ENV, capture_output=True, check=True)  # fill the cache
    run = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=True)
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, cumulative, name = (part.strip() for part in line.split("|", 1)[0].split(":")
                                  + line.split("|")[1:])
        rows.append((int(cumulative) / 1000, name))
    return sorted(rows, reverse=True)[:top]


def main(runs: int = 10, top: int = 12) -> None:
    python = [sys.executable, "-c"]
    baseline = median_wall([*python, "pass"], runs)
    typer_only = median_wall([*python, "import typer"], runs)
    print(f"wall time, median of {runs} runs (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  python -c pass                  {baseline * 1000:7.0f} ms")
    print(f"  python -c 'import typer'        {typer_only * 1000:7.0f} ms")
    overall = median_wall([*python, ENTRY, "--help"], runs)
    print(f"  gutaxis --help                  {overall * 1000:7.0f} ms"
          f"   (gutaxis's own cost beyond typer: {(overall - typer_only) * 1000:.0f} ms)")
    for command in COMMANDS:
        took = median_wall([*python, ENTRY, command, "--help"], runs)
        print(f"  gutaxis {command + ' --help':<24}{took * 1000:7.0f} ms")
    print(f"\npython -X importtime -c 'import gutaxis.cli.main': top {top} (cumulative ms)")
    for ms, name in import_offenders("gutaxis.cli.main", top):
        print(f"  {ms:8.1f}  {name}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

"""Mutation testing (mutmut 3) of the diversity, multiple-testing, normalisation and
instrument-scoring modules, one module at a time; prints killed / survived / score.

Run from the repository root, with the development venv (mutmut is configured in
``pyproject.toml`` under ``[tool.mutmut]``; it copies the tree into ``mutants/``)::

    python scripts/mutation.py                  # every target module
    python scripts/mutation.py gutaxis.gut.alpha --children 2
    python scripts/mutation.py --report         # scores of the last runs, no new run
    python scripts/mutation.py --retest gutaxis.gut.alpha   # re-test the survivors (new tests)
    python scripts/mutation.py gutaxis.gut.beta --sample 150 --seed 7   # a random sample

``--sample N`` runs a uniform random sample of N of each module's mutants (drawn with
``--seed`` from the names mutmut generated) and reports the sample's score with a 95 %
Wilson interval instead of the whole module's; use it when a full run does not fit.

``PYTHONPATH`` is removed for mutmut: it must import the mutated copy in
``mutants/src``, not the working tree. Surviving mutants listed in
``scripts/mutation_equivalent.txt`` (name, then ``#`` and why it behaves the same) are
counted apart as equivalent; the score is killed / (total - equivalent), a timeout
counting as killed (the tests did not pass). Mutant names are numbered per function,
so the list must be re-checked when those functions change.

Mutants of the functions that build the instruments at import (``_das28``,
``_identity_scorer`` ...) are tested too: under mutmut, ``tests/instruments/conftest.py``
rebuilds the instruments once in each mutant's process, with the mutant active.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
EQUIVALENT_LIST = ROOT / "scripts" / "mutation_equivalent.txt"

TARGETS = (
    "gutaxis.stats.multitest",
    "gutaxis.stats.normalize",
    "gutaxis.instruments.stress",
    "gutaxis.instruments.sleep",
    "gutaxis.instruments.diet",
    "gutaxis.instruments.activity",
    "gutaxis.instruments.joint",
    "gutaxis.instruments.gut",
    "gutaxis.instruments.pain",
    "gutaxis.instruments.rheumatology",
    "gutaxis.instruments.fibromyalgia",
    "gutaxis.instruments.base",
    "gutaxis.gut.alpha",
    "gutaxis.gut.beta",
)

def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def run_module(module: str, children: int) -> None:
    """Run (or resume) mutmut on the mutants of one module."""
    subprocess.run([str(MUTMUT), "run", "--max-children", str(children), f"{module}.*"],
                   cwd=ROOT, env=_environment(), check=False, stdout=subprocess.DEVNULL)


def module_mutants(module: str) -> list[str]:
    """Names of the module's mutants, as mutmut last generated them (sorted)."""
    meta = ROOT / "mutants" / "src" / (module.replace(".", "/") + ".py.meta")
    if not meta.exists():
        raise SystemExit(f"{meta} is missing: run mutmut once (any module) to generate it")
    return sorted(json.loads(meta.read_text())["exit_code_by_key"])


def run_sample(module: str, size: int, seed: int, children: int) -> list[str]:
    """Run mutmut on ``size`` mutants of the module drawn uniformly with ``seed``."""
    names = module_mutants(module)
    sample = sorted(random.Random(seed).sample(names, min(size, len(names))))
    subprocess.run([str(MUTMUT), "run", "--max-children", str(children), *sample],
                   cwd=ROOT, env=_environment(), check=False, stdout=subprocess.DEVNULL)
    return sample


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % for the default ``z``)."""
    if trials == 0:
        return (math.nan, math.nan)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - half / (1 + z * z / trials), centre + half / (1 + z * z / trials))


def report_sample(module: str, sample: list[str]) -> int:
    """Print the sample's counts and score with its 95 % Wilson interval."""
    statuses = mutant_statuses()
    equivalent = equivalent_mutants()
    counts: Counter[str] = Counter()
    for name in sample:
        status = statuses.get(name, "not checked")
        counts["killed" if status in ("killed", "timeout") else "not checked"
               if status == "not checked" else "equivalent" if name in equivalent
               else "survived"] += 1
        if status not in ("killed", "timeout") and name not in equivalent:
            print(f"    {status:10} {name}")
    scored = counts["killed"] + counts["survived"]
    low, high = wilson_interval(counts["killed"], scored)
    score = counts["killed"] / scored if scored else math.nan
    print(f"{module} SAMPLE of {len(sample)}/{len(module_mutants(module))}: killed "
          f"{counts['killed']}, survived {counts['survived']}, equivalent "
          f"{counts['equivalent']}, not checked {counts['not checked']}; score {score:.1%} "
          f"(95 % Wilson {low:.1%}-{high:.1%})")
    return int(score < 0.9)


def forget_survivors(module: str, statuses: dict[str, str]) -> None:
    """Clear mutmut's cached verdict of the module's mutants that were not killed.

    mutmut keeps a verdict until the mutated function changes; tests added since then
    would otherwise never be run against the survivors.
    """
    meta = ROOT / "mutants" / "src" / (module.replace(".", "/") + ".py.meta")
    if not meta.exists():
        return
    data = json.loads(meta.read_text())
    for name in data["exit_code_by_key"]:
        if statuses.get(name) not in ("killed", "timeout"):
            data["exit_code_by_key"][name] = None
    meta.write_text(json.dumps(data, indent=4))


def mutant_statuses() -> dict[str, str]:
    """Mutant name -> mutmut status (killed, survived, no tests, timeout, ...)."""
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ROOT,
                             env=_environment(), check=True, capture_output=True, text=True)
    statuses = {}
    for line in listing.stdout.splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep:
            statuses[name] = status.strip()
    return statuses


def equivalent_mutants() -> set[str]:
    """Names listed as equivalent (same behaviour as the original), without the reasons."""
    if not EQUIVALENT_LIST.exists():
        return set()
    names = (line.split("#", 1)[0].strip() for line in EQUIVALENT_LIST.read_text().splitlines())
    return {name for name in names if name}


def module_of(mutant: str) -> str:
    """``gutaxis.gut.alpha.x_shannon__mutmut_3`` -> ``gutaxis.gut.alpha``."""
    return mutant.rsplit(".", 1)[0]


def report(modules: tuple[str, ...]) -> int:
    """Print one line per module; return 1 if a module scores under 90 %."""
    statuses = mutant_statuses()
    equivalent = equivalent_mutants()
    print(f"{'module':32} {'total':>6} {'killed':>7} {'survived':>9} {'equiv':>6} "
          f"{'score':>7}")
    failing = 0
    for module in modules:
        counts: Counter[str] = Counter()
        for name, status in statuses.items():
            if module_of(name) != module:
                continue
            killed = status in ("killed", "timeout")
            kind = ("killed" if killed else "not checked" if status == "not checked"
                    else "equivalent" if name in equivalent else "survived")
            counts[kind] += 1
            if kind == "survived":
                print(f"    {status:10} {name}")
        total = sum(counts.values())
        scored = total - counts["equivalent"] - counts["not checked"]
        score = counts["killed"] / scored if scored else float("nan")
        failing += score < 0.9
        print(f"{module:32} {total:6d} {counts['killed']:7d} {counts['survived']:9d} "
              f"{counts['equivalent']:6d} {score:7.1%}"
              + (f"  ({counts['not checked']} not checked yet)" if counts["not checked"] else ""))
    return int(failing > 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(TARGETS))
    parser.add_argument("--children", type=int, default=1, help="mutmut --max-children")
    parser.add_argument("--report", action="store_true", help="only print the last scores")
    parser.add_argument("--retest", action="store_true", help="re-test surviving mutants")
    parser.add_argument("--sample", type=int, help="run a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=20261205, help="seed of --sample")
    args = parser.parse_args()
    modules = tuple(args.modules)
    if args.sample:
        return max(report_sample(module, run_sample(module, args.sample, args.seed,
                                                    args.children))
                   for module in modules)
    if args.retest:
        statuses = mutant_statuses()
        for module in modules:
            forget_survivors(module, statuses)
    if not args.report:
        for module in modules:
            run_module(module, args.children)
    return report(modules)


if __name__ == "__main__":
    sys.exit(main())

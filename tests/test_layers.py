"""The layers of docs/ARCHITECTURE.md hold: import-linter's contracts in pyproject.toml,
and no module of gutaxis sits in an import cycle."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The contracts of pyproject.toml this test requires to be checked (and kept).
CONTRACTS = (
    "data/ is the bottom layer: it imports nothing above it",
    "arrows point down only: the layers of docs/ARCHITECTURE.md",
    "no import cycles among the modules of any package (imports in functions count)",
)


def _require(module: str) -> None:
    """Import ``module`` or skip; under CI (where the dev extra installs it) a missing
    checker fails instead, so that a broken contract cannot pass as a skip."""
    if os.environ.get("CI"):
        __import__(module)
    else:
        pytest.importorskip(module)


def test_import_contracts_are_kept() -> None:
    """``lint-imports`` (every import, including those inside functions and under
    ``TYPE_CHECKING``) finds no arrow pointing up the layers cli > report > stats >
    gut | instruments > io > data > errors | choices | version, and no cycle among the
    modules of any package."""
    _require("importlinter")
    run = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                          " lint_imports_command()"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout
    text = " ".join(run.stdout.split())  # long contract names are wrapped
    for name in CONTRACTS:
        assert f"{name} KEPT" in text, f"contract not checked: {name}"


def test_no_module_is_in_an_import_cycle() -> None:
    """For every import a -> b of the package (the ``gutaxis`` package itself and each
    subpackage's ``__init__`` included, which import-linter's sibling check does not
    see), b reaches back to a by no chain of imports."""
    _require("grimp")
    import grimp

    graph = grimp.build_graph("gutaxis")
    cycles = [f"{a} -> {b} -> ... -> {a}" for a in sorted(graph.modules)
              for b in sorted(graph.find_modules_directly_imported_by(a))
              if graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_io_reads_without_the_instrument_registry() -> None:
    """``gutaxis.io`` loads without importing ``gutaxis.instruments``:
    formats that need the registry live with the instruments, above io."""
    code = ("import sys, gutaxis.io; "
            "print(sorted(m for m in sys.modules if m.startswith('gutaxis.instruments')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"

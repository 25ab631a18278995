"""The README's test command (``python -m pytest``) runs the docstring examples too, and
CI runs the numerical tests on two OpenBLAS code paths with fixed hypothesis draws."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_test_command_runs_the_package_docstring_examples() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    options = config["ini_options"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "src/gutaxis" in options["testpaths"]
    assert "ELLIPSIS" in options["doctest_optionflags"].split()


def test_ci_runs_the_numerical_tests_on_two_blas_code_paths_with_fixed_draws() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "export CI=true" in script and "unset OPENBLAS_CORETYPE" in script
    haswell = [line for line in script.splitlines()
               if line.startswith("OPENBLAS_CORETYPE=Haswell python -m pytest")]
    assert len(haswell) == 1 and "tests/stats" in haswell[0]


def test_no_docstring_example_is_skipped() -> None:
    skipped = [str(p.relative_to(ROOT)) for p in (ROOT / "src" / "gutaxis").rglob("*.py")
               if "doctest: +SKIP" in p.read_text(encoding="utf-8")]
    assert skipped == []

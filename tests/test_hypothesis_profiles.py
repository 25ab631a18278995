"""Hypothesis draws the same examples on every CI run (``CI=true``) and new ones locally."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

DRAW = '''
from hypothesis import given, settings, strategies as st

@settings(max_examples=5)
@given(st.integers())
def test_draw(n):
    with open(OUT, "a") as fh:
        fh.write(f"{n}\\n")
'''


def _draws(tmp_path: Path, run: int, ci: str | None) -> list[str]:
    out = tmp_path / f"draws{run}.txt"
    test = tmp_path / f"run{run}" / "test_draw.py"
    test.parent.mkdir()
    test.write_text(f"OUT = {str(out)!r}\n" + DRAW)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    # tests/conftest.py loads the clinic fixtures from tests/app (pyproject's pythonpath)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(TESTS / "app"),
                                         env.get("PYTHONPATH", "")])
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
         "--rootdir", str(test.parent), str(test)],
        cwd=test.parent, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return out.read_text().split()


@pytest.mark.slow
def test_ci_draws_the_same_examples_every_run(tmp_path: Path) -> None:
    assert _draws(tmp_path, 1, "true") == _draws(tmp_path, 2, "true")


@pytest.mark.slow
def test_local_runs_draw_new_examples(tmp_path: Path) -> None:
    # five integers drawn from the whole int range: two random runs agree with
    # negligible probability (and the local database is not used: each run has its
    # own rootdir, and the examples pass)
    assert _draws(tmp_path, 1, None) != _draws(tmp_path, 2, None)

"""The console script lets idle OpenMP threads sleep (numba's parallel kernels), unless
the user set the policy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = ("import os, sys; sys.argv = ['gutaxis', '--version']\n"
         "from gutaxis.cli.main import run\n"
         "try:\n    run()\nexcept SystemExit:\n    pass\n"
         "print('policy=' + os.environ.get('OMP_WAIT_POLICY', ''))")


def _policy_after_run(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          env=env, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_run_sets_passive_wait_policy_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_after_run(env) == "policy=PASSIVE"


@pytest.mark.parametrize("chosen", ["ACTIVE", "passive"])
def test_run_keeps_the_users_wait_policy(chosen: str) -> None:
    assert _policy_after_run({**os.environ, "OMP_WAIT_POLICY": chosen}) == f"policy={chosen}"


def test_policy_is_set_before_numba_loads_openmp() -> None:
    """The entry point itself loads no numba, so OpenMP has not read the variable yet."""
    code = CHECK + "\nprint('numba' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"

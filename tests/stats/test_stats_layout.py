"""The stats package's layout: one home per model and one mixed-model core, small modules."""

from __future__ import annotations

import importlib.util
import pkgutil
from pathlib import Path

import pytest

import gutaxis.stats

STATS = Path(gutaxis.stats.__file__).parent
MAX_LINES = 600


@pytest.mark.parametrize("old", ["glm", "glm_fixed", "glm_mixed", "glm_laplace", "lmm",
                                 "lmm_core", "lmm_search", "lmm_lme4", "linear"])
def test_the_old_flat_modules_are_gone(old):
    assert importlib.util.find_spec(f"gutaxis.stats.{old}") is None


@pytest.mark.parametrize("package, modules", [
    ("models", {"linear", "linear_mixed", "logistic", "logistic_mixed",
                "conditional_logistic", "separation"}),
    ("mixed", {"structure", "solve", "newton", "reml", "search", "lme4_replay", "laplace",
               "threads"}),
])
def test_models_and_the_mixed_model_core_have_their_own_packages(package, modules):
    found = {m.name for m in pkgutil.iter_modules([str(STATS / package)])}
    assert found == modules


def test_every_stats_module_is_under_600_lines():
    long = {str(p.relative_to(STATS)): n for p in STATS.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long

"""Fixtures for the instrument tests.

Under mutmut only (``MUTANT_UNDER_TEST`` names a mutant, or is ``stats``), the built-in
instruments are rebuilt: their items, scores and scoring closures are made by functions
run at import (``_acr``, ``_das28``, ``_gsrs`` ...), before mutmut switches a mutant on,
so without a rebuild their mutants would never meet a test. Outside mutmut nothing
changes.

mutmut runs each mutant in a fresh process with ``MUTANT_UNDER_TEST`` already set, so
one rebuild per test session builds every instrument under the mutant. During mutmut's
``stats`` pass (which records the mutated functions each test calls) the functions the
rebuild calls are recorded once and then credited to every test, as a rebuild before
each test would do, so that the mutants of import-time functions are run against all
the instrument tests.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator

import pytest

from gutaxis.instruments import registry

#: Values mutmut gives ``MUTANT_UNDER_TEST`` that do not name a mutant: no rebuild.
_NOT_A_MUTANT = ("", "fail", "list_all_tests", "mutant_generation")


def _rebuild_builtin_instruments() -> None:
    registry._ensure_loaded()
    registry._REGISTRY = {}
    for name in registry._BUILTIN_MODULES:
        importlib.reload(sys.modules[name])


def _mutmut_stats() -> set[str] | None:
    """mutmut's set of the functions called by the running test (``stats`` pass only)."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return None
    from mutmut.state import state  # only importable under mutmut

    return state()._stats


@pytest.fixture(scope="session", autouse=True)
def _import_time_functions_under_mutmut() -> frozenset[str]:
    """Rebuild the instruments once under the active mutant; the functions it called."""
    if os.environ.get("MUTANT_UNDER_TEST", "") in _NOT_A_MUTANT:
        return frozenset()
    stats = _mutmut_stats()
    if stats is None:
        _rebuild_builtin_instruments()
        return frozenset()
    earlier = set(stats)
    stats.clear()
    _rebuild_builtin_instruments()
    called = frozenset(stats)
    stats |= earlier
    return called


@pytest.fixture(autouse=True)
def _import_time_functions_credited(_import_time_functions_under_mutmut: frozenset[str]
                                    ) -> Iterator[None]:
    stats = _mutmut_stats()
    if stats is not None:
        stats |= _import_time_functions_under_mutmut
    yield

"""Fixtures for the instrument tests.

Under mutmut only (``MUTANT_UNDER_TEST`` is set), every test gets the built-in
instruments rebuilt: their items, scores and scoring closures are made by functions run
at import (``_acr``, ``_das28``, ``_gsrs`` ...), before mutmut switches a mutant on, so
without a rebuild their mutants would never meet a test. Outside mutmut nothing changes.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator

import pytest

from gutaxis.instruments import registry


@pytest.fixture(autouse=True)
def _instruments_rebuilt_under_mutmut(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if "MUTANT_UNDER_TEST" not in os.environ:
        yield
        return
    registry._ensure_loaded()
    monkeypatch.setattr(registry, "_REGISTRY", {})
    for name in registry._BUILTIN_MODULES:
        importlib.reload(sys.modules[name])
    yield

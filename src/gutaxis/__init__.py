"""gutaxis: the gut-microbiome / musculoskeletal-pain research platform.

Measure the gut and pain, connect them with statistics, evaluate interventions.

The stages are loaded when first used (PEP 562), so ``import gutaxis`` is cheap and the
command line starts fast: ``gutaxis.io`` (read the formats), ``gutaxis.gut`` (measure the
gut), ``gutaxis.instruments`` (measure pain and life), ``gutaxis.stats`` (connect them),
``gutaxis.report`` (figures and documents); the data containers are ``gutaxis.data``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy names are, for type checkers
    from gutaxis import data, gut, instruments, io, report, stats
    from gutaxis.data import Cohort, PhyloTree, ProfileTable
    from gutaxis.errors import GutaxisError, InputError

#: Subpackages imported on first attribute access.
_STAGES = ("data", "io", "gut", "instruments", "stats", "report")
#: Name -> module that defines it, imported on first access.
_NAMES = {"Cohort": "gutaxis.data", "PhyloTree": "gutaxis.data",
          "ProfileTable": "gutaxis.data", "GutaxisError": "gutaxis.errors",
          "InputError": "gutaxis.errors"}

__all__ = ["Cohort", "GutaxisError", "InputError", "PhyloTree", "ProfileTable", "__version__",
           "data", "gut", "instruments", "io", "report", "stats"]


def __getattr__(name: str) -> Any:
    if name in _STAGES:
        module = importlib.import_module(f"gutaxis.{name}")
    elif name in _NAMES:
        module = getattr(importlib.import_module(_NAMES[name]), name)
    elif name == "__version__":
        from gutaxis.version import package_version

        value: Any = package_version()
        globals()[name] = value
        return value
    else:
        raise AttributeError(f"module 'gutaxis' has no attribute {name!r}")
    globals()[name] = module  # later look-ups skip __getattr__
    return module


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

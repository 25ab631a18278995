"""Shared test fixtures.

Real-data tests read the public cohorts in ``../shared/data`` (beside the clone) or in
``$GUTAXIS_SHARED_DATA``. Where the folder is absent they skip, except when
``GUTAXIS_REQUIRE_DATA=1`` (set by ``.ci/run``): then a missing cohort fails the run,
so a real-data test can never skip silently in CI.

Hypothesis: in CI (``CI=true``, as GitHub Actions and most CI services set it) the
``ci`` profile draws the same examples on every run (``derandomize``), so a red build
is a bug in the change, not a new draw; locally the ``dev`` profile explores new random
examples on every run and remembers failures in ``.hypothesis/``. ``HYPOTHESIS_PROFILE``
chooses one explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev"))

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"


def shared_data_dir() -> Path:
    env = os.environ.get("GUTAXIS_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def _cohort_dir(name: str) -> Path:
    path = shared_data_dir() / name
    if not path.is_dir():
        message = f"real data {path} not found"
        if os.environ.get("GUTAXIS_REQUIRE_DATA") == "1":
            pytest.fail(message + " (GUTAXIS_REQUIRE_DATA=1: real-data tests must run)")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fibromyalgia_dir() -> Path:
    """``../shared/data/fibromyalgia``: 101 samples x 6,993 ASVs, taxonomy, tree."""
    return _cohort_dir("fibromyalgia")


@pytest.fixture(scope="session")
def hmp2_dir() -> Path:
    """``../shared/data/hmp2``: HMP2 species profiles with MaAsLin 2's expected results."""
    return _cohort_dir("hmp2")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Committed outputs of reference tools (R, scikit-bio), with the scripts that made them."""
    return REFERENCE

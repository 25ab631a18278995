"""Fixtures shared by the stats tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from assoc_data import Hmp2


@pytest.fixture(scope="session")
def hmp2(hmp2_dir: Path) -> Hmp2:
    """The HMP2 mixed-model inputs, loaded once for the LMM tests."""
    return Hmp2(hmp2_dir)


"""The fibromyalgia matrices of the vegan fixtures are gutaxis's own (make_distances.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import vegan_fixtures as vf

from gutaxis.gut.beta import beta_diversity
from gutaxis.io import read_cohort


@pytest.mark.realdata
def test_fixture_braycurtis_is_what_gutaxis_computes(fibromyalgia_dir: Path) -> None:
    cohort = read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                         fibromyalgia_dir / "metadata.tsv")
    fixture = vf.distances("fibromyalgia_braycurtis")
    ours = beta_diversity(cohort.table, "braycurtis")
    assert ours.ids.tolist() == fixture.ids.tolist()
    np.testing.assert_array_equal(ours.data, fixture.data)

"""Fixtures shared by the community-test tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.gut.distance_store import StoredDistances, distance_matrix_to_store


@pytest.fixture(scope="module")
def stored(fibromyalgia_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> StoredDistances:
    """Bray-Curtis of the fibromyalgia cohort (101 samples) in a store of 16-row bands
    (7 bands)."""
    frame = pd.read_csv(fibromyalgia_dir / "feature-table.tsv.gz", sep="\t", index_col=0)
    table = ProfileTable(sp.csr_array(frame.to_numpy(dtype=float).T),
                         frame.columns.astype(str), frame.index.astype(str))
    return distance_matrix_to_store(table, "braycurtis",
                                    tmp_path_factory.mktemp("store") / "bc.zarr", band=16)

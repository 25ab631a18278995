"""Square distance-matrix TSV: exact round trip, and a clear error on a bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skbio import DistanceMatrix as SkbioDistanceMatrix

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.io.matrix import read_distance_matrix, write_distance_matrix


def test_round_trip_is_bit_exact_and_skbio_reads_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x = rng.random((6, 4))
    data = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    dm = DistanceMatrix([f"s{i}" for i in range(6)], data, metric="euclidean")
    path = tmp_path / "dm.tsv"
    write_distance_matrix(dm, path)
    back = read_distance_matrix(path)
    np.testing.assert_array_equal(back.data, dm.data)
    assert list(back.ids) == list(dm.ids)
    theirs = SkbioDistanceMatrix.read(str(path), format="lsmat")
    np.testing.assert_array_equal(theirs.data, dm.data)


def test_mismatched_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("\ta\tb\na\t0\t1\nc\t1\t0\n")
    with pytest.raises(InputError, match=r"bad.tsv.*row ids differ"):
        read_distance_matrix(path)

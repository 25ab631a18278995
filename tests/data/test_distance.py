"""DistanceMatrix: validation at the door, and its views."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError

SQUARE = np.array([[0.0, 0.2, 0.7], [0.2, 0.0, 0.4], [0.7, 0.4, 0.0]])


def test_condensed_matches_pdist_order() -> None:
    points = np.array([[0.0], [1.0], [3.0]])
    dm = DistanceMatrix(["a", "b", "c"], np.abs(points - points.T))
    np.testing.assert_array_equal(dm.condensed(), pdist(points))


def test_subset_reorders_rows_and_columns() -> None:
    dm = DistanceMatrix(["a", "b", "c"], SQUARE, metric="braycurtis")
    sub = dm.subset(["c", "a"])
    np.testing.assert_array_equal(sub.data, [[0.0, 0.7], [0.7, 0.0]])
    assert list(sub.ids) == ["c", "a"]
    assert sub.metric == "braycurtis"


def test_subset_names_missing_ids() -> None:
    with pytest.raises(InputError, match="not in the distance matrix") as info:
        DistanceMatrix(["a", "b", "c"], SQUARE).subset(["a", "zz"])
    assert "zz" in str(info.value)


def test_dataframe_round_trip() -> None:
    dm = DistanceMatrix(["a", "b", "c"], SQUARE)
    frame = dm.to_dataframe()
    assert frame.index.name == "sample_id"
    back = DistanceMatrix.from_dataframe(frame)
    np.testing.assert_array_equal(back.data, SQUARE)


def test_data_is_read_only() -> None:
    dm = DistanceMatrix(["a", "b", "c"], SQUARE)
    with pytest.raises(ValueError):
        dm.data[0, 1] = 5.0


@pytest.mark.parametrize(
    ("ids", "data", "message"),
    [
        (["a", "a", "c"], SQUARE, "unique"),
        (["a", "b"], SQUARE, "not square"),
        (["a", "b", "c"], SQUARE + np.eye(3), "diagonal is not zero"),
        (["a", "b", "c"], SQUARE - 1.0 + np.eye(3), "negative distance"),
        (["a", "b", "c"], np.where(np.eye(3) == 1, 0.0, np.nan), "NaN"),
        (["a", "b", "c"], np.triu(SQUARE), "not symmetric"),
    ],
)
def test_invalid_matrices_are_refused(ids: list[str], data: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        DistanceMatrix(ids, data, source="dm.tsv")


def test_asymmetry_error_names_the_cell() -> None:
    with pytest.raises(InputError) as info:
        DistanceMatrix(["a", "b", "c"], np.triu(SQUARE), source="dm.tsv")
    text = str(info.value)
    assert "dm.tsv" in text and "row" in text and "column" in text


def test_rounding_asymmetry_is_symmetrised() -> None:
    data = SQUARE.copy()
    data[0, 1] += 1e-15
    dm = DistanceMatrix(["a", "b", "c"], data)
    assert dm.data[0, 1] == dm.data[1, 0]

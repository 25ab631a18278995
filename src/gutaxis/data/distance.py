"""DistanceMatrix: sample ids plus a square, symmetric, zero-diagonal float64 array."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import squareform

from gutaxis.errors import InputError, preview

#: Largest asymmetry tolerated, relative to the largest distance, before refusing.
SYMMETRY_TOLERANCE = 1e-12


@dataclass(frozen=True, eq=False)
class DistanceMatrix:
    """Pairwise dissimilarities between samples.

    Parameters
    ----------
    ids
        One unique string id per row (and column).
    data
        Square ``(n, n)`` array of finite, non-negative numbers with a zero diagonal,
        symmetric up to :data:`SYMMETRY_TOLERANCE` (relative to the largest value); it is
        stored exactly symmetric (the mean of the array and its transpose).
    metric
        Name of the dissimilarity, e.g. ``"braycurtis"`` (for provenance and reports).
    source
        Where the matrix came from, for error messages.

    Examples
    --------
    >>> dm = DistanceMatrix(["a", "b"], [[0.0, 0.5], [0.5, 0.0]], metric="braycurtis")
    >>> dm.condensed()
    array([0.5])
    """

    ids: np.ndarray
    data: np.ndarray
    metric: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids, dtype=object).astype(str)
        data = np.array(self.data, dtype=np.float64, copy=True)
        if ids.ndim != 1 or len(set(ids.tolist())) != len(ids):
            raise InputError("distance matrix ids must be unique and one-dimensional",
                             source=self.source, found=f"{ids.size} ids, "
                             f"{ids.size - len(set(ids.tolist()))} duplicated",
                             expected="one unique id per row")
        if data.shape != (len(ids), len(ids)):
            raise InputError("distance matrix is not square with one row per id",
                             source=self.source, found=f"shape {data.shape}, {len(ids)} ids",
                             expected=f"shape ({len(ids)}, {len(ids)})")
        if not np.all(np.isfinite(data)):
            row, col = np.argwhere(~np.isfinite(data))[0]
            raise InputError("distance matrix holds NaN or infinite values", source=self.source,
                             row=str(ids[row]), column=str(ids[col]), found=data[row, col],
                             expected="finite distances")
        if data.size and data.min() < 0:
            row, col = np.argwhere(data < 0)[0]
            raise InputError("negative distance", source=self.source, row=str(ids[row]),
                             column=str(ids[col]), found=data[row, col], expected="a value >= 0")
        if np.any(np.diagonal(data) != 0):
            row = int(np.flatnonzero(np.diagonal(data) != 0)[0])
            raise InputError("distance matrix diagonal is not zero", source=self.source,
                             row=str(ids[row]), column=str(ids[row]), found=data[row, row],
                             expected="0 (a sample's distance to itself)")
        if not np.array_equal(data, data.T):
            data = _symmetrised(data, ids, self.source)
        data.setflags(write=False)
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "data", data)

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self.ids)

    @classmethod
    def from_dataframe(cls, frame: pd.DataFrame, *, metric: str | None = None,
                       source: str | None = None) -> DistanceMatrix:
        """Build from a square DataFrame whose index and columns hold the same ids."""
        index = frame.index.astype(str)
        columns = frame.columns.astype(str)
        if not index.equals(columns):
            raise InputError("distance matrix rows and columns name different samples",
                             source=source, found=f"first row id {index[:1].tolist()}, "
                             f"first column id {columns[:1].tolist()}",
                             expected="the same ids in the same order")
        return cls(np.asarray(index), frame.to_numpy(dtype=np.float64), metric=metric,
                   source=source)

    def to_dataframe(self) -> pd.DataFrame:
        """Square DataFrame indexed (rows and columns) by sample id."""
        index = pd.Index(self.ids, name="sample_id")
        return pd.DataFrame(np.array(self.data), index=index, columns=index.copy())

    def condensed(self) -> np.ndarray:
        """Upper triangle, row by row, as :func:`scipy.spatial.distance.pdist` returns it."""
        return squareform(np.array(self.data), force="tovector", checks=False)

    def subset(self, ids: Sequence[str] | np.ndarray) -> DistanceMatrix:
        """The distances among ``ids``, in that order."""
        wanted = np.asarray(ids, dtype=object).astype(str)
        pos = pd.Index(self.ids).get_indexer(wanted)
        if (pos < 0).any():
            missing = wanted[pos < 0]
            raise InputError(f"{len(missing)} id(s) not in the distance matrix",
                             source=self.source,
                             found=preview(missing),
                             expected=f"ids among its {self.n} samples")
        return DistanceMatrix(wanted, self.data[np.ix_(pos, pos)], metric=self.metric,
                              source=self.source)


def _symmetrised(data: np.ndarray, ids: np.ndarray, source: str | None) -> np.ndarray:
    """``(D + D^T) / 2`` when ``D`` is symmetric up to rounding; else raise naming the cell."""
    scale = max(float(data.max(initial=0.0)), 1.0)
    asym = np.abs(data - data.T)
    if asym.max() > SYMMETRY_TOLERANCE * scale:
        row, col = np.unravel_index(int(asym.argmax()), asym.shape)
        raise InputError("distance matrix is not symmetric", source=source,
                         row=str(ids[row]), column=str(ids[col]),
                         found=f"{float(data[row, col]):.10g} vs {float(data[col, row]):.10g}",
                         expected="d[i, j] == d[j, i]")
    return (data + data.T) / 2.0

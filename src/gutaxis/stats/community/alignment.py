"""What every community test shares: matching distances to metadata, complete cases, the
Gower-centred matrix, permutation p-values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError, preview


class TableResults:
    """A result whose numbers are one table (the ``table`` attribute of the dataclass)."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The result's table (a copy), as written to TSV."""
        return self.table.copy()


#: vegan's tolerance when counting permuted statistics at least as large as the observed.
EPS = float(np.sqrt(np.finfo(np.float64).eps))


def aligned_samples(distances: DistanceMatrix, metadata: pd.DataFrame, columns: Sequence[str],
                    *, source: str | None = None, field: str = "formula"
                    ) -> tuple[DistanceMatrix, pd.DataFrame, tuple[str, ...]]:
    """The distances and metadata rows of the samples complete in ``columns``.

    Every sample of the distance matrix needs a metadata row (else :class:`InputError`);
    metadata rows of other samples are ignored. Samples with a missing value in a used
    column are left out and returned (third item), in the matrix's order.
    """
    rows, _, dropped = aligned_rows(distances.ids, metadata, columns, source=source,
                                    field=field)
    return (distances if not dropped else distances.subset(rows.index.to_numpy()), rows,
            dropped)


def aligned_rows(ids: Sequence[str] | np.ndarray, metadata: pd.DataFrame,
                 columns: Sequence[str], *, source: str | None = None,
                 field: str = "formula") -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    """The metadata rows of the samples ``ids`` complete in ``columns`` (in ``ids``'
    order), the mask of those samples among ``ids``, and the ids left out.

    For distances that are not in memory (a stored matrix): the caller selects the rows
    and columns of the complete samples itself. Checks as :func:`aligned_samples`.
    """
    missing_columns = [c for c in dict.fromkeys(columns) if c not in metadata.columns]
    if missing_columns:
        raise InputError(f"{', '.join(missing_columns)}: not a metadata column", source=source,
                         field=field, found=", ".join(missing_columns),
                         expected=f"one of {preview(map(str, metadata.columns), 12)}")
    index = metadata.index.astype(str)
    known = set(index)  # once: a set per sample made this O(n^2), 20 s at n = 10,000
    absent = [i for i in ids if i not in known]
    if absent:
        raise InputError(f"{len(absent)} sample(s) of the distance matrix have no metadata "
                         "row", source=source, found=preview(absent),
                         expected="a metadata row for every sample of the matrix")
    rows = metadata.set_axis(index).loc[list(ids), list(dict.fromkeys(columns))]
    complete = rows.notna().all(axis=1).to_numpy()
    dropped = tuple(str(i) for i in rows.index[~complete])
    if int(complete.sum()) < 3:
        raise InputError("fewer than three samples have every value the test uses",
                         source=source, field=field,
                         found=f"{int(complete.sum())} complete samples",
                         expected="three or more")
    return rows[complete], complete, dropped


def gower_centred(distances: DistanceMatrix) -> np.ndarray:
    """``G = (I - 11'/n) A (I - 11'/n)`` with ``A = -D^2 / 2`` (Gower 1966)."""
    a = -0.5 * np.square(distances.data)
    row = a.mean(axis=1)
    return a - row[:, None] - row[None, :] + row.mean()


def permutation_pvalues(observed: np.ndarray, permuted: np.ndarray) -> np.ndarray:
    """``(#{F* >= F - EPS} + 1) / (n_perm + 1)`` per column, as vegan; NaN without
    permutations or without a statistic."""
    if permuted.shape[0] == 0:
        return np.full(observed.shape, np.nan)
    count = (permuted >= observed[None, :] - EPS).sum(axis=0)
    out = (count + 1.0) / (permuted.shape[0] + 1.0)
    return np.where(np.isfinite(observed), out, np.nan)


def dropped_note(dropped: tuple[str, ...], columns: Sequence[str]) -> tuple[str, ...]:
    """The note printed when samples with missing values are left out."""
    if not dropped:
        return ()
    return (f"{len(dropped)} sample(s) left out for a missing value in "
            f"{', '.join(dict.fromkeys(columns))}: {preview(dropped)}",)

"""Square labelled matrices (distance matrices) as TSV: sample ids as header and first column.

Values are written with Python's shortest round-trip representation (``repr``), so a
matrix read back is bit-for-bit the one written. ``repr`` over ``tolist()`` measured about
2x faster than ``ndarray.astype(str)`` and 3x faster than pandas' ``float_format`` path on
a 1,595 x 1,595 matrix here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.io._csv import parse_table
from gutaxis.io._files import atomic_path, existing_file, open_text


def write_distance_matrix(dm: DistanceMatrix, path: str | os.PathLike[str]) -> None:
    """Write ``dm`` as a square TSV: ids as header and first column, an empty corner cell
    (the layout scikit-bio and QIIME 2 read and write).

    Written to a temporary file and renamed, so no half-written file is ever left.
    """
    write_square_tsv(dm.data, dm.ids, path)


def write_square_tsv(data: np.ndarray, ids: np.ndarray, path: str | os.PathLike[str],
                     *, corner: str = "") -> None:
    """Write a square float matrix labelled by ``ids`` on both axes."""
    path = Path(path)
    ids = np.asarray(ids, dtype=str)
    rows = np.asarray(data, dtype=np.float64).tolist()
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(corner + "\t" + "\t".join(ids) + "\n")
        # repr of a Python float is the shortest text that reads back to the same bits
        fh.writelines(f"{sid}\t" + "\t".join(map(repr, row)) + "\n"
                      for sid, row in zip(ids, rows, strict=True))


def float_text(value: float) -> str:
    """The shortest text that reads back to the same float64 (``repr``): the one precision
    of every number ``gutaxis metrics`` writes."""
    return repr(float(value))


def write_frame_tsv(frame: pd.DataFrame, path: str | os.PathLike[str], *,
                    index_label: str) -> None:
    """Write a labelled table as TSV, floats as :func:`float_text` (as the distance
    matrices), NaN as an empty cell; atomically."""
    with atomic_path(Path(path)) as tmp:
        frame.to_csv(tmp, sep="\t", index_label=index_label, lineterminator="\n",
                     float_format=lambda value: float_text(cast(float, value)))


def read_distance_matrix(path: str | os.PathLike[str], *, metric: str | None = None
                         ) -> DistanceMatrix:
    """Read a square TSV written by :func:`write_distance_matrix` (or scikit-bio, QIIME 2)."""
    p = existing_file(path)
    with open_text(p) as fh:
        frame = parse_table(fh, source=str(p), sep="\t", index_col=0, dtype={0: str})
    frame.index = frame.index.astype(str)
    if list(frame.index) != list(frame.columns):
        raise InputError("distance matrix row ids differ from its column ids", source=str(path),
                         found=f"{len(frame.index)} rows, {len(frame.columns)} columns",
                         expected="the same ids, in the same order, on both axes")
    try:
        values = frame.to_numpy(dtype=np.float64)
    except ValueError as exc:
        raise InputError("distance matrix has a non-numeric cell", source=str(path),
                         found=str(exc), expected="numbers") from None
    return DistanceMatrix(frame.index.to_numpy(), values, metric=metric, source=str(path))

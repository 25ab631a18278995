"""BIOM 2.1 HDF5 tables read by blocks of samples, never whole.

A BIOM 2.1 file holds its matrix twice: observation-major (``observation/matrix``, CSR
of observations) and sample-major (``sample/matrix``: ``indptr`` over samples,
``indices`` of observations, ``data``). A block of samples ``a..b`` is therefore three
slices of ``sample/matrix``: ``indptr[a:b + 1]``, then ``indices`` and ``data`` between
``indptr[a]`` and ``indptr[b]``; h5py reads just those. A :class:`BiomBlocks` reader is
small (the file name, the ids, the value kind, the taxonomy) and picklable, so workers of
a compute back-end open the file and read their own blocks (they must see the file).

The value kind is that of the whole table, as :func:`~gutaxis.io.biom.read_biom` infers
it: from the kind given, else the kind gutaxis recorded in the file, else one pass over
the file by blocks (whole numbers anywhere, largest sample total); each block is checked
(NaN, negative values) as it is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable, ValueKind
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.io._files import HDF5_MAGIC, PathLike, existing_file, head_bytes
from gutaxis.io._values import kind_from_totals
from gutaxis.io.biom import KIND_MARK, _kind_mark, _probe_hdf5_attributes, check_values
from gutaxis.io.lineages import parse_lineages

__all__ = ["SAMPLE_BLOCK", "BiomBlocks", "iter_biom_blocks", "open_biom_blocks"]

#: Default samples per block.
SAMPLE_BLOCK = 2_000


@dataclass(frozen=True, eq=False, kw_only=True)
class BiomBlocks:
    """A BIOM 2.1 HDF5 table to be read by blocks of samples.

    Attributes
    ----------
    path
        The ``.biom`` file.
    sample_ids, feature_ids
        All sample and observation ids, in the file's order.
    kind
        The value kind of the whole table.
    scale
        Factor the values are multiplied by (0.01 for percentages, else 1).
    block
        Samples per block of :meth:`blocks` and iteration.
    taxonomy
        From the observation metadata, as :func:`~gutaxis.io.biom.read_biom` gives it
        (or one given with ``dataclasses.replace``, e.g. from a taxonomy file).
    tree
        A tree the blocks carry (``None`` unless given with ``dataclasses.replace``).

    Examples
    --------
    >>> import tempfile, pathlib, scipy.sparse as sp
    >>> from gutaxis.io.biom import write_biom
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.biom"
    >>> write_biom(ProfileTable(sp.csr_array([[1.0, 0], [2, 3], [0, 4]]), ["a", "b", "c"],
    ...                         ["x", "y"]), path)
    >>> [b.sample_ids.tolist() for b in open_biom_blocks(path, block=2)]
    [['a', 'b'], ['c']]
    """

    path: Path
    sample_ids: np.ndarray
    feature_ids: np.ndarray
    kind: ValueKind
    scale: float
    block: int
    taxonomy: pd.DataFrame | None = None
    tree: PhyloTree | None = None

    @property
    def n_samples(self) -> int:
        """Samples in the file."""
        return int(self.sample_ids.size)

    def blocks(self) -> list[range]:
        """The sample ranges of the blocks, in order."""
        return _ranges(self.n_samples, self.block)

    def read(self, rows: range) -> ProfileTable:
        """Samples ``rows`` as a table with every feature (three slices of the file).

        Parameters
        ----------
        rows
            A contiguous range of sample positions, e.g. one of :meth:`blocks`.

        Raises
        ------
        InputError
            ``rows`` is not a range within the table, or the block holds NaN, infinite
            or negative values.
        """
        if rows.step != 1 or rows.start < 0 or rows.stop > self.n_samples:
            raise InputError("a block is a contiguous range of sample positions",
                             source=str(self.path), field="rows", found=rows,
                             expected=f"a range within 0..{self.n_samples}")
        with h5py.File(self.path, "r") as h5:
            values = _sample_rows(h5, rows, self.feature_ids.size)
        ids = self.sample_ids[rows.start:rows.stop]
        check_values(values, ids, self.feature_ids, kind=self.kind, source=str(self.path))
        if self.scale != 1.0:
            values = values * self.scale
        return ProfileTable(values, ids, self.feature_ids, kind=self.kind,
                            taxonomy=self.taxonomy, tree=self.tree)

    def __iter__(self) -> Iterator[ProfileTable]:
        for rows in self.blocks():
            yield self.read(rows)

    def summary(self) -> str:
        """One line: size, kind, blocks."""
        return (f"BIOM table {self.path}: {self.n_samples} samples x {self.feature_ids.size} "
                f"features ({self.kind}), read in {len(self.blocks())} blocks of "
                f"{self.block} samples")


def open_biom_blocks(path: PathLike, *, block: int = SAMPLE_BLOCK,
                     kind: ValueKind | None = None) -> BiomBlocks:
    """Open a BIOM 2.x HDF5 file for reading by blocks of samples.

    Parameters
    ----------
    path
        The ``.biom`` (HDF5; BIOM 1.0 JSON cannot be read in pieces: use
        :func:`~gutaxis.io.biom.read_biom`).
    block
        Samples per block.
    kind
        What the values are; when ``None``: the kind gutaxis recorded in the file, else
        inferred as :func:`~gutaxis.io.biom.read_biom` does, by one pass over the blocks.

    Raises
    ------
    InputError
        Not an HDF5 BIOM file, no sample-major matrix, an empty table, values that are
        not finite or negative, or values whose kind cannot be told.
    """
    p = existing_file(path)
    if int(block) < 1:
        raise InputError("a block holds at least one sample", field="block", found=block,
                         expected="a positive number of samples")
    if head_bytes(p, 8) != HDF5_MAGIC:
        raise InputError("only BIOM 2.x HDF5 files can be read by blocks of samples",
                         source=str(p), found="not HDF5 (BIOM 1.0 JSON?)",
                         expected="BIOM 2.x HDF5, or read_biom for the whole table")
    with open(p, "rb") as fh:
        _probe_hdf5_attributes(fh, source=str(p))
    try:
        with h5py.File(p, "r") as h5:
            sample_ids = _ids(h5["sample/ids"])
            feature_ids = _ids(h5["observation/ids"])
            for name in ("indptr", "indices", "data"):
                h5[f"sample/matrix/{name}"]  # KeyError when absent
            mark = _kind_mark(h5.attrs.get(KIND_MARK))
            taxonomy = _taxonomy(h5, feature_ids)
    except (KeyError, OSError, ValueError) as exc:
        raise InputError("malformed BIOM file", source=str(p),
                         found=f"{type(exc).__name__}: {exc}",
                         expected="BIOM 2.1 HDF5 with sample/ids, observation/ids and "
                         "sample/matrix") from None
    if sample_ids.size == 0 or feature_ids.size == 0:
        raise InputError("BIOM table is empty", source=str(p),
                         found=f"{feature_ids.size} observations x {sample_ids.size} samples",
                         expected="at least one observation and one sample")
    reader = BiomBlocks(path=p, sample_ids=sample_ids, feature_ids=feature_ids, kind="counts",
                        scale=1.0, block=int(block), taxonomy=taxonomy)
    chosen = kind or mark
    if chosen in ("counts", "clr", "transformed"):
        found, scale = kind_from_totals(whole=True, top=0.0, kind=chosen, source=str(p))
    else:
        whole, top = True, 0.0
        for rows in reader.blocks():  # one block in memory at a time
            values = reader.read(rows).values  # checks NaN and negatives as counts
            whole = whole and bool(np.all(values.data == np.round(values.data)))
            top = max(top, float(np.asarray(values.sum(axis=1)).max()))
        found, scale = kind_from_totals(whole=whole, top=top, kind=chosen, source=str(p))
    return replace(reader, kind=found, scale=scale)


def iter_biom_blocks(path: PathLike, *, block: int = SAMPLE_BLOCK,
                     kind: ValueKind | None = None) -> Iterator[ProfileTable]:
    """The table of a BIOM 2.x HDF5 file as consecutive blocks of ``block`` samples (every
    feature in each), one block in memory at a time.

    Parameters
    ----------
    path, block, kind
        As for :func:`open_biom_blocks`.

    Yields
    ------
    ProfileTable
        The next block; stacked, the blocks are :func:`~gutaxis.io.biom.read_biom`'s
        table.
    """
    yield from open_biom_blocks(path, block=block, kind=kind)


# ----------------------------------------------------------------------------- helpers
def _ranges(n: int, size: int) -> list[range]:
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


def _sample_rows(h5: h5py.File, rows: range, n_features: int) -> sp.csr_array:
    """Samples ``rows`` x all observations, from slices of the sample-major matrix."""
    group: Any = h5["sample/matrix"]
    indptr = np.asarray(group["indptr"][rows.start:rows.stop + 1], dtype=np.int64)
    first, last = (int(indptr[0]), int(indptr[-1])) if indptr.size else (0, 0)
    data = np.asarray(group["data"][first:last], dtype=np.float64)
    indices = np.asarray(group["indices"][first:last], dtype=np.int64)
    values = sp.csr_array((data, indices, indptr - first), shape=(len(rows), n_features))
    values.sum_duplicates()
    values.sort_indices()
    return values


def _ids(dataset: Any) -> np.ndarray:
    raw = dataset[()]
    return np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in raw],
                      dtype=object).astype(str)


def _taxonomy(h5: h5py.File, feature_ids: np.ndarray) -> pd.DataFrame | None:
    """The observation metadata ``taxonomy`` (a list of ranks per observation, or one
    string), parsed as :func:`~gutaxis.io.biom.read_biom` parses it."""
    metadata = h5.get("observation/metadata")
    if metadata is None:
        return None
    name = next((k for k in ("taxonomy", "Taxonomy") if k in metadata), None)
    if name is None:
        return None
    raw = metadata[name][()]
    text = np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else str(v),
                        otypes=[object])(raw)
    lineages = [";".join(row) for row in text] if text.ndim == 2 else list(text)
    return parse_lineages(pd.Series(lineages, index=feature_ids, dtype=object))

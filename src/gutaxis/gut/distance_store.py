"""Distance matrices too large for one process: computed by row bands on a compute back-end
and written to a chunked on-disk Zarr store.

Each band (``band`` rows x ``n`` columns) is one task of :meth:`Backend.map
<gutaxis.compute.backend.LocalBackend.map>`: the worker computes it with the metric's own
band kernel (:func:`~gutaxis.gut.beta.braycurtis_between`,
:func:`~gutaxis.gut.beta.jaccard_rows`, :func:`~gutaxis.gut.beta.aitchison_rows`,
:func:`~gutaxis.gut.phylogenetic.unifrac_band`,
:func:`~gutaxis.gut.unifrac_variants.unifrac_variant_rows`) and writes it to the store
itself (workers and caller must share a filesystem). No process holds the square matrix:
a worker holds the table's nonzeros (UniFrac: the sparse clade totals) plus one band,
about ``4 x band x n x 8`` bytes at the peak (the band and the kernel's temporaries).
From a BIOM reader (:func:`~gutaxis.io.biom_blocks.open_biom_blocks`), Bray-Curtis, Jaccard
and Aitchison bands read the table block by block (no process holds it); the UniFrac
metrics gather its nonzeros (see :func:`distance_matrix_to_store`).

The store is written to a hidden sibling folder and renamed to ``path`` only when every
band is in, so ``path`` is either absent or complete; an existing ``path`` is never
overwritten. A failed job removes its sibling folder; a caller killed outright (SIGKILL)
leaves it behind (``.NAME.partial-*``), never a half-written ``path``.

Layout (Zarr v3 directory): one ``n x n`` float64 array, chunks ``(band, n)``, attributes
``ids``, ``metric``, ``band_rows``, ``gutaxis_version``, ``format``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gutaxis.compute.backend import Backend, LocalBackend
from gutaxis.compute.blocks import band_rows_for, blocks_of
from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.profile import ProfileTable
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.gut.beta import (
    QIIME2_AITCHISON_PSEUDOCOUNT,
    aitchison_between,
    aitchison_rows,
    braycurtis_between,
    jaccard_between,
    jaccard_rows,
)
from gutaxis.gut.phylogenetic import unifrac_band, unifrac_band_inputs
from gutaxis.gut.unifrac_variants import unifrac_variant_rows
from gutaxis.io.biom_blocks import BiomBlocks
from gutaxis.version import package_version

__all__ = ["DENSE_LIMIT", "STORED_METRICS", "StoredDistances", "distance_matrix_to_store",
           "open_distance_store"]

#: The metrics :func:`distance_matrix_to_store` computes (QIIME 2's names).
STORED_METRICS: tuple[str, ...] = (
    "braycurtis", "jaccard", "aitchison", "unweighted_unifrac", "weighted_unifrac",
    "weighted_normalized_unifrac", "generalized_unifrac",
    "variance_adjusted_weighted_unifrac",
)

#: :meth:`StoredDistances.to_distance_matrix` refuses more samples than this by default
#: (20,000 samples: a 3.2 GB square matrix in memory).
DENSE_LIMIT = 20_000

_FORMAT = "gutaxis distance store 1"

#: UniFrac metric -> (weighted, normalized) of the prepared band kernel.
_UNIFRAC = {"unweighted_unifrac": (False, True), "weighted_unifrac": (True, False),
            "weighted_normalized_unifrac": (True, True)}


@dataclass(frozen=True)
class _BandJob:
    """What every band task needs: the metric and its inputs (sent to each worker once)."""

    metric: str
    table: ProfileTable | None
    unifrac_inputs: Any = None
    pseudocount: float = QIIME2_AITCHISON_PSEUDOCOUNT
    alpha: float = 0.5
    tree: PhyloTree | None = None
    reader: BiomBlocks | None = None


#: The metrics computed from a BIOM reader band by band: the band's samples against each
#: block of the file in turn (the others, from a reader, go through the sparse table).
_READ_BY_BLOCKS = ("braycurtis", "jaccard", "aitchison")


def _between(job: _BandJob, mine: ProfileTable, other: ProfileTable) -> np.ndarray:
    """Distances from the samples of ``mine`` to those of ``other`` (a reader's metric)."""
    if job.metric == "jaccard":
        return jaccard_between(mine, other)
    if job.metric == "aitchison":
        return aitchison_between(mine, other, pseudocount=job.pseudocount)
    return braycurtis_between(mine, other)


def _band(job: _BandJob, rows: range) -> np.ndarray:
    """The distances from samples ``rows`` to all, by the metric's own band kernel."""
    positions = np.arange(rows.start, rows.stop, dtype=np.int64)
    table = job.table
    if job.reader is not None:  # the other samples read block by block
        mine = job.reader.read(rows)
        band = np.hstack([_between(job, mine, job.reader.read(block))
                          for block in job.reader.blocks()])
    elif job.metric in _UNIFRAC:
        band = unifrac_band(job.unifrac_inputs, positions)
    else:
        assert table is not None
        if job.metric == "braycurtis":
            band = braycurtis_between(table.subset_samples(positions), table)
        elif job.metric == "jaccard":
            band = jaccard_rows(table, positions)
        elif job.metric == "aitchison":
            band = aitchison_rows(table, positions, pseudocount=job.pseudocount)
        else:
            band = unifrac_variant_rows(table, positions, metric=job.metric, alpha=job.alpha,
                                        tree=job.tree)
    band = np.ascontiguousarray(band, dtype=np.float64)
    band[np.arange(positions.size), positions] = 0.0  # as the square matrices have
    return band


def _write_band(rows: range, job: _BandJob, store: str) -> int:
    """Task: compute one band and write it into its chunk of the (temporary) store."""
    import zarr

    band = _band(job, rows)
    array = zarr.open_array(store, mode="r+")  # fails if the job was abandoned meanwhile
    array[rows.start:rows.stop, :] = band
    return rows.start


def _band_product(rows: range, store: str, x: np.ndarray, squared: bool) -> np.ndarray:
    """Task: ``D[rows] @ x`` (``D**2`` elementwise when ``squared``)."""
    band = _read(store, rows)
    if squared:
        band *= band
    return band @ x


def _band_rproduct(rows: range, store: str, x: np.ndarray, squared: bool) -> np.ndarray:
    """Task: ``D[rows].T @ x[rows]``: this band's share of ``D.T @ x``."""
    band = _read(store, rows)
    if squared:
        band *= band
    return band.T @ x[rows.start:rows.stop]


def _read(store: str, rows: range) -> np.ndarray:
    import zarr

    array = zarr.open_array(store, mode="r")
    return np.asarray(array[rows.start:rows.stop, :], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class StoredDistances:
    """A square distance matrix in a Zarr store, read band by band.

    Attributes
    ----------
    path
        The store's folder.
    ids
        Sample ids, in row (and column) order.
    metric
        The distance metric (QIIME 2's name).
    band_rows
        Rows per chunk (the bands it was written in).

    Examples
    --------
    >>> import scipy.sparse as sp, tempfile, pathlib
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [2.0, 0.0], [1.0, 1.0]]),
    ...                  ["a", "b", "c"], ["x", "y"])
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> stored = distance_matrix_to_store(t, "braycurtis", folder / "bc.zarr", band=2)
    >>> stored.band(range(1, 2)).round(4).tolist()
    [[0.6667, 0.0, 0.5]]
    """

    path: Path
    ids: np.ndarray
    metric: str
    band_rows: int

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.ids.size)

    def bands(self) -> list[range]:
        """The row ranges of the store's chunks, in order."""
        return blocks_of(self.n, self.band_rows)

    def band(self, rows: range | slice) -> np.ndarray:
        """Rows ``rows`` of the matrix (a contiguous range), ``len(rows) x n``."""
        selected = range(self.n)[rows] if isinstance(rows, slice) else rows
        if selected.step != 1 or (len(selected) and not 0 <= selected.start < self.n):
            raise InputError("band rows must be a contiguous range of sample positions",
                             field="rows", found=rows, expected=f"a range within 0..{self.n}")
        return _read(str(self.path), range(selected.start, max(selected.stop, selected.start)))

    def iter_bands(self) -> Iterator[tuple[range, np.ndarray]]:
        """``(rows, band)`` for every chunk in order, one band in memory at a time."""
        for rows in self.bands():
            yield rows, self.band(rows)

    def to_distance_matrix(self, *, limit: int = DENSE_LIMIT) -> DistanceMatrix:
        """The whole matrix in memory, for small stores only.

        Raises
        ------
        InputError
            More than ``limit`` samples (default :data:`DENSE_LIMIT`): use :meth:`band`,
            :meth:`matvec` or :func:`~gutaxis.gut.pcoa_stored.pcoa_stored` instead.
        """
        if self.n > limit:
            raise InputError(
                "the distance store is too large to load as one matrix", field="limit",
                found=f"{self.n} samples ({self.n * self.n * 8 / 1e9:.1f} GB)",
                expected=f"at most {limit} samples; read it by bands or use pcoa_stored")
        return DistanceMatrix(self.ids, self.band(range(self.n)), metric=self.metric)

    def matvec(self, x: np.ndarray, *, squared: bool = False,
               backend: Backend | None = None) -> np.ndarray:
        """``D @ x`` band by band (``x``: ``n`` or ``n x k``); ``squared`` uses the
        elementwise squares ``D**2`` (what PCoA needs). Memory: one band plus ``x``."""
        x = self._operand(x)
        runner = backend or LocalBackend()
        handle = runner.share(x)
        parts = runner.map(_band_product, self.bands(), str(self.path), handle, squared,
                           step=f"{self.metric} matrix-vector product")
        return np.concatenate(parts, axis=0)

    def rmatvec(self, x: np.ndarray, *, squared: bool = False,
                backend: Backend | None = None) -> np.ndarray:
        """``D.T @ x`` band by band (equal to :meth:`matvec` as ``D`` is symmetric, to
        rounding; computed from the bands' transposes)."""
        x = self._operand(x)
        runner = backend or LocalBackend()
        handle = runner.share(x)
        bands = self.bands()
        total = np.zeros((self.n, *x.shape[1:]))
        group = 4 * runner.n_workers  # each band's share is n x k: add them up as they come
        for first in range(0, len(bands), group):
            for part in runner.map(_band_rproduct, bands[first:first + group],
                                   str(self.path), handle, squared,
                                   step=f"{self.metric} transposed matrix-vector product"):
                total += part
        return total

    def _operand(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[0] != self.n:
            raise InputError("operand does not match the distance store", field="x",
                             found=x.shape, expected=f"{self.n} rows")
        return x

    def summary(self) -> str:
        """One paragraph: metric, size, layout, where."""
        gigabytes = self.n * self.n * 8 / 1e9
        return (f"{self.metric} distances between {self.n} samples in a Zarr store "
                f"({gigabytes:.2f} GB as float64, {len(self.bands())} bands of "
                f"{self.band_rows} rows) at {self.path}")

    def to_frame(self, rows: range | None = None) -> pd.DataFrame:
        """Rows ``rows`` (default all, refused above :data:`DENSE_LIMIT`) as a labelled
        frame: index and columns ``sample_id``."""
        if rows is None:
            return self.to_distance_matrix().to_dataframe()
        index = pd.Index(self.ids[rows.start:rows.stop], name="sample_id")
        return pd.DataFrame(self.band(rows), index=index,
                            columns=pd.Index(self.ids, name="sample_id"))


def open_distance_store(path: str | os.PathLike[str]) -> StoredDistances:
    """Open a store written by :func:`distance_matrix_to_store`.

    Raises
    ------
    InputError
        No store at ``path``, or not a gutaxis distance store.
    """
    import zarr

    folder = Path(path)
    try:
        array = zarr.open_array(str(folder), mode="r")
    except (FileNotFoundError, ValueError, KeyError, zarr.errors.NodeTypeValidationError
            ) as exc:
        raise InputError("no distance store here", source=str(folder),
                         expected=f"a folder written by distance_matrix_to_store ({exc})"
                         ) from None
    attrs = dict(array.attrs)
    if attrs.get("format") != _FORMAT:
        raise InputError("not a gutaxis distance store", source=str(folder),
                         found=attrs.get("format"), expected=_FORMAT)
    return StoredDistances(path=folder, ids=np.asarray(attrs["ids"], dtype=object),
                           metric=str(attrs["metric"]), band_rows=int(str(attrs["band_rows"])))


def distance_matrix_to_store(
    table: ProfileTable | BiomBlocks,
    metric: str,
    path: str | os.PathLike[str],
    *,
    backend: Backend | None = None,
    band: int | None = None,
    tree: PhyloTree | None = None,
    pseudocount: float = QIIME2_AITCHISON_PSEUDOCOUNT,
    generalized_alpha: float = 0.5,
) -> StoredDistances:
    """Compute a distance matrix by row bands on ``backend`` and write it to a Zarr store.

    Parameters
    ----------
    table
        The samples (see each metric in :mod:`gutaxis.gut.beta` for the kinds accepted),
        or a reader of a BIOM file (:func:`~gutaxis.io.biom_blocks.open_biom_blocks`).
        From a reader, ``braycurtis``, ``jaccard`` and ``aitchison`` bands read their
        own samples and every other sample block by block from the file, so no process
        holds the table: a worker holds one band (``band x n`` float64) and about three
        temporaries of its size, the band's samples and one block of the reader (its
        nonzeros, and for Aitchison a ``band x block`` Gram matrix), at the price of one
        read of the file per band. The UniFrac metrics need every sample's clade totals
        in each band: from a reader the caller gathers the table's nonzeros block by
        block (a sparse table, never dense: about 12 bytes per nonzero, twice that at
        the peak of gathering) and continues as for a table (unweighted, weighted and
        weighted normalized: the caller builds the sparse clade totals, nonzeros x tree
        depth, and each worker gets them once; generalized and variance-adjusted: each
        worker gets the sparse table and builds the clade totals of the tree per band).
    metric
        One of :data:`STORED_METRICS` (QIIME 2's names, as :func:`beta_diversity
        <gutaxis.gut.beta.beta_diversity>`).
    path
        The store folder to create (e.g. ``bc.zarr``); must not exist. Workers write to
        a sibling folder, so it must be on a filesystem they share with the caller.
    backend
        Where the bands run (default: this process).
    band
        Rows per band (and per chunk); default: at most 64 MiB per band and at least 4
        bands per worker (:func:`~gutaxis.compute.blocks.band_rows_for`), e.g. 272 rows
        at 30,000 samples.
    tree
        For the UniFrac metrics: the tree (default ``table.tree``).
    pseudocount
        Aitchison only (QIIME 2's default 1).
    generalized_alpha
        ``generalized_unifrac`` only (QIIME 2's default 0.5).

    Returns
    -------
    StoredDistances
        The complete store at ``path``.

    Raises
    ------
    InputError
        Unknown metric, ``path`` exists, or the table does not suit the metric (checked
        before any band runs).
    ComputeError
        A band failed on the cluster (the partial store is removed; ``path`` stays absent).

    Notes
    -----
    Values equal the in-memory functions' (:func:`~gutaxis.gut.beta.beta_diversity`):
    Jaccard, Aitchison and the UniFrac metrics bit for bit on the tests' data (same
    kernels); Bray-Curtis to ~1e-16 (the band kernel sums a pair's minima in the other
    order than the symmetric one). From a reader, the same values as from the table
    read whole: each entry is computed from its two samples' rows only, in the same
    order (tested bit for bit on the fibromyalgia cohort).
    """
    import zarr

    if metric not in STORED_METRICS:
        raise InputError("unknown distance metric for a store", field="metric", found=metric,
                         expected=f"one of {list(STORED_METRICS)}")
    target = Path(path)
    if target.exists():
        raise InputError("the distance store already exists; gutaxis never overwrites one",
                         field="path", found=str(target),
                         expected="a path that does not exist yet")
    n = table.n_samples
    if isinstance(table, BiomBlocks) and metric not in _READ_BY_BLOCKS:
        table = table.read(range(n))  # the sparse table: the clade totals need every sample
    runner = backend or LocalBackend()
    rows_per_band = (band_rows_for(n, n_workers=runner.n_workers) if band is None
                     else int(band))
    bands = blocks_of(n, rows_per_band)
    job = _prepare(table, metric, tree=tree, pseudocount=pseudocount, alpha=generalized_alpha)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:12]}")
    try:
        zarr.create_array(
            str(partial), shape=(n, n), chunks=(max(1, min(rows_per_band, n)), max(n, 1)),
            dtype="float64", fill_value=np.nan, zarr_format=3,
            attributes={"format": _FORMAT, "metric": metric,
                        "ids": [str(i) for i in table.sample_ids],
                        "band_rows": rows_per_band, "gutaxis_version": package_version()})
        shared = runner.share(job)
        runner.map(_write_band, bands, shared, str(partial),
                   step=f"{metric} distance bands")
        if target.exists():  # appeared while we computed: keep it, drop ours
            raise InputError("the distance store appeared while it was being computed",
                             field="path", found=str(target),
                             expected="a path nobody else writes to")
        os.rename(partial, target)
    except BaseException:
        _remove_partial(partial)
        raise
    return StoredDistances(path=target, ids=np.asarray(table.sample_ids, dtype=object),
                           metric=metric, band_rows=rows_per_band)


#: After a failure, tasks that were already running may still write their band (a worker
#: opens the store only once its band is computed, so this is one write at most per worker):
#: the partial folder is removed again if it reappears within this many seconds.
_STRAGGLER_SECONDS = 3.0


def _remove_partial(partial: Path) -> None:
    """Remove the partial store, and again if a straggling task recreates it."""
    shutil.rmtree(partial, ignore_errors=True)
    deadline = time.monotonic() + _STRAGGLER_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)


def _prepare(table: ProfileTable | BiomBlocks, metric: str, *, tree: PhyloTree | None,
             pseudocount: float, alpha: float) -> _BandJob:
    """Validate the table for the metric here (one cheap band) and build the band job."""
    if isinstance(table, BiomBlocks):
        job = _BandJob(metric, None, reader=table, pseudocount=pseudocount)
        if table.n_samples:  # every block read once (checks values, kind and no empties)
            _band(job, range(0, 1))
        return job
    if metric in _UNIFRAC:
        weighted, normalized = _UNIFRAC[metric]
        inputs = unifrac_band_inputs(table, weighted=weighted, normalized=normalized,
                                     tree=tree)
        return _BandJob(metric, None, unifrac_inputs=inputs)
    job = _BandJob(metric, table, pseudocount=pseudocount, alpha=alpha, tree=tree)
    if table.n_samples:
        _band(job, range(0, 1))  # raises the metric's own InputError / DataKindError
    return job

"""Beta diversity: distances between samples, computed on the sparse table.

Nothing here densifies the table: memory is the table's nonzeros plus the ``n x n``
result (and, for the Jaccard and Aitchison metrics, one ``n x n`` Gram matrix).

- Bray-Curtis needs :math:`\\sum_k \\min(x_{ik}, x_{jk})` for every pair of samples.
  A numba kernel scatters a block of 8 samples into a dense work array and walks the
  stored values of every later sample once against all 8, in parallel over blocks
  (blocks ``k`` and ``n_blocks - 1 - k`` share a task so tasks have equal work).
- Jaccard (presence/absence) is a sparse boolean product: shared features are
  :math:`B B^T`.
- Aitchison is the Euclidean distance between CLR vectors of ``counts + pseudocount``.
  Because :math:`\\log(x + c) = \\log c + \\log(1 + x / c)` and the constant cancels in
  the CLR, the log matrix :math:`L = \\log(1 + X / c)` keeps the table's sparsity and the
  squared distance is :math:`\\lVert L_i - L_j \\rVert^2 - D (\\bar L_i - \\bar L_j)^2`.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
import scipy.sparse as sp

from gutaxis.choices import BetaMetric
from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.profile import ProfileTable
from gutaxis.data.transforms import log_pseudocounted
from gutaxis.errors import InputError, preview
from gutaxis.gut._parallel import KERNEL_LOCK
from gutaxis.gut.phylogenetic import unifrac
from gutaxis.gut.unifrac_variants import generalized_unifrac, variance_adjusted_unifrac

__all__ = [
    "BETA_METRICS",
    "PHYLOGENETIC_METRICS",
    "BetaMetric",
    "aitchison",
    "aitchison_between",
    "aitchison_rows",
    "beta_diversity",
    "braycurtis",
    "braycurtis_between",
    "jaccard",
    "jaccard_between",
    "jaccard_rows",
    "sum_of_minima",
]



#: Rows of the first operand handled together: each stored value of the second row is
#: loaded once and compared with this many rows (one cache line of the work array).
_ROW_BLOCK = 8


@numba.njit(cache=True, nogil=True)
def _block_minima(
    first: int, a_indptr: np.ndarray, a_indices: np.ndarray, a_data: np.ndarray,
    b_indptr: np.ndarray, b_indices: np.ndarray, b_data: np.ndarray, symmetric: bool,
    work: np.ndarray, totals: np.ndarray, out: np.ndarray,
) -> None:
    """Fill ``out[i, j]`` with sum(min(A[i], B[j])) for the rows ``i`` of A from ``first``
    (a block of at most ``_ROW_BLOCK``) and every row ``j`` of B.

    ``symmetric``: A is B, only ``j > i`` is computed and mirrored into ``out[j, i]``.
    ``work`` is a zeroed ``(n_features, _ROW_BLOCK)`` scratch array, left zeroed.
    """
    rows = min(_ROW_BLOCK, a_indptr.size - 1 - first)
    for t in range(rows):
        for p in range(a_indptr[first + t], a_indptr[first + t + 1]):
            work[a_indices[p], t] = a_data[p]
    for j in range(first + 1 if symmetric else 0, b_indptr.size - 1):
        totals[:] = 0.0
        for p in range(b_indptr[j], b_indptr[j + 1]):
            feature = b_indices[p]
            value = b_data[p]
            for t in range(_ROW_BLOCK):  # branch-free: absent features are 0 in work
                totals[t] += min(work[feature, t], value)
        for t in range(min(rows, j - first) if symmetric else rows):
            out[first + t, j] = totals[t]
            if symmetric:
                out[j, first + t] = totals[t]
    for t in range(rows):
        for p in range(a_indptr[first + t], a_indptr[first + t + 1]):
            work[a_indices[p], t] = 0.0


@numba.njit(parallel=True, cache=True, nogil=True)
def _pairwise_minima(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_features: int
) -> np.ndarray:
    n = indptr.size - 1
    n_blocks = (n + _ROW_BLOCK - 1) // _ROW_BLOCK
    out = np.zeros((n, n))
    for k in numba.prange((n_blocks + 1) // 2):  # block k and its mirror: equal work per task
        work = np.zeros((n_features, _ROW_BLOCK))
        totals = np.zeros(_ROW_BLOCK)
        _block_minima(k * _ROW_BLOCK, indptr, indices, data, indptr, indices, data, True,
                      work, totals, out)
        if n_blocks - 1 - k != k:
            _block_minima((n_blocks - 1 - k) * _ROW_BLOCK, indptr, indices, data,
                          indptr, indices, data, True, work, totals, out)
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def _cross_minima(
    a_indptr: np.ndarray, a_indices: np.ndarray, a_data: np.ndarray,
    b_indptr: np.ndarray, b_indices: np.ndarray, b_data: np.ndarray, n_features: int,
) -> np.ndarray:
    out = np.zeros((a_indptr.size - 1, b_indptr.size - 1))
    for k in numba.prange((a_indptr.size - 1 + _ROW_BLOCK - 1) // _ROW_BLOCK):
        work = np.zeros((n_features, _ROW_BLOCK))
        totals = np.zeros(_ROW_BLOCK)
        _block_minima(k * _ROW_BLOCK, a_indptr, a_indices, a_data, b_indptr, b_indices, b_data,
                      False, work, totals, out)
    return out


def _kernel_arrays(values: sp.csr_array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    csr = sp.csr_array(values)
    csr.sort_indices()
    return (csr.indptr.astype(np.int64), csr.indices.astype(np.int32),
            np.ascontiguousarray(csr.data, dtype=np.float64))


def sum_of_minima(values: sp.csr_array, other: sp.csr_array | None = None) -> np.ndarray:
    """Low-level kernel: ``M[i, j] = sum_k min(X[i, k], Y[j, k])`` for non-negative CSR
    matrices (the shared term of Bray-Curtis; see :func:`braycurtis`).

    Without ``other``, ``Y = X`` and the symmetric ``n x n`` result has a zero
    diagonal. Parallel over blocks of 8 rows of ``X`` (numba). Time is
    :math:`O(n_X \\cdot nnz_Y)`, memory the result plus an ``n_features x 8`` scratch
    array per task.
    """
    n_features = int(values.shape[1])
    indptr, indices, data = _kernel_arrays(values)
    if other is None:
        with KERNEL_LOCK:
            return np.asarray(_pairwise_minima(indptr, indices, data, n_features))
    if other.shape[1] != n_features:
        raise InputError("tables have different numbers of features",
                         found=f"{n_features} and {other.shape[1]}",
                         expected="the same features in the same order")
    b_indptr, b_indices, b_data = _kernel_arrays(other)
    with KERNEL_LOCK:
        return np.asarray(_cross_minima(indptr, indices, data, b_indptr, b_indices, b_data,
                                        n_features))


def _refuse_empty_samples(table: ProfileTable, metric: str) -> None:
    empty = np.diff(table.values.indptr) == 0
    if empty.any():
        names = table.sample_ids[empty]
        raise InputError(
            f"{metric} is undefined between two empty samples; {int(empty.sum())} sample(s) "
            "have no reads",
            field="table",
            found=preview(names),
            expected="samples with at least one nonzero value (leave the empty samples out)",
        )


def braycurtis(table: ProfileTable) -> DistanceMatrix:
    """Bray-Curtis dissimilarity between every pair of samples.

    Parameters
    ----------
    table
        Counts or relative abundances, with no empty sample.

    Returns
    -------
    DistanceMatrix
        Values in ``[0, 1]``.

    Notes
    -----
    .. math::

       BC_{ij} = \\frac{\\sum_k |x_{ik} - x_{jk}|}{\\sum_k (x_{ik} + x_{jk})}
               = \\frac{S_i + S_j - 2 \\sum_k \\min(x_{ik}, x_{jk})}{S_i + S_j}

    with :math:`S_i` the total of sample :math:`i` (the second form, since
    :math:`|a - b| = a + b - 2 \\min(a, b)`, touches only features present in both).
    Computed on the values as given, like ``scipy.spatial.distance.braycurtis`` and
    scikit-bio; call :meth:`ProfileTable.relative` first to compare compositions.

    References
    ----------
    .. [1] Bray, J. R. & Curtis, J. T. (1957). An ordination of the upland forest
       communities of southern Wisconsin. Ecological Monographs 27, 325-349.
    """
    table.require_kind("counts", "relative", action="Bray-Curtis")
    _refuse_empty_samples(table, "Bray-Curtis")
    totals = table.sample_totals()
    distances = _minima_to_braycurtis(sum_of_minima(table.values), totals, totals)
    np.fill_diagonal(distances, 0.0)
    return DistanceMatrix(table.sample_ids, distances, metric="braycurtis")


def braycurtis_between(table: ProfileTable, other: ProfileTable) -> np.ndarray:
    """Low-level: Bray-Curtis dissimilarity from every sample of ``table`` to every sample
    of ``other``, as a bare array (not a :class:`DistanceMatrix`: it is not square).

    The building block for distances to a reference set (:func:`dysbiosis_score
    <gutaxis.gut.summaries.dysbiosis_score>`) and for computing a large matrix in row
    chunks, e.g. one task per chunk on a cluster:
    ``braycurtis_between(table.subset_samples(chunk), table)``.

    Parameters
    ----------
    table, other
        Counts or relative abundances over the same features in the same order, with
        no empty sample.

    Returns
    -------
    numpy.ndarray
        ``(table.n_samples, other.n_samples)`` dissimilarities in ``[0, 1]``; see
        :func:`braycurtis` for the formula.
    """
    for part in (table, other):
        part.require_kind("counts", "relative", action="Bray-Curtis")
        _refuse_empty_samples(part, "Bray-Curtis")
    _require_same_features(table, other)
    minima = sum_of_minima(table.values, other.values)
    return _minima_to_braycurtis(minima, table.sample_totals(), other.sample_totals())


def _minima_to_braycurtis(minima: np.ndarray, totals_a: np.ndarray, totals_b: np.ndarray
                          ) -> np.ndarray:
    """``(S_i + S_j - 2 M_ij) / (S_i + S_j)``, in place in ``minima`` (one temporary)."""
    pair_totals = totals_a[:, None] + totals_b[None, :]
    minima *= -2.0
    minima += pair_totals
    minima /= pair_totals
    np.clip(minima, 0.0, 1.0, out=minima)
    return minima


def jaccard(table: ProfileTable) -> DistanceMatrix:
    """Jaccard distance on presence/absence.

    Parameters
    ----------
    table
        Any non-negative table (a feature is present where its value is > 0), with no
        empty sample.

    Returns
    -------
    DistanceMatrix
        Values in ``[0, 1]``.

    Notes
    -----
    With :math:`A_i` the set of features present in sample :math:`i`,

    .. math:: J_{ij} = 1 - \\frac{|A_i \\cap A_j|}{|A_i \\cup A_j|}

    The intersections are the sparse product :math:`B B^T` of the 0/1 matrix
    :math:`B`; unions are :math:`|A_i| + |A_j| - |A_i \\cap A_j|`. Equals
    ``skbio.diversity.beta_diversity("jaccard", ...)``, which also turns counts into
    presence/absence first.

    References
    ----------
    .. [1] Jaccard, P. (1912). The distribution of the flora in the alpine zone.
       New Phytologist 11, 37-50.
    """
    distances = jaccard_rows(table, slice(None))
    np.fill_diagonal(distances, 0.0)
    return DistanceMatrix(table.sample_ids, distances, metric="jaccard")


def jaccard_rows(table: ProfileTable, rows: slice | np.ndarray) -> np.ndarray:
    """Low-level: a band of the Jaccard matrix, the distances from the samples ``rows`` to
    all, as a bare ``len(rows) x n_samples`` array (what :func:`jaccard` computes, for
    building a large matrix in pieces; the diagonal entries are 0).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [2.0, 0.0]]), ["a", "b"], ["x", "y"])
    >>> jaccard_rows(t, slice(1, 2)).tolist()
    [[0.5, 0.0]]
    """
    return jaccard_between(table.subset_samples(_row_positions(table, rows)), table)


def jaccard_between(table: ProfileTable, other: ProfileTable) -> np.ndarray:
    """Low-level: Jaccard distances from every sample of ``table`` to every sample of
    ``other`` (same features in the same order), as a bare array.

    Each entry is a function of the two samples' rows only (shared features are an
    integer count, exact in float64), so the pieces of a matrix computed from blocks of
    samples equal the whole matrix's entries bit for bit: a band from a BIOM reader is
    ``np.hstack([jaccard_between(band, block) for block in reader])``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [2.0, 0.0]]), ["a", "b"], ["x", "y"])
    >>> jaccard_between(t.subset_samples([1]), t).tolist()
    [[0.5, 0.0]]
    """
    for part in (table, other):
        part.require_kind("counts", "relative", action="Jaccard")
        _refuse_empty_samples(part, "Jaccard")
    _require_same_features(table, other)
    mine, theirs = _presence(table.values), _presence(other.values)
    shared = (mine @ theirs.T).toarray()
    union = _richness(table)[:, None] + _richness(other)[None, :] - shared
    return (union - shared) / union


def _presence(values: sp.csr_array) -> sp.csr_array:
    """The 0/1 matrix of the stored values (a feature present where stored)."""
    return sp.csr_array((np.ones(values.nnz), values.indices, values.indptr),
                        shape=values.shape)


def _richness(table: ProfileTable) -> np.ndarray:
    return np.diff(table.values.indptr).astype(np.float64)


def _require_same_features(table: ProfileTable, other: ProfileTable) -> None:
    if not np.array_equal(table.feature_ids, other.feature_ids):
        raise InputError("the two tables do not share their features", field="other",
                         found=f"{table.n_features} and {other.n_features} features",
                         expected="the same feature ids in the same order")


def _row_positions(table: ProfileTable, rows: slice | np.ndarray) -> np.ndarray:
    positions = np.arange(table.n_samples, dtype=np.int64)[rows]
    if positions.ndim != 1:
        raise InputError("rows must be one-dimensional sample positions", field="rows",
                         found=positions.shape, expected="a slice or a 1-D integer array")
    return positions


QIIME2_AITCHISON_PSEUDOCOUNT = 1.0
"""``qiime diversity beta --p-metric aitchison``'s default ``--p-pseudocount``."""


def aitchison(
    table: ProfileTable, *, pseudocount: float = QIIME2_AITCHISON_PSEUDOCOUNT
) -> DistanceMatrix:
    """Aitchison distance: Euclidean distance between CLR-transformed samples.

    Parameters
    ----------
    table
        Counts (or relative abundances, with a pseudocount on their scale).
    pseudocount
        Added to every cell before the log. The default 1 is what QIIME 2's
        ``qiime diversity beta --p-metric aitchison`` adds (``--p-pseudocount 1``)
        before scikit-bio's CLR; results equal
        ``euclidean(skbio.stats.composition.clr(x + 1), clr(y + 1))``.

    Returns
    -------
    DistanceMatrix

    Notes
    -----
    .. math::

       A_{ij} = \\lVert \\mathrm{clr}(x_i + c) - \\mathrm{clr}(x_j + c) \\rVert_2,
       \\qquad \\mathrm{clr}(y)_k = \\log y_k - \\frac{1}{D} \\sum_l \\log y_l

    Computed from the sparse :math:`L = \\log(1 + X / c)` (see the module notes), so a
    table of any width is never densified. The pseudocount changes the answer: with
    sparse tables the zeros dominate the CLR, a known weakness of the pseudocount
    approach.

    References
    ----------
    .. [1] Aitchison, J., Barceló-Vidal, C., Martín-Fernández, J. A. &
       Pawlowsky-Glahn, V. (2000). Logratio analysis and compositional distance.
       Mathematical Geology 32, 271-275.
    .. [2] Bolyen, E. et al. (2019). Reproducible, interactive, scalable and extensible
       microbiome data science using QIIME 2. Nature Biotechnology 37, 852-857.
    """
    table.require_kind("counts", "relative", action="Aitchison distance")
    if not pseudocount > 0:
        raise InputError("Aitchison pseudocount must be > 0", field="pseudocount",
                         found=pseudocount, expected="a positive number (QIIME 2 uses 1)")
    distances = aitchison_rows(table, slice(None), pseudocount=pseudocount)
    np.fill_diagonal(distances, 0.0)
    return DistanceMatrix(table.sample_ids, distances, metric="aitchison")


def aitchison_rows(table: ProfileTable, rows: slice | np.ndarray, *,
                   pseudocount: float = QIIME2_AITCHISON_PSEUDOCOUNT) -> np.ndarray:
    """Low-level: a band of the Aitchison matrix, the distances from the samples ``rows``
    to all, as a bare ``len(rows) x n_samples`` array (what :func:`aitchison` computes,
    for building a large matrix in pieces; the diagonal entries are 0).
    Memory: the table's nonzeros plus a few ``len(rows) x n_samples`` arrays.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [3.0, 1.0]]), ["a", "b"], ["x", "y"])
    >>> aitchison_rows(t, slice(0, 1)).round(4).tolist()
    [[0.0, 0.9803]]
    """
    positions = _row_positions(table, rows)
    return aitchison_between(table.subset_samples(positions), table, pseudocount=pseudocount)


def aitchison_between(table: ProfileTable, other: ProfileTable, *,
                      pseudocount: float = QIIME2_AITCHISON_PSEUDOCOUNT) -> np.ndarray:
    """Low-level: Aitchison distances from every sample of ``table`` to every sample of
    ``other`` (same features in the same order), as a bare array.

    Each entry is computed from the two samples' rows only, in the same order whatever
    else the two tables hold (a row's log sums and squared norm, one sparse dot product;
    pairs close enough to lose digits recomputed from the CLR difference, and a sample
    with itself is exactly 0), so a matrix computed from blocks of samples equals the
    whole matrix's entries bit for bit. Memory: the two tables' nonzeros plus a few
    ``table.n_samples x other.n_samples`` arrays.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [3.0, 1.0]]), ["a", "b"], ["x", "y"])
    >>> aitchison_between(t.subset_samples([0]), t).round(4).tolist()
    [[0.0, 0.9803]]
    """
    if not pseudocount > 0:
        raise InputError("Aitchison pseudocount must be > 0", field="pseudocount",
                         found=pseudocount, expected="a positive number (QIIME 2 uses 1)")
    for part in (table, other):
        part.require_kind("counts", "relative", action="Aitchison distance")
    _require_same_features(table, other)
    n_features = table.values.shape[1]
    logs, means, norms = _log_parts(table, pseudocount)
    their_logs, their_means, their_norms = _log_parts(other, pseudocount)
    gram = (logs @ their_logs.T).toarray()
    pair_norms = norms[:, None] + their_norms[None, :]
    squared = pair_norms - 2.0 * gram
    squared -= n_features * (means[:, None] - their_means[None, :]) ** 2
    np.clip(squared, 0.0, None, out=squared)
    distances = np.sqrt(squared)
    close = squared < _REFINE_BELOW * pair_norms
    _refine_close_pairs(distances, close, (logs, means), (their_logs, their_means))
    return distances


def _log_parts(table: ProfileTable, pseudocount: float
               ) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """``L = log(1 + X / c)`` and, per row, its mean over all features and squared norm."""
    logs = log_pseudocounted(table.values, pseudocount=pseudocount)
    means = np.asarray(logs.sum(axis=1)).ravel() / max(table.values.shape[1], 1)
    norms = np.asarray(logs.multiply(logs).sum(axis=1)).ravel()
    return logs, means, norms


#: Pairs whose squared Aitchison distance is below this fraction of their squared norms
#: lose digits to cancellation in the Gram form and are recomputed directly.
_REFINE_BELOW = 1e-4
_REFINE_CHUNK = 256


def _refine_close_pairs(distances: np.ndarray, close: np.ndarray,
                        mine: tuple[sp.csr_array, np.ndarray],
                        theirs: tuple[sp.csr_array, np.ndarray]) -> None:
    """Recompute ``distances[i, j]`` in place for the ``close`` pairs (row ``i`` of the
    first table, row ``j`` of the second; each given as its logs and their row means)
    from the CLR rows.

    The difference of two CLR rows is formed before squaring, so near-identical
    samples get distances accurate to rounding rather than to ``sqrt(eps) * norm``
    (and the pair gives the same value in either order: the difference only changes sign).
    """
    (logs_i, means_i), (logs_j, means_j) = mine, theirs
    rows_i, rows_j = np.nonzero(close)
    for start in range(0, rows_i.size, _REFINE_CHUNK):  # chunks of pairs, dense per chunk
        i = rows_i[start:start + _REFINE_CHUNK]
        j = rows_j[start:start + _REFINE_CHUNK]
        diff = logs_i[i].toarray() - logs_j[j].toarray() - (means_i[i] - means_j[j])[:, None]
        distances[i, j] = np.sqrt(np.einsum("ij,ij->i", diff, diff))


#: QIIME 2's names of the UniFrac variants -> the distances (on the table's own tree;
#: each refuses a table without one). ``weighted_unifrac`` is unnormalized, as in QIIME 2.
_PHYLOGENETIC: dict[str, Callable[[ProfileTable], DistanceMatrix]] = {
    "unweighted_unifrac": lambda table: unifrac(table, weighted=False),
    "weighted_unifrac": lambda table: unifrac(table, weighted=True, normalized=False),
    "weighted_normalized_unifrac": lambda table: unifrac(table, weighted=True),
    "generalized_unifrac": generalized_unifrac,
    "variance_adjusted_weighted_unifrac": variance_adjusted_unifrac,
}


#: Metric name (QIIME 2's) -> function of the table returning a :class:`DistanceMatrix`.
BETA_METRICS: dict[str, Callable[[ProfileTable], DistanceMatrix]] = {
    "braycurtis": braycurtis,
    "jaccard": jaccard,
    "aitchison": aitchison,
    **_PHYLOGENETIC,
}

#: The metrics that need a tree.
PHYLOGENETIC_METRICS: tuple[str, ...] = tuple(_PHYLOGENETIC)


def beta_diversity(table: ProfileTable, metric: BetaMetric | str, *,
                   generalized_alpha: float = 0.5) -> DistanceMatrix:
    """Distances between every pair of samples.

    Parameters
    ----------
    table
        The table (see each metric for the kinds it accepts).
    metric
        QIIME 2's names: ``braycurtis``, ``jaccard`` (presence/absence), ``aitchison``
        (pseudocount 1, as QIIME 2), and on the table's tree ``unweighted_unifrac``,
        ``weighted_unifrac`` (unnormalized, as QIIME 2), ``weighted_normalized_unifrac``,
        ``generalized_unifrac`` and ``variance_adjusted_weighted_unifrac`` (counts
        only). Call :func:`aitchison` directly for another pseudocount.
    generalized_alpha
        The ``alpha`` of ``generalized_unifrac`` (QIIME 2's default 0.5); ignored by the
        other metrics.

    Returns
    -------
    DistanceMatrix
        Square, symmetric, zero diagonal, ids in the table's sample order.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 3.0], [2.0, 0.0]]), ["a", "b"], ["x", "y"])
    >>> beta_diversity(t, "braycurtis").data.round(4)
    array([[0.    , 0.6667],
           [0.6667, 0.    ]])
    """
    try:
        function = BETA_METRICS[metric]
    except KeyError:
        raise InputError("unknown beta diversity metric", field="metric", found=metric,
                         expected=f"one of {list(BETA_METRICS)}") from None
    if metric == "generalized_unifrac":
        return generalized_unifrac(table, alpha=generalized_alpha)
    return function(table)

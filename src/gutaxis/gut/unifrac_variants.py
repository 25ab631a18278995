"""Generalized UniFrac and variance-adjusted weighted UniFrac.

Both weigh every branch by a function of the two samples' shares below it, on the
samples x nodes clade totals of :func:`gutaxis.gut.phylogenetic.clade_totals`.

- Generalized UniFrac uses the blocked scheme of the weighted UniFrac kernel: a branch
  covered by sample :math:`i` alone adds :math:`l_b p_{ib}^\\alpha` to both sums, so those
  terms are summed once per sample (``own``) and a pair costs :math:`O(nnz_j)`, with a
  block of 4 samples scattered into a dense scratch row served by each pass over ``j``.
- Variance adjustment depends on both samples' totals, so no term can be summed ahead of
  time: each pair walks the two sorted sparse rows together, :math:`O(nnz_i + nnz_j)`.

Both run in parallel with numba (tasks paired so they have equal work); nothing
samples x nodes is ever dense.

Definitions follow the ``unifrac`` package (biocore, Striped UniFrac), and the tests check
them against the GUniFrac values that package's own tests use (see
``tests/reference/unifrac/README.md``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.profile import ProfileTable
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.gut._parallel import KERNEL_LOCK
from gutaxis.gut.phylogenetic import _compact_columns, _row_sums, clade_totals

__all__ = ["generalized_unifrac", "unifrac_variant_rows", "variance_adjusted_unifrac"]

#: kernel modes
_GENERALIZED, _VARIANCE_ADJUSTED = 0, 1


def generalized_unifrac(table: ProfileTable, *, alpha: float = 0.5,
                        tree: PhyloTree | None = None) -> DistanceMatrix:
    r"""Generalized UniFrac distances (Chen et al. 2012) between all pairs of samples.

    Parameters
    ----------
    table
        Counts or relative abundances (each sample is turned into proportions).
    alpha
        In ``[0, 1]``: the weight given to abundant lineages. ``1`` is weighted normalized
        UniFrac; ``0`` weighs every branch a pair covers alike (close to unweighted
        UniFrac, yet still using abundances); ``0.5`` (QIIME 2's default) lies between.
    tree
        Rooted tree with every feature as a tip; defaults to ``table.tree``.

    Returns
    -------
    DistanceMatrix
        ``generalized_unifrac``: values in ``[0, 1]``, symmetric, zero diagonal, ids in
        the table's sample order.

    Raises
    ------
    InputError
        ``alpha`` outside ``[0, 1]``; no tree, a tree missing features, an unrooted tree,
        branches without a length or with a negative one.
    DataKindError
        A table of CLR or other transformed values.

    Notes
    -----
    With :math:`p_{ib}` the share of sample :math:`i` below branch :math:`b` (length
    :math:`l_b`), over the branches with :math:`p_{ib} + p_{jb} > 0`:

    .. math::

        d^{(\alpha)}_{ij} = \frac{\sum_b l_b\,(p_{ib} + p_{jb})^{\alpha}\,
        \left|\frac{p_{ib} - p_{jb}}{p_{ib} + p_{jb}}\right|}
        {\sum_b l_b\,(p_{ib} + p_{jb})^{\alpha}}

    0 when the denominator is 0 (two empty samples). At :math:`\alpha = 1` this is
    :func:`unifrac` with ``weighted=True, normalized=True``. The root's own length, when the
    Newick gives one, enters the denominator as it does in scikit-bio's weighted normalized
    UniFrac; the ``unifrac`` package ignores a root length.

    References
    ----------
    .. [1] Chen J, Bittinger K, Charlson ES, et al. Associating microbiome composition with
       environmental covariates using generalized UniFrac distances. Bioinformatics
       28:2106-2113 (2012).
    .. [2] McDonald D, Vázquez-Baeza Y, Koslicki D, et al. Striped UniFrac: enabling
       microbiome analysis at unprecedented scale. Nat Methods 15:847-848 (2018).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from gutaxis.io.newick import parse_newick
    >>> tree = parse_newick("((a:1,b:2):0.5,c:3);")
    >>> table = ProfileTable(sp.csr_array([[1.0, 0, 1], [0, 1, 1]]), ["s1", "s2"],
    ...                      ["a", "b", "c"], tree=tree)
    >>> round(float(generalized_unifrac(table, alpha=1.0).data[0, 1]), 4)
    0.3
    """
    _require_alpha(alpha)
    distances = _pairwise(table, tree, mode=_GENERALIZED, alpha=float(alpha),
                          action="generalized UniFrac")
    return DistanceMatrix(table.sample_ids, distances, metric="generalized_unifrac")


def variance_adjusted_unifrac(table: ProfileTable, *,
                              tree: PhyloTree | None = None) -> DistanceMatrix:
    r"""Variance-adjusted weighted UniFrac (Chang et al. 2011) between all pairs of samples.

    Parameters
    ----------
    table
        Read counts: the variance of a branch's share depends on how many reads lie below
        it, so relative abundances are refused.
    tree
        Rooted tree with every feature as a tip; defaults to ``table.tree``.

    Returns
    -------
    DistanceMatrix
        ``variance_adjusted_weighted_unifrac``: values in ``[0, 1]``, symmetric, zero
        diagonal, ids in the table's sample order.

    Raises
    ------
    InputError
        No tree, a tree missing features, an unrooted tree, branches without a length or
        with a negative one.
    DataKindError
        A table that does not hold read counts.

    Notes
    -----
    With :math:`m_{ib}` the reads of sample :math:`i` below branch :math:`b`,
    :math:`m_i` its total, :math:`p_{ib} = m_{ib} / m_i`,
    :math:`m_b = m_{ib} + m_{jb}`, :math:`m = m_i + m_j` and
    :math:`v_b = \sqrt{m_b (m - m_b)}`, over the branches with :math:`v_b > 0`:

    .. math::

        d^{VAW}_{ij} = \frac{\sum_b l_b\,|p_{ib} - p_{jb}| / v_b}
        {\sum_b l_b\,(p_{ib} + p_{jb}) / v_b}

    Branches holding all or none of the two samples' reads (:math:`v_b = 0`, the root
    among them) are left out, as in the ``unifrac`` package (its ``weighted_normalized``
    with ``variance_adjusted=True``, QIIME 2's ``--p-variance-adjusted``). 0 when the
    denominator is 0.

    References
    ----------
    .. [1] Chang Q, Luan Y, Sun F. Variance adjusted weighted UniFrac: a powerful
       beta diversity measure for comparing communities based on phylogeny. BMC
       Bioinformatics 12:118 (2011).
    """
    distances = _pairwise(table, tree, mode=_VARIANCE_ADJUSTED, alpha=1.0,
                          action="variance-adjusted weighted UniFrac")
    return DistanceMatrix(table.sample_ids, distances,
                          metric="variance_adjusted_weighted_unifrac")


def unifrac_variant_rows(table: ProfileTable, rows: slice | np.ndarray, *,
                         metric: str, alpha: float = 0.5,
                         tree: PhyloTree | None = None) -> np.ndarray:
    """Low-level: a band of a generalized or variance-adjusted UniFrac matrix.

    The distances from the samples ``rows`` to all, for computing a large matrix in
    pieces (one band per Dask task), as a bare array (the caller keeps the ids). The same
    values as the full matrix: exactly for variance-adjusted UniFrac, to ~1e-15 for
    generalized UniFrac (a pair's sum may run in the other order).

    Parameters
    ----------
    table, alpha, tree
        As for :func:`generalized_unifrac` (``alpha`` is ignored by the other metric).
    rows
        Integer positions (or a slice) of the samples whose rows are wanted.
    metric
        ``"generalized_unifrac"`` or ``"variance_adjusted_weighted_unifrac"``.

    Returns
    -------
    numpy.ndarray
        ``len(rows) x n_samples``.
    """
    modes = {"generalized_unifrac": _GENERALIZED,
             "variance_adjusted_weighted_unifrac": _VARIANCE_ADJUSTED}
    if metric not in modes:
        raise InputError("unknown UniFrac variant", field="metric", found=metric,
                         expected=" or ".join(modes))
    if modes[metric] == _GENERALIZED:
        _require_alpha(alpha)
    positions = np.arange(table.n_samples, dtype=np.int64)[rows]
    if positions.ndim != 1:
        raise InputError("rows must be one-dimensional sample positions", field="rows",
                         found=positions.shape, expected="a slice or a 1-D integer array")
    action = metric.replace("_", " ")
    return _pairwise(table, tree, mode=modes[metric], alpha=float(alpha), action=action,
                     rows=positions)


def _require_alpha(alpha: float) -> None:
    if not 0.0 <= alpha <= 1.0:  # also refuses NaN
        raise InputError("generalized UniFrac alpha out of range", field="alpha",
                         found=alpha, expected="a number in [0, 1] (QIIME 2's default is 0.5)")


def _pairwise(table: ProfileTable, tree: PhyloTree | None, *, mode: int, alpha: float,
              action: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Validate, build the sorted clade-total rows and run the kernel (all pairs, or the
    band of ``rows``)."""
    if mode == _VARIANCE_ADJUSTED:
        table.require_kind("counts", action=action)
    else:
        table.require_kind("counts", "relative", action=action)
    tree = table.tree if tree is None else tree
    if tree is None:
        raise InputError(f"{action} needs a phylogenetic tree", field="tree",
                         expected="a table with a tree (e.g. read with a Newick file)")
    nodes = clade_totals(table, tree=tree)  # validates the tree; samples x nodes
    nodes.sort_indices()
    indptr = nodes.indptr.astype(np.int64, copy=False)
    counts = np.ascontiguousarray(nodes.data, dtype=np.float64)
    lengths = np.ascontiguousarray(tree.length[nodes.indices], dtype=np.float64)
    totals = table.sample_totals()
    if mode == _VARIANCE_ADJUSTED:
        indices = nodes.indices.astype(np.int64)
        with KERNEL_LOCK:
            if rows is None:
                return _vaw_kernel(indptr, indices, counts, lengths, totals)
            return _vaw_band_kernel(indptr, indices, counts, lengths, totals, rows)
    compact, n_used = _compact_columns(nodes.indices, tree.n_nodes)
    shares = counts / np.repeat(np.where(totals > 0, totals, 1.0), np.diff(indptr))
    powered = _powered(lengths, shares, alpha)
    own = _row_sums(indptr, powered)
    arrays = (indptr, compact, shares, lengths, powered, own, n_used, alpha)
    with KERNEL_LOCK:
        if rows is None:
            return _generalized_kernel(*arrays)
        return _generalized_band_kernel(*arrays, rows)


@njit(cache=True)
def _powered(lengths: np.ndarray, shares: np.ndarray, alpha: float) -> np.ndarray:
    """``l_b p_ib ** alpha`` per stored value (0 where the share is 0), as the kernel
    raises a pooled share."""
    out = np.zeros(shares.size)
    for k in range(shares.size):
        if shares[k] > 0.0:
            out[k] = lengths[k] * _power(shares[k], alpha)
    return out


@njit(cache=True, inline="always")
def _power(x: float, alpha: float) -> float:
    """``x ** alpha``, with the common exponents 0.5 (QIIME 2's default), 1 and 0 as
    ``sqrt``, the value and 1 (a general ``pow`` per branch and pair is the kernel's cost)."""
    if alpha == 0.5:
        return np.sqrt(x)
    if alpha == 1.0:
        return x
    if alpha == 0.0:
        return 1.0
    return x**alpha


# ------------------------------------------------------------ generalized UniFrac
#: rows of sample i scattered together; each pass over a row j serves this many pairs
_BLOCK = 4


@njit(cache=True, parallel=True)
def _generalized_kernel(indptr: np.ndarray, indices: np.ndarray, shares: np.ndarray,
                        lengths: np.ndarray, powered: np.ndarray, own: np.ndarray,
                        n_nodes: int, alpha: float) -> np.ndarray:
    """All pairs: blocks of ``_BLOCK`` rows ``i`` against every later row ``j``; blocks
    ``t`` and ``n_blocks - 1 - t`` share a task.

    For pair ``(i, j)`` with ``u = p_ib`` (scattered) and ``v = p_jb`` over ``j``'s
    nonzeros, ``w = l_b (u + v)^alpha``:
    ``numerator = own_i + sum (w |u - v| / (u + v) - l_b u^alpha)`` and
    ``denominator = own_i + sum (w - l_b u^alpha)``; branches of ``i`` alone enter
    through ``own_i = sum_b l_b p_ib^alpha``. Identical rows give exactly 0.
    """
    n = indptr.size - 1
    out = np.zeros((n, n))
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for task in prange((n_blocks + 1) // 2):
        first = np.int64(task)
        dense = np.zeros(2 * n_nodes * _BLOCK)
        sums = np.zeros(2 * _BLOCK)
        for block in (first, n_blocks - 1 - first):
            if block == first or block != n_blocks - 1 - block:
                start = block * _BLOCK
                stop = start + _BLOCK if start + _BLOCK < n else n
                members = np.arange(start, stop, dtype=np.int64)
                _scatter(members, indptr, indices, shares, powered, dense, False)
                for j in range(start + 1, n):
                    _against_row(j, indptr, indices, shares, lengths, alpha, dense, sums)
                    for r in range(members.size if j - start > members.size else j - start):
                        value = _generalized_distance(own[members[r]], sums, r)
                        out[members[r], j] = value
                        out[j, members[r]] = value
                _scatter(members, indptr, indices, shares, powered, dense, True)
    return out


@njit(cache=True, parallel=True)
def _generalized_band_kernel(indptr: np.ndarray, indices: np.ndarray, shares: np.ndarray,
                             lengths: np.ndarray, powered: np.ndarray, own: np.ndarray,
                             n_nodes: int, alpha: float, rows: np.ndarray) -> np.ndarray:
    """Distances from the samples ``rows`` (scattered, a block at a time) to every sample."""
    n = indptr.size - 1
    out = np.zeros((rows.size, n))
    for block in prange((rows.size + _BLOCK - 1) // _BLOCK):
        start = np.int64(block) * _BLOCK
        members = rows[start: start + _BLOCK]
        dense = np.zeros(2 * n_nodes * _BLOCK)
        sums = np.zeros(2 * _BLOCK)
        _scatter(members, indptr, indices, shares, powered, dense, False)
        for j in range(n):
            _against_row(j, indptr, indices, shares, lengths, alpha, dense, sums)
            for r in range(members.size):
                if members[r] != j:
                    out[start + r, j] = _generalized_distance(own[members[r]], sums, r)
    return out


@njit(cache=True, inline="always")
def _scatter(members: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
             shares: np.ndarray, powered: np.ndarray, dense: np.ndarray, clear: bool) -> None:
    """Write rows ``members`` into their interleaved slots (share, then ``l u^alpha``), or
    zero those slots."""
    for r in range(members.size):
        i = members[r]
        for k in range(indptr[i], indptr[i + 1]):
            at = 2 * (indices[k] * _BLOCK + r)
            dense[at] = 0.0 if clear else shares[k]
            dense[at + 1] = 0.0 if clear else powered[k]


@njit(cache=True, inline="always")
def _against_row(j: int, indptr: np.ndarray, indices: np.ndarray, shares: np.ndarray,
                 lengths: np.ndarray, alpha: float, dense: np.ndarray,
                 sums: np.ndarray) -> None:
    """One pass over row ``j``: ``sums[2r]`` and ``sums[2r + 1]`` get the numerator and
    denominator corrections of scattered row ``r`` (see :func:`_generalized_kernel`)."""
    sums[:] = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        at = 2 * indices[k] * _BLOCK
        v = shares[k]
        length = lengths[k]
        for r in range(_BLOCK):
            u = dense[at + 2 * r]
            pooled = u + v
            if pooled > 0.0:
                mine = dense[at + 2 * r + 1]
                weight = length * _power(pooled, alpha)
                sums[2 * r] += weight * (abs(u - v) / pooled) - mine
                sums[2 * r + 1] += weight - mine


@njit(cache=True, inline="always")
def _generalized_distance(own: float, sums: np.ndarray, r: int) -> float:
    """Numerator over denominator of scattered row ``r`` (0 for 0/0; never below 0)."""
    denominator = own + sums[2 * r + 1]
    if denominator <= 0.0:
        return 0.0
    return max(own + sums[2 * r], 0.0) / denominator


# -------------------------------------------------- variance-adjusted UniFrac
@njit(cache=True, parallel=True)
def _vaw_kernel(indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray,
                lengths: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Every pair ``i < j``, mirrored; rows ``t`` and ``n - 1 - t`` share a task."""
    n = indptr.size - 1
    out = np.zeros((n, n))
    for task in prange((n + 1) // 2):
        first = np.int64(task)
        for i in (first, n - 1 - first):
            if i == first or i != n - 1 - i:
                for j in range(i + 1, n):
                    value = _vaw_pair(i, j, indptr, indices, counts, lengths, totals)
                    out[i, j] = value
                    out[j, i] = value
    return out


@njit(cache=True, parallel=True)
def _vaw_band_kernel(indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray,
                     lengths: np.ndarray, totals: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Distances from the samples ``rows`` to every sample, each pair walked in the full
    kernel's order (so a band equals the full matrix's rows exactly)."""
    n = indptr.size - 1
    out = np.zeros((rows.size, n))
    for r in prange(rows.size):
        i = rows[r]
        for j in range(n):
            if j != i:
                first, second = (i, j) if i < j else (j, i)
                out[r, j] = _vaw_pair(first, second, indptr, indices, counts, lengths, totals)
    return out


@njit(cache=True, inline="always")
def _vaw_pair(i: int | np.integer, j: int | np.integer, indptr: np.ndarray,
              indices: np.ndarray, counts: np.ndarray, lengths: np.ndarray,
              totals: np.ndarray) -> float:
    """One distance, from a merge walk over the sorted node indices of rows ``i`` and ``j``."""
    a, a_end = indptr[i], indptr[i + 1]
    b, b_end = indptr[j], indptr[j + 1]
    total_i = totals[i] if totals[i] > 0 else 1.0  # an empty row has no nonzeros
    total_j = totals[j] if totals[j] > 0 else 1.0
    both = totals[i] + totals[j]
    numerator = 0.0
    denominator = 0.0
    while a < a_end or b < b_end:
        if b >= b_end or (a < a_end and indices[a] < indices[b]):
            mine, theirs, length = counts[a], 0.0, lengths[a]
            a += 1
        elif a >= a_end or indices[b] < indices[a]:
            mine, theirs, length = 0.0, counts[b], lengths[b]
            b += 1
        else:
            mine, theirs, length = counts[a], counts[b], lengths[a]
            a += 1
            b += 1
        below = mine + theirs
        spread = np.sqrt(below * (both - below))
        if spread > 0.0:
            u = mine / total_i
            v = theirs / total_j
            numerator += length * abs(u - v) / spread
            denominator += length * (u + v) / spread
    return numerator / denominator if denominator > 0.0 else 0.0

"""Phylogenetic diversity on a tree: Faith's PD and UniFrac (unweighted, weighted).

Both start from one sparse product: the samples x features table times the tree's
root-to-tip path matrix gives every node's clade total in every sample (the
"counts by node" of Fast UniFrac), a samples x nodes sparse matrix whose nonzeros are
the branches each sample covers. Faith's PD is then a sparse matrix-vector product;
UniFrac is a pairwise kernel over those sparse rows, compiled with numba and run in
parallel over sample pairs (numba's thread count: all cores unless limited with
``numba.set_num_threads`` or ``NUMBA_NUM_THREADS``). Memory is proportional to the
nonzeros plus the n x n output; nothing samples x nodes is ever dense. For matrices too
large for one machine, :func:`unifrac_rows` computes the matrix in bands.

Definitions follow scikit-bio 0.7.4 exactly (``faith_pd``, ``unweighted_unifrac``,
``weighted_unifrac`` with and without ``normalized``); the test suite checks them to
1e-9 on the fibromyalgia cohort.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit, prange

from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.profile import ProfileTable, row_of_each_value
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.gut._labelled import per_sample
from gutaxis.gut._parallel import KERNEL_LOCK

__all__ = ["UnifracBandInputs", "clade_totals", "faith_pd", "unifrac", "unifrac_band",
           "unifrac_band_inputs", "unifrac_rows"]

#: kernel modes
_UNWEIGHTED, _WEIGHTED, _WEIGHTED_NORMALIZED = 0, 1, 2


def faith_pd(table: ProfileTable, *, tree: PhyloTree | None = None) -> pd.Series:
    r"""Faith's phylogenetic diversity of every sample.

    Parameters
    ----------
    table
        Counts or relative abundances; only presence (> 0) matters.
    tree
        Rooted tree with every feature as a tip; defaults to ``table.tree``.

    Returns
    -------
    pandas.Series
        ``faith_pd``: one value per sample, indexed by ``sample_id`` in the table's sample
        order; ``0`` for an empty sample.

    Raises
    ------
    InputError
        No tree, a tree missing features (named), an unrooted tree, or branches
        without a length or with a negative one.
    DataKindError
        A table of CLR or other transformed values.

    Notes
    -----
    .. math:: PD_s = \sum_{b \in B_s} l_b

    where :math:`B_s` is the union of the branches on the paths from the root to every
    feature present in sample :math:`s` (the root's own length included when the tree
    gives one), as in Faith & Baker (2006) and scikit-bio. Like scikit-bio, an
    unrooted (trifurcating-root) tree is refused; unlike it, so are negative lengths.

    References
    ----------
    .. [1] Faith DP. Conservation evaluation and phylogenetic diversity. Biological
       Conservation 61:1-10 (1992).
    .. [2] Faith DP, Baker AM. Phylogenetic diversity (PD) and biodiversity
       conservation: some bioinformatics challenges. Evol Bioinform 2:121-128 (2006).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from gutaxis.io.newick import parse_newick
    >>> tree = parse_newick("((a:1,b:2):0.5,c:3);")
    >>> table = ProfileTable(sp.csr_array([[1.0, 0, 4], [0, 2, 0]]), ["s1", "s2"],
    ...                      ["a", "b", "c"], tree=tree)
    >>> faith_pd(table).to_dict()
    {'s1': 4.5, 's2': 2.5}
    """
    nodes, tree, _ = _prepare(table, tree, action="Faith PD")
    present = nodes.data > 0
    rows = row_of_each_value(nodes)
    total_lengths = np.bincount(rows[present], weights=tree.length[nodes.indices[present]],
                                minlength=nodes.shape[0])
    return per_sample(table, total_lengths, "faith_pd")


def unifrac(
    table: ProfileTable,
    *,
    weighted: bool,
    normalized: bool = True,
    tree: PhyloTree | None = None,
) -> DistanceMatrix:
    r"""UniFrac distances between all pairs of samples.

    Parameters
    ----------
    table
        Counts or relative abundances (weighted UniFrac turns each sample into
        proportions; unweighted UniFrac uses presence only).
    weighted
        ``False`` for unweighted (presence/absence) UniFrac, ``True`` for weighted.
    normalized
        Weighted UniFrac only: divide by the abundance-weighted root-to-tip distance of
        the two samples, giving values in [0, 1] (QIIME 2's
        ``weighted_normalized_unifrac``; ``False`` is QIIME 2's ``weighted_unifrac``).
        Ignored for unweighted UniFrac.
    tree
        Rooted tree with every feature as a tip; defaults to ``table.tree``.

    Returns
    -------
    DistanceMatrix
        Symmetric, zero diagonal, ids in the table's sample order; its ``metric`` is
        QIIME 2's name: ``unweighted_unifrac``, ``weighted_normalized_unifrac`` or
        ``weighted_unifrac`` (unnormalized).

    Raises
    ------
    InputError
        No tree, a tree missing features (named), an unrooted tree, or branches
        without a length or with a negative one.
    DataKindError
        A table of CLR or other transformed values.

    Notes
    -----
    With :math:`l_b` the length of branch :math:`b` and :math:`p_{ib}` the share of
    sample :math:`i`'s abundance that lies below :math:`b` (its clade total over the
    sample total; a presence indicator :math:`x_{ib}` for unweighted):

    .. math::

        d^{U}_{ij} = \frac{\sum_b l_b\,[x_{ib} \ne x_{jb}]}{\sum_b l_b\,[x_{ib} \lor x_{jb}]},
        \qquad
        d^{W}_{ij} = \sum_b l_b\,|p_{ib} - p_{jb}|,
        \qquad
        d^{WN}_{ij} = \frac{d^{W}_{ij}}{\sum_{t \in tips} r_t\,(p_{it} + p_{jt})}

    where :math:`r_t` is tip :math:`t`'s distance to the root. As in scikit-bio, the
    unweighted distance between two empty samples, or two samples covering only
    zero-length branches, is 0, and so is the normalized weighted distance between
    two empty samples. Where scikit-bio would divide 0 by 0 (weighted normalized, every
    covered branch of zero length), gutaxis returns 0 rather than NaN; and where
    scikit-bio silently computes with negative branch lengths, gutaxis refuses them.

    Each pair is computed from sample :math:`i`'s scattered dense row and sample
    :math:`j`'s sparse row only: the branches of :math:`i` that :math:`j` lacks enter
    through :math:`i`'s precomputed total, so a pair costs :math:`O(nnz_j)`.

    References
    ----------
    .. [1] Lozupone C, Knight R. UniFrac: a new phylogenetic method for comparing
       microbial communities. Appl Environ Microbiol 71:8228-8235 (2005).
    .. [2] Lozupone CA, Hamady M, Kelley ST, Knight R. Quantitative and qualitative
       beta diversity measures lead to different insights into factors that structure
       microbial communities. Appl Environ Microbiol 73:1576-1585 (2007).
    .. [3] Hamady M, Lozupone C, Knight R. Fast UniFrac: facilitating high-throughput
       phylogenetic analyses of microbial communities. ISME J 4:17-27 (2010).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from gutaxis.io.newick import parse_newick
    >>> tree = parse_newick("((a:1,b:2):0.5,c:3);")
    >>> table = ProfileTable(sp.csr_array([[1.0, 0, 4], [0, 2, 0]]), ["s1", "s2"],
    ...                      ["a", "b", "c"], tree=tree)
    >>> unifrac(table, weighted=False).data.round(4).tolist()
    [[0.0, 0.9231], [0.9231, 0.0]]
    """
    inputs = _kernel_inputs(table, tree, weighted=weighted, normalized=normalized)
    with KERNEL_LOCK:
        distances = _unifrac_kernel(*inputs)
    metric = ("unweighted_unifrac" if not weighted
              else "weighted_normalized_unifrac" if normalized else "weighted_unifrac")
    return DistanceMatrix(table.sample_ids, distances, metric=metric)


def unifrac_rows(
    table: ProfileTable,
    rows: slice | np.ndarray,
    *,
    weighted: bool,
    normalized: bool = True,
    tree: PhyloTree | None = None,
) -> np.ndarray:
    """Low-level: a band of the UniFrac matrix, the distances from the samples ``rows`` to all.

    The same distances as :func:`unifrac` (to ~1e-15: a pair's sum may run in the other
    order), for computing a large matrix in pieces, e.g. one band per Dask task. Memory
    is the table's nonzeros plus the ``len(rows) x n_samples`` result. A bare array, as
    a band is not a distance matrix: the caller keeps the ids (``table.sample_ids``).

    Parameters
    ----------
    table, weighted, normalized, tree
        As for :func:`unifrac`.
    rows
        Integer positions (or a slice) of the samples whose rows are wanted.

    Returns
    -------
    numpy.ndarray
        ``len(rows) x n_samples``; entry ``[r, j]`` is the distance between sample
        ``rows[r]`` and sample ``j``.
    """
    inputs = unifrac_band_inputs(table, weighted=weighted, normalized=normalized, tree=tree)
    return unifrac_band(inputs, np.arange(table.n_samples, dtype=np.int64)[rows])


#: The prepared arrays of :func:`unifrac_band_inputs` (opaque to callers).
UnifracBandInputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]


def unifrac_band_inputs(table: ProfileTable, *, weighted: bool, normalized: bool = True,
                        tree: PhyloTree | None = None) -> UnifracBandInputs:
    """Low-level: validate once and prepare what :func:`unifrac_band` needs (the sparse
    clade totals of every sample: the table's nonzeros times the tree depth, no dense
    array), so a matrix computed in many bands prepares them once (and a cluster sends
    them to each worker once)."""
    return _kernel_inputs(table, tree, weighted=weighted, normalized=normalized)


def unifrac_band(inputs: UnifracBandInputs, rows: np.ndarray) -> np.ndarray:
    """Low-level: the band of :func:`unifrac_rows` from prepared ``inputs``.

    ``rows`` are integer sample positions (1-D); the result is ``len(rows) x n_samples``.
    """
    positions = np.asarray(rows, dtype=np.int64)
    if positions.ndim != 1:
        raise InputError("rows must be one-dimensional sample positions", field="rows",
                         found=positions.shape, expected="a slice or a 1-D integer array")
    with KERNEL_LOCK:
        return _unifrac_band_kernel(*inputs, positions)


def clade_totals(table: ProfileTable, *, tree: PhyloTree | None = None) -> sp.csr_array:
    """Low-level: samples x nodes sparse matrix, each node's total over the tips below it.

    Column ``v`` holds, for every sample, the sum of the table's values over the
    features that descend from node ``v`` of ``tree`` (default ``table.tree``), in the
    tree's postorder node numbering. Only nodes a sample covers are stored.
    """
    return _prepare(table, tree, action="clade totals")[0]


def _prepare(table: ProfileTable, tree: PhyloTree | None, *,
             action: str) -> tuple[sp.csr_array, PhyloTree, np.ndarray]:
    """Validate, then the samples x nodes clade totals, the tree and the features' tips."""
    tree = table.tree if tree is None else tree
    if tree is None:
        raise InputError(f"{action} needs a phylogenetic tree", field="tree",
                         expected="a table with a tree (e.g. read with a Newick file)")
    table.require_kind("counts", "relative", action=action)
    tree.require_rooted(action=action)
    tree.require_lengths(action=action)
    tips = tree.tip_positions(table.feature_ids)
    nodes = sp.csr_array(table.values @ tree.path_matrix(tips))
    return nodes, tree, tips


def _kernel_inputs(
    table: ProfileTable, tree: PhyloTree | None, *, weighted: bool, normalized: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Validated kernel arguments: CSR rows of the covered nodes (compact numbering),
    their weights (``l_b`` or ``l_b p_ib``), each row's weight total, the normalizing
    spreads (weighted normalized only), the number of nodes and the mode."""
    action = "weighted UniFrac" if weighted else "unweighted UniFrac"
    nodes, tree, tips = _prepare(table, tree, action=action)
    indptr, counts = nodes.indptr.astype(np.int64, copy=False), nodes.data
    weights = tree.length[nodes.indices]  # per nonzero: the covered branch's length
    indices, n_used = _compact_columns(nodes.indices, tree.n_nodes)
    del nodes  # its node numbers are replaced by the compact ones
    no_spread = np.zeros(0)
    if not weighted:
        return indptr, indices, weights, _row_sums(indptr, weights), no_spread, n_used, \
            _UNWEIGHTED
    totals = table.sample_totals()
    totals[totals == 0] = 1.0  # empty samples have no nonzeros: any divisor will do
    _times_shares(indptr, weights, counts, totals)  # now l_b p_ib
    own = _row_sums(indptr, weights)
    if not normalized:
        return indptr, indices, weights, own, no_spread, n_used, _WEIGHTED
    spread = (table.values @ tree.root_distances()[tips]) / totals
    return indptr, indices, weights, own, spread, n_used, _WEIGHTED_NORMALIZED


def _compact_columns(indices: np.ndarray, n_columns: int) -> tuple[np.ndarray, int]:
    """Renumber the columns in use ``0..k-1`` (order kept): the kernel's dense scratch
    rows then scale with the nodes the table covers, not with the whole tree."""
    used = np.zeros(n_columns, dtype=bool)
    used[indices] = True
    renumber = np.cumsum(used, dtype=np.int64) - 1
    n_used = int(renumber[-1] + 1)
    small = np.int32 if n_used < np.iinfo(np.int32).max else np.int64
    return renumber.astype(small)[indices], n_used


@njit(cache=True)
def _times_shares(indptr: np.ndarray, values: np.ndarray, counts: np.ndarray,
                  totals: np.ndarray) -> None:
    """In place: ``values[k] *= counts[k] / totals[row of k]`` (the share ``p_ib`` is
    formed first, as scikit-bio does), without per-nonzero temporaries."""
    for i in range(indptr.size - 1):
        for k in range(indptr[i], indptr[i + 1]):
            values[k] = values[k] * (counts[k] / totals[i])


@njit(cache=True)
def _row_sums(indptr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of each CSR row's values, added in stored order (as the kernel adds them)."""
    n = indptr.size - 1
    out = np.zeros(n)
    for i in range(n):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += values[k]
        out[i] = acc
    return out


#: rows of sample i scattered together; each pass over a row j serves this many pairs
_BLOCK = 4


@njit(cache=True, parallel=True)
def _unifrac_kernel(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                    own: np.ndarray, spread: np.ndarray, n_nodes: int,
                    mode: int) -> np.ndarray:
    """All pairwise UniFrac distances from the samples x nodes sparse rows.

    ``weights[k]`` is ``l_b`` (unweighted) or ``l_b p_ib`` (weighted) for the nonzero
    ``k`` at node ``b`` of row ``i``; ``own[i]`` is row ``i``'s sum of weights. Pair
    ``(i, j)``, ``i < j``, is computed from row ``j``'s nonzeros against row ``i``
    scattered into a dense vector ``w``:

    - unweighted: ``shared = sum_{b in j} w_b``; ``union = own_i + own_j - shared``;
      the distance is ``(union - shared) / union`` (0 when ``union`` is 0);
    - weighted: ``own_i + sum_{b in j} (|w_b - l_b p_jb| - w_b)``, which equals
      ``sum_b l_b |p_ib - p_jb|`` since the branches of ``i`` that ``j`` lacks enter
      through ``own_i``; normalized, divided by ``spread_i + spread_j`` (0 when that is 0).

    Rows ``i`` are taken ``_BLOCK`` at a time, interleaved in one dense array, so one
    pass over row ``j`` serves ``_BLOCK`` pairs (half the memory traffic per pair).
    Identical rows give exactly 0: both sums run over the same values in the same order.
    Blocks are paired (``t`` with ``n_blocks - 1 - t``) so parallel tasks do equal work.
    """
    n = indptr.size - 1
    out = np.zeros((n, n))
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for task in prange((n_blocks + 1) // 2):
        first = np.int64(task)
        dense = np.zeros(n_nodes * _BLOCK)
        _pairs_of_block(first, indptr, indices, weights, own, spread, mode, dense, out)
        mirror = n_blocks - 1 - first
        if mirror != first:
            _pairs_of_block(mirror, indptr, indices, weights, own, spread, mode, dense, out)
    return out


@njit(cache=True, parallel=True)
def _unifrac_band_kernel(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                         own: np.ndarray, spread: np.ndarray, n_nodes: int, mode: int,
                         rows: np.ndarray) -> np.ndarray:
    """Distances from the samples ``rows`` to every sample, as :func:`_unifrac_kernel`
    computes them (the band's rows are the scattered ones)."""
    n = indptr.size - 1
    out = np.zeros((rows.size, n))
    for block in prange((rows.size + _BLOCK - 1) // _BLOCK):
        start = np.int64(block) * _BLOCK
        members = rows[start: start + _BLOCK]
        dense = np.zeros(n_nodes * _BLOCK)
        acc = np.zeros(_BLOCK)
        _scatter_block(members, indptr, indices, weights, dense, False)
        for j in range(n):
            _block_against_row(j, indptr, indices, weights, mode, dense, acc)
            for r in range(members.size):
                i = members[r]
                if i != j:
                    out[start + r, j] = _distance(mode, i, j, acc[r], own, spread)
        _scatter_block(members, indptr, indices, weights, dense, True)
    return out


@njit(cache=True, inline="always")
def _pairs_of_block(block: int | np.integer, indptr: np.ndarray, indices: np.ndarray,
                    weights: np.ndarray, own: np.ndarray, spread: np.ndarray, mode: int,
                    dense: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out[i, j]`` and ``out[j, i]`` for the block's rows ``i`` and every
    ``j > i`` (``dense`` is all zeros on entry and on return)."""
    n = indptr.size - 1
    start = block * _BLOCK
    members = np.arange(start, min(start + _BLOCK, n))
    _scatter_block(members, indptr, indices, weights, dense, False)
    acc = np.zeros(_BLOCK)
    for j in range(start + 1, n):
        _block_against_row(j, indptr, indices, weights, mode, dense, acc)
        for i in range(start, min(start + members.size, j)):
            value = _distance(mode, i, j, acc[i - start], own, spread)
            out[i, j] = value
            out[j, i] = value
    _scatter_block(members, indptr, indices, weights, dense, True)


@njit(cache=True, inline="always")
def _block_against_row(j: int, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray,
                       mode: int, dense: np.ndarray, acc: np.ndarray) -> None:
    """One pass over row ``j``: ``acc[r]`` is the shared branch length (unweighted) or
    ``sum_{b in j} (|w_rb - w_jb| - w_rb)`` (weighted) for each scattered row ``r``."""
    acc[:] = 0.0
    if mode == _UNWEIGHTED:
        for k in range(indptr[j], indptr[j + 1]):
            at = indices[k] * _BLOCK
            for r in range(_BLOCK):
                acc[r] += dense[at + r]
    else:
        for k in range(indptr[j], indptr[j + 1]):
            at = indices[k] * _BLOCK
            theirs = weights[k]
            for r in range(_BLOCK):
                mine = dense[at + r]
                acc[r] += abs(mine - theirs) - mine


@njit(cache=True, inline="always")
def _distance(mode: int, i: int, j: int, acc: float, own: np.ndarray,
              spread: np.ndarray) -> float:
    """Finish pair ``(i, j)`` from row ``i``'s pass sum ``acc`` (see the kernel); the sums
    cancel, so a rounding error below 0 (-4e-16 seen) is returned as 0."""
    if mode == _UNWEIGHTED:
        union = own[i] + own[j] - acc
        return max((union - acc) / union, 0.0) if union != 0.0 else 0.0
    value = max(own[i] + acc, 0.0)
    if mode == _WEIGHTED_NORMALIZED:
        scale = spread[i] + spread[j]
        return value / scale if scale != 0.0 else 0.0
    return value


@njit(cache=True, inline="always")
def _scatter_block(members: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
                   values: np.ndarray, dense: np.ndarray, clear: bool) -> None:
    """Write rows ``members`` into their interleaved slots (or zero those slots)."""
    for r in range(members.size):
        i = members[r]
        for k in range(indptr[i], indptr[i + 1]):
            dense[indices[k] * _BLOCK + r] = 0.0 if clear else values[k]

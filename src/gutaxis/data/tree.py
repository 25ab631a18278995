"""PhyloTree: a rooted phylogeny stored as flat arrays, ready for vectorised UniFrac.

Nodes are numbered in postorder (every child before its parent, the root last), so a
single reverse or forward sweep over ``parent`` propagates values up or down the tree
without recursion. Parse Newick with :func:`gutaxis.io.read_newick`. Tree-wide
operations here (root distances, root-to-tip path matrices, shearing) are vectorised
with pointer jumping or level-by-level sweeps: ``O(log depth)`` or ``O(depth)`` numpy
passes, never a Python loop over nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from gutaxis.errors import InputError, preview


@dataclass(frozen=True, eq=False)
class PhyloTree:
    """A rooted tree in postorder arrays.

    Parameters
    ----------
    parent
        ``parent[i]`` is the index of node ``i``'s parent; ``-1`` for the root, which
        is the last node. Every parent index is greater than its child's.
    length
        Branch length from node ``i`` to its parent; a missing length is ``NaN`` and is
        refused by the metrics that need lengths. ``length[-1]`` is the root's own
        length: ``0`` unless the Newick gave the root one (scikit-bio counts that
        length in Faith PD and root distances, and so does gutaxis).
    names
        Node names; internal nodes (and, rarely, tips) may be ``""``. Named tips must
        be unique; unnamed tips cannot be matched to features.
    rooted
        ``False`` when the Newick had a trifurcating (or wider) root, the usual mark of
        an unrooted tree.
    source
        Where the tree came from, for error messages.
    """

    parent: np.ndarray
    length: np.ndarray
    names: np.ndarray
    rooted: bool = True
    source: str | None = None
    _tip_index: dict[str, int] = field(default_factory=dict, repr=False)
    _paths: dict[bytes, sp.csr_array] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        parent = np.asarray(self.parent, dtype=np.int64)
        n = parent.size
        if n == 0:
            raise InputError("tree has no nodes", source=self.source)
        if parent[-1] != -1 or np.any(parent[:-1] <= np.arange(n - 1)) or np.any(parent >= n):
            raise InputError("tree arrays are not in postorder", source=self.source,
                             expected="each parent after its children, root last")
        length = np.asarray(self.length, dtype=np.float64)
        names = np.asarray(self.names, dtype=object)
        if length.shape != (n,) or names.shape != (n,):
            raise InputError("tree arrays differ in length", source=self.source,
                             found=f"{n} parents, {length.size} lengths, {names.size} names",
                             expected="one parent, length and name per node")
        is_tip = np.ones(n, dtype=bool)
        is_tip[parent[:-1]] = False
        tip_names = names[is_tip].astype(str)
        named = tip_names != ""
        tips = dict(zip(tip_names[named].tolist(), np.flatnonzero(is_tip)[named].tolist(),
                        strict=True))
        if len(tips) != int(named.sum()):
            uniq, counts = np.unique(tip_names[named], return_counts=True)
            raise InputError("tree has duplicate tip names", source=self.source,
                             found=preview(uniq[counts > 1]),
                             expected="unique tip names")
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_tip_index", tips)

    # ------------------------------------------------------------------ shape
    @property
    def n_nodes(self) -> int:
        return int(self.parent.size)

    @property
    def n_tips(self) -> int:
        return int(self.is_tip.sum())

    @property
    def is_tip(self) -> np.ndarray:
        tips = np.ones(self.n_nodes, dtype=bool)
        tips[self.parent[:-1]] = False
        return tips

    @property
    def tip_names(self) -> list[str]:
        return list(self._tip_index)

    def n_children(self) -> np.ndarray:
        """Number of children of every node (``0`` for tips)."""
        return np.bincount(self.parent[:-1], minlength=self.n_nodes)

    def total_length(self) -> float:
        """Sum of all branch lengths, the root's own length included (NaN counts as 0)."""
        return float(np.nansum(self.length))

    # ----------------------------------------------------------------- lookup
    def tip_positions(self, names: np.ndarray | Sequence[str]) -> np.ndarray:
        """Node index of each named tip (raises when one is missing).

        Parameters
        ----------
        names
            Tip names, e.g. a table's feature ids.
        """
        found = self._lookup(names)
        if np.any(found < 0):
            self.require_tips(names)
        return found

    def require_tips(self, names: np.ndarray | Sequence[str]) -> None:
        """Raise :class:`InputError` naming the features the tree lacks.

        Parameters
        ----------
        names
            Tip names, e.g. a table's feature ids.
        """
        found = self._lookup(names)
        missing = np.asarray(names, dtype=object)[found < 0].astype(str).tolist()
        if missing:
            raise InputError(
                f"tree is missing {len(missing)} feature(s) as tips",
                source=self.source,
                found=preview(missing),
                expected="every feature id of the table to be a tip of the tree",
            )

    def _lookup(self, names: np.ndarray | Sequence[str]) -> np.ndarray:
        """Node index of each name, ``-1`` where it is not a tip."""
        keys = names.tolist() if isinstance(names, np.ndarray) else names
        index = self._tip_index
        return np.fromiter((index.get(str(key), -1) for key in keys), dtype=np.int64,
                           count=len(keys))

    def require_lengths(self, *, action: str, allow_negative: bool = False) -> None:
        """Raise :class:`InputError` when a branch below the root has no length, or (unless
        ``allow_negative``) a negative one, e.g. from neighbour joining.

        Parameters
        ----------
        action
            What needs the lengths, for the message (e.g. ``"Faith PD"``).
        allow_negative
            Accept negative lengths.
        """
        missing = np.flatnonzero(np.isnan(self.length[:-1]))
        if missing.size:
            raise InputError(
                f"{action} needs every branch length; {missing.size} branch(es) have none",
                source=self.source,
                found=self._node_list(missing),
                expected="a length after ':' for every node below the root",
            )
        negative = np.flatnonzero(self.length < 0)
        if negative.size and not allow_negative:
            raise InputError(
                f"{action} needs branch lengths >= 0; {negative.size} branch(es) are negative",
                source=self.source,
                found=self._node_list(negative),
                expected="non-negative lengths (set negative neighbour-joining lengths to 0)",
            )

    def _node_list(self, nodes: np.ndarray) -> str:
        return preview(str(self.names[i]) or f"node #{i + 1} (unnamed)" for i in nodes)

    def require_rooted(self, *, action: str) -> None:
        """Raise :class:`InputError` for an unrooted tree: marked ``rooted=False`` or with
        more than two children at the root (scikit-bio's test).

        Parameters
        ----------
        action
            What needs a rooted tree, for the message (e.g. ``"UniFrac"``).
        """
        n_root_children = int(self.n_children()[-1])
        if not self.rooted or n_root_children > 2:
            raise InputError(
                f"{action} needs a rooted tree",
                source=self.source,
                found=f"a root with {n_root_children} children (an unrooted tree)",
                expected="a bifurcating root; root the tree first (e.g. midpoint or "
                "outgroup rooting, as QIIME 2's phylogeny midpoint-root does)",
            )

    # ------------------------------------------------------------- distances
    def root_distances(self) -> np.ndarray:
        """Distance from every node to the root, the root's own length included.

        Notes
        -----
        :math:`d(v) = \\sum_{u \\in \\mathrm{path}(v, root)} l(u)`, computed by pointer
        jumping: ``ceil(log2(depth))`` vectorised passes. Missing lengths count as 0.
        """
        n = self.n_nodes
        up = np.append(self.parent, n)  # node n is a sentinel above the root
        up[n - 1] = n
        dist = np.append(np.nan_to_num(self.length, nan=0.0), 0.0)
        while np.any(up[:n] != n):
            dist = dist + dist[up]
            dist[n] = 0.0
            up = up[up]
        return dist[:n]

    def path_matrix(self, nodes: np.ndarray) -> sp.csr_array:
        """Sparse 0/1 matrix, ``len(nodes)`` x ``n_nodes``: row ``r`` marks every node on
        the path from ``nodes[r]`` up to the root (both ends included).

        Multiplying a samples x tips table by it sums each node's descendant tips:
        ``table @ tree.path_matrix(tips)`` is the samples x nodes table of clade totals.
        The last matrix built is kept, so repeated metrics on one table build it once.

        Parameters
        ----------
        nodes
            Node indices (e.g. :meth:`tip_positions` of a table's features).
        """
        nodes = np.ascontiguousarray(nodes, dtype=np.int64)
        key = nodes.tobytes()
        if key not in self._paths:
            matrix = self._build_path_matrix(nodes)
            for part in (matrix.data, matrix.indices, matrix.indptr):
                part.flags.writeable = False  # shared by every caller: keep it intact
            self._paths.clear()
            self._paths[key] = matrix
        return self._paths[key]

    def _build_path_matrix(self, nodes: np.ndarray) -> sp.csr_array:
        depth = np.zeros(nodes.size, dtype=np.int64)  # path length in nodes, minus one
        rows = np.arange(nodes.size)
        current = self.parent[nodes]
        levels = []
        while rows.size:  # climb one level per pass; only the rows not yet at the root
            levels.append((rows, current))
            keep = current >= 0
            rows, current = rows[keep], current[keep]
            depth[rows] += 1
            current = self.parent[current]
        indptr = np.zeros(nodes.size + 1, dtype=np.int64)
        np.cumsum(depth + 1, out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=np.int64)
        indices[indptr[:-1]] = nodes
        for level, (rows, current) in enumerate(levels[:-1], start=1):
            keep = current >= 0  # ancestors come in increasing order: rows stay sorted
            indices[indptr[rows[keep]] + level] = current[keep]
        return sp.csr_array((np.ones(indices.size), indices, indptr),
                            shape=(nodes.size, self.n_nodes))

    # ----------------------------------------------------------------- shear
    def shear(self, tip_names: np.ndarray | Sequence[str]) -> PhyloTree:
        """The subtree spanning ``tip_names``, with single-child nodes collapsed.

        Same result as scikit-bio's ``TreeNode.shear(names)`` (which prunes): nodes
        with no kept tip below are dropped; a node left with one child is removed and
        its length added to the child's; a root left with one child absorbs it (the
        child's name and children, the root length plus the child's length). Root
        distances of the kept tips, Faith PD and UniFrac are unchanged.
        A missing length (``NaN``) counts as absent when lengths are added; the sum is
        ``NaN`` only if every added length is missing.

        Raises :class:`InputError` when a name is not a tip or no name is given.

        Parameters
        ----------
        tip_names
            The tips to keep.
        """
        tips = np.unique(self.tip_positions(tip_names))
        if tips.size == 0:
            raise InputError("cannot shear a tree to no tips", source=self.source,
                             expected="at least one tip name")
        n = self.n_nodes
        keep = self.path_matrix(tips).sum(axis=0) > 0
        kids = np.bincount(self.parent[:-1][keep[:-1]], minlength=n)
        skip = keep & (kids == 1)
        root_absorbs = bool(skip[-1])
        skip[-1] = False
        known = ~np.isnan(self.length)
        acc = np.where(known, self.length, 0.0)
        n_known = known.astype(np.int64)
        up = self.parent.copy()
        while True:  # pointer jumping over removed single-child nodes
            jump = np.flatnonzero((up >= 0) & skip[np.maximum(up, 0)])
            if jump.size == 0:
                break
            via = up[jump]
            acc[jump] += acc[via]
            n_known[jump] += n_known[via]
            up[jump] = up[via]
        kept = np.flatnonzero(keep & ~skip)
        names = self.names.copy()
        if root_absorbs:  # the root takes over its only child (the top kept node)
            child = kept[-2]
            acc[child] += acc[-1]
            n_known[child] += n_known[-1]
            up[child] = -1
            kept = kept[:-1]
        new_index = np.full(n, -1, dtype=np.int64)
        new_index[kept] = np.arange(kept.size)
        parent = np.where(up[kept] >= 0, new_index[np.maximum(up[kept], 0)], -1)
        length = np.where(n_known[kept] > 0, acc[kept], np.nan)
        if np.isnan(length[-1]):
            length[-1] = 0.0
        n_root_children = int(np.count_nonzero(parent == kept.size - 1))
        return PhyloTree(parent, length, names[kept], rooted=n_root_children <= 2,
                         source=self.source)

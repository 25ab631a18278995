"""PhyloTree: a rooted phylogeny stored as flat arrays, ready for vectorised UniFrac.

Nodes are numbered in postorder (every child before its parent, the root last), so a
single reverse or forward sweep over ``parent`` propagates values up or down the tree
without recursion. Parse Newick with :func:`gutaxis.io.read_newick`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gutaxis.errors import InputError


@dataclass(frozen=True, eq=False)
class PhyloTree:
    """A rooted tree in postorder arrays.

    Parameters
    ----------
    parent
        ``parent[i]`` is the index of node ``i``'s parent; ``-1`` for the root, which
        is the last node. Every parent index is greater than its child's.
    length
        Branch length from node ``i`` to its parent (``0`` for the root; a missing length
        is ``NaN`` and is refused by the metrics that need lengths).
    names
        Node names; tips must be named, internal nodes may be ``""``.
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

    def __post_init__(self) -> None:
        parent = np.asarray(self.parent, dtype=np.int64)
        n = parent.size
        if n == 0:
            raise InputError("tree has no nodes", source=self.source)
        if parent[-1] != -1 or np.any(parent[:-1] <= np.arange(n - 1)):
            raise InputError("tree arrays are not in postorder", source=self.source,
                             expected="each parent after its children, root last")
        is_tip = np.ones(n, dtype=bool)
        is_tip[parent[:-1]] = False
        names = np.asarray(self.names, dtype=object)
        tips = {}
        for i in np.flatnonzero(is_tip):
            name = str(names[i])
            if name in tips:
                raise InputError("tree has duplicate tip names", source=self.source, found=name,
                                 expected="unique tip names")
            tips[name] = int(i)
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "length", np.asarray(self.length, dtype=np.float64))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_tip_index", tips)

    @property
    def n_nodes(self) -> int:
        return int(self.parent.size)

    @property
    def is_tip(self) -> np.ndarray:
        tips = np.ones(self.n_nodes, dtype=bool)
        tips[self.parent[:-1]] = False
        return tips

    @property
    def tip_names(self) -> list[str]:
        return list(self._tip_index)

    def tip_positions(self, names: np.ndarray | list[str]) -> np.ndarray:
        """Node index of each named tip (raises when one is missing)."""
        self.require_tips(names)
        return np.fromiter((self._tip_index[str(n)] for n in names), dtype=np.int64,
                           count=len(names))

    def require_tips(self, names: np.ndarray | list[str]) -> None:
        """Raise :class:`InputError` naming the features the tree lacks."""
        missing = [str(n) for n in names if str(n) not in self._tip_index]
        if missing:
            raise InputError(
                f"tree is missing {len(missing)} feature(s) as tips",
                source=self.source,
                found=", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""),
                expected="every feature id of the table to be a tip of the tree",
            )

"""Grouping factors of a random-intercept model: validated once, indexed once.

Both mixed models (:func:`gutaxis.stats.models.linear_mixed.fit_lmm` and
:func:`gutaxis.stats.models.logistic_mixed.fit_logistic_mixed`) take their grouping factors
as integer code arrays, refuse the same bad input with the same errors, recode the levels to
``0..G-1`` and order the factors with most levels first: the factor with most levels is
the one whose (diagonal) block both solvers eliminate through a Schur complement
(:mod:`gutaxis.stats.mixed.solve`). Both build their indicator matrices with
:func:`indicator`; :class:`RandomIntercepts` adds the cross-tabulations of factor pairs
that the logistic model's weighted blocks need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gutaxis.errors import InputError


@dataclass(frozen=True)
class GroupingFactors:
    """Validated grouping factors in the caller's order.

    Attributes
    ----------
    codes
        One ``(n,)`` int64 array per factor, levels recoded to ``0..G-1`` in sorted order
        of the caller's codes.
    levels
        ``G`` of each factor.
    """

    codes: tuple[np.ndarray, ...]
    levels: tuple[int, ...]

    @property
    def k(self) -> int:
        """Number of factors."""
        return len(self.codes)

    @property
    def order(self) -> tuple[int, ...]:
        """Caller's factor indices, most levels first (ties in the caller's order)."""
        return most_levels_first(self.levels)


def most_levels_first(levels: Sequence[int]) -> tuple[int, ...]:
    """Indices of ``levels`` sorted by decreasing level count, stable for ties."""
    return tuple(int(i) for i in np.argsort([-g for g in levels], kind="stable"))


def grouping_factors(
    groups: Sequence[np.ndarray] | np.ndarray, n: int, *, fewer_levels_than_rows: bool = False
) -> GroupingFactors:
    """Validate and recode grouping factors (each ``(n,)`` integer codes).

    Parameters
    ----------
    groups
        A sequence of code arrays (or one 1-d array): integers, booleans, or floats with
        whole values; a negative code is taken for a missing group and refused.
    n
        Number of observations.
    fewer_levels_than_rows
        Also refuse a factor with a level for every row (the linear model's residual and
        random intercept are then not separable).

    Raises
    ------
    InputError
        Naming the factor (``groups[j]``), and the row for a negative code.
    """
    if isinstance(groups, np.ndarray) and groups.ndim == 1:
        groups = [groups]
    if len(groups) == 0:
        raise InputError("no grouping factor given", field="groups", found=0,
                         expected="at least one integer code array (use a model without "
                                  "random effects otherwise)")
    codes: list[np.ndarray] = []
    levels: list[int] = []
    for j, g in enumerate(groups):
        arr = np.asarray(g)
        if arr.shape != (n,):
            raise InputError("grouping factor has the wrong length", field=f"groups[{j}]",
                             found=arr.shape, expected=f"({n},), one code per row")
        integer = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)
        whole = np.issubdtype(arr.dtype, np.floating) and bool(np.all(arr == np.round(arr)))
        if not (integer or whole):  # NaN is not whole
            raise InputError("grouping factor is not integer coded", field=f"groups[{j}]",
                             found=str(arr.dtype), expected="integer codes 0..G-1")
        if arr.size and arr.min() < 0:
            row = int(np.argmax(arr < 0))
            raise InputError("negative group code (a missing group?)", field=f"groups[{j}]",
                             row=row + 1, found=arr[row], expected="codes 0..G-1")
        uniq, inverse = np.unique(arr.astype(np.int64), return_inverse=True)
        if uniq.size < 2:
            raise InputError("grouping factor has a single level: no random intercept to fit",
                             field=f"groups[{j}]", found=f"{uniq.size} level",
                             expected="at least 2 levels")
        if fewer_levels_than_rows and uniq.size >= n:
            raise InputError("grouping factor has a level per row: no random intercept to fit",
                             field=f"groups[{j}]", found=f"{uniq.size} levels for {n} rows",
                             expected="fewer levels than observations")
        codes.append(inverse.astype(np.int64).ravel())
        levels.append(int(uniq.size))
    return GroupingFactors(tuple(codes), tuple(levels))


def indicator(codes: np.ndarray, levels: int) -> sp.csr_matrix:
    """Transposed indicator matrix ``Z'`` (levels x n) of one grouping factor."""
    n = codes.shape[0]
    return sp.csr_matrix(
        (np.ones(n), (codes, np.arange(n))), shape=(levels, n), dtype=np.float64
    )


@dataclass(frozen=True)
class RandomIntercepts:
    """The random-intercept structure shared by every feature.

    Attributes
    ----------
    codes
        One ``(n,)`` integer array per factor, levels recoded to ``0..G-1``. Factors are
        reordered so the one with most levels comes first (``order[i]`` is the caller's
        index of internal factor ``i``).
    indicators
        ``(n, G)`` sparse indicator matrix ``Z_j`` of each factor.
    crosses
        For each pair ``(a, b)`` with ``a < b``, the ``(n, G_a * G_b)`` indicator of the
        level pairs, whose weighted column sums are the blocks ``Z_a^T W Z_b``.
    """

    codes: tuple[np.ndarray, ...]
    sizes: tuple[int, ...]
    order: tuple[int, ...]
    indicators: tuple[sp.csc_matrix, ...]
    crosses: dict[tuple[int, int], sp.csc_matrix]

    @property
    def k(self) -> int:
        """Number of random-intercept factors."""
        return len(self.codes)

    @property
    def code_matrix(self) -> np.ndarray:
        """``(k, n)`` int64 codes, the layout the compiled kernel takes."""
        return np.ascontiguousarray(np.stack(self.codes).astype(np.int64))

    @property
    def offsets(self) -> np.ndarray:
        """Start of each factor's levels in the stacked random-effects vector ``u``."""
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)

    @property
    def rest_offsets(self) -> tuple[int, ...]:
        """Start of each factor ``1..k-1`` inside the dense block (factor 0 has none)."""
        return tuple(int(x) for x in np.concatenate([[0], np.cumsum(self.sizes[1:-1])])) \
            if self.k > 1 else ()


def random_intercepts(groups: Sequence[np.ndarray], n: int) -> RandomIntercepts:
    """Validate and index the grouping factors (each ``(n,)`` integer codes)."""
    factors = grouping_factors(groups, n)
    order = factors.order
    codes = [factors.codes[i].astype(np.intp) for i in order]
    sizes = [factors.levels[i] for i in order]
    rows = np.arange(n)
    ones = np.ones(n)
    indicators = tuple(indicator(c, s).T for c, s in zip(codes, sizes, strict=True))
    crosses = {}
    for a in range(len(codes)):
        for b in range(a + 1, len(codes)):
            pair = codes[a] * sizes[b] + codes[b]
            crosses[a, b] = sp.csc_matrix((ones, (rows, pair)), shape=(n, sizes[a] * sizes[b]))
    return RandomIntercepts(tuple(codes), tuple(sizes), order, indicators, crosses)

"""Grouping factors of a random-intercept model: validated once, indexed once.

Both mixed models (:func:`gutaxis.stats.models.linear_mixed.fit_lmm` and
:func:`gutaxis.stats.models.logistic_mixed.fit_logistic_mixed`) take their grouping factors
as integer code arrays, refuse the same bad input with the same errors, recode the levels to
``0..G-1`` and order the factors with most levels first: the factor with most levels is
the one whose (diagonal) block both solvers eliminate through a Schur complement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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

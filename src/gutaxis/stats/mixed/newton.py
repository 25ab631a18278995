"""Batched Newton steps with backtracking: the search of both mixed models.

The linear model searches the relative variances ``psi`` (projected at 0,
:mod:`gutaxis.stats.mixed.search`); the logistic model searches ``(theta, beta)``
(:mod:`gutaxis.stats.models.logistic_mixed`). Both take, for every response still moving at once, a
Newton step on a Hessian whose eigenvalues are made positive, and halve it until the
objective is acceptable; only the acceptance rule and the projection differ.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: ``accept(ok)``: store the state of the trials marked ``ok``.
Accept = Callable[[np.ndarray], None]

#: ``evaluate(rows, trial)``: objective values of ``rows`` (indices into the batch) at
#: ``trial``, and the :data:`Accept` callback of that evaluation.
Evaluate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, Accept]]


def modified_newton_step(
    hess: np.ndarray, grad: np.ndarray, *, rel_floor: float, abs_floor: float = 0.0,
    tiny: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``-H^{-1} g`` with ``H``'s eigenvalues replaced by ``max(|lambda|, floor)``.

    ``floor = max(rel_floor * max|lambda| + tiny, abs_floor)`` per response; a Hessian that
    is not positive definite thus still gives a descent direction. ``hess`` is
    ``(m, d, d)`` and ``grad`` ``(m, d)``. Returns the steps and whether each ``H`` was
    positive definite.
    """
    vals, vecs = np.linalg.eigh(hess)
    positive = np.all(vals > 0, axis=1)
    scale = np.abs(vals).max(axis=1, keepdims=True)
    floor = np.maximum(rel_floor * scale + tiny, abs_floor)
    vals = np.maximum(np.abs(vals), floor)
    coords = np.einsum("mdk,md->mk", vecs, grad) / vals
    return -np.einsum("mdk,mk->md", vecs, coords), positive


def backtrack(
    x: np.ndarray,
    step: np.ndarray,
    evaluate: Evaluate,
    sufficient: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    *,
    halvings: int,
    project: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Halve each response's step until ``sufficient`` accepts it; ``(m,)`` stalled mask.

    Parameters
    ----------
    x
        ``(m, d)`` current points of the responses in the batch.
    step
        ``(m, d)`` full steps.
    evaluate
        Objective at trial points of a subset of the batch (see :data:`Evaluate`).
    sufficient
        ``sufficient(pending, t, values)``: which of the ``pending`` responses accept
        their trial at step length ``t`` with objective ``values``.
    halvings
        Largest number of trials per response.
    project
        Applied to the trial points (e.g. onto ``psi >= 0``).
    """
    pending = np.arange(x.shape[0])
    t = np.ones(x.shape[0])
    for _ in range(halvings):
        if pending.size == 0:
            break
        trial = x[pending] + t[pending, None] * step[pending]
        if project is not None:
            trial = project(trial)
        values, accept = evaluate(pending, trial)
        ok = sufficient(pending, t[pending], values)
        accept(ok)
        pending = pending[~ok]
        t[pending] *= 0.5
    stalled = np.zeros(x.shape[0], dtype=bool)
    stalled[pending] = True
    return stalled

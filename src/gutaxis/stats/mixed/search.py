"""Search for the optimum of the profiled criterion, for many responses at once.

Two stages, both vectorised over responses:

1. a coarse grid in ``theta`` (the relative standard deviations): at each grid point one
   factorisation serves every response (:func:`~gutaxis.stats.mixed.reml.criterion_on_grid`);
   each response starts from its best grid point, which guards against the saddle at
   ``theta = 0`` where a derivative-free search in ``theta`` can stop;
2. projected Newton steps in ``psi = theta**2 >= 0`` with the analytic gradient and Hessian,
   a batched backtracking line search, and an active set for components at zero.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from gutaxis.stats.mixed.newton import Accept, backtrack, modified_newton_step
from gutaxis.stats.mixed.reml import (
    Evaluation,
    ResponseCross,
    SharedDesign,
    criterion_on_grid,
    evaluate,
    required,
)

PSI_MAX = 1e12
"""Largest relative variance tried; a response that runs there has no finite optimum."""


@dataclass(frozen=True)
class SearchResult:
    """Optimum of the profiled criterion per response (``psi`` in internal factor order)."""

    psi: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    reason: tuple[str, ...]


def theta_grid(k: int) -> np.ndarray:
    """Starting grid of relative standard deviations, ``(points, k)``; about 10 to 350 points."""
    per_dim = {1: np.geomspace(1 / 32, 32, 11), 2: np.geomspace(1 / 16, 8, 8),
               3: np.geomspace(1 / 8, 4, 6)}.get(k, np.array([0.25, 1.0, 4.0]))
    axis = np.concatenate([[0.0], per_dim])
    return np.array(list(itertools.product(axis, repeat=k)))


def grid_start(
    design: SharedDesign, resp: ResponseCross, *, reml: bool, max_elements: int = 4_000_000
) -> np.ndarray:
    """Best grid point (as ``psi``) of every response."""
    grid = theta_grid(design.k) ** 2
    m = resp.yty.shape[0]
    per_point = max(1, m * design.c * 2)
    step = max(1, max_elements // per_point)
    best = np.full(m, np.inf)
    start = np.ones((m, design.k))
    for lo in range(0, grid.shape[0], step):
        crit = criterion_on_grid(design, resp, grid[lo : lo + step], reml=reml)
        arg = np.argmin(crit, axis=0)
        value = crit[arg, np.arange(m)]
        better = value < best
        best[better] = value[better]
        start[better] = grid[lo + arg[better]]
    return start


def _newton_direction(
    psi: np.ndarray, grad: np.ndarray, hess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Projected Newton direction and whether the reduced Hessian is positive definite.

    Components at zero whose gradient pushes outward are held fixed. Where the Hessian
    is not positive definite its eigenvalues are replaced by their absolute values
    (floored), which keeps a descent direction.
    """
    k = psi.shape[1]
    fixed = (psi <= 0.0) & (grad >= 0.0)
    g = np.where(fixed, 0.0, grad)
    H = np.where(fixed[:, :, None] | fixed[:, None, :], 0.0, hess)
    H = H + np.eye(k)[None] * fixed[:, :, None]
    step, positive = modified_newton_step(H, g, rel_floor=1e-10, tiny=1e-300)
    step[fixed] = 0.0
    limit = 4.0 * (1.0 + psi)
    shrink = np.minimum(1.0, (limit / np.maximum(np.abs(step), 1e-300)).min(axis=1))
    return step * shrink[:, None], positive


def newton_search(
    design: SharedDesign,
    resp: ResponseCross,
    psi0: np.ndarray,
    *,
    reml: bool,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> SearchResult:
    """Projected Newton iterations from ``psi0`` until the step is below ``tol`` (relative).

    A response converges when the reduced Hessian is positive definite and the Newton step
    changes no ``psi_j`` by more than ``tol * (1 + psi_j)``.
    """
    m = psi0.shape[0]
    psi = psi0.copy()
    converged = np.zeros(m, dtype=bool)
    iterations = np.zeros(m, dtype=np.int64)
    reason = [""] * m
    ev = evaluate(design, resp, psi, reml=reml, derivatives=True)
    crit, grad, hess = ev.criterion.copy(), required(ev.grad), required(ev.hess)
    active = np.flatnonzero(np.isfinite(crit))
    for i in np.flatnonzero(~np.isfinite(crit)):
        reason[i] = "profiled criterion is not finite at the starting point"
    for _ in range(max_iter):
        if active.size == 0:
            break
        step, positive = _newton_direction(psi[active], grad[active], hess[active])
        small = np.all(np.abs(step) <= tol * (1.0 + psi[active]), axis=1) & positive
        done = active[small]
        psi[done] = np.maximum(psi[done] + step[small], 0.0)
        converged[done] = True
        active, step = active[~small], step[~small]
        iterations[active] += 1
        stalled = _line_search(design, resp, psi, crit, grad, hess, active, step, reml=reml)
        for i in stalled:
            reason[i] = "line search made no progress (flat or noisy criterion)"
        runaway = active[psi[active].max(axis=1) >= PSI_MAX]
        for i in runaway:
            reason[i] = "a variance ratio grew without bound (residual variance -> 0)"
        active = np.setdiff1d(active, np.concatenate([stalled, runaway]))
    for i in active:
        reason[i] = f"no convergence in {max_iter} Newton iterations"
    return SearchResult(psi, converged, iterations, tuple(reason))


def _line_search(
    design: SharedDesign,
    resp: ResponseCross,
    psi: np.ndarray,
    crit: np.ndarray,
    grad: np.ndarray,
    hess: np.ndarray,
    active: np.ndarray,
    step: np.ndarray,
    *,
    reml: bool,
    halvings: int = 40,
) -> np.ndarray:
    """Backtrack along ``step`` until the criterion does not increase; update in place.

    Returns the responses for which no step length was accepted.
    """

    def evaluate_at(pending: np.ndarray, trial: np.ndarray) -> tuple[np.ndarray, Accept]:
        idx = active[pending]
        ev: Evaluation = evaluate(design, resp.take(idx), trial, reml=reml, derivatives=True)

        def accept(ok: np.ndarray) -> None:
            took = idx[ok]
            psi[took] = trial[ok]
            crit[took] = ev.criterion[ok]
            grad[took] = required(ev.grad)[ok]
            hess[took] = required(ev.hess)[ok]

        return ev.criterion, accept

    def no_increase(pending: np.ndarray, t: np.ndarray, values: np.ndarray) -> np.ndarray:
        before = crit[active[pending]]
        slack = 1e-12 * np.maximum(1.0, np.abs(before))
        return np.isfinite(values) & (values <= before + slack)

    stalled = backtrack(psi[active], step, evaluate_at, no_increase, halvings=halvings,
                        project=lambda trial: np.clip(trial, 0.0, PSI_MAX))
    return active[stalled]

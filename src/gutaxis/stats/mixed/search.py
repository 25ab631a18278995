"""Search for the optimum of the profiled criterion, for many responses at once.

Two stages, both vectorised over responses:

1. a coarse grid in ``theta`` (the relative standard deviations): at each grid point one
   factorisation serves every response (:func:`~gutaxis.stats.mixed.reml.criterion_on_grid`);
   each response starts from its best grid point, which guards against the saddle at
   ``theta = 0`` where a derivative-free search in ``theta`` can stop, and again from its
   best other local minimum of the grid (a second basin), keeping the lower end point;
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


def grid_starts(
    design: SharedDesign, resp: ResponseCross, *, reml: bool, max_elements: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Two starting points (as ``psi``) per response: the best grid point, and the best
    other local minimum of the grid (a point no higher than any neighbour along the grid's
    axes and diagonals; the best point again where there is none).

    In small unbalanced designs the profiled criterion can have a second, narrow basin
    (seen: a variance at zero, 53.545, beside an interior optimum, 53.524, whose nearest
    grid point ranks below the boundary's): a Newton search from each finds both, and
    :func:`better_of` keeps the lower.
    """
    grid = theta_grid(design.k) ** 2
    m = resp.yty.shape[0]
    per_point = max(1, m * design.c * 2)
    step = max(1, max_elements // per_point)
    crit = np.concatenate([criterion_on_grid(design, resp, grid[lo : lo + step], reml=reml)
                           for lo in range(0, grid.shape[0], step)])
    crit = np.where(np.isfinite(crit), crit, np.inf)
    first = np.argmin(crit, axis=0)
    side = round(grid.shape[0] ** (1.0 / design.k))  # the grid is an axis to the power k
    cube = crit.reshape((side,) * design.k + (m,))
    padded = np.pad(cube, [(1, 1)] * design.k + [(0, 0)], constant_values=np.inf)
    in_basin = np.ones(cube.shape, dtype=bool)
    for shift in itertools.product((-1, 0, 1), repeat=design.k):
        if any(shift):
            window = (*(slice(1 + d, 1 + d + side) for d in shift), slice(None))
            in_basin &= cube <= padded[window]
    local = in_basin.reshape(grid.shape[0], m)
    local[first, np.arange(m)] = False
    other = np.where(local, crit, np.inf)
    second = np.where(np.isfinite(other.min(axis=0)), np.argmin(other, axis=0), first)
    return grid[first], grid[second]


def better_of(first: SearchResult, first_crit: np.ndarray, second: SearchResult,
              second_crit: np.ndarray) -> SearchResult:
    """Per response, the search that ended lower; ``second`` only where it is lower by more
    than ``1e-10 * (1 + |criterion|)`` (a tie keeps ``first``, bit for bit)."""
    take = np.isfinite(second_crit) & (
        ~np.isfinite(first_crit)
        | (second_crit < first_crit - 1e-10 * (1.0 + np.abs(first_crit))))
    return SearchResult(
        psi=np.where(take[:, None], second.psi, first.psi),
        converged=np.where(take, second.converged, first.converged),
        iterations=np.where(take, second.iterations, first.iterations),
        reason=tuple(b if t else a for a, b, t in zip(first.reason, second.reason, take,
                                                      strict=True)),
    )


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

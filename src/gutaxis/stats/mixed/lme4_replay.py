"""lme4's default optimiser on the profiled criterion: a compatibility mode of :func:`fit_lmm`.

``lme4::lmer`` (and so MaAsLin 2 and ``lmerTest``) minimises the profiled REML criterion in
the relative standard deviations ``theta`` with ``nloptwrap``: NLopt's BOBYQA started at a
moment estimate of ``theta`` (:func:`lme4_start`) and stopped as soon as the criterion
changes by less than ``1e-8`` (absolute) or ``theta`` by less than ``1e-4`` (relative,
nloptr's default) or ``1e-8`` (absolute).
That point lies up to ~1e-5 (relative) short of the optimum in flat directions, and every
downstream number (coefficients, standard errors, Satterthwaite df, p-values) carries the
difference. :func:`lme4_search` replays that optimiser, with the same start, bounds,
tolerances and lme4's two boundary rules, on the criterion evaluated by
:func:`gutaxis.stats.mixed.reml.evaluate`, so results can be compared with published lme4
output row by row.

This is a per-response loop of a derivative-free search (a few dozen criterion evaluations
per response, each a small batched evaluation): it is for reproducing lme4 only. The default
``optimizer="newton"`` of :func:`gutaxis.stats.models.linear_mixed.fit_lmm` is vectorised
over responses, faster, and converges to the exact optimum.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import nlopt
import numpy as np

from gutaxis.stats.mixed.reml import ResponseCross, SharedDesign, evaluate
from gutaxis.stats.mixed.search import SearchResult

XTOL_ABS = 1e-8
"""``nloptwrap``'s absolute tolerance on ``theta``."""

FTOL_ABS = 1e-8
"""``nloptwrap``'s absolute tolerance on the criterion."""

XTOL_REL = 1e-4
"""nloptr's default relative tolerance on ``theta`` (``nloptwrap`` does not override it)."""

MAXEVAL = 100_000
"""``nloptwrap``'s evaluation budget."""

BOUNDARY_TOL = 1e-5
"""``lmerControl(boundary.tol)``: ``theta`` components this close to 0 are tried at 0."""

EDGE_STEP = 1e-5
"""Step of the one-sided difference with which ``restart_edge`` probes a component at 0."""


def lme4_theta_order(levels: list[int]) -> list[int]:
    """Caller's factor indices in lme4's ``theta`` order.

    ``lme4::mkReTrms`` keeps the formula's term order unless some term has more levels than
    the one before it; then it orders the terms by ``rev(order(levels))`` (most levels first,
    ties in reverse of their formula order).
    """
    if not any(b > a for a, b in itertools.pairwise(levels)):
        return list(range(len(levels)))
    ascending = sorted(range(len(levels)), key=lambda j: levels[j])  # stable, as R's order()
    return ascending[::-1]


def _lme4_to_internal(design: SharedDesign) -> np.ndarray:
    """Index array ``perm`` with ``theta_internal = theta_lme4[perm]``."""
    internal_levels = [design.za_t.shape[0]] + [s.stop - s.start for s in design.slices]
    levels = [0] * design.k
    for pos, j in enumerate(design.order):
        levels[j] = internal_levels[pos]
    lme4_order = lme4_theta_order(levels)
    position = {j: i for i, j in enumerate(lme4_order)}
    return np.array([position[j] for j in design.order])


def lme4_start(design: SharedDesign, Y: np.ndarray) -> np.ndarray:
    """lme4's starting ``theta`` (internal factor order) for each column of the raw ``Y``.

    ``lme4::mkLmerDevfun``, for random intercepts on distinct factors, starts at
    ``theta_j = sqrt(v_j / v_e)`` with ``v_j`` the variance of the observations replaced by
    their factor-``j`` group means and ``v_e = var(y) - sum_j v_j``; at ``theta = 1`` when
    ``v_e <= 0``.
    """
    indicators = [design.za_t] + [design.zr_t[sl] for sl in design.slices]
    centred = Y - Y.mean(axis=0)
    total = np.einsum("ij,ij->j", centred, centred)
    v = np.empty((Y.shape[1], design.k))
    for j, zt in enumerate(indicators):
        counts = np.asarray(zt.sum(axis=1)).ravel()
        sums = np.asarray(zt @ centred)
        v[:, j] = (sums**2 / counts[:, None]).sum(axis=0)  # sum over n of squared group means
    v_e = total - v.sum(axis=1)
    start = np.ones_like(v)
    good = v_e > 0
    start[good] = np.sqrt(v[good] / v_e[good, None])
    return start


def _bobyqa(fun: Callable[[np.ndarray], float], x0: np.ndarray) -> tuple[np.ndarray, float, int]:
    """One ``nloptwrap`` call: BOBYQA from ``x0`` with lme4's bounds and tolerances."""
    k = x0.size
    opt = nlopt.opt(nlopt.LN_BOBYQA, k)
    opt.set_min_objective(lambda x, grad: fun(x))
    opt.set_lower_bounds(np.zeros(k))
    opt.set_upper_bounds(np.full(k, np.inf))
    opt.set_xtol_abs(XTOL_ABS)
    opt.set_ftol_abs(FTOL_ABS)
    opt.set_xtol_rel(XTOL_REL)
    opt.set_maxeval(MAXEVAL)
    try:
        x = opt.optimize(x0.copy())
    except (nlopt.RoundoffLimited, RuntimeError, ValueError):
        return x0.copy(), np.inf, nlopt.FAILURE
    value = float(opt.last_optimum_value())
    return np.asarray(x, dtype=np.float64), value, opt.last_optimize_result()


def lme4_search(
    design: SharedDesign, resp: ResponseCross, Y: np.ndarray, *, reml: bool, offset: float = 0.0
) -> SearchResult:
    """lme4's default stopping point of the profiled criterion, response by response.

    Parameters
    ----------
    design, resp
        Shared and per-response cross-products (:mod:`gutaxis.stats.mixed.reml`).
    Y
        The raw responses ``(n, m)`` (lme4's starting values use them, see
        :func:`lme4_start`).
    reml
        REML criterion (``True``) or ML deviance.
    offset
        Added to the criterion so that it equals lme4's (``2 sum log s_i`` when the
        columns of ``X`` were divided by ``s_i``): BOBYQA's path depends on rounding.

    Returns
    -------
    SearchResult
        ``psi = theta**2`` in internal factor order; ``iterations`` counts criterion
        evaluations; ``converged`` is False where NLopt reported failure or ran out of
        evaluations (as ``nloptwrap``'s convergence code).

    Notes
    -----
    As ``lme4:::optimizeLmer`` with ``lmerControl()`` defaults:

    1. BOBYQA (Powell 2009, NLopt's implementation) from :func:`lme4_start` with
       ``theta >= 0``,
       ``xtol_abs = ftol_abs = 1e-8``, ``xtol_rel = 1e-4``, ``maxeval = 1e5``;
    2. ``restart_edge``: if some ``theta_i`` ended exactly at 0 and a forward difference
       ``(d(theta + 1e-5 e_i) - d(theta)) / 1e-5`` is negative, BOBYQA is run again from the
       end point;
    3. ``boundary.tol = 1e-5``: each ``theta_i`` in ``(0, 1e-5)`` is set to 0, in turn, if that
       lowers the criterion below the optimiser's reported value.

    The criterion differs from lme4's by a constant (the fixed effects are scaled), which
    leaves the search path unchanged up to rounding.

    References
    ----------
    .. [1] Powell MJD (2009). The BOBYQA algorithm for bound constrained optimization without
       derivatives. Report DAMTP 2009/NA06, University of Cambridge.
    .. [2] Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
       using lme4. Journal of Statistical Software 67(1). doi:10.18637/jss.v067.i01
    """
    m, k = resp.yty.shape[0], design.k
    perm = _lme4_to_internal(design)
    psi = np.full((m, k), np.nan)
    converged = np.zeros(m, dtype=bool)
    evaluations = np.zeros(m, dtype=np.int64)
    reason = [""] * m
    inverse = np.argsort(perm)
    x0 = lme4_start(design, Y)[:, inverse]
    for j in range(m):
        one = resp.take(np.array([j]))
        count = [0]

        def deviance(
            theta: np.ndarray, one: ResponseCross = one, count: list[int] = count
        ) -> float:
            count[0] += 1
            point = (np.asarray(theta, dtype=np.float64)[perm] ** 2)[None, :]
            value = float(evaluate(design, one, point, reml=reml).criterion[0]) + offset
            return value if np.isfinite(value) else np.inf

        theta, fval, status = _bobyqa(deviance, x0[j])
        at_zero = np.flatnonzero(theta == 0.0)
        if at_zero.size and np.isfinite(fval):
            d0 = deviance(theta)
            slopes = []
            for i in at_zero:
                probe = theta.copy()
                probe[i] = EDGE_STEP
                slopes.append((deviance(probe) - d0) / EDGE_STEP)
            if min(slopes) < 0:
                theta, fval, status = _bobyqa(deviance, theta)
        for i in np.flatnonzero((theta > 0.0) & (theta < BOUNDARY_TOL)):
            trial = theta.copy()
            trial[i] = 0.0
            if deviance(trial) < fval:
                theta = trial
        psi[j] = theta[perm] ** 2
        evaluations[j] = count[0]
        converged[j] = status > 0 and status != nlopt.MAXEVAL_REACHED and np.isfinite(fval)
        if not converged[j]:
            reason[j] = f"lme4-compatible BOBYQA did not converge (NLopt status {status})"
    return SearchResult(psi, converged, evaluations, tuple(reason))

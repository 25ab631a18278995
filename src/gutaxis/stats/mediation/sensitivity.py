"""Sensitivity of ACME to mediator-outcome confounding (Imai, Keele & Yamamoto 2010)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from gutaxis.errors import InputError
from gutaxis.stats.mediation.data import mediation_data
from gutaxis.stats.mediation.effects import mediator_design, outcome_design
from gutaxis.stats.mediation.results import SensitivityResults

#: Iterations of the feasible GLS fixed point (``medsens`` stops at a change below eps).
MAX_ITERATIONS = 500


def _sur_fits(X_m: np.ndarray, m: np.ndarray, X_y: np.ndarray, y: np.ndarray,
              rho: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Iterated seemingly-unrelated-regression fits with the error correlation fixed at
    each ``rho``: coefficients ``(G, p_m + p_y)`` and their covariances ``(G, p, p)``."""
    n, pm = X_m.shape
    blocks = {(1, 1): X_m.T @ X_m, (1, 2): X_m.T @ X_y, (2, 2): X_y.T @ X_y}
    rhs = {(1, 1): X_m.T @ m, (1, 2): X_m.T @ y, (2, 1): X_y.T @ m, (2, 2): X_y.T @ y}
    start = np.concatenate([np.linalg.lstsq(X_m, m, rcond=None)[0],
                            np.linalg.lstsq(X_y, y, rcond=None)[0]])
    coef = np.tile(start, (rho.size, 1))
    cov = np.zeros((rho.size, coef.shape[1], coef.shape[1]))
    active = np.ones(rho.size, dtype=bool)
    for _ in range(MAX_ITERATIONS):
        e1 = m[None, :] - coef[:, :pm] @ X_m.T
        e2 = y[None, :] - coef[:, pm:] @ X_y.T
        s11 = np.sum(e1**2, axis=1) / (n - 1)
        s22 = np.sum(e2**2, axis=1) / (n - 1)
        s12 = rho * np.std(e1, axis=1, ddof=1) * np.std(e2, axis=1, ddof=1)
        det = s11 * s22 - s12**2
        w11, w22, w12 = s22 / det, s11 / det, -s12 / det
        top = np.concatenate([w11[:, None, None] * blocks[1, 1],
                              w12[:, None, None] * blocks[1, 2]], axis=2)
        bottom = np.concatenate([w12[:, None, None] * blocks[1, 2].T,
                                 w22[:, None, None] * blocks[2, 2]], axis=2)
        info = np.concatenate([top, bottom], axis=1)
        right = np.concatenate([w11[:, None] * rhs[1, 1] + w12[:, None] * rhs[1, 2],
                                w12[:, None] * rhs[2, 1] + w22[:, None] * rhs[2, 2]], axis=1)
        inv = np.linalg.inv(info)
        new = np.einsum("gpq,gq->gp", inv, right)
        change = np.sum((new - coef) ** 2, axis=1)
        coef = np.where(active[:, None], new, coef)
        cov = np.where(active[:, None, None], inv, cov)
        active &= change > eps
        if not active.any():
            break
    return coef, cov


def _rho_at_zero(rho: np.ndarray, acme: np.ndarray) -> float:
    sign = np.sign(acme)
    cross = np.flatnonzero(sign[:-1] * sign[1:] <= 0)
    if cross.size == 0:
        return float("nan")
    i = cross[np.argmin(np.abs(acme[cross]))]
    if acme[i] == acme[i + 1]:
        return float(rho[i])
    return float(rho[i] - acme[i] * (rho[i + 1] - rho[i]) / (acme[i + 1] - acme[i]))


def mediation_sensitivity(metadata: pd.DataFrame, *, exposure: str, mediator: str,
                          outcome: str, covariates: Sequence[str] = (),
                          treated: str | None = None,
                          outcome_codes: Mapping[str, float] | None = None,
                          rho_step: float = 0.01, level: float = 0.95,
                          eps: float = float(np.sqrt(np.finfo(float).eps)),
                          source: str | None = None) -> SensitivityResults:
    """ACME as a function of the correlation rho between the mediator's and the
    outcome's errors (R ``medsens``, continuous mediator and outcome).

    Parameters
    ----------
    metadata
        One row per sample.
    exposure, mediator, outcome, covariates
        Column names, as :func:`gutaxis.stats.mediation.mediate`.
    treated
        Treated level of a two-level exposure.
    outcome_codes
        Numbers for an outcome given as labels.
    rho_step
        Grid step: rho runs from ``-1 + rho_step`` to ``1 - rho_step``.
    level
        Confidence level of the normal-theory intervals.
    eps
        Convergence tolerance of the iterated GLS (``medsens``'s ``eps``).
    source
        The metadata file, named in errors.

    Returns
    -------
    SensitivityResults

    Notes
    -----
    Sequential ignorability implies rho = 0. For each rho the two equations (mediator
    model; outcome model with the mediator) are fitted jointly by iterated feasible GLS
    with the error correlation fixed at rho, as ``medsens`` does, and
    ACME(rho) = a(rho) b(rho) with the delta-method variance
    :math:`a^2 V_b + b^2 V_a`. In closed form (Imai, Keele & Yamamoto 2010, Prop. 2)
    :math:`\\mathrm{ACME}(\\rho) = \\frac{\\beta_2\\sigma_1}{\\sigma_2}\\{\\tilde\\rho -
    \\rho\\sqrt{(1-\\tilde\\rho^2)/(1-\\rho^2)}\\}`, which vanishes at
    :math:`\\rho = \\tilde\\rho`, the correlation of the mediator's residuals with those
    of the outcome model without the mediator (``rho_tilde``). ``rho_at_zero`` is
    interpolated between grid points (``medsens`` reports the nearest grid point).

    References
    ----------
    Imai K, Keele L, Yamamoto T (2010). Identification, inference and sensitivity analysis
    for causal mediation effects. Statistical Science 25:51-71.
    """
    if not 0 < rho_step < 0.5:
        raise InputError("rho step out of range", field="rho_step", found=rho_step,
                         expected="a number in (0, 0.5)")
    data = mediation_data(metadata, exposure=exposure, mediators=[mediator], outcome=outcome,
                          covariates=covariates, treated=treated, outcome_codes=outcome_codes,
                          outcome_type="continuous", mediator_type="continuous",
                          source=source)
    X_m, X_y = mediator_design(data, 0, serial=False), outcome_design(data)
    m, y = data.mediators[:, 0], data.outcome
    count = round((2 - 2 * rho_step) / rho_step) + 1
    rho = np.round(-1 + rho_step + rho_step * np.arange(count), 10)
    coef, cov = _sur_fits(X_m, m, X_y, y, rho, eps)
    pm = X_m.shape[1]
    a, b = coef[:, 1], coef[:, pm + 2]
    var = a**2 * cov[:, pm + 2, pm + 2] + b**2 * cov[:, 1, 1]
    dt = data.treated - data.control
    acme = a * b * dt
    half = norm.ppf((1 + level) / 2) * np.sqrt(var) * abs(dt)
    reduced = np.delete(X_y, 2, axis=1)
    e_m = m - X_m @ np.linalg.lstsq(X_m, m, rcond=None)[0]
    e_y = y - reduced @ np.linalg.lstsq(reduced, y, rcond=None)[0]
    grid = pd.DataFrame({"rho": rho, "acme": acme, "ci_low": acme - half,
                         "ci_high": acme + half})
    return SensitivityResults(grid=grid, rho_at_zero=_rho_at_zero(rho, acme),
                              rho_tilde=float(np.corrcoef(e_m, e_y)[0, 1]), level=level)

"""Causal mediation effects from fitted (or resampled, or simulated) coefficients.

Models, with exposure ``T``, mediators ``M_1..M_k`` and covariates ``C``::

    M_j ~ 1 + T (+ M_1 .. M_{j-1} for a serial chain) + C      (linear or logistic)
    Y   ~ 1 + T + M_1 .. M_k + C                                 (linear or logistic)

Every function takes coefficient arrays with a leading replicate axis ``R`` (1 for the
point estimate, the bootstrap replicates, or the quasi-Bayesian draws) and returns one
``(R,)`` array per effect, so the intervals need no loop over replicates.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from gutaxis.stats.mediation.data import MediationData

#: Gauss-Hermite nodes for the expectation of a logistic outcome over a normal mediator.
HERMITE_NODES = 40
#: Replicates per chunk of the (R, n, nodes) quadrature array.
QUADRATURE_CHUNK = 200

#: The effects of every analysis, in the order of ``effects.tsv``.
BASE_EFFECTS = ("acme_control", "acme_treated", "acme", "ade_control", "ade_treated", "ade",
                "total", "prop_mediated_control", "prop_mediated_treated", "prop_mediated")


@dataclass(frozen=True)
class Coefficients:
    """Coefficients of the mediator and outcome models, one row per replicate.

    Attributes
    ----------
    mediators
        One ``(R, p_j)`` array per mediator model (columns: intercept, T, earlier
        mediators in a serial chain, covariates).
    outcome
        ``(R, 2 + k + q)`` (intercept, T, mediators, covariates).
    sigma
        ``(R, k)`` residual standard deviations of the linear mediator models.
    """

    mediators: tuple[np.ndarray, ...]
    outcome: np.ndarray
    sigma: np.ndarray


def mediator_design(data: MediationData, j: int, *, serial: bool) -> np.ndarray:
    """Design of mediator ``j``'s model: ``[1, T, M_<j (serial), C]``."""
    earlier = data.mediators[:, :j] if serial else np.empty((data.n, 0))
    return np.column_stack([np.ones(data.n), data.exposure, earlier, data.covariates])


def outcome_design(data: MediationData) -> np.ndarray:
    """Design of the outcome model: ``[1, T, M_1..M_k, C]``."""
    return np.column_stack([np.ones(data.n), data.exposure, data.mediators, data.covariates])


def path_names(names: tuple[str, ...], *, serial: bool) -> list[tuple[int, ...]]:
    """The indirect paths: each mediator alone, and for a chain every increasing sequence."""
    k = len(names)
    if not serial:
        return [(j,) for j in range(k)]
    return [combo for r in range(1, k + 1) for combo in itertools.combinations(range(k), r)]


def path_label(path: tuple[int, ...], names: tuple[str, ...]) -> str:
    """``acme[m1]`` or ``acme[m1>m2]``."""
    return "acme[" + ">".join(names[j] for j in path) + "]"


def _with_proportions(effects: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    total = effects["total"]
    with np.errstate(divide="ignore", invalid="ignore"):
        n0 = effects["acme_control"] / total
        n1 = effects["acme_treated"] / total
    effects["prop_mediated_control"] = n0
    effects["prop_mediated_treated"] = n1
    effects["prop_mediated"] = (n0 + n1) / 2
    return effects


def linear_effects(coef: Coefficients, data: MediationData, *, serial: bool
                   ) -> dict[str, np.ndarray]:
    """Effects of linear mediators and a linear outcome: products of path coefficients.

    Notes
    -----
    With ``a_j`` the coefficient of ``T`` in mediator ``j``'s model, ``d_{jl}`` that of
    ``M_l`` in mediator ``j``'s model (serial chains), ``b_j`` that of ``M_j`` and ``c'``
    that of ``T`` in the outcome model, the indirect effect along the path
    ``T -> M_{s_1} -> ... -> M_{s_r} -> Y`` is
    :math:`(t_1 - t_0)\\, a_{s_1} d_{s_2 s_1} \\cdots d_{s_r s_{r-1}} b_{s_r}`;
    ACME is the sum over paths, ADE :math:`(t_1 - t_0) c'`, and without an
    exposure-mediator interaction ACME(0) = ACME(1) and ADE(0) = ADE(1) (Imai, Keele &
    Tingley 2010; Hayes 2013 for serial chains).
    """
    k = len(data.mediator_names)
    dt = data.treated - data.control
    b = coef.outcome[:, 2:2 + k]
    effects: dict[str, np.ndarray] = {}
    paths: dict[str, np.ndarray] = {}
    for path in path_names(data.mediator_names, serial=serial):
        value = coef.mediators[path[0]][:, 1].copy()
        for prev, nxt in itertools.pairwise(path):
            value = value * coef.mediators[nxt][:, 2 + prev]
        paths[path_label(path, data.mediator_names)] = dt * value * b[:, path[-1]]
    acme = np.sum(list(paths.values()), axis=0)
    ade = dt * coef.outcome[:, 1]
    for t in ("control", "treated"):
        effects[f"acme_{t}"] = acme
        effects[f"ade_{t}"] = ade
    effects["acme"], effects["ade"], effects["total"] = acme, ade, acme + ade
    effects = _with_proportions(effects)
    ordered = {name: effects[name] for name in BASE_EFFECTS}
    if k > 1:
        ordered.update(paths)
    return ordered


def _outcome_mean(eta: np.ndarray, *, binary: bool) -> np.ndarray:
    return expit(eta) if binary else eta


def _expected_outcome(coef: Coefficients, data: MediationData, t_y: float, t_m: float
                      ) -> np.ndarray:
    """:math:`Q(t_y, t_m) = n^{-1}\\sum_i E[E(Y | T=t_y, M, C_i) | M \\sim M_i(t_m)]`.

    ``(R,)``. The inner expectation over the mediator's distribution is exact for a
    linear outcome and a binary mediator, and by Gauss-Hermite quadrature for a logistic
    outcome over a normal mediator.
    """
    theta_m, theta_y = coef.mediators[0], coef.outcome
    C = data.covariates
    mu = theta_m[:, :1] + theta_m[:, 1:2] * t_m + theta_m[:, 2:] @ C.T          # (R, n)
    base = theta_y[:, :1] + theta_y[:, 1:2] * t_y + theta_y[:, 3:] @ C.T        # (R, n)
    b = theta_y[:, 2:3]
    if data.binary_mediators[0]:
        p1 = expit(mu)
        y1 = _outcome_mean(base + b, binary=data.binary_outcome)
        y0 = _outcome_mean(base, binary=data.binary_outcome)
        return np.mean(p1 * y1 + (1.0 - p1) * y0, axis=1)
    if not data.binary_outcome:
        return np.mean(base + b * mu, axis=1)
    nodes, weights = np.polynomial.hermite.hermgauss(HERMITE_NODES)
    weights = weights / np.sqrt(np.pi)
    out = np.empty(mu.shape[0])
    for start in range(0, mu.shape[0], QUADRATURE_CHUNK):
        part = slice(start, start + QUADRATURE_CHUNK)
        shift = np.sqrt(2.0) * coef.sigma[part, :1, None] * nodes        # (r, 1, K)
        eta = (base[part] + b[part] * mu[part])[:, :, None] + b[part, :, None] * shift
        out[part] = np.mean(expit(eta) @ weights, axis=1)
    return out


def counterfactual_effects(coef: Coefficients, data: MediationData) -> dict[str, np.ndarray]:
    """Effects of one mediator when the mediator or the outcome is binary (logistic).

    Notes
    -----
    As R ``mediation`` defines them (Imai, Keele & Tingley 2010), with
    :math:`Q(t, t')` the mean over samples of the expected outcome when the exposure is
    ``t`` and the mediator is drawn from its distribution under ``t'``, on the
    probability scale for a logistic outcome:
    ACME(t) = Q(t, t_1) - Q(t, t_0), ADE(t) = Q(t_1, t) - Q(t_0, t),
    total = Q(t_1, t_1) - Q(t_0, t_0) = (ACME(0) + ACME(1) + ADE(0) + ADE(1)) / 2,
    prop. mediated(t) = ACME(t) / total, the averages over ``t`` = 0, 1. R
    ``mediation`` integrates over the mediator by simulation; here it is exact (binary
    mediator) or by 40-node Gauss-Hermite quadrature (normal mediator).
    """
    t0, t1 = data.control, data.treated
    q = {(a, b): _expected_outcome(coef, data, a, b) for a in (t0, t1) for b in (t0, t1)}
    effects = {
        "acme_control": q[t0, t1] - q[t0, t0],
        "acme_treated": q[t1, t1] - q[t1, t0],
        "ade_control": q[t1, t0] - q[t0, t0],
        "ade_treated": q[t1, t1] - q[t0, t1],
    }
    effects["acme"] = (effects["acme_control"] + effects["acme_treated"]) / 2
    effects["ade"] = (effects["ade_control"] + effects["ade_treated"]) / 2
    effects["total"] = q[t1, t1] - q[t0, t0]
    effects = _with_proportions(effects)
    return {name: effects[name] for name in BASE_EFFECTS}


def all_effects(coef: Coefficients, data: MediationData, *, serial: bool
                ) -> dict[str, np.ndarray]:
    """The effects of the analysis: path products when every model is linear, else the
    counterfactual definitions (single mediator)."""
    if data.binary_outcome or any(data.binary_mediators):
        return counterfactual_effects(coef, data)
    return linear_effects(coef, data, serial=serial)

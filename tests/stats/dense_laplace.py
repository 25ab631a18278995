"""A dense Laplace deviance of the logistic mixed model, independent of the compiled kernel
(not a test module): Newton for the modes ``u``, ``slogdet`` for ``log det M``."""

from __future__ import annotations

import numpy as np
from scipy import special


def dense_laplace(y: np.ndarray, X: np.ndarray, Zs: list[np.ndarray], theta: np.ndarray,
                  beta: np.ndarray, *, weight: float = 1.0) -> float:
    """``2 w sum[log(1 + e^eta) - y eta] + |u*|^2 + log det(I + L Z^T W Z L)`` at the mode
    ``u*``, for outcomes (or augmented proportions) ``y`` of prior weight ``weight``."""
    ZL = np.hstack([t * Z for t, Z in zip(theta, Zs, strict=True)])
    u = np.zeros(ZL.shape[1])
    for _ in range(200):
        mu = special.expit(X @ beta + ZL @ u)
        M = np.eye(u.size) + ZL.T @ ((weight * mu * (1 - mu))[:, None] * ZL)
        du = np.linalg.solve(M, ZL.T @ (weight * (y - mu)) - u)
        u += du
        if np.abs(du).max() < 1e-14:
            break
    eta = X @ beta + ZL @ u
    mu = special.expit(eta)
    M = np.eye(u.size) + ZL.T @ ((weight * mu * (1 - mu))[:, None] * ZL)
    return float(2 * weight * np.sum(np.logaddexp(0, eta) - y * eta) + u @ u
                 + np.linalg.slogdet(M)[1])


def dense_laplace_gradient(y: np.ndarray, X: np.ndarray, Zs: list[np.ndarray],
                           phi: np.ndarray, *, weight: float = 1.0,
                           step: float = 1e-5) -> np.ndarray:
    """Central differences of :func:`dense_laplace` in ``phi = (theta, beta)``."""
    k = len(Zs)
    out = np.empty(phi.size)
    for c in range(phi.size):
        e = np.zeros(phi.size)
        e[c] = step
        up, down = phi + e, phi - e
        out[c] = (dense_laplace(y, X, Zs, up[:k], up[k:], weight=weight)
                  - dense_laplace(y, X, Zs, down[:k], down[k:], weight=weight)) / (2 * step)
    return out

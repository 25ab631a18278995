"""Regressions refitted under many row weightings at once (bootstrap, jackknife).

A bootstrap replicate is a vector of row counts and a jackknife replicate a vector with
one zero, so every refit of a model is a weighted fit on the same rows: the weighted
normal equations of all replicates are formed with one ``einsum`` and solved as a batch;
no Python loop runs per replicate.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

#: Newton iterations of the batched logistic fit (it stops earlier when all converged).
MAX_NEWTON = 50
#: Largest change of any coefficient under which a logistic fit counts as converged.
NEWTON_TOL = 1e-10


def gram_inverse(weights: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(X^T W_r X)^+`` for every replicate ``r``: ``(R, p, p)``.

    The pseudo-inverse keeps a replicate whose design lost rank (a covariate level
    absent from a bootstrap sample) finite; its effects are those of the minimum-norm fit.
    """
    gram = np.einsum("rn,np,nq->rpq", weights, X, X, optimize=True)
    return np.linalg.pinv(gram, hermitian=True)


def weighted_ols(weights: np.ndarray, X: np.ndarray, Y: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and residual standard deviations of ``Y[:, k] ~ X`` per replicate.

    Parameters
    ----------
    weights
        ``(R, n)`` row weights (counts) of the replicates.
    X
        ``(n, p)`` design, the same for every response.
    Y
        ``(n, k)`` responses.

    Returns
    -------
    coef, sigma
        ``(R, p, k)`` and ``(R, k)``; ``sigma`` is
        :math:`\\sqrt{\\sum_i w_i e_i^2 / (\\sum_i w_i - p)}`, as ``lm`` on the
        resampled rows.
    """
    inv = gram_inverse(weights, X)
    cross = np.einsum("rn,np,nk->rpk", weights, X, Y, optimize=True)
    coef = inv @ cross
    resid = Y[None, :, :] - np.einsum("np,rpk->rnk", X, coef, optimize=True)
    rss = np.einsum("rn,rnk->rk", weights, resid**2)
    dof = np.maximum(weights.sum(axis=1) - X.shape[1], 1.0)
    return coef, np.sqrt(rss / dof[:, None])


def weighted_logistic(weights: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logistic coefficients of ``y ~ X`` per replicate: ``(R, p)``.

    Newton-Raphson on all replicates together; a replicate that does not converge
    (separation in a bootstrap sample) is left ``NaN`` and drops out of the interval.
    """
    R, p = weights.shape[0], X.shape[1]
    coef = np.zeros((R, p))
    done = np.zeros(R, dtype=bool)
    for _ in range(MAX_NEWTON):
        mu = expit(coef @ X.T)
        score = np.einsum("rn,np->rp", weights * (y[None, :] - mu), X)
        info = np.einsum("rn,np,nq->rpq", weights * mu * (1.0 - mu), X, X, optimize=True)
        step = np.einsum("rpq,rq->rp", np.linalg.pinv(info, hermitian=True), score)
        coef = coef + step
        done = np.max(np.abs(step), axis=1) < NEWTON_TOL
        if done.all():
            break
    coef[~done | ~np.isfinite(coef).all(axis=1)] = np.nan
    return coef


def logistic_covariance(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Inverse Fisher information of a logistic fit (R's ``vcov`` of a binomial glm)."""
    mu = expit(X @ coef)
    return np.asarray(np.linalg.inv((X * (mu * (1.0 - mu))[:, None]).T @ X))


def ols_covariance(X: np.ndarray, sigma: float) -> np.ndarray:
    """``sigma^2 (X^T X)^{-1}`` (R's ``vcov`` of ``lm``)."""
    return np.asarray(sigma**2 * np.linalg.inv(X.T @ X))

"""Compiled kernel: PIRLS, Laplace deviance and its exact gradient, one feature per thread.

The hot path of :func:`gutaxis.stats.models.logistic_mixed.fit_logistic_mixed`. For random
intercepts ``M = I + Lambda Z^T W Z Lambda`` has a diagonal block ``D`` for factor 0
(the one with most levels) and a small dense block for the others; everything is
solved through the Schur complement ``S = C - B^T D^{-1} B``, by the compiled
per-response form of :mod:`gutaxis.stats.mixed.solve` (whose batched form serves the
same system outside the hot path). Each feature is independent, so features run in
parallel (``prange``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from gutaxis.stats.mixed.solve import schur_complement_one, schur_solve_one


@njit(cache=True)
def _softplus(x: float) -> float:
    if x > 0:
        return x + np.log1p(np.exp(-x))
    return np.log1p(np.exp(x))


@njit(cache=True)
def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def _linear_predictor(offset, theta, u, codes, offs, eta):  # type: ignore[no-untyped-def]
    n = offset.shape[0]
    k = theta.shape[0]
    for i in range(n):
        s = offset[i]
        for j in range(k):
            s += theta[j] * u[offs[j] + codes[j, i]]
        eta[i] = s


@njit(cache=True)
def _penalised(eta, yt, weight, u):  # type: ignore[no-untyped-def]
    s = 0.0
    for i in range(eta.shape[0]):
        s += _softplus(eta[i]) - yt[i] * eta[i]
    return 2.0 * weight * s + np.dot(u, u)


@njit(cache=True)
def _factor(W, theta, codes, offs, g0, gs):  # type: ignore[no-untyped-def]
    """Blocks of M: D (g0), F = D^{-1} B (g0, gs), S^{-1} (gs, gs), log det M."""
    k = theta.shape[0]
    D = np.ones(g0)
    B = np.zeros((g0, gs))
    C = np.eye(gs)
    for i in range(W.shape[0]):
        w = W[i]
        a = codes[0, i]
        D[a] += theta[0] * theta[0] * w
        for j in range(1, k):
            h = offs[j] - g0 + codes[j, i]
            B[a, h] += theta[0] * theta[j] * w
            C[h, h] += theta[j] * theta[j] * w
            for b in range(j + 1, k):
                h2 = offs[b] - g0 + codes[b, i]
                C[h, h2] += theta[j] * theta[b] * w
                C[h2, h] += theta[j] * theta[b] * w
    F, Sinv, logdet = schur_complement_one(D, B, C)
    return D, F, Sinv, logdet


@njit(cache=True)
def _lambda_zt(vec, theta, codes, offs, q):  # type: ignore[no-untyped-def]
    out = np.zeros(q)
    k = theta.shape[0]
    for i in range(vec.shape[0]):
        for j in range(k):
            out[offs[j] + codes[j, i]] += theta[j] * vec[i]
    return out


@njit(cache=True)
def _pirls_one(offset, yt, weight, theta, u, codes, offs, g0, gs, tol, max_iter):  # type: ignore[no-untyped-def]
    n = offset.shape[0]
    q = u.shape[0]
    eta = np.empty(n)
    _linear_predictor(offset, theta, u, codes, offs, eta)
    pdev = _penalised(eta, yt, weight, u)
    mu = np.empty(n)
    W = np.empty(n)
    res = np.empty(n)
    new_eta = np.empty(n)
    for _ in range(max_iter):
        for i in range(n):
            mu[i] = _expit(eta[i])
            W[i] = weight * mu[i] * (1.0 - mu[i])
            res[i] = weight * (yt[i] - mu[i])
        D, F, Sinv, _ld = _factor(W, theta, codes, offs, g0, gs)
        score = _lambda_zt(res, theta, codes, offs, q) - u
        step = schur_solve_one(D, F, Sinv, score)
        decrement = np.dot(step, score)
        if decrement <= tol * max(pdev, 1.0):
            u = u + step
            _linear_predictor(offset, theta, u, codes, offs, eta)
            break
        t = 1.0
        new_u = u
        new_pdev = pdev
        for _h in range(30):
            new_u = u + t * step
            _linear_predictor(offset, theta, new_u, codes, offs, new_eta)
            new_pdev = _penalised(new_eta, yt, weight, new_u)
            if new_pdev <= pdev + 1e-10 * abs(pdev):
                break
            t *= 0.5
        u = new_u
        eta[:] = new_eta
        pdev = new_pdev
    return u, eta


@njit(cache=True, parallel=True)
def laplace_batch(X, Y, Yt, weight, aug, codes, offs, g0, gs, theta, beta, u0,
                  want_grad, w_obj, tol=1e-15, max_iter=60):  # type: ignore[no-untyped-def]
    """Laplace deviance (and gradient in ``(theta, beta)``) for every feature.

    Parameters are feature-major: ``Y``, ``Yt`` ``(m, n)``; ``theta`` ``(m, k)``;
    ``beta`` ``(m, p)``; ``u0`` ``(m, q)`` warm starts. ``weight = 1 + 2 a`` is the prior
    weight of every (collapsed, augmented) sample. The deviance term of the objective is
    ``2 sum_i [w_obj softplus(eta_i) - Y_i eta_i]``, per feature: glmer's, with the
    pseudo-rows left out, is ``w_obj = 1``, ``Y`` 0/1 and ``aug = a`` (MaAsLin 3's
    augmentation weight, 0 when off: the gradient's correction for that difference); the
    full augmented likelihood is ``w_obj = weight``, ``Y = weight * Yt`` and ``aug = 0``.
    ``aug`` and ``w_obj`` are ``(m,)`` arrays.
    Returns ``value (m,)``, ``grad (m, k + p)``, ``u (m, q)``, ``eta (m, n)``.
    """
    m, n = Y.shape
    p = X.shape[1]
    k = theta.shape[1]
    q = u0.shape[1]
    value = np.empty(m)
    grad = np.zeros((m, k + p))
    u_out = np.empty((m, q))
    eta_out = np.empty((m, n))
    for f in prange(m):
        th = theta[f]
        offset = np.zeros(n)
        for i in range(n):
            for c in range(p):
                offset[i] += X[i, c] * beta[f, c]
        u, eta = _pirls_one(offset, Yt[f], weight, th, u0[f].copy(), codes, offs, g0, gs,
                            tol, max_iter)
        mu = np.empty(n)
        W = np.empty(n)
        res = np.empty(n)
        dev = 0.0
        for i in range(n):
            mu[i] = _expit(eta[i])
            W[i] = weight * mu[i] * (1.0 - mu[i])
            res[i] = weight * (Yt[f, i] - mu[i])
            dev += w_obj[f] * _softplus(eta[i]) - Y[f, i] * eta[i]
        D, F, Sinv, logdet = _factor(W, th, codes, offs, g0, gs)
        value[f] = 2.0 * dev + np.dot(u, u) + logdet
        u_out[f] = u
        eta_out[f] = eta
        if want_grad:
            grad[f] = _gradient(X, W, mu, res, aug[f], th, u, D, F, Sinv, codes, offs, g0, q)
    return value, grad, u_out, eta_out


@njit(cache=True)
def _gradient(X, W, mu, res, aug, th, u, D, F, Sinv, codes, offs, g0, q):  # type: ignore[no-untyped-def]
    """Exact gradient of the Laplace deviance.

    Formulas in :func:`gutaxis.stats.models.logistic_mixed._evaluate`.
    """
    n, p = X.shape
    k = th.shape[0]
    gs = Sinv.shape[0]
    FS = np.zeros((g0, gs))
    diag00 = 1.0 / D
    for a in range(g0):
        for h in range(gs):
            acc = 0.0
            for h2 in range(gs):
                acc += F[a, h2] * Sinv[h2, h]
            FS[a, h] = acc
            diag00[a] += acc * F[a, h]
    v = np.empty(n)
    explicit = np.zeros(k)
    P = np.empty((k, k))
    hidx = np.empty(k, dtype=np.int64)
    for i in range(n):
        a0 = codes[0, i]
        for j in range(1, k):
            hidx[j] = offs[j] - g0 + codes[j, i]
        P[0, 0] = diag00[a0]
        for j in range(1, k):
            P[0, j] = -FS[a0, hidx[j]]
            P[j, 0] = P[0, j]
            for b in range(1, k):
                P[j, b] = Sinv[hidx[j], hidx[b]]
        leverage = 0.0
        for a in range(k):
            pt = 0.0
            for b in range(k):
                pt += P[a, b] * th[b]
            explicit[a] += 2.0 * W[i] * pt
            leverage += th[a] * pt
        v[i] = (W[i] * leverage + 2.0 * aug) * (1.0 - 2.0 * mu[i])
    qv = schur_solve_one(D, F, Sinv, _lambda_zt(v, th, codes, offs, q))
    out = np.zeros(k + p)
    for i in range(n):
        zlq = 0.0
        for j in range(k):
            zlq += th[j] * qv[offs[j] + codes[j, i]]
        total = v[i] - W[i] * zlq - 2.0 * res[i]
        for c in range(p):
            out[k + c] += X[i, c] * total
        for j in range(k):
            idx = offs[j] + codes[j, i]
            out[j] += u[idx] * total + qv[idx] * res[i]
    for j in range(k):
        out[j] += explicit[j]
    return out

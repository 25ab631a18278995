"""The Schur-complement solve of random-intercept mixed-model equations.

Both mixed models solve, for many responses at once, symmetric positive definite systems

.. math:: M = \\begin{pmatrix} D & B \\\\ B' & C \\end{pmatrix}

whose leading block ``D`` is diagonal: it belongs to the grouping factor with the most
levels (``a``; an observation touches one level of it only). Eliminating ``a`` leaves the
Schur complement ``S = C - B' D^{-1} B``, of the size of the other factors' levels (plus
the fixed effects, in the linear model's equations), so that

- ``log|M| = sum log D + log|S|``;
- ``M^{-1} r``: ``y_0 = D^{-1} r_0``, ``x_1 = S^{-1}(r_1 - B' y_0)``,
  ``x_0 = y_0 - F x_1`` with ``F = D^{-1} B``.

The linear model (:mod:`gutaxis.stats.mixed.reml`) forms ``S`` directly, in closed form
over the group-size classes of ``a``; the logistic model
(:mod:`gutaxis.stats.models.logistic_mixed`) forms ``D``, ``B`` and ``C`` from its IRLS
weights. Both are batched over responses:

- the linear model factors ``S`` by :func:`cholesky_or_identity` and solves with
  :func:`cholesky_solve`; the diagonal of the factor also gives the log-determinants of
  ``S``'s leading blocks (random effects, then fixed effects) that REML needs;
- the logistic model, solving for many right-hand sides per response, uses
  :class:`SchurSystem` (``S^{-1}`` formed once), and inside its compiled Laplace kernel
  (:mod:`gutaxis.stats.mixed.laplace`, one response per thread) the same elimination
  per response, :func:`schur_complement_one` and :func:`schur_solve_one`.

References
----------
.. [1] Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
   using lme4. Journal of Statistical Software 67(1), section 5.4 (sparse Cholesky of the
   mixed-model equations). doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


def cholesky_or_identity(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched lower Cholesky factors of ``S`` ``(b, s, s)`` and which were positive definite.

    A matrix that is not positive definite gets the identity as its factor (so the batch
    goes on) and ``False`` in the mask; its results are to be discarded by the caller.
    """
    try:
        return np.linalg.cholesky(S), np.ones(S.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        chol = np.broadcast_to(np.eye(S.shape[1]), S.shape).copy()
        ok = np.zeros(S.shape[0], dtype=bool)
        for i in range(S.shape[0]):  # only when some matrix of the batch failed
            try:
                chol[i] = np.linalg.cholesky(S[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
        return chol, ok


def forward_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``L^{-1} rhs`` for lower factors ``L`` ``(b, s, s)``; ``rhs`` ``(b, s, t)``."""
    return np.linalg.solve(chol, rhs)


def cholesky_solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``S^{-1} rhs`` with ``S = L L'``; ``rhs`` is ``(b, s)`` or ``(b, s, t)``."""
    if rhs.ndim == chol.ndim - 1:
        return cholesky_solve(chol, rhs[..., None])[..., 0]
    return np.linalg.solve(chol.transpose(0, 2, 1), forward_solve(chol, rhs))


def cholesky_log_diagonal(chol: np.ndarray) -> np.ndarray:
    """``2 log L_ii`` per matrix: summed over ``i``, ``log|S|`` (partial sums: leading blocks)."""
    return 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2))


@dataclass(frozen=True)
class SchurSystem:
    """``M`` of the module notes for a batch of responses, with ``S^{-1}`` formed.

    Used where many right-hand sides share one ``M`` (the logistic model's conditional
    information, ``p`` columns per response), as the compiled per-response form does.

    Attributes
    ----------
    d
        ``(b, g)`` diagonal of ``D``.
    B
        ``(b, g, s)`` off-diagonal block (``s`` may be 0).
    F
        ``D^{-1} B``.
    schur_inverse
        ``(b, s, s)`` ``S^{-1}``.
    """

    d: np.ndarray
    B: np.ndarray
    F: np.ndarray
    schur_inverse: np.ndarray

    @classmethod
    def factor(cls, d: np.ndarray, B: np.ndarray, C: np.ndarray) -> SchurSystem:
        """Factor ``[[diag(d), B], [B', C]]`` for every response of the batch.

        Raises ``numpy.linalg.LinAlgError`` if some ``S`` is singular.
        """
        F = B / d[:, :, None]
        return cls(d, B, F, np.linalg.inv(C - np.einsum("mgh,mgk->mhk", B, F)))

    @property
    def logdet(self) -> np.ndarray:
        """``(b,)`` ``log|M| = sum log D + log|S|``."""
        return np.log(self.d).sum(axis=1) - np.linalg.slogdet(self.schur_inverse)[1]

    def solve(self, R: np.ndarray) -> np.ndarray:
        """``M^{-1} R`` for ``R`` of shape ``(b, g + s)`` or ``(b, g + s, t)``."""
        g = self.d.shape[1]
        y0 = R[:, :g] / (self.d if R.ndim == 2 else self.d[:, :, None])
        if self.B.shape[2] == 0:
            return y0
        rr = R[:, g:] - np.einsum("mgh,mg...->mh...", self.B, y0)
        x1 = np.einsum("mhk,mk...->mh...", self.schur_inverse, rr)
        x0 = y0 - np.einsum("mgh,mh...->mg...", self.F, x1)
        return np.concatenate([x0, x1], axis=1)


# ------------------------------------------------------------- compiled, one response
@njit(cache=True)
def schur_complement_one(D, B, C):  # type: ignore[no-untyped-def]
    """``F = D^{-1} B``, ``S^{-1}`` and ``log|M|`` of one response; ``C`` is overwritten.

    ``D`` ``(g,)``, ``B`` ``(g, s)``, ``C`` ``(s, s)``.
    """
    g0, gs = B.shape
    F = np.empty((g0, gs))
    for a in range(g0):
        for h in range(gs):
            F[a, h] = B[a, h] / D[a]
    S = C  # Schur complement C - B^T F, in place
    for a in range(g0):
        for h in range(gs):
            if B[a, h] != 0.0:
                for h2 in range(gs):
                    S[h, h2] -= B[a, h] * F[a, h2]
    Sinv, logdet_s = cholesky_inverse_one(S)
    return F, Sinv, np.sum(np.log(D)) + logdet_s


@njit(cache=True)
def cholesky_inverse_one(S):  # type: ignore[no-untyped-def]
    """Inverse and log-determinant of a small SPD matrix by Cholesky (plain loops).

    Written out rather than via ``np.linalg`` to keep numba's compile time short.
    """
    n = S.shape[0]
    L = np.zeros((n, n))
    logdet = 0.0
    for j in range(n):
        d = S[j, j]
        for c in range(j):
            d -= L[j, c] * L[j, c]
        if d <= 0.0:
            d = 1e-300
        L[j, j] = np.sqrt(d)
        logdet += np.log(d)
        for i in range(j + 1, n):
            v = S[i, j]
            for c in range(j):
                v -= L[i, c] * L[j, c]
            L[i, j] = v / L[j, j]
    Linv = np.zeros((n, n))  # lower-triangular inverse by forward substitution
    for j in range(n):
        Linv[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, n):
            v = 0.0
            for c in range(j, i):
                v -= L[i, c] * Linv[c, j]
            Linv[i, j] = v / L[i, i]
    inv = np.zeros((n, n))  # S^{-1} = Linv^T Linv
    for i in range(n):
        for j in range(i + 1):
            v = 0.0
            for c in range(i, n):
                v += Linv[c, i] * Linv[c, j]
            inv[i, j] = v
            inv[j, i] = v
    return inv, logdet


@njit(cache=True)
def schur_solve_one(D, F, Sinv, r):  # type: ignore[no-untyped-def]
    """``M^{-1} r`` of one response from :func:`schur_complement_one`'s factors."""
    g0 = D.shape[0]
    gs = Sinv.shape[0]
    out = np.empty_like(r)
    rr = r[g0:].copy()
    for a in range(g0):
        for h in range(gs):
            rr[h] -= F[a, h] * r[a]
    for h in range(gs):
        v = 0.0
        for h2 in range(gs):
            v += Sinv[h, h2] * rr[h2]
        out[g0 + h] = v
    for a in range(g0):
        v = r[a] / D[a]
        for h in range(gs):
            v -= F[a, h] * out[g0 + h]
        out[a] = v
    return out

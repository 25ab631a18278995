"""Batched profiled likelihood of random-intercept linear mixed models.

The engine behind :func:`gutaxis.stats.lmm.fit_lmm`. It evaluates the profiled REML (or ML)
criterion of Bates et al. (2015), its analytic gradient and Hessian in the relative variances,
for many responses at once. Everything that does not depend on the response (``X'X``, ``Z'Z``,
``Z'X``) is computed once; a response enters only through ``Z'y``, ``X'y`` and ``y'y``.

Notation (used throughout this module and in :mod:`gutaxis.stats.lmm_fit`):

- ``a`` is the grouping factor with the most levels ("absorbed": its block of
  ``Z'Z`` is diagonal, so it is eliminated in closed form), ``r`` the other factors
  (``q`` columns of ``Z_r`` together), ``X`` the fixed effects (``p`` columns).
- ``psi_j = theta_j**2`` is factor ``j``'s variance relative to the residual variance;
  ``V = I + sum_j psi_j Z_j Z_j'`` and ``V_a = I + psi_a Z_a Z_a'``, whose inverse is
  ``I - Z_a diag(c_g) Z_a'`` with ``c_g = psi_a / (1 + psi_a n_g)``.
- ``U = [Z_r Lambda_r, X]`` (``c = q + p`` columns) and
  ``M = U' V_a^{-1} U + diag(1_q, 0_p)``: the mixed-model equations left after
  eliminating ``a``. ``log|V| = sum_g log(1 + psi_a n_g) + log|M_rr|`` and
  ``log|X'V^{-1}X| = log|M| - log|M_rr|``; the penalised residual sum of squares is
  ``r2 = y'V_a^{-1}y - b'M^{-1}b`` with ``b = U'V_a^{-1}y``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

LOG_2PI = float(np.log(2.0 * np.pi))


def indicator(codes: np.ndarray, levels: int) -> sp.csr_matrix:
    """Transposed indicator matrix ``Z'`` (levels x n) of one grouping factor."""
    n = codes.shape[0]
    return sp.csr_matrix(
        (np.ones(n), (codes, np.arange(n))), shape=(levels, n), dtype=np.float64
    )


@dataclass(frozen=True)
class SharedDesign:
    """Response-independent cross-products of one mixed model.

    Attributes
    ----------
    n, p
        Observations and fixed-effect columns.
    order
        Factor indices (as given by the caller) in internal order: ``order[0]`` is the
        absorbed factor ``a``, the rest follow.
    counts
        Observations per level of ``a`` (``n_g``).
    slices
        Columns of ``Z_r`` belonging to each factor of ``order[1:]``.
    zac
        ``Z_a'[Z_r, X]`` (levels of ``a`` x ``c``).
    ctc
        ``[Z_r, X]'[Z_r, X]`` (``c`` x ``c``).
    za_t, zr_t
        Sparse ``Z_a'`` and ``Z_r'``, to form the response cross-products.
    """

    n: int
    p: int
    order: tuple[int, ...]
    counts: np.ndarray
    slices: tuple[slice, ...]
    zac: np.ndarray
    ctc: np.ndarray
    za_t: sp.csr_matrix
    zr_t: sp.csr_matrix

    @property
    def q(self) -> int:
        """Columns of ``Z_r``."""
        return self.zr_t.shape[0]

    @property
    def c(self) -> int:
        """Columns of ``[Z_r, X]``."""
        return self.q + self.p

    @property
    def k(self) -> int:
        """Number of grouping factors."""
        return len(self.order)


@dataclass(frozen=True)
class ResponseCross:
    """Cross-products of a block of responses: ``Z_a'Y``, ``[Z_r, X]'Y`` and ``diag(Y'Y)``."""

    zay: np.ndarray
    cty: np.ndarray
    yty: np.ndarray

    def take(self, index: np.ndarray) -> ResponseCross:
        """The cross-products of the responses in ``index``."""
        return ResponseCross(self.zay[:, index], self.cty[:, index], self.yty[index])


def build_design(X: np.ndarray, codes: Sequence[np.ndarray], levels: Sequence[int]) -> SharedDesign:
    """Cross-products of ``X`` and the grouping factors, with the largest factor absorbed."""
    n, p = X.shape
    order = tuple(int(i) for i in np.argsort([-g for g in levels], kind="stable"))
    za_t = indicator(codes[order[0]], levels[order[0]])
    rest = [indicator(codes[j], levels[j]) for j in order[1:]]
    zr_t = sp.csr_matrix(sp.vstack(rest)) if rest else sp.csr_matrix((0, n))
    edges = np.cumsum([0] + [levels[j] for j in order[1:]])
    slices = tuple(slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges))
    zr_dense_cross = (zr_t @ zr_t.T).toarray()
    zrx = np.asarray(zr_t @ X)
    ctc = np.block([[zr_dense_cross, zrx], [zrx.T, X.T @ X]])
    zac = np.hstack([(za_t @ zr_t.T).toarray(), np.asarray(za_t @ X)])
    counts = np.asarray(za_t.sum(axis=1)).ravel()
    return SharedDesign(n, p, order, counts, slices, zac, ctc, za_t, zr_t)


def cross_response(design: SharedDesign, X: np.ndarray, Y: np.ndarray) -> ResponseCross:
    """Cross-products of the responses ``Y`` (n x m) with the design."""
    zay = np.asarray(design.za_t @ Y)
    cty = np.vstack([np.asarray(design.zr_t @ Y), X.T @ Y])
    return ResponseCross(zay, cty, np.einsum("ij,ij->j", Y, Y))


@dataclass
class Evaluation:
    """The profiled criterion (and optionally its derivatives) for a batch of responses.

    Arrays have a leading batch axis ``b``; factor axes are in internal order.
    ``grad`` and ``hess`` are derivatives of the profiled criterion in ``psi``.
    ``tr``, ``vv``, ``frob``, ``bilin`` are the building blocks
    ``tr(Z_i'QZ_i)``, ``||Z_i'Py||^2``, ``||Z_i'QZ_j||_F^2`` and ``(Z_i'Py)'(Z_i'QZ_j)(Z_j'Py)``
    (``Q = P`` for REML, ``V^{-1}`` for ML), and ``gram[:, j]`` is ``L_j'L_j`` with
    ``L_j = Z_j'V_a^{-1}U``, from which the derivatives of ``Var(beta)`` follow.
    """

    criterion: np.ndarray
    r2: np.ndarray
    sol: np.ndarray
    ok: np.ndarray
    minv: np.ndarray | None = None
    grad: np.ndarray | None = None
    hess: np.ndarray | None = None
    tr: np.ndarray | None = None
    vv: np.ndarray | None = None
    frob: np.ndarray | None = None
    bilin: np.ndarray | None = None
    gram: np.ndarray | None = None


def _lambda_columns(design: SharedDesign, theta: np.ndarray) -> np.ndarray:
    """Column scales of ``U = [Z_r Lambda_r, X]``: ``theta_j`` on factor ``j``'s columns, 1 on X."""
    lam = np.ones((theta.shape[0], design.c))
    for j, sl in enumerate(design.slices):
        lam[:, sl] = theta[:, j + 1, None]
    return lam


def _safe_cholesky(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Cholesky factor and a mask of the matrices that are positive definite."""
    try:
        return np.linalg.cholesky(M), np.ones(M.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        chol = np.full_like(M, np.nan)
        ok = np.zeros(M.shape[0], dtype=bool)
        for i in range(M.shape[0]):
            try:
                chol[i] = np.linalg.cholesky(M[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
        return chol, ok


def criterion_from_parts(
    log_det_v: np.ndarray, log_det_h: np.ndarray, r2: np.ndarray, n: int, p: int, *, reml: bool
) -> np.ndarray:
    """``-2`` profiled log-likelihood: REML criterion or ML deviance (Bates et al. 2015)."""
    dof = n - p if reml else n
    with np.errstate(divide="ignore", invalid="ignore"):
        value = log_det_v + dof * (1.0 + LOG_2PI + np.log(r2 / dof))
    return value + log_det_h if reml else value


def criterion_on_grid(
    design: SharedDesign, resp: ResponseCross, psi: np.ndarray, *, reml: bool
) -> np.ndarray:
    """Profiled criterion ``(points, m)`` of every response at each of the points ``psi``.

    Each point's factorisation is made once and shared by all responses.
    """
    q = design.q
    lam = _lambda_columns(design, np.sqrt(psi))
    w = 1.0 / (1.0 + psi[:, :1] * design.counts)
    cg = psi[:, :1] * w
    zacs = design.zac[None] * lam[:, None, :]
    czt = (cg[:, :, None] * zacs).transpose(0, 2, 1)
    M = design.ctc[None] * lam[:, :, None] * lam[:, None, :] - czt @ zacs
    M[:, np.arange(q), np.arange(q)] += 1.0
    b = lam[:, :, None] * resp.cty[None] - czt @ resp.zay[None]
    yvy = resp.yty[None] - cg @ resp.zay**2
    chol, ok = _safe_cholesky(M)
    chol[~ok] = np.eye(design.c)
    half = np.linalg.solve(chol, b)
    r2 = yvy - np.einsum("pcm,pcm->pm", half, half)
    logd = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2))
    log_det_v = np.log1p(psi[:, :1] * design.counts).sum(1) + logd[:, :q].sum(1)
    crit = criterion_from_parts(
        log_det_v[:, None], logd[:, q:].sum(1)[:, None], r2, design.n, design.p, reml=reml
    )
    return np.where(ok[:, None] & (r2 > 0), crit, np.inf)


def evaluate(
    design: SharedDesign,
    resp: ResponseCross,
    psi: np.ndarray,
    *,
    reml: bool,
    derivatives: bool = False,
) -> Evaluation:
    """Profiled criterion for a batch of responses, each at its own ``psi`` (b x k).

    With ``derivatives`` also the analytic gradient and Hessian in ``psi`` and the blocks
    needed for Satterthwaite's degrees of freedom (see :class:`Evaluation`).
    """
    q, n, p = design.q, design.n, design.p
    psi_a = psi[:, :1]
    lam = _lambda_columns(design, np.sqrt(psi))
    w = 1.0 / (1.0 + psi_a * design.counts)
    cg = psi_a * w
    zacs = design.zac[None] * lam[:, None, :]
    wz = zacs * cg[:, :, None]
    M = design.ctc[None] * lam[:, :, None] * lam[:, None, :] - wz.transpose(0, 2, 1) @ zacs
    M[:, np.arange(q), np.arange(q)] += 1.0
    zay = resp.zay.T
    b = lam * resp.cty.T - np.einsum("bgc,bg->bc", wz, zay)
    yvy = resp.yty - np.einsum("bg,bg->b", cg, zay**2)
    chol, ok = _safe_cholesky(M)
    chol[~ok] = np.eye(design.c)
    sol = np.linalg.solve(chol.transpose(0, 2, 1), np.linalg.solve(chol, b[..., None]))[..., 0]
    r2 = yvy - np.einsum("bc,bc->b", b, sol)
    ok &= r2 > 0
    logd = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2))
    log_det_v = np.log1p(psi_a * design.counts).sum(1) + logd[:, :q].sum(1)
    crit = criterion_from_parts(log_det_v, logd[:, q:].sum(1), r2, n, p, reml=reml)
    crit = np.where(ok, crit, np.inf)
    ev = Evaluation(criterion=crit, r2=r2, sol=sol, ok=ok)
    if derivatives:
        _add_derivatives(ev, design, resp, M, lam, w, cg, zacs, reml=reml)
    return ev


def _add_derivatives(
    ev: Evaluation,
    design: SharedDesign,
    resp: ResponseCross,
    M: np.ndarray,
    lam: np.ndarray,
    w: np.ndarray,
    cg: np.ndarray,
    zacs: np.ndarray,
    *,
    reml: bool,
) -> None:
    """Fill the derivative blocks of ``ev``.

    With ``L_a = Z_a'V_a^{-1}U`` (= ``w * Z_a'U``), ``L_r = Z_r'V_a^{-1}U`` and ``K`` the
    inverse of ``M`` (``P``) or of its random-effects block (``V^{-1}``, ML), the blocks are
    ``Z_a'QZ_a = diag(n w) - L_a K L_a'``, ``Z_a'QZ_r = w N - L_a K L_r'`` and
    ``Z_r'QZ_r = Z_r'V_a^{-1}Z_r - L_r K L_r'``; ``Z'Py = Z'V_a^{-1}e`` with ``e`` the residual
    of the mixed-model equations. The ``a``-``a`` block is never formed: its trace, Frobenius
    norm and quadratic form follow from the diagonal-plus-low-rank structure.
    """
    q, k = design.q, design.k
    dof = design.n - design.p if reml else design.n
    minv = np.linalg.inv(M)
    N = design.zac[:, :q]
    La = w[:, :, None] * zacs
    zru = design.ctc[None, :q, :] * lam[:, None, :]
    Lr = zru - N.T[None] @ (cg[:, :, None] * zacs)
    zrvzr = design.ctc[None, :q, :q] - N.T[None] @ (cg[:, :, None] * N[None])
    nw = design.counts * w
    zae = resp.zay.T - (zacs @ ev.sol[:, :, None])[..., 0]
    va = w * zae
    vr = resp.cty[:q].T - (zru @ ev.sol[:, :, None])[..., 0] - (cg * zae) @ N
    p_blocks = _QuadBlocks.build(minv, La, Lr, N, w, zrvzr)
    if reml:
        q_blocks = p_blocks
    else:
        K = np.zeros_like(M)
        if q:
            K[:, :q, :q] = np.linalg.inv(M[:, :q, :q])
        q_blocks = _QuadBlocks.build(K, La, Lr, N, w, zrvzr)

    bsz = M.shape[0]
    tr, vv = np.empty((bsz, k)), np.empty((bsz, k))
    frob, bilin = np.empty((bsz, k, k)), np.empty((bsz, k, k))
    gram = np.empty((bsz, k, design.c, design.c))
    low_q = q_blocks.low_aa
    tr[:, 0] = nw.sum(1) - low_q.sum(1)
    vv[:, 0] = (va**2).sum(1)
    KG = q_blocks.K @ p_blocks.gram_a
    frob[:, 0, 0] = (nw**2).sum(1) - 2 * (nw * low_q).sum(1) + np.einsum("bij,bji->b", KG, KG)
    Lav = (va[:, None, :] @ La)[:, 0]
    bilin[:, 0, 0] = (nw * va**2).sum(1) - np.einsum("bi,bij,bj->b", Lav, minv, Lav)
    gram[:, 0] = p_blocks.gram_a
    for i, si in enumerate(design.slices, start=1):
        tr[:, i] = np.trace(q_blocks.Trr[:, si, si], axis1=1, axis2=2)
        vv[:, i] = (vr[:, si] ** 2).sum(1)
        frob[:, 0, i] = frob[:, i, 0] = (q_blocks.Tar[:, :, si] ** 2).sum((1, 2))
        bilin[:, 0, i] = bilin[:, i, 0] = np.einsum(
            "bg,bgq,bq->b", va, p_blocks.Tar[:, :, si], vr[:, si]
        )
        gram[:, i] = Lr[:, si].transpose(0, 2, 1) @ Lr[:, si]
        for j, sj in enumerate(design.slices, start=1):
            frob[:, i, j] = (q_blocks.Trr[:, si, sj] ** 2).sum((1, 2))
            bilin[:, i, j] = np.einsum(
                "bi,bij,bj->b", vr[:, si], p_blocks.Trr[:, si, sj], vr[:, sj]
            )
    r2 = ev.r2[:, None, None]
    ev.minv = minv
    ev.tr, ev.vv, ev.frob, ev.bilin, ev.gram = tr, vv, frob, bilin, gram
    ev.grad = tr - dof * vv / ev.r2[:, None]
    ev.hess = -frob + dof * (2.0 * bilin / r2 - vv[:, :, None] * vv[:, None, :] / r2**2)


@dataclass(frozen=True)
class _QuadBlocks:
    """Blocks of ``Z'QZ`` for one choice of ``K`` (see :func:`_add_derivatives`)."""

    K: np.ndarray
    low_aa: np.ndarray
    gram_a: np.ndarray
    Tar: np.ndarray
    Trr: np.ndarray

    @classmethod
    def build(
        cls,
        K: np.ndarray,
        La: np.ndarray,
        Lr: np.ndarray,
        N: np.ndarray,
        w: np.ndarray,
        zrvzr: np.ndarray,
    ) -> _QuadBlocks:
        LaK = La @ K
        low_aa = np.einsum("bgc,bgc->bg", LaK, La)
        gram_a = La.transpose(0, 2, 1) @ La
        Tar = w[:, :, None] * N[None] - LaK @ Lr.transpose(0, 2, 1)
        Trr = zrvzr - Lr @ K @ Lr.transpose(0, 2, 1)
        return cls(K, low_aa, gram_a, Tar, Trr)

"""Batched profiled likelihood of random-intercept linear mixed models.

The engine behind :func:`gutaxis.stats.models.linear_mixed.fit_lmm`. It evaluates the
profiled REML (or ML) criterion of Bates et al. (2015), its analytic gradient and Hessian in
the relative variances, for many responses at once. Everything that does not depend on the
response (``X'X``, ``Z'Z``, ``Z'X``) is computed once; a response enters only through
``Z'y``, ``X'y`` and ``y'y``.

Notation (used throughout this module and in :mod:`gutaxis.stats.models.linear_mixed`):

- ``a`` is the grouping factor with the most levels ("absorbed": its block of
  ``Z'Z`` is diagonal, so it is eliminated in closed form), ``r`` the other factors
  (``q`` columns of ``Z_r`` together), ``X`` the fixed effects (``p`` columns).
- ``psi_j = theta_j**2`` is factor ``j``'s variance relative to the residual variance;
  ``V = I + sum_j psi_j Z_j Z_j'`` and ``V_a = I + psi_a Z_a Z_a'``, whose inverse is
  ``I - Z_a diag(c_g) Z_a'`` with ``c_g = psi_a w_g``, ``w_g = 1 / (1 + psi_a n_g)``.
- ``U = [Z_r Lambda_r, X]`` (``c = q + p`` columns) and
  ``M = U' V_a^{-1} U + diag(1_q, 0_p)``: the mixed-model equations left after
  eliminating ``a``. ``log|V| = sum_g log(1 + psi_a n_g) + log|M_rr|`` and
  ``log|X'V^{-1}X| = log|M| - log|M_rr|``; the penalised residual sum of squares is
  ``r2 = y'V_a^{-1}y - b'M^{-1}b`` with ``b = U'V_a^{-1}y``.
- Group-size classes: a level's weights ``w_g`` depend on it only through its size ``n_g``,
  so every sum over the levels of ``a`` is a weighted sum over the ``D`` distinct sizes of
  per-class sums made once: ``S_d = sum zac_g zac_g'``, ``T_d = sum zac_g zay_g'`` and
  ``U_d = sum zay_g^2`` over the levels of size ``n_d`` (``zac_g``, ``zay_g``: row ``g`` of
  ``Z_a'[Z_r, X]`` and ``Z_a'Y``). The work per response and evaluation is ``O(D c^2 + c^3)``,
  whatever the number of levels.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gutaxis.stats.mixed.solve import (
    cholesky_log_diagonal,
    cholesky_or_identity,
    cholesky_solve,
    forward_solve,
)
from gutaxis.stats.mixed.structure import indicator, most_levels_first

LOG_2PI = float(np.log(2.0 * np.pi))


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
    slices
        Columns of ``Z_r`` belonging to each factor of ``order[1:]``.
    ctc
        ``[Z_r, X]'[Z_r, X]`` (``c`` x ``c``).
    size, members, cls
        Group-size classes of ``a``: the distinct sizes ``n_d``, how many levels have each,
        and the class of every level.
    class_cross
        ``S_d``, ``(D, c, c)``.
    zac
        ``Z_a'[Z_r, X]`` (levels of ``a`` x ``c``).
    za_t, zr_t
        Sparse ``Z_a'`` and ``Z_r'``, to form the response cross-products.
    """

    n: int
    p: int
    order: tuple[int, ...]
    slices: tuple[slice, ...]
    ctc: np.ndarray
    size: np.ndarray
    members: np.ndarray
    cls: np.ndarray
    class_cross: np.ndarray
    zac: np.ndarray
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

    @property
    def d(self) -> int:
        """Number of group-size classes of the absorbed factor."""
        return self.size.size


@dataclass(frozen=True)
class ResponseCross:
    """Cross-products of a block of responses (``m`` of them).

    ``tcls`` is ``T_d`` as ``(D, c, m)``, ``ucls`` is ``U_d`` as ``(D, m)``,
    ``cty`` is ``[Z_r, X]'Y`` and ``yty`` is ``diag(Y'Y)``.
    """

    tcls: np.ndarray
    ucls: np.ndarray
    cty: np.ndarray
    yty: np.ndarray

    def take(self, index: np.ndarray) -> ResponseCross:
        """The cross-products of the responses in ``index``."""
        return ResponseCross(self.tcls[:, :, index], self.ucls[:, index], self.cty[:, index],
                             self.yty[index])


def build_shared_design(
    X: np.ndarray, codes: Sequence[np.ndarray], levels: Sequence[int]
) -> SharedDesign:
    """Cross-products of ``X`` and the grouping factors, with the largest factor absorbed."""
    n, p = X.shape
    order = most_levels_first(levels)
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
    size, cls, members = np.unique(counts, return_inverse=True, return_counts=True)
    class_cross = np.zeros((size.size, zac.shape[1], zac.shape[1]))
    np.add.at(class_cross, cls, zac[:, :, None] * zac[:, None, :])
    return SharedDesign(n, p, order, slices, ctc, size.astype(np.float64),
                        members.astype(np.float64), cls, class_cross, zac, za_t, zr_t)


def cross_response(design: SharedDesign, X: np.ndarray, Y: np.ndarray) -> ResponseCross:
    """Cross-products of the responses ``Y`` (n x m) with the design."""
    zay = np.asarray(design.za_t @ Y)
    by_class = sp.csr_matrix(
        (np.ones(design.cls.size), (design.cls, np.arange(design.cls.size))),
        shape=(design.d, design.cls.size),
    )
    tcls = np.empty((design.d, design.c, Y.shape[1]))
    for d in range(design.d):
        rows = design.cls == d
        tcls[d] = design.zac[rows].T @ zay[rows]
    ucls = np.asarray(by_class @ zay**2)
    cty = np.vstack([np.asarray(design.zr_t @ Y), X.T @ Y])
    return ResponseCross(tcls, ucls, cty, np.einsum("ij,ij->j", Y, Y))


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


def required(value: np.ndarray | None) -> np.ndarray:
    """An :class:`Evaluation` array that only an evaluation with derivatives fills."""
    if value is None:
        raise RuntimeError("evaluate(..., derivatives=True) is needed for this quantity")
    return value


def _lambda_columns(design: SharedDesign, theta: np.ndarray) -> np.ndarray:
    """Column scales of ``U = [Z_r Lambda_r, X]``: ``theta_j`` on factor ``j``'s columns, 1 on X."""
    lam = np.ones((theta.shape[0], design.c))
    for j, sl in enumerate(design.slices):
        lam[:, sl] = theta[:, j + 1, None]
    return lam


def criterion_from_parts(
    log_det_v: np.ndarray, log_det_h: np.ndarray, r2: np.ndarray, n: int, p: int, *, reml: bool
) -> np.ndarray:
    """``-2`` profiled log-likelihood: REML criterion or ML deviance (Bates et al. 2015)."""
    dof = n - p if reml else n
    with np.errstate(divide="ignore", invalid="ignore"):
        value = log_det_v + dof * (1.0 + LOG_2PI + np.log(r2 / dof))
    return value + log_det_h if reml else value


def _class_sum(weights: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    """``sum_d weights[b, d] * per_class[d, ...]`` for every row ``b`` of ``weights``."""
    return np.tensordot(weights, per_class, axes=(1, 0))


def _class_sum_own(weights: np.ndarray, per_class: np.ndarray) -> np.ndarray:
    """``sum_d weights[b, d] * per_class[d, ..., b]``: each response with its own weights."""
    return np.einsum("bd,d...b->b...", weights, per_class)


def criterion_on_grid(
    design: SharedDesign, resp: ResponseCross, psi: np.ndarray, *, reml: bool
) -> np.ndarray:
    """Profiled criterion ``(points, m)`` of every response at each of the points ``psi``.

    Each point's factorisation is made once and shared by all responses.
    """
    q = design.q
    lam = _lambda_columns(design, np.sqrt(psi))
    w = 1.0 / (1.0 + psi[:, :1] * design.size)
    cg = psi[:, :1] * w
    M = lam[:, :, None] * lam[:, None, :] * (design.ctc - _class_sum(cg, design.class_cross))
    M[:, np.arange(q), np.arange(q)] += 1.0
    b = lam[:, :, None] * (resp.cty[None] - _class_sum(cg, resp.tcls))
    yvy = resp.yty[None] - cg @ resp.ucls
    chol, ok = cholesky_or_identity(M)
    half = forward_solve(chol, b)
    r2 = yvy - np.einsum("pcm,pcm->pm", half, half)
    logd = cholesky_log_diagonal(chol)
    log_det_v = np.log1p(psi[:, :1] * design.size) @ design.members + logd[:, :q].sum(1)
    crit = criterion_from_parts(
        log_det_v[:, None], logd[:, q:].sum(1)[:, None], r2, design.n, design.p, reml=reml
    )
    return np.where(ok[:, None] & (r2 > 0), crit, np.inf)


@dataclass(frozen=True)
class _Weighted:
    """Per-response quantities at ``psi`` shared by the criterion and its derivatives."""

    lam: np.ndarray
    w: np.ndarray
    cg_cross: np.ndarray
    cg_ty: np.ndarray


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
    w = 1.0 / (1.0 + psi_a * design.size)
    cg = psi_a * w
    wt = _Weighted(lam, w, _class_sum(cg, design.class_cross), _class_sum_own(cg, resp.tcls))
    M = lam[:, :, None] * lam[:, None, :] * (design.ctc[None] - wt.cg_cross)
    M[:, np.arange(q), np.arange(q)] += 1.0
    b = lam * (resp.cty.T - wt.cg_ty)
    yvy = resp.yty - np.einsum("bd,db->b", cg, resp.ucls)
    chol, ok = cholesky_or_identity(M)
    sol = cholesky_solve(chol, b)
    r2 = yvy - np.einsum("bc,bc->b", b, sol)
    ok &= r2 > 0
    logd = cholesky_log_diagonal(chol)
    log_det_v = np.log1p(psi_a * design.size) @ design.members + logd[:, :q].sum(1)
    crit = criterion_from_parts(log_det_v, logd[:, q:].sum(1), r2, n, p, reml=reml)
    crit = np.where(ok, crit, np.inf)
    ev = Evaluation(criterion=crit, r2=r2, sol=sol, ok=ok)
    if derivatives:
        _add_derivatives(ev, design, resp, M, wt, reml=reml)
    return ev


def _add_derivatives(
    ev: Evaluation,
    design: SharedDesign,
    resp: ResponseCross,
    M: np.ndarray,
    wt: _Weighted,
    *,
    reml: bool,
) -> None:
    """Fill the derivative blocks of ``ev``.

    With ``L_a = Z_a'V_a^{-1}U`` (row ``g``: ``w_g Lambda zac_g``), ``L_r = Z_r'V_a^{-1}U``
    and ``K`` the inverse of ``M`` (``Q = P``) or of its random-effects block (``Q = V^{-1}``,
    ML), the blocks are ``Z_a'QZ_a = diag(n w) - L_a K L_a'``, ``Z_a'QZ_r = w N - L_a K L_r'``
    (row ``g``: ``w_g zac_g' B`` with ``B = E_q' - Lambda K L_r'``) and
    ``Z_r'QZ_r = Z_r'V_a^{-1}Z_r - L_r K L_r'``; ``Z'Py = Z'V_a^{-1}e`` with ``e`` the
    residual of the mixed-model equations. Sums over the levels of ``a`` are class sums
    (module notes) with weights ``w^2`` or ``n w^3``.
    """
    q, k, c = design.q, design.k, design.c
    dof = design.n - design.p if reml else design.n
    lam, w = wt.lam, wt.w
    minv = np.linalg.inv(M)
    lam2 = lam[:, :, None] * lam[:, None, :]
    w2, nw3 = w**2, design.size * w**3
    s_w2, s_nw3 = _class_sum(w2, design.class_cross), _class_sum(nw3, design.class_cross)
    t_w2, t_nw3 = _class_sum_own(w2, resp.tcls), _class_sum_own(nw3, resp.tcls)
    u_w2 = np.einsum("bd,db->b", w2, resp.ucls)
    u_nw3 = np.einsum("bd,db->b", nw3, resp.ucls)
    lsol = lam * ev.sol
    gram_a = lam2 * s_w2
    rows_r = design.ctc[None, :q, :] - wt.cg_cross[:, :q, :]
    Lr = rows_r * lam[:, None, :]
    zrvzr = design.ctc[None, :q, :q] - wt.cg_cross[:, :q, :q]
    zet = t_w2 - (s_w2 @ lsol[..., None])[..., 0]
    lav = lam * zet
    vr = (resp.cty[:q].T - (design.ctc[None, :q, :] @ lsol[..., None])[..., 0]
          - (wt.cg_ty[:, :q] - (wt.cg_cross[:, :q, :] @ lsol[..., None])[..., 0]))
    nw = design.size * w
    sum_nw, sum_nw2 = nw @ design.members, nw**2 @ design.members

    tr, vv = np.empty((M.shape[0], k)), np.empty((M.shape[0], k))
    frob, bilin = np.empty((M.shape[0], k, k)), np.empty((M.shape[0], k, k))
    gram = np.empty((M.shape[0], k, c, c))
    vv[:, 0] = u_w2 - 2.0 * np.einsum("bc,bc->b", lsol, t_w2) + _quad(lsol, s_w2)
    bilin[:, 0, 0] = (u_nw3 - 2.0 * np.einsum("bc,bc->b", lsol, t_nw3) + _quad(lsol, s_nw3)
                      - _quad(lav, minv))
    gram[:, 0] = gram_a
    p_blocks = _QuadBlocks.build(minv, Lr, lam, zrvzr, q)
    q_blocks = p_blocks if reml else _QuadBlocks.build(_ml_kernel(M, q), Lr, lam, zrvzr, q)
    KG = q_blocks.K @ gram_a
    tr[:, 0] = sum_nw - np.trace(KG, axis1=1, axis2=2)
    frob[:, 0, 0] = (sum_nw2 - 2.0 * np.einsum("bij,bji->b", q_blocks.K, lam2 * s_nw3)
                     + np.einsum("bij,bji->b", KG, KG))
    for i, si in enumerate(design.slices, start=1):
        tr[:, i] = np.trace(q_blocks.Trr[:, si, si], axis1=1, axis2=2)
        vv[:, i] = (vr[:, si] ** 2).sum(1)
        Bq, Bp = q_blocks.B[:, :, si], p_blocks.B[:, :, si]
        frob[:, 0, i] = frob[:, i, 0] = np.einsum("bcq,bcd,bdq->b", Bq, s_w2, Bq)
        bilin[:, 0, i] = bilin[:, i, 0] = np.einsum("bc,bcq,bq->b", zet, Bp, vr[:, si])
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


def _quad(x: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``x_b' A_b x_b`` for every ``b``."""
    return np.einsum("bi,bij,bj->b", x, A, x)


def _ml_kernel(M: np.ndarray, q: int) -> np.ndarray:
    """``K`` for ``Q = V^{-1}``: the inverse of ``M``'s random-effects block, zero-padded."""
    K = np.zeros_like(M)
    if q:
        K[:, :q, :q] = np.linalg.inv(M[:, :q, :q])
    return K


@dataclass(frozen=True)
class _QuadBlocks:
    """The ``K``-dependent blocks ``B`` and ``Z_r'QZ_r`` (see :func:`_add_derivatives`)."""

    K: np.ndarray
    B: np.ndarray
    Trr: np.ndarray

    @classmethod
    def build(
        cls, K: np.ndarray, Lr: np.ndarray, lam: np.ndarray, zrvzr: np.ndarray, q: int
    ) -> _QuadBlocks:
        KLr = K @ Lr.transpose(0, 2, 1)
        B = -lam[:, :, None] * KLr
        B[:, np.arange(q), np.arange(q)] += 1.0
        return cls(K, B, zrvzr - Lr @ KLr)

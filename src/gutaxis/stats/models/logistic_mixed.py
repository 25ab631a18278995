"""Logistic mixed models with random intercepts, fitted for many features at once.

The Laplace approximation that ``lme4::glmer(family = binomial, nAGQ = 1)`` maximises,
with the same parameters (``theta`` = random-intercept standard deviations, ``beta``)
and the same Wald tests, computed for all features together:

- the random-intercept structure (indicator matrices, their cross-tabulations) is built
  once and shared by every feature and every evaluation;
- the penalised IRLS (PIRLS) for the conditional modes ``u`` and the exact gradient of
  the Laplace deviance run in a compiled kernel, features in parallel
  (:mod:`gutaxis.stats.mixed.laplace`); the system ``I + Lambda Z^T W Z Lambda`` is solved
  through its Schur complement on the factor with most levels (a diagonal block),
  leaving a small dense block for the other factors (:mod:`gutaxis.stats.mixed.solve`;
  :func:`random_system` builds the blocks for its batched form, used for the conditional
  covariance);
- the outer maximisation over ``(theta, beta)`` is a damped Newton method, batched over
  the features still moving, with a Hessian from differences of the exact gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from gutaxis.errors import InputError
from gutaxis.stats.mixed.laplace import laplace_batch
from gutaxis.stats.mixed.newton import Accept, backtrack, modified_newton_step
from gutaxis.stats.mixed.solve import SchurSystem
from gutaxis.stats.mixed.structure import RandomIntercepts, random_intercepts
from gutaxis.stats.mixed.threads import single_blas_threaded
from gutaxis.stats.models.logistic import (
    ETA_SATURATED,
    LogisticFit,
    augmented_response,
    degenerate_messages,
    fit_logistic,
    information,
    outer_rows,
    validate_design,
    wald,
)
from gutaxis.stats.models.separation import separated_samples

__all__ = ["fit_logistic_mixed", "random_system"]

#: Why a separated feature has no estimate without augmentation.
SEPARATION_NOTE = "the mixed model contains the separated fixed-effects fit (try augment=True)"
#: A fit whose fitted probabilities ran to 0 or 1 although no term is separated.
SATURATED_NOTE = ("fitted probabilities numerically 0 or 1 although no term is separated "
                  "(near separation): no reliable estimate")


def random_system(ri: RandomIntercepts, theta: np.ndarray, W: np.ndarray) -> SchurSystem:
    """``M = I + Lambda Z^T W Z Lambda`` for every feature, factored by blocks.

    Factor 0's block ``D`` is diagonal; the other factors form a dense block ``C`` of
    size ``Gs``, ``B`` is the off-diagonal block; :class:`SchurSystem` eliminates ``D``.
    """
    m = W.shape[0]
    g0 = ri.sizes[0]
    D = 1.0 + theta[:, :1] ** 2 * (W @ ri.indicators[0])
    Gs = sum(ri.sizes[1:])
    offs = ri.rest_offsets
    B = np.empty((m, g0, Gs))
    C = np.zeros((m, Gs, Gs))
    for j in range(1, ri.k):
        sj = slice(offs[j - 1], offs[j - 1] + ri.sizes[j])
        cross = (W @ ri.crosses[0, j]).reshape(m, g0, ri.sizes[j])
        B[:, :, sj] = (theta[:, 0] * theta[:, j])[:, None, None] * cross
        diag = (W @ ri.indicators[j]) * theta[:, j:j + 1] ** 2
        C[:, sj, sj] = _batched_diag(diag)
        for b in range(j + 1, ri.k):
            sb = slice(offs[b - 1], offs[b - 1] + ri.sizes[b])
            cjb = (W @ ri.crosses[j, b]).reshape(m, ri.sizes[j], ri.sizes[b])
            C[:, sj, sb] = (theta[:, j] * theta[:, b])[:, None, None] * cjb
            C[:, sb, sj] = np.swapaxes(C[:, sj, sb], 1, 2)
    C += np.eye(Gs)
    return SchurSystem.factor(D, B, C)


def _batched_diag(d: np.ndarray) -> np.ndarray:
    """Stack of diagonal matrices from rows of ``d``."""
    out = np.zeros((*d.shape, d.shape[-1]))
    idx = np.arange(d.shape[-1])
    out[:, idx, idx] = d
    return out


@dataclass
class _State:
    """The Laplace objective at one ``(theta, beta)`` per feature."""

    value: np.ndarray          # (m,) Laplace deviance
    grad: np.ndarray           # (m, k + p) its gradient
    u: np.ndarray              # (m, q) conditional modes (spherical)
    eta: np.ndarray            # (m, n) linear predictor at the modes


@dataclass(frozen=True)
class _Problem:
    """Fixed data of one batch of mixed-model fits."""

    X: np.ndarray        # (n, p)
    Y: np.ndarray        # (m, n) 0/1 outcomes as given
    Yt: np.ndarray       # (m, n) responses after augmentation (proportions)
    weight: float        # prior weight of every sample (1, or 1 + 2a when augmented)
    ri: RandomIntercepts
    full: np.ndarray | None = None  # (m,) pseudo-rows count in the deviance term too
    #                                    (else, and by default, glmer's objective)

    def subset(self, rows: np.ndarray) -> _Problem:
        return _Problem(self.X, self.Y[rows], self.Yt[rows], self.weight, self.ri,
                        None if self.full is None else self.full[rows])

    def objective(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The deviance term's outcomes, augmentation weight and softplus weight per
        feature (see :func:`gutaxis.stats.mixed.laplace.laplace_batch`)."""
        m = self.Y.shape[0]
        full = np.zeros(m, dtype=bool) if self.full is None else self.full
        # the augmented likelihood: every (pseudo-)row, as in PIRLS; glmer's: the
        # pseudo-rows' fractional trials round to none in the deviance
        y_obj = np.where(full[:, None], self.weight * self.Yt, self.Y)
        aug = np.where(full, 0.0, (self.weight - 1.0) / 2.0)
        return y_obj, aug, np.where(full, self.weight, 1.0)

    def lambda_zt(self, theta: np.ndarray, A: np.ndarray) -> np.ndarray:
        """``Lambda Z^T a`` for each row ``a`` of ``A`` (``(m, n)`` -> ``(m, q)``)."""
        return np.concatenate([theta[:, j:j + 1] * (A @ Zj)
                               for j, Zj in enumerate(self.ri.indicators)], axis=1)


def _evaluate(prob: _Problem, phi: np.ndarray, u: np.ndarray) -> _State:
    """Laplace deviance and exact gradient at ``phi = (theta, beta)`` (compiled kernel).

    Notes
    -----
    With ``g(u) = D_pen(eta) + |u|^2`` minimised by ``u*`` (PIRLS) and
    ``f = D_obj(eta*) + |u*|^2 + log det M``, ``M = I + Lambda Z^T W Z Lambda``:
    ``df = dD_pen (explicit) + d log det M (explicit in theta) + v^T d eta``, where
    ``v = w' h + e`` collects what moves with ``eta`` (``w' = dW/d eta``,
    ``h_i = [Z Lambda M^{-1} Lambda Z^T]_ii``, ``e = d(D_obj - D_pen)/d eta``, non-zero
    only with augmentation) and ``d eta`` includes ``d u* = -M^{-1} (d score)`` (implicit
    function theorem). With ``q = M^{-1} Lambda Z^T v``, ``r = v - W Z Lambda q`` and
    ``res = w (y - mu)``: ``df/d beta = X^T (r - 2 res)`` and
    ``df/d theta_j = (Z_j u_j)^T (r - 2 res) + q_j^T Z_j^T res + 2 sum_i W_i (P_i theta)_j``,
    ``P_i`` the ``k x k`` block of ``M^{-1}`` at sample ``i``'s levels.
    """
    k = prob.ri.k
    theta = np.ascontiguousarray(phi[:, :k])
    beta = np.ascontiguousarray(phi[:, k:])
    y_obj, aug, w_obj = prob.objective()
    value, grad, u_new, eta = laplace_batch(
        prob.X, y_obj, prob.Yt, prob.weight, aug, prob.ri.code_matrix,
        prob.ri.offsets, prob.ri.sizes[0], sum(prob.ri.sizes[1:]), theta, beta,
        np.ascontiguousarray(u), True, w_obj)
    return _State(value=value, grad=grad, u=u_new, eta=eta)


def _hessian(prob: _Problem, phi: np.ndarray, u: np.ndarray, grad: np.ndarray, *,
             central: bool) -> np.ndarray:
    """Hessian of the Laplace deviance by differences of its exact gradient.

    Forward differences (step ``1e-6``) while iterating; central differences with
    lme4's step ``1e-4`` for the final covariance (error ``O(1e-8)``).
    """
    m, d = phi.shape
    H = np.empty((m, d, d))
    step = 1e-4 if central else 1e-6
    for c in range(d):
        up = phi.copy()
        up[:, c] += step
        g_up = _evaluate(prob, up, u).grad
        assert g_up is not None
        if central:
            down = phi.copy()
            down[:, c] -= step
            g_down = _evaluate(prob, down, u).grad
            assert g_down is not None
            H[:, :, c] = (g_up - g_down) / (2.0 * step)
        else:
            H[:, :, c] = (g_up - grad) / step
    return 0.5 * (H + np.swapaxes(H, 1, 2))


def _descent_step(H: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton step with the Hessian's eigenvalues made positive; and its decrement."""
    step, _ = modified_newton_step(H, grad, rel_floor=1e-8, abs_floor=1e-10)
    return step, -np.einsum("md,md->m", step, grad)


@dataclass
class _Optimum:
    phi: np.ndarray
    state: _State
    iterations: np.ndarray
    converged: np.ndarray
    hessian: np.ndarray  # central-difference Hessian at phi


def _maximise(prob: _Problem, phi: np.ndarray, *, max_iter: int, tol: float) -> _Optimum:
    """Damped Newton over ``(theta, beta)``, batched over the features still moving.

    Far from the optimum (Newton decrement > 1) the Hessian's ``beta`` block is the
    profiled information ``2 (X^T W X - X^T W Z Lambda M^{-1} Lambda Z^T W X)`` and only
    the ``theta`` columns come from differences of the gradient (``k + 1`` kernel calls).
    Closer, all of it comes from forward differences of the exact gradient (``k + p``
    calls): the profiled information misses the log-determinant's curvature in ``beta``,
    which matters when variances are large. Once the decrement is below ``1e-3`` the
    Hessian is kept (chord steps, one call each). Steps are backtracked to the Armijo
    condition. At the end, the Hessian by central differences, for the standard errors.
    """
    m, d = phi.shape
    phi = phi.copy()
    u = np.zeros((m, sum(prob.ri.sizes)))
    st = _evaluate(prob, phi, u)
    assert st.grad is not None
    value, grad, u = st.value.copy(), st.grad.copy(), st.u.copy()
    H = np.empty((m, d, d))
    iterations = np.zeros(m, dtype=int)
    converged = np.zeros(m, dtype=bool)
    close = np.zeros(m, dtype=bool)  # near the optimum: keep H (chord steps)
    far = np.ones(m, dtype=bool)  # far from it: profiled information for the beta block
    active = np.arange(m)
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        rough = active[far[active]]
        if rough.size:
            H[rough] = _approximate_hessian(prob.subset(rough), phi[rough], u[rough],
                                            grad[rough])
        refresh = active[~close[active] & ~far[active]]
        if refresh.size:
            H[refresh] = _hessian(prob.subset(refresh), phi[refresh], u[refresh],
                                  grad[refresh], central=False)
        step, decrement = _descent_step(H[active], grad[active])
        far[active] &= decrement > 1.0
        close[active] = ~far[active] & (decrement < 1e-3)
        done = decrement < tol
        iterations[active] = it
        stalled = _line_search(prob, active, step, decrement, done, phi, value, grad, u)
        close[active[stalled]] = False
        converged[active[done]] = True
        active = active[~done]
    final = _evaluate(prob, phi, u)
    H = _hessian(prob, phi, final.u, final.grad, central=True)
    return _Optimum(phi=phi, state=final, iterations=iterations, converged=converged, hessian=H)


def _approximate_hessian(prob: _Problem, phi: np.ndarray, u: np.ndarray,
                         grad: np.ndarray) -> np.ndarray:
    """Profiled information for ``beta``, forward differences of the gradient for ``theta``."""
    m, d = phi.shape
    k = prob.ri.k
    H = np.empty((m, d, d))
    eta = _evaluate(prob, phi, u).eta
    H[:, k:, k:] = 2.0 * _conditional_information(prob, phi[:, :k], eta)
    for c in range(k):
        up = phi.copy()
        up[:, c] += 1e-6
        H[:, :, c] = (_evaluate(prob, up, u).grad - grad) / 1e-6
        H[:, c, :] = H[:, :, c]
    return H


def _line_search(prob: _Problem, active: np.ndarray, step: np.ndarray, decrement: np.ndarray,
                 done: np.ndarray, phi: np.ndarray, value: np.ndarray, grad: np.ndarray,
                 u: np.ndarray) -> np.ndarray:
    """Backtrack each feature's step to the Armijo condition, updating the state in place.

    Features already converged (``done``) take their full (tiny) step. Returns which
    features found no acceptable step.
    """

    def evaluate_at(pending: np.ndarray, trial: np.ndarray) -> tuple[np.ndarray, Accept]:
        rows = active[pending]
        st = _evaluate(prob.subset(rows), trial, u[rows])

        def accept(ok: np.ndarray) -> None:
            took = rows[ok]
            phi[took], value[took] = trial[ok], st.value[ok]
            grad[took], u[took] = st.grad[ok], st.u[ok]

        return st.value, accept

    def armijo(pending: np.ndarray, t: np.ndarray, values: np.ndarray) -> np.ndarray:
        before = value[active[pending]]
        return (values <= before - 1e-4 * t * decrement[pending]) | done[pending]

    return backtrack(phi[active], step, evaluate_at, armijo, halvings=30)


def _snap_to_boundary(prob: _Problem, opt: _Optimum) -> None:
    """Set ``theta_j`` to exactly 0 where that does not raise the deviance (singular fits).

    The objective is even in each ``theta_j``, so a variance at the boundary is
    approached but never reached by Newton steps; ``glmer`` reports it as 0.
    """
    k = prob.ri.k
    opt.phi[:, :k] = np.abs(opt.phi[:, :k])
    for j in range(k):
        rows = np.flatnonzero((opt.phi[:, j] > 0) & (opt.phi[:, j] < 1e-4))
        if rows.size == 0:
            continue
        trial = opt.phi[rows].copy()
        trial[:, j] = 0.0
        st = _evaluate(prob.subset(rows), trial, opt.state.u[rows])
        ok = st.value <= opt.state.value[rows] + 1e-9
        opt.phi[rows[ok], j] = 0.0
    opt.state = _evaluate(prob, opt.phi, opt.state.u)


def conditional_covariance(prob: _Problem, theta: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """``(X^T W X - X^T W Z Lambda M^{-1} Lambda Z^T W X)^{-1}``: lme4's ``RX`` covariance.

    The covariance of ``beta`` given ``theta`` with ``u`` profiled out; ``glmer`` falls
    back to it when the finite-difference Hessian is not positive definite.
    """
    return np.linalg.inv(_conditional_information(prob, theta, eta))


def _conditional_information(prob: _Problem, theta: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """``X^T W X - X^T W Z Lambda M^{-1} Lambda Z^T W X`` per feature, ``(m, p, p)``."""
    X = prob.X
    mu = special.expit(eta)
    W = prob.weight * mu * (1.0 - mu)
    p = X.shape[1]
    info = information(outer_rows(X), W, p)
    A = np.stack([prob.lambda_zt(theta, W * X[:, c]) for c in range(p)], axis=2)
    info -= np.einsum("mqp,mqr->mpr", A, random_system(prob.ri, theta, W).solve(A))
    return info


def laplace_covariance(prob: _Problem, opt: _Optimum) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of ``beta`` from the Hessian of the Laplace deviance, as ``glmer`` does.

    ``2 H^{-1}`` restricted to ``beta``, with ``H`` over ``(theta, beta)`` by central
    differences; where that is not positive definite, the conditional covariance
    (:func:`conditional_covariance`) and a flag.
    """
    k = prob.ri.k
    H = opt.hessian
    m, d, _ = H.shape
    cov = np.full((m, d - k, d - k), np.nan)
    fallback = np.ones(m, dtype=bool)
    try:
        full = 2.0 * np.linalg.inv(H)
    except np.linalg.LinAlgError:
        full = None
    if full is not None:
        cov = full[:, k:, k:]
        finite = np.isfinite(cov).all(axis=(1, 2))
        evals = np.full((m, d - k), -1.0)
        evals[finite] = np.linalg.eigvalsh(cov[finite])
        fallback = ~finite | (evals.min(axis=1) <= 0)
    if fallback.any():
        rows = np.flatnonzero(fallback)
        cov[rows] = conditional_covariance(prob.subset(rows), opt.phi[rows, :k],
                                           opt.state.eta[rows])
    return cov, fallback


@single_blas_threaded
def fit_logistic_mixed(Y01: np.ndarray, X: np.ndarray, groups: Sequence[np.ndarray], *,
                       nAGQ: int = 1, augment: bool = False, max_iter: int = 100,
                       tol: float = 1e-10, augment_columns: int | None = None) -> LogisticFit:
    """Fit ``logit P(y_j = 1) = X beta_j + sum_f b_f[group_f]`` for every column of ``Y01``.

    Random intercepts ``b_f ~ N(0, sigma_f^2)`` for each grouping factor; the marginal
    likelihood is the Laplace approximation maximised by
    ``lme4::glmer(y ~ X + (1 | g1) + (1 | g2), family = binomial, nAGQ = 1)``.

    Parameters
    ----------
    Y01
        ``(n, m)`` presence/absence (0/1 or bool) of ``m`` features in ``n`` samples.
    X
        ``(n, p)`` full-rank fixed-effects design with an intercept column.
    groups
        ``k`` non-negative integer code arrays of length ``n`` (e.g. subject, site);
        levels need not be contiguous. Factors may be nested or crossed.
    nAGQ
        Only 1 (the Laplace approximation, ``glmer``'s default and MaAsLin 3's).
    augment
        MaAsLin 3's augmentation (see :func:`gutaxis.stats.models.logistic.fit_logistic`); as in
        ``glmer`` with the augmented rows, the pseudo-rows enter PIRLS and the
        log-determinant but not the deviance term of the objective (``binomial()$aic``
        rounds their fractional trials to zero); separated features excepted (see Notes).
    max_iter, tol
        Outer Newton iterations, and the Newton decrement below which they stop.
    augment_columns
        As for :func:`gutaxis.stats.models.logistic.fit_logistic`.

    Returns
    -------
    LogisticFit
        ``variances`` ``(m, k)`` holds ``sigma_f^2`` in the order of ``groups``;
        ``deviance`` the Laplace deviance (``-2 logLik`` of ``glmer``).

    Notes
    -----
    With ``u ~ N(0, I)``, ``b = Lambda u``, ``Lambda = diag(theta_f)`` and
    ``eta = X beta + Z Lambda u``, the Laplace deviance is

    ``f(theta, beta) = D(y, mu(u*)) + |u*|^2 + log det(I + Lambda Z^T W Z Lambda)``

    where ``u*`` minimises ``D + |u|^2`` (found by penalised IRLS) and
    ``W = diag(mu (1 - mu))`` at ``u*``. ``f`` is minimised over ``(theta, beta)``
    jointly, as ``glmer``'s second stage does, by damped Newton steps using the exact
    gradient (implicit differentiation through ``u*``) and a Hessian from differences
    of the gradient. ``f`` is even in each ``theta_f``: the boundary ``sigma_f^2 = 0``
    (a "singular fit") is reached by snapping a vanishing ``theta_f`` to 0.

    Standard errors are ``glmer``'s: ``sqrt(diag(2 H^{-1}))`` for ``beta``, ``H`` the
    Hessian of ``f`` over ``(theta, beta)`` (central differences, step ``1e-4``);
    where ``H`` is not positive definite, the conditional covariance
    ``(X^T W X - X^T W Z Lambda M^{-1} Lambda Z^T W X)^{-1}`` (lme4's ``RX``) and a
    message. z and p as :func:`fit_logistic`.

    Separation is found per term on the fixed-effects design
    (:func:`gutaxis.stats.models.logistic.fit_logistic` without augmentation, whose batched
    IRLS screens the features for :mod:`gutaxis.stats.models.separation`): the mixed model
    contains that fit, so along a direction of separation its objective keeps falling too.
    ``separated_terms`` marks those coefficients, ``separated`` any of them. Without
    augmentation such a feature has no estimate (``NaN``). With augmentation glmer's
    objective has no minimum either, because the pseudo-rows are absent from its deviance
    term (on HMP2 glmer returns arbitrary finite numbers for these four species, e.g.
    coefficients of -10 to -15 with standard errors of 12 to 360). For these features only:
    the estimable terms are reported at the limit of glmer's objective along the direction
    of separation, where the separated samples' fitted probabilities reach 0 or 1 and leave
    it, i.e. the same augmented fit on the other samples, with the design columns they still
    need (:func:`_estimable_at_boundary`; on HMP2 equal to glmer's fit of that reduced
    problem); the separated terms keep the finite estimates of the Laplace approximation of
    the augmented likelihood itself (pseudo-rows also in the deviance term, with their
    weights, as in the augmented GLM and in PIRLS), flagged. The two fits share no
    covariance: each term's Wald test is its own fit's. ``variances`` are the limit fit's;
    ``deviance`` is ``NaN`` (no minimum: no likelihood-ratio test). Features without
    separation keep glmer's objective, so they stay comparable with MaAsLin 3.
    Degenerate features (present in all/no samples) are ``NaN``.

    References
    ----------
    .. [1] Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects
       models using lme4. *J Stat Softw* 67(1):1-48.
    .. [2] Breslow NE, Clayton DG (1993). Approximate inference in generalized linear
       mixed models. *J Am Stat Assoc* 88:9-25.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(40), 10)
    >>> X = np.column_stack([np.ones(400), rng.normal(size=400)])
    >>> eta = X @ [0.2, 1.0] + rng.normal(size=40)[g]
    >>> Y = (rng.random((400, 2)) < 1 / (1 + np.exp(-eta[:, None]))).astype(int)
    >>> fit = fit_logistic_mixed(Y, X, [g])
    >>> fit.coef.shape, fit.variances.shape, bool(fit.converged.all())
    ((2, 2), (2, 1), True)
    """
    Y, X = validate_design(Y01, X)
    if nAGQ != 1:
        raise InputError("only the Laplace approximation is implemented", field="nAGQ",
                         found=nAGQ, expected="1")
    m, n = Y.shape
    p = X.shape[1]
    ri = random_intercepts(groups, n)
    Yt, weight = augmented_response(Y, augment_columns or p, augment=augment)
    messages = degenerate_messages(Y)
    # Separation of the fixed effects carries over to the mixed model (which contains that
    # fit); found per term on the unaugmented fixed-effects design (False for the degenerate).
    sep_terms = fit_logistic(Y.T, X).separated_terms
    assert sep_terms is not None
    separated = np.asarray(sep_terms.any(axis=1))
    if not augment:
        messages[separated] = SEPARATION_NOTE
    out = _Fits(m, p, ri.k)
    rows = np.flatnonzero(messages == "")
    if rows.size:  # glmer's objective; the full augmented one where separated
        _fit_rows(_Problem(X, Y[rows], Yt[rows], weight, ri, separated[rows]), rows, out,
                  messages, max_iter=max_iter, tol=tol)
    for j in rows[separated[rows]] if augment else ():  # the few separated features
        _estimable_at_boundary(j, X, Y, Yt, weight, groups, sep_terms[j], out, messages,
                               max_iter=max_iter, tol=tol)
    stderr, zvalue, pval = wald(out.coef, out.cov)
    return LogisticFit(coef=out.coef, stderr=stderr, zvalue=zvalue, pval=pval,
                       variances=out.variances, converged=out.converged, separated=separated,
                       messages=tuple(str(s) for s in messages), deviance=out.deviance,
                       iterations=out.iterations, separated_terms=sep_terms)


class _Fits:
    """The arrays of :func:`fit_logistic_mixed`, filled batch by batch (``NaN`` if unfitted)."""

    def __init__(self, m: int, p: int, k: int) -> None:
        self.coef = np.full((m, p), np.nan)
        self.cov = np.full((m, p, p), np.nan)
        self.variances = np.full((m, k), np.nan)
        self.deviance = np.full(m, np.nan)
        self.converged = np.zeros(m, dtype=bool)
        self.iterations = np.zeros(m, dtype=int)


def _fit_rows(prob: _Problem, rows: np.ndarray, out: _Fits, messages: np.ndarray, *,
              max_iter: int, tol: float) -> None:
    """Maximise the Laplace objective of ``prob`` (the features ``rows``) into ``out``."""
    k = prob.ri.k
    start = fit_logistic(prob.Y.T, prob.X, augment=True).coef
    phi0 = np.concatenate([np.ones((rows.size, k)), start], axis=1)
    opt = _maximise(prob, phi0, max_iter=max_iter, tol=tol)
    _snap_to_boundary(prob, opt)
    fit_cov, fallback = laplace_covariance(prob, opt)
    # the augmented likelihood is bounded: large logits there are an estimate, not a symptom
    saturated = np.abs(opt.state.eta).max(axis=1) > ETA_SATURATED
    if prob.full is not None:
        saturated &= ~prob.full
    ok = ~saturated
    out.coef[rows[ok]] = opt.phi[ok, k:]
    out.cov[rows[ok]] = fit_cov[ok]
    out.variances[rows[:, None], np.asarray(prob.ri.order)[None, :]] = opt.phi[:, :k] ** 2
    out.deviance[rows] = opt.state.value
    out.converged[rows] = opt.converged & ok
    out.iterations[rows] = opt.iterations
    messages[rows[saturated]] = SATURATED_NOTE
    stuck = rows[~opt.converged & ok]
    messages[stuck] = f"Laplace optimisation did not converge in {max_iter} iterations"
    fell_back = rows[fallback & ok & opt.converged]
    messages[fell_back] = ("Hessian of the Laplace deviance not positive definite: "
                           "standard errors from the conditional (RX) covariance")


def _estimable_at_boundary(j: int, X: np.ndarray, Y: np.ndarray, Yt: np.ndarray,
                           weight: float, groups: Sequence[np.ndarray],
                           separated_terms: np.ndarray, out: _Fits, messages: np.ndarray, *,
                           max_iter: int, tol: float) -> None:
    """Feature ``j``'s estimable terms at the limit of glmer's objective along its
    direction of separation, written over its augmented-likelihood estimates in ``out``.

    Along that direction the separated samples' fitted probabilities reach 0 or 1 and
    leave the objective; the estimable coefficients are those of the same (augmented)
    objective on the other samples, with the design columns they still need (the estimable
    ones first: they stay independent there). The separated terms keep their estimates.
    """
    out.deviance[j] = np.nan  # glmer's objective has no minimum: no deviance to compare
    keep = ~separated_samples(Y[j], X)
    estimable = np.flatnonzero(~separated_terms)
    cols: list[int] = [int(c) for c in estimable]
    for c in np.flatnonzero(separated_terms):
        if np.linalg.matrix_rank(X[keep][:, [*cols, c]]) == len(cols) + 1:
            cols.append(int(c))
    try:
        ri = random_intercepts([np.asarray(g)[keep] for g in groups], int(keep.sum()))
    except InputError as exc:  # e.g. a factor left with one level: keep the estimates
        messages[j] = f"estimable terms from the augmented likelihood ({exc})"
        return
    fit = _Fits(1, len(cols), ri.k)
    note = np.full(1, "", dtype=object)
    _fit_rows(_Problem(X[keep][:, cols], Y[j:j + 1, keep], Yt[j:j + 1, keep], weight, ri),
              np.arange(1), fit, note, max_iter=max_iter, tol=tol)
    q = len(estimable)
    out.coef[j, estimable] = fit.coef[0, :q]
    cov = np.full_like(out.cov[j], np.nan)  # no joint covariance across the two fits
    sep = np.flatnonzero(separated_terms)
    cov[np.ix_(sep, sep)] = out.cov[j][np.ix_(sep, sep)]
    cov[np.ix_(estimable, estimable)] = fit.cov[0, :q, :q]
    out.cov[j] = cov
    out.variances[j] = fit.variances[0]
    out.converged[j] &= fit.converged[0]
    if note[0]:
        messages[j] = note[0]

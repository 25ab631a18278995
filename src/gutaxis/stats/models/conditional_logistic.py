"""Conditional logistic regression for many binary outcomes at once (matched designs).

The prevalence half of a MaAsLin-3-style scan with ``strata(s)``: within each stratum
(a matched set) the stratum's own intercept is conditioned away, so only the covariates
that vary within strata are estimated. This is ``survival::clogit``: a Cox model in which
every sample has the same event time and the strata are the matched sets. All features
share the design and the strata; each Newton-Raphson iteration is computed for every
feature still moving at once, with segment sums over the (sorted) strata.

Two likelihoods, as ``clogit``'s ``method``:

- ``"breslow"`` (MaAsLin 3's choice, and the only one that takes weights, hence
  MaAsLin 3's augmentation): Breslow's approximation to the tied-event partial likelihood;
- ``"exact"`` (``clogit``'s default): the exact conditional likelihood, whose denominator
  sums over every subset of the stratum with as many members as it has cases, computed by
  the recursion of Gail, Lubin and Rubinstein (1981).

Both are the same when every stratum has at most one case (e.g. 1:1 or 1:k matching).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.models.logistic import outer_rows, validate_design
from gutaxis.stats.results import FitResults

__all__ = ["ConditionalLogisticFit", "fit_conditional_logistic"]

Method = Literal["breslow", "exact"]
METHODS: tuple[str, ...] = ("breslow", "exact")

#: Largest within-stratum spread of the linear predictor of a finite estimate; beyond it
#: fitted conditional probabilities are numerically 0 or 1 (separation).
ETA_SATURATED = 30.0
#: R's name of the intercept, absorbed by the strata.
INTERCEPT = "(Intercept)"
#: Relative tolerance of the check for terms aliased once strata are conditioned away.
ALIAS_TOL = 1e-9


@dataclass(frozen=True)
class ConditionalLogisticFit:
    """Conditional logistic fits of ``m`` binary outcomes on one design and one stratification.

    Attributes
    ----------
    coef, stderr, zvalue, pval
        ``(m, q)`` estimates, model-based standard errors (inverse observed information),
        Wald ``z`` and two-sided normal p-values, as ``summary(clogit(...))`` reports them
        (``coef``, ``se(coef)``, ``z``, ``Pr(>|z|)``). ``NaN`` for aliased terms and for
        features that could not be estimated (see ``messages``).
    loglik
        ``(m,)`` the maximised log (partial) likelihood (``fit$loglik[2]`` in R).
    aliased
        ``(q,)`` terms that do not vary within strata once the earlier terms are accounted
        for: not estimable (``NA`` in R).
    converged, separated
        ``(m,)`` converged to a finite maximum; the maximum is at infinity (a covariate
        predicts presence exactly within strata).
    messages
        ``m`` strings, ``''`` when the fit is fine, else the reason it is not.
    iterations
        ``(m,)`` Newton-Raphson iterations used.
    method
        ``"breslow"`` or ``"exact"``.
    """

    coef: np.ndarray
    stderr: np.ndarray
    zvalue: np.ndarray
    pval: np.ndarray
    loglik: np.ndarray
    aliased: np.ndarray
    converged: np.ndarray
    separated: np.ndarray
    messages: tuple[str, ...]
    iterations: np.ndarray
    method: str

    def results(self, *, terms: Sequence[str], responses: Sequence[str] | None = None
                ) -> FitResults:
        """These fits as a :class:`~gutaxis.stats.results.FitResults` (Wald z tests).

        ``terms`` names the columns of ``X``, optionally preceded by ``"(Intercept)"``:
        then a ``NaN`` intercept column is put first (the strata absorb the intercept), so
        that the results line up with those of models fitted with one. A converged fit with
        aliased terms says which in its message.
        """
        names = list(terms)
        coef, stderr, zvalue, pval = self.coef, self.stderr, self.zvalue, self.pval
        if len(names) == coef.shape[1] + 1 and names[0] == INTERCEPT:
            nan = np.full((coef.shape[0], 1), np.nan)
            coef, stderr, zvalue, pval = (np.hstack([nan, a]) for a in (coef, stderr, zvalue,
                                                                       pval))
        messages = list(self.messages)
        if self.aliased.any():
            covariates = names[-len(self.aliased):]
            note = (", ".join(t for t, a in zip(covariates, self.aliased, strict=True) if a)
                    + " constant within strata: not estimable by the conditional model")
            messages = [note if ok else msg
                        for ok, msg in zip(self.converged, messages, strict=True)]
        return FitResults.from_arrays(
            f"conditional logistic ({self.method})", terms=names, responses=responses,
            coef=coef, stderr=stderr, statistic=zvalue, df=np.inf, pvalue=pval,
            statistic_name="z", messages=messages, converged=self.converged,
            separated=self.separated)


@dataclass(frozen=True)
class _Strata:
    """Samples sorted by stratum: ``order`` sorts them, ``starts``/``sizes`` cut segments."""

    order: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, strata: np.ndarray) -> _Strata:
        codes = pd.factorize(pd.Series(strata).astype(str), sort=True)[0]
        order = np.argsort(codes, kind="mergesort")
        sizes = np.bincount(codes)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return cls(order=order, starts=starts, sizes=sizes)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per-stratum sums along the last axis of a sorted ``(..., n)`` array."""
        return np.add.reduceat(values, self.starts, axis=-1)

    def spread(self, per_stratum: np.ndarray) -> np.ndarray:
        """Each stratum's value repeated over its members (last axis)."""
        return np.repeat(per_stratum, self.sizes, axis=-1)

    def centred(self, X: np.ndarray) -> np.ndarray:
        """``X`` (sorted rows) minus its per-stratum column means."""
        means = np.add.reduceat(X, self.starts, axis=0) / self.sizes[:, None]
        return X - np.repeat(means, self.sizes, axis=0)


def fit_conditional_logistic(
    Y01: np.ndarray,
    X: np.ndarray,
    strata: np.ndarray,
    *,
    method: str = "breslow",
    augment: bool = False,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> ConditionalLogisticFit:
    """Fit ``logit P(y_ij = 1) = alpha_s(i) + x_i beta_j`` conditionally on each stratum.

    Parameters
    ----------
    Y01
        ``(n, m)`` presence/absence (0/1 or bool) of ``m`` features in ``n`` samples.
    X
        ``(n, q)`` covariates, *without* an intercept (the strata absorb it).
    strata
        ``(n,)`` the matched set of each sample (any labels).
    method
        ``"breslow"`` (default, as MaAsLin 3) or ``"exact"``.
    augment
        MaAsLin 3's augmentation (its default): every sample also counts as an extra
        success and an extra failure in its stratum, each of weight ``q / (2 n)``; this keeps
        estimates finite under separation. Breslow only (``clogit`` cannot weight the exact
        likelihood).
    max_iter, tol
        Newton-Raphson stops when the decrement ``g^T H^{-1} g`` falls below
        ``tol * (|loglik| + 0.1)`` (after which the last step is still applied).

    Returns
    -------
    ConditionalLogisticFit

    Notes
    -----
    With ``eta_i = x_i beta``, event weights ``e_i`` and risk weights ``r_i`` (``e = y``,
    ``r = 1`` plainly; ``e = y + a``, ``r = 1 + 2a`` with ``a = q / (2n)`` augmented: the
    two pseudo-copies of a sample share its covariates), and ``D_s = sum_{i in s} e_i``,
    Breslow's log likelihood is

    .. math:: \\ell(\\beta) = \\sum_s \\Big[\\sum_{i \\in s} e_i \\eta_i
              - D_s \\log \\sum_{i \\in s} r_i e^{\\eta_i}\\Big].

    The exact conditional likelihood of stratum ``s`` with ``d_s`` cases is
    ``exp(sum_{cases} eta_i) / B_s`` with ``B_s = sum_{|S| = d_s} exp(sum_{i in S} eta_i)``
    over the subsets of the stratum; ``B`` and its first two derivatives follow the
    recursion ``B(k, r) = B(k, r - 1) + e^{eta_r} B(k - 1, r - 1)`` over its members.
    Standard errors are the square roots of the diagonal of the inverse observed
    information (``clogit``'s ``se(coef)``; MaAsLin 3 passes ``robust = FALSE``). Terms
    constant within every stratum (after the earlier terms) are aliased and reported
    ``NaN``, as ``coxph`` reports ``NA``. Without augmentation a covariate that predicts
    presence exactly within strata has no finite estimate: flagged ``separated``, ``NaN``.
    A stratum in which every sample has the same outcome carries no information under
    the exact likelihood (it does under Breslow's, where it counts ties).

    References
    ----------
    .. [1] Breslow NE, Day NE (1980). *Statistical Methods in Cancer Research, vol. 1: The
       analysis of case-control studies*. IARC, ch. 7.
    .. [2] Gail MH, Lubin JH, Rubinstein LV (1981). Likelihood calculations for matched
       case-control studies and survival studies with tied death times. *Biometrika*
       68:703-707.
    .. [3] Therneau TM (2024). *survival*: ``clogit``. R package.
    .. [4] Nickols WA et al. (2024). MaAsLin 3. *bioRxiv* 2024.12.13.628459.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(40, 1))
    >>> y = (rng.random((40, 2)) < 1 / (1 + np.exp(-x))).astype(int)
    >>> fit = fit_conditional_logistic(y, x, np.repeat(np.arange(20), 2))
    >>> fit.coef.shape, fit.method
    ((2, 1), 'breslow')
    """
    Y, Xs, groups, method_name = _validate(Y01, X, strata, method, augment)
    m, n = Y.shape
    q = Xs.shape[1]
    aliased = _aliased_terms(groups.centred(Xs))
    keep = np.flatnonzero(~aliased)
    Xk = Xs[:, keep]
    a = q / (2.0 * n) if augment else 0.0
    events, risk = Y + a, np.full(n, 1.0 + 2.0 * a)
    objective = _Breslow(Xk, groups, events, risk) if method_name == "breslow" else \
        _Exact(Xk, groups, Y)
    beta, info, loglik, iters, converged, separated = _newton(objective, m, len(keep),
                                                             max_iter=max_iter, tol=tol)
    coef = np.full((m, q), np.nan)
    cov = np.full((m, q, q), np.nan)
    ok = np.flatnonzero(converged)
    if len(ok):
        coef[np.ix_(ok, keep)] = beta[ok]
        cov[np.ix_(ok, keep, keep)] = _inverse(info[ok])
    stderr = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        zvalue = coef / stderr
    pval = 2.0 * stats.norm.sf(np.abs(zvalue))
    messages = np.full(m, "", dtype=object)
    messages[separated] = ("separation: a covariate predicts presence exactly within strata, "
                           "the conditional maximum-likelihood estimate does not exist")
    messages[~converged & ~separated] = (f"Newton-Raphson did not converge in {max_iter} "
                                         "iterations or the information is singular")
    return ConditionalLogisticFit(
        coef=coef, stderr=stderr, zvalue=zvalue, pval=pval, loglik=loglik, aliased=aliased,
        converged=converged, separated=separated, messages=tuple(str(s) for s in messages),
        iterations=iters, method=method_name)


def _validate(Y01: np.ndarray, X: np.ndarray, strata: np.ndarray, method: str, augment: bool
              ) -> tuple[np.ndarray, np.ndarray, _Strata, str]:
    """Checked inputs: ``Y`` feature-major ``(m, n)``, ``X`` and ``Y`` sorted by stratum."""
    Y = np.asarray(Y01)
    Xa = np.asarray(X, dtype=np.float64)
    Xa = Xa[:, None] if Xa.ndim == 1 else Xa
    labels = np.asarray(strata)
    name = str(method).lower()
    if name not in METHODS:
        raise InputError("unknown conditional-likelihood method", field="method", found=method,
                         expected=" or ".join(METHODS))
    if augment and name == "exact":
        raise InputError("the exact conditional likelihood cannot take MaAsLin 3's "
                         "augmentation weights (clogit ignores weights with it)",
                         field="method", found="exact with augment=True",
                         expected="method='breslow', or augment=False")
    if labels.ndim != 1 or labels.shape[0] != Y.shape[0]:
        raise InputError("strata must give one label per sample", field="strata",
                         found=f"shape {labels.shape} for {Y.shape[0]} samples",
                         expected="a 1-D array with one stratum per sample")
    Yf, Xa = validate_design(Y, Xa)  # 0/1 outcome, finite full-rank design
    if pd.isna(labels).any():
        row = int(np.flatnonzero(pd.isna(labels))[0]) + 1
        raise InputError("missing stratum", field="strata", row=row, found="a missing value",
                         expected="a stratum label for every sample")
    groups = _Strata.of(labels)
    return np.ascontiguousarray(Yf[:, groups.order]), Xa[groups.order], groups, name


def _aliased_terms(Xc: np.ndarray) -> np.ndarray:
    """Terms whose within-stratum variation is spanned by the earlier terms' (in order,
    as ``coxph``'s Cholesky drops them)."""
    q = Xc.shape[1]
    aliased = np.zeros(q, dtype=bool)
    scale = max(float(np.abs(Xc).max(initial=0.0)), 1.0)
    kept: list[int] = []
    for k in range(q):
        col = Xc[:, k]
        norm = float(np.linalg.norm(col))
        if kept:
            basis = Xc[:, kept]
            coef, *_ = np.linalg.lstsq(basis, col, rcond=None)
            resid = float(np.linalg.norm(col - basis @ coef))
        else:
            resid = norm
        if resid <= ALIAS_TOL * max(norm, scale * np.sqrt(len(col))):
            aliased[k] = True
        else:
            kept.append(k)
    return aliased


class _Breslow:
    """Breslow's log likelihood, gradient and information, per feature."""

    def __init__(self, X: np.ndarray, groups: _Strata, events: np.ndarray, risk: np.ndarray):
        self.X, self.groups, self.events, self.risk = X, groups, events, risk
        self.XX = outer_rows(X)
        self.D = groups.sums(events)  # (m, K) event weight per stratum

    def __call__(self, beta: np.ndarray, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g, X, q = self.groups, self.X, self.X.shape[1]
        eta = beta @ X.T
        top = np.maximum.reduceat(eta, g.starts, axis=1)
        A = self.risk * np.exp(eta - g.spread(top))
        S = g.sums(A)
        D = self.D[rows]
        E = self.events[rows]
        loglik = (E * eta).sum(axis=1) - (D * (np.log(S) + top)).sum(axis=1)
        pi = A / g.spread(S)
        xbar = np.stack([g.sums(pi * X[:, k]) for k in range(q)], axis=-1)  # (m, K, q)
        grad = E @ X - np.einsum("mk,mkq->mq", D, xbar)
        info = ((pi * g.spread(D)) @ self.XX).reshape(-1, q, q) \
            - np.einsum("mk,mkp,mkq->mpq", D, xbar, xbar)
        return loglik, grad, info


class _Exact:
    """The exact conditional log likelihood (subset-sum recursion), per feature."""

    def __init__(self, X: np.ndarray, groups: _Strata, Y: np.ndarray):
        self.X, self.groups, self.Y = X, groups, Y
        self.cases = np.rint(groups.sums(Y)).astype(np.int64)  # (m, K)
        informative = (self.cases > 0) & (self.cases < groups.sizes)
        self.Y_informative = Y * groups.spread(informative)  # a concordant stratum: L = 1

    def __call__(self, beta: np.ndarray, rows: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X, g = self.X, self.groups
        m, q = beta.shape
        eta = beta @ X.T
        Y = self.Y_informative[rows]
        loglik = (Y * eta).sum(axis=1)
        grad = Y @ X
        info = np.zeros((m, q, q))
        cases = self.cases[rows]
        for s, (start, size) in enumerate(zip(g.starts, g.sizes, strict=True)):
            d = cases[:, s]
            live = np.flatnonzero((d > 0) & (d < size))  # others: likelihood 1
            if not len(live):
                continue
            seg = slice(start, start + size)
            logB, dlogB, d2logB = _subset_sums(eta[live, seg], X[seg], d[live])
            loglik[live] -= logB
            grad[live] -= dlogB
            info[live] += d2logB
        return loglik, grad, info


def _subset_sums(eta: np.ndarray, X: np.ndarray, d: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log B``, its gradient and Hessian for one stratum: ``B`` sums ``exp(sum eta)`` over
    the subsets of size ``d_j`` (per feature ``j``), by the recursion over members."""
    m, size = eta.shape
    q = X.shape[1]
    top = eta.max(axis=1)
    a = np.exp(eta - top[:, None])  # centred: B scales by exp(d * top)
    kmax = int(d.max())
    B = np.zeros((m, kmax + 1))
    B[:, 0] = 1.0
    dB = np.zeros((m, kmax + 1, q))
    d2B = np.zeros((m, kmax + 1, q, q))
    for r in range(size):
        x = X[r]
        ar = a[:, r, None]
        prev_B, prev_dB = B[:, :-1], dB[:, :-1]
        xx = np.outer(x, x)
        d2B[:, 1:] += ar[..., None, None] * (
            d2B[:, :-1] + x[:, None] * prev_dB[:, :, None, :]
            + prev_dB[..., None] * x[None, :] + xx * prev_B[..., None, None])
        dB[:, 1:] += ar[..., None] * (prev_dB + x * prev_B[..., None])
        B[:, 1:] += ar * prev_B
    idx = np.arange(m)
    Bd, dBd, d2Bd = B[idx, d], dB[idx, d], d2B[idx, d]
    mean = dBd / Bd[:, None]
    hess = d2Bd / Bd[:, None, None] - mean[:, :, None] * mean[:, None, :]
    return np.log(Bd) + d * top, mean, hess


def _newton(objective: _Breslow | _Exact, m: int, q: int, *, max_iter: int, tol: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Batched Newton-Raphson from ``beta = 0`` with step halving; returns beta, the
    information at beta, log likelihood, iterations, converged, separated."""
    beta = np.zeros((m, q))
    info = np.zeros((m, q, q))
    loglik = np.full(m, np.nan)
    iters = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)
    separated = np.zeros(m, dtype=bool)
    streak = np.zeros(m, dtype=np.int64)
    active = np.arange(m)
    ll, grad, inf = objective(beta, active)
    for it in range(1, max_iter + 1):
        if not active.size:
            break
        loglik[active], info[active], iters[active] = ll, inf, it
        step, ok = _solve(inf, grad)
        decrement = np.einsum("mq,mq->m", step, grad)
        small = ok & (decrement < tol * (np.abs(ll) + 0.1))
        moving = np.abs(step).max(axis=1) > 1e-4
        new_beta, new = _halve(objective, active, beta[active], step, ll)
        beta[active] = new_beta
        ll, grad, inf = new
        streak[active] = np.where(small & moving, streak[active] + 1, 0)
        spread = _eta_spread(objective, new_beta)
        done_sep = (streak[active] >= 3) | (spread > ETA_SATURATED)
        done_ok = small & ~moving & ~done_sep
        separated[active[done_sep]] = True
        converged[active[done_ok]] = True
        loglik[active], info[active] = ll, inf
        still = ~(done_sep | done_ok | ~ok)
        active, ll, grad, inf = active[still], ll[still], grad[still], inf[still]
    return beta, info, loglik, iters, converged, separated


def _solve(info: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps ``info^{-1} grad`` per feature; ``ok`` False where info is singular."""
    ok = np.ones(len(grad), dtype=bool)
    step = np.zeros_like(grad)
    try:
        step = np.linalg.solve(info, grad[..., None])[..., 0]
    except np.linalg.LinAlgError:
        for j in range(len(grad)):  # the rare batch with a singular member
            try:
                step[j] = np.linalg.solve(info[j], grad[j])
            except np.linalg.LinAlgError:
                ok[j] = False
    ok &= np.isfinite(step).all(axis=1)
    step[~ok] = 0.0
    return step, ok


def _halve(objective: _Breslow | _Exact, rows: np.ndarray, beta: np.ndarray,
           step: np.ndarray, ll: np.ndarray, *, max_halvings: int = 30
           ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``beta + t step`` with ``t = 1, 1/2, ...`` until the log likelihood does not fall."""
    t = np.ones(len(beta))
    new_beta = beta + step
    new_ll, new_grad, new_info = objective(new_beta, rows)
    for _ in range(max_halvings):
        worse = ~(new_ll >= ll - 1e-12 * (np.abs(ll) + 1.0))
        if not worse.any():
            break
        t[worse] *= 0.5
        new_beta[worse] = beta[worse] + t[worse, None] * step[worse]
        sub = objective(new_beta[worse], rows[worse])
        new_ll[worse], new_grad[worse], new_info[worse] = sub
    return new_beta, (new_ll, new_grad, new_info)


def _eta_spread(objective: _Breslow | _Exact, beta: np.ndarray) -> np.ndarray:
    """Per feature, the largest within-stratum range of ``x beta``."""
    g = objective.groups
    eta = beta @ objective.X.T
    return (np.maximum.reduceat(eta, g.starts, axis=1)
            - np.minimum.reduceat(eta, g.starts, axis=1)).max(axis=1)


def _inverse(info: np.ndarray) -> np.ndarray:
    """Stacked inverses; a singular matrix gives ``NaN``."""
    out = np.full_like(info, np.nan)
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        for j in range(len(info)):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[j] = np.linalg.inv(info[j])
        return out

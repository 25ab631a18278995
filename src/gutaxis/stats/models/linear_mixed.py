"""Linear mixed models with random intercepts, fitted to many responses at once.

:func:`fit_lmm` reproduces ``lmerTest::lmer(y ~ X + (1 | g1) + (1 | g2) ..., REML = TRUE)``
followed by ``summary()`` (Satterthwaite t-tests) for every column of a response matrix,
as MaAsLin 2 does feature by feature, without refitting from scratch per feature.

Examples
--------
>>> import numpy as np
>>> from gutaxis.stats.models.linear_mixed import fit_lmm
>>> rng = np.random.default_rng(1)
>>> subject = np.repeat(np.arange(20), 5)
>>> X = np.column_stack([np.ones(100), rng.normal(size=100)])
>>> y = 1.0 + 0.5 * X[:, 1] + rng.normal(size=20)[subject] + rng.normal(size=100)
>>> fit = fit_lmm(y[:, None], X, [subject])
>>> fit.coef.shape, bool(fit.converged[0])
((1, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
from scipy import stats

from gutaxis.choices import LmmOptimizer
from gutaxis.errors import InputError
from gutaxis.stats.mixed.reml import (
    Evaluation,
    SharedDesign,
    build_shared_design,
    cross_response,
    evaluate,
    required,
)
from gutaxis.stats.mixed.search import better_of, grid_starts, newton_search
from gutaxis.stats.mixed.structure import grouping_factors
from gutaxis.stats.mixed.threads import single_blas_thread
from gutaxis.stats.results import FitResults

SINGULAR_TOL = 1e-4
"""``theta`` below this counts as a variance component at zero (lme4's ``isSingular`` default)."""

EIGEN_TOL = 1e-8
"""Eigenvalues of the variance-parameter Hessian within this of zero are dropped (as lmerTest)."""

OPTIMIZERS: tuple[str, ...] = get_args(LmmOptimizer)
"""Values of ``fit_lmm(optimizer=...)``."""

CHUNK_ELEMENTS = 4_000_000
"""Responses are fitted in chunks whose largest work array has about this many elements."""


@dataclass(frozen=True)
class MixedModelFit:
    """Per-response results of :func:`fit_lmm`; ``m`` responses, ``p`` fixed effects, ``k`` factors.

    Attributes
    ----------
    coef, stderr, df, tvalue, pval
        ``(m, p)``: fixed effects, standard errors, Satterthwaite denominator degrees of
        freedom, t statistics and two-sided p-values from the t distribution with ``df``.
    sigma2
        ``(m,)`` residual variance.
    variances
        ``(m, k)`` random-intercept variances, one column per grouping factor as given.
    reml_criterion
        ``(m,)`` ``-2`` REML log-likelihood (lme4's ``REMLcrit``); the ML deviance when the
        fit was made with ``reml=False``.
    converged, singular
        ``(m,)`` flags; ``singular`` marks a variance component at (numerically) zero,
        i.e. ``theta < 1e-4`` as lme4's ``isSingular``.
    messages
        ``m`` strings, ``''`` when the fit is clean, else the reason in words.
    theta
        ``(m, k)`` relative standard deviations ``sqrt(variances / sigma2)``.
    iterations
        ``(m,)`` Newton iterations used.
    vcov, vcov_jacobian, varpar_cov
        Only with ``fit_lmm(..., full_vcov=True)``, else ``None``: ``(m, p, p)`` covariance
        of the fixed effects, ``(m, k + 1, p, p)`` its derivatives in the variance
        parameters ``varpar = (theta_1..theta_k, sigma)`` (factors in an internal order) and
        ``(m, k + 1, k + 1)`` the asymptotic covariance of ``varpar``: lmerTest's
        ``vcov_beta``, ``Jac_list`` and ``vcov_varpar``, from which Satterthwaite's df of
        any contrast follows (:func:`gutaxis.stats.special_terms.contrast_f_test`).
    """

    coef: np.ndarray
    stderr: np.ndarray
    df: np.ndarray
    tvalue: np.ndarray
    pval: np.ndarray
    sigma2: np.ndarray
    variances: np.ndarray
    reml_criterion: np.ndarray
    converged: np.ndarray
    singular: np.ndarray
    messages: tuple[str, ...]
    theta: np.ndarray
    iterations: np.ndarray
    vcov: np.ndarray | None = None
    vcov_jacobian: np.ndarray | None = None
    varpar_cov: np.ndarray | None = None

    def results(self, *, terms: Sequence[str], responses: Sequence[str] | None = None
                ) -> FitResults:
        """These fits as a :class:`~gutaxis.stats.results.FitResults` (t tests,
        Satterthwaite df)."""
        return FitResults.from_arrays(
            "LMM (REML, Satterthwaite df)", terms=terms, responses=responses, coef=self.coef,
            stderr=self.stderr, statistic=self.tvalue, df=self.df, pvalue=self.pval,
            statistic_name="t", messages=self.messages, converged=self.converged,
            singular=self.singular)


def fit_lmm(
    Y: np.ndarray,
    X: np.ndarray,
    groups: Sequence[np.ndarray],
    *,
    reml: bool = True,
    progress: Callable[[int], None] | None = None,
    optimizer: str = "newton",
    full_vcov: bool = False,
) -> MixedModelFit:
    """Fit ``y = X beta + sum_j Z_j b_j + e`` with random intercepts to every column of ``Y``.

    Parameters
    ----------
    Y
        ``(n, m)`` responses (one column per feature), finite. A 1-D array is one response.
    X
        ``(n, p)`` fixed-effects design of full column rank, intercept included.
    groups
        ``k >= 1`` integer code arrays of length ``n``, one per grouping factor (crossed or
        nested). Codes need not be contiguous; unused codes are dropped as R drops unused
        factor levels.
    reml
        Restricted maximum likelihood (default, as ``lmer``); ``False`` for maximum likelihood.
    progress
        Called with the number of responses just finished (an increment) after each chunk.
    optimizer
        ``"newton"`` (default): the vectorised exact optimiser described in the Notes.
        ``"lme4"``: lme4's default optimiser replayed response by response (NLopt BOBYQA with
        lme4's start, tolerances and boundary rules, :mod:`gutaxis.stats.mixed.lme4_replay`), which
        stops where ``lmer`` stops, short of the optimum; slower, for reproducing lme4 or
        MaAsLin 2 output to ~1e-8. ``iterations`` then counts criterion evaluations.
    full_vcov
        Also return the full covariance of the fixed effects, its derivatives in the
        variance parameters and their covariance (``vcov``, ``vcov_jacobian``,
        ``varpar_cov``), for F tests of several coefficients.

    Returns
    -------
    MixedModelFit
        A response that is constant, or fitted exactly by ``X``, gets NaN estimates and a
        message; the other responses are unaffected.

    Raises
    ------
    InputError
        Wrong shapes, non-finite values, a rank-deficient ``X``, or a grouping factor with
        fewer than two levels or as many levels as observations (both refused by lme4).

    Notes
    -----
    With ``b_j ~ N(0, sigma^2 theta_j^2 I)`` and ``e ~ N(0, sigma^2 I)``, the marginal
    covariance is ``sigma^2 V``, ``V = I + sum_j theta_j^2 Z_j Z_j'``. The REML criterion
    profiled over ``beta`` and ``sigma^2`` (Bates et al. 2015, eq. 41) is

    .. math:: d(\\theta) = \\log|V| + \\log|X'V^{-1}X|
              + (n - p)\\,[1 + \\log(2\\pi r^2 / (n - p))],\\quad r^2 = y'Py,

    with ``P = V^{-1} - V^{-1}X(X'V^{-1}X)^{-1}X'V^{-1}``. It is minimised over
    ``psi_j = theta_j^2 >= 0`` by projected Newton steps with the analytic derivatives
    ``d_i = tr(P V_i) - (n-p) y'PV_iPy / r^2`` and
    ``d_ij = -tr(P V_i P V_j) + (n-p)[2 y'PV_iPV_jPy / r^2 - y'PV_iPy y'PV_jPy / r^4]``
    (``V_i = Z_i Z_i'``), started from the best point of a coarse grid. Then
    ``sigma^2 = r^2 / (n - p)`` and ``Var(beta) = sigma^2 (X'V^{-1}X)^{-1}``.

    Satterthwaite's degrees of freedom for coefficient ``k`` follow Kuznetsova et al. (2017):
    ``df = 2 C_kk^2 / (g' A g)``, with ``C = Var(beta)``, ``g`` the gradient of ``C_kk`` in
    ``varpar = (theta, sigma)`` and ``A = 2 H^+`` the inverse of half the Hessian ``H`` of the
    unprofiled deviance in ``varpar`` (eigenvalues within 1e-8 of zero dropped, as lmerTest
    does). ``lmerTest`` differentiates numerically; here both derivatives are analytic:
    ``dC/dtheta_j = 2 theta_j sigma^2 W_j W_j'`` with ``W_j = (X'V^{-1}X)^{-1} X'V^{-1} Z_j``.

    All response-independent cross-products are formed once; the grouping factor with the
    most levels is eliminated in closed form (its block of ``Z'Z`` is diagonal), and its
    levels enter only through sums over the distinct group sizes, so the dense algebra per
    response and iteration is of the size of the other factors' levels plus ``p`` (for
    ``k = 1``: ``p``), whatever the number of subjects. The optimum is converged until the
    Newton step changes no ``psi_j`` by more than ``1e-10 (1 + psi_j)``: tighter than lme4's
    default stopping rule (BOBYQA, ``ftol_abs = 1e-8``), whose estimates differ from these
    by up to ~1e-5 relative in flat directions while never reaching a lower criterion.

    References
    ----------
    .. [1] Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
       using lme4. Journal of Statistical Software 67(1). doi:10.18637/jss.v067.i01
    .. [2] Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in
       linear mixed effects models. Journal of Statistical Software 82(13).
       doi:10.18637/jss.v082.i13
    .. [3] Mallick H, et al. (2021). Multivariable association discovery in population-scale
       meta-omics studies. PLoS Computational Biology 17(11): e1009442.
    """
    if optimizer not in OPTIMIZERS:
        raise InputError("unknown mixed-model optimizer", field="optimizer", found=optimizer,
                         expected=" or ".join(OPTIMIZERS))
    Y2, X2, codes, levels = _validate(Y, X, groups)
    with single_blas_thread():
        return _fit_all(Y2, X2, codes, levels, reml=reml, progress=progress,
                        optimizer=optimizer, full_vcov=full_vcov)


def _fit_all(
    Y2: np.ndarray,
    X2: np.ndarray,
    codes: list[np.ndarray],
    levels: list[int],
    *,
    reml: bool,
    progress: Callable[[int], None] | None,
    optimizer: str = "newton",
    full_vcov: bool = False,
) -> MixedModelFit:
    """Fit validated input chunk by chunk (see :func:`fit_lmm`)."""
    m = Y2.shape[1]
    p, k = X2.shape[1], len(codes)
    scale = np.sqrt((X2**2).mean(axis=0))
    scale[scale == 0] = 1.0
    Xs = X2 / scale
    Q, R = np.linalg.qr(Xs)
    singular_values = np.linalg.svd(R, compute_uv=False)
    rank = int((singular_values > singular_values[0] * max(X2.shape) * np.finfo(float).eps).sum())
    if rank < p:
        raise InputError("fixed-effects design is rank deficient", field="X",
                         found=f"rank {rank} of {p} columns",
                         expected="linearly independent columns")
    design = build_shared_design(Xs, codes, levels)
    out = _Output.empty(m, p, k, full_vcov=full_vcov)
    per_response = max(design.n, design.c * (design.d + 8 * design.c * design.k))
    chunk = max(1, CHUNK_ELEMENTS // per_response)
    for start in range(0, m, chunk):
        cols = np.arange(start, min(m, start + chunk))
        block = Y2[:, start : start + chunk]
        qty = Q.T @ block
        resid = np.subtract(block, Q @ qty, out=np.empty_like(block))  # invariant to X
        degenerate = _degenerate(block, resid)
        for j in cols[degenerate]:
            out.messages[j] = "response is constant or fitted exactly by the fixed effects"
        raw = block[:, ~degenerate]
        if degenerate.any():
            resid, qty, cols = resid[:, ~degenerate], qty[:, ~degenerate], cols[~degenerate]
        if cols.size:
            beta_ols = np.linalg.solve(R, qty)
            _fit_chunk(design, Xs, scale, resid, beta_ols, cols, out, reml=reml,
                       optimizer=optimizer, raw=raw)
        if progress is not None:
            progress(block.shape[1])
    return out.finish(scale)


def _validate(
    Y: np.ndarray, X: np.ndarray, groups: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[int]]:
    """Check shapes and values at the door; return float arrays and contiguous codes."""
    Y2 = np.ascontiguousarray(Y, dtype=np.float64)
    if Y2.ndim == 1:
        Y2 = Y2[:, None]
    X2 = np.asarray(X, dtype=np.float64)
    if Y2.ndim != 2 or X2.ndim != 2:
        raise InputError("responses and design must be matrices", field="Y/X",
                         found=(Y2.shape, X2.shape), expected="Y (n, m) and X (n, p)")
    n, p = X2.shape
    if Y2.shape[0] != n:
        raise InputError("Y and X have different numbers of rows", field="Y",
                         found=Y2.shape[0], expected=f"{n} rows like X")
    if n <= p:
        raise InputError("not more observations than fixed effects", field="X",
                         found=f"{n} rows, {p} columns", expected="n > p")
    for name, arr in (("Y", Y2), ("X", X2)):
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            raise InputError("non-finite value (complete cases are expected)", field=name,
                             row=int(bad[0, 0]) + 1, column=str(int(bad[0, 1])),
                             found=float(arr[tuple(bad[0])]), expected="finite numbers")
    factors = grouping_factors(groups, n, fewer_levels_than_rows=True)
    return Y2, X2, list(factors.codes), list(factors.levels)


def _degenerate(Y: np.ndarray, resid: np.ndarray) -> np.ndarray:
    """Responses with nothing left after the fixed effects (constant or exactly fitted)."""
    rss = np.einsum("ij,ij->j", resid, resid)
    tss = np.einsum("ij,ij->j", Y, Y)
    return rss <= 1e-24 * tss


@dataclass
class _Output:
    """Result arrays filled chunk by chunk (NaN where a response could not be fitted)."""

    coef: np.ndarray
    cov_diag: np.ndarray
    df: np.ndarray
    sigma2: np.ndarray
    psi: np.ndarray
    crit: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    messages: list[str]
    vcov: np.ndarray | None = None
    jac: np.ndarray | None = None
    varpar_cov: np.ndarray | None = None

    @classmethod
    def empty(cls, m: int, p: int, k: int, *, full_vcov: bool = False) -> _Output:
        nan = np.full
        extra = ((nan((m, p, p), np.nan), nan((m, k + 1, p, p), np.nan),
                  nan((m, k + 1, k + 1), np.nan)) if full_vcov else (None, None, None))
        return cls(nan((m, p), np.nan), nan((m, p), np.nan), nan((m, p), np.nan),
                   nan(m, np.nan), nan((m, k), np.nan), nan(m, np.nan),
                   np.zeros(m, dtype=bool), np.zeros(m, dtype=np.int64), [""] * m, *extra)

    def finish(self, scale: np.ndarray) -> MixedModelFit:
        coef = self.coef / scale
        stderr = np.sqrt(self.cov_diag) / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            tvalue = coef / stderr
        pval = 2.0 * stats.t.sf(np.abs(tvalue), self.df)
        theta = np.sqrt(self.psi)
        singular = np.any(theta < SINGULAR_TOL, axis=1)
        messages = list(self.messages)
        for i in np.flatnonzero(singular):
            messages[i] = _join(messages[i], "boundary (singular) fit: a variance component is 0")
        outer = np.outer(scale, scale)
        return MixedModelFit(
            coef=coef, stderr=stderr, df=self.df, tvalue=tvalue, pval=pval,
            sigma2=self.sigma2, variances=self.sigma2[:, None] * self.psi,
            reml_criterion=self.crit, converged=self.converged, singular=singular,
            messages=tuple(messages), theta=theta, iterations=self.iterations,
            vcov=None if self.vcov is None else self.vcov / outer,
            vcov_jacobian=None if self.jac is None else self.jac / outer,
            varpar_cov=self.varpar_cov,
        )


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _fit_chunk(
    design: SharedDesign,
    Xs: np.ndarray,
    scale: np.ndarray,
    resid: np.ndarray,
    beta_ols: np.ndarray,
    idx: np.ndarray,
    out: _Output,
    *,
    reml: bool,
    optimizer: str = "newton",
    raw: np.ndarray | None = None,
) -> None:
    """Fit the responses ``idx`` (residualised on X) and store their results in ``out``."""
    resp = cross_response(design, Xs, resid)
    # X was scaled column-wise: log|X'V^-1X| of the caller's X differs by 2 sum(log(scale)).
    offset = 2.0 * float(np.log(scale).sum()) if reml else 0.0
    if optimizer == "lme4":
        from gutaxis.stats.mixed.lme4_replay import lme4_search  # NLopt is needed by this mode only

        found = lme4_search(design, resp, required(raw), reml=reml, offset=offset)
    else:
        first, second = grid_starts(design, resp, reml=reml)
        found = newton_search(design, resp, first, reml=reml)
        other = newton_search(design, resp, second, reml=reml)
        found = better_of(
            found, evaluate(design, resp, found.psi, reml=reml).criterion,
            other, evaluate(design, resp, other.psi, reml=reml).criterion)
    ev = evaluate(design, resp, found.psi, reml=reml, derivatives=True)
    q = design.q
    dof = design.n - design.p if reml else design.n
    sigma2 = ev.r2 / dof
    minv = required(ev.minv)
    hinv_diag = np.diagonal(minv[:, q:, q:], axis1=1, axis2=2)
    df, notes, varpar_cov = _satterthwaite(design, ev, found.psi, sigma2, reml=reml)
    inverse = np.argsort(design.order)
    out.coef[idx] = (ev.sol[:, q:] + beta_ols.T)
    out.cov_diag[idx] = sigma2[:, None] * hinv_diag
    out.df[idx] = df
    out.sigma2[idx] = sigma2
    out.psi[idx] = found.psi[:, inverse]
    out.crit[idx] = ev.criterion + offset
    out.converged[idx] = found.converged & ev.ok
    out.iterations[idx] = found.iterations
    if out.vcov is not None and out.jac is not None and out.varpar_cov is not None:
        out.vcov[idx], out.jac[idx] = _vcov_and_jacobian(design, ev, found.psi, sigma2)
        out.varpar_cov[idx] = varpar_cov
    for j, i in enumerate(idx):
        out.messages[i] = _join(found.reason[j], notes[j])
    for b in np.flatnonzero(~ev.ok):  # numerically broken at the end point: report, not guess
        for field in (out.coef, out.cov_diag, out.df, out.vcov, out.jac):
            if field is not None:
                field[idx[b]] = np.nan
        out.messages[idx[b]] = _join(found.reason[b], "mixed-model equations not positive "
                                     "definite at the end point")


def _vcov_and_jacobian(
    design: SharedDesign, ev: Evaluation, psi: np.ndarray, sigma2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Full ``Var(beta)`` ``(b, p, p)`` and its derivatives ``(b, k + 1, p, p)`` in
    ``varpar = (theta, sigma)``: ``dC/dtheta_j = 2 theta_j sigma^2 W_j W_j'`` and
    ``dC/dsigma = 2 sigma (X'V^{-1}X)^{-1}`` (the full matrices of :func:`_satterthwaite`'s
    diagonals; columns of the scaled design)."""
    q, k = design.q, design.k
    minv = required(ev.minv)
    mx = minv[:, q:, :]
    hinv = minv[:, q:, q:]
    theta = np.sqrt(psi)
    jac = np.empty((psi.shape[0], k + 1, design.p, design.p))
    jac[:, :k] = (2.0 * theta * sigma2[:, None])[:, :, None, None] * np.einsum(
        "bpc,bjcd,brd->bjpr", mx, required(ev.gram), mx)
    jac[:, k] = 2.0 * np.sqrt(sigma2)[:, None, None] * hinv
    return sigma2[:, None, None] * hinv, jac


def _satterthwaite(
    design: SharedDesign, ev: Evaluation, psi: np.ndarray, sigma2: np.ndarray, *, reml: bool
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Satterthwaite denominator df of every coefficient (unit contrasts), as lmerTest.

    The Hessian of the deviance in ``varpar = (theta_1..theta_k, sigma)`` is assembled from
    the analytic derivatives in ``psi = theta^2``:
    ``H_theta_i theta_j = 4 theta_i theta_j D2_ij + 2 delta_ij D1_i``,
    ``H_theta_i sigma = 4 theta_i ||Z_i'Py||^2 / sigma^3``,
    ``H_sigma sigma = 6 r^2 / sigma^4 - 2 (n - p) / sigma^2``, where
    ``D1_i = tr(Z_i'QZ_i) - ||Z_i'Py||^2 / sigma^2`` and
    ``D2_ij = -||Z_i'QZ_j||_F^2 + 2 (Z_i'Py)'Z_i'QZ_j(Z_j'Py) / sigma^2``.
    """
    q, k = design.q, design.k
    dof = design.n - design.p if reml else design.n
    theta = np.sqrt(psi)
    sigma = np.sqrt(sigma2)
    s2 = sigma2[:, None]
    tr, vv, frob, bilin = required(ev.tr), required(ev.vv), required(ev.frob), required(ev.bilin)
    d1 = tr - vv / s2
    d2 = -frob + 2.0 * bilin / s2[:, :, None]
    hess = np.empty((psi.shape[0], k + 1, k + 1))
    hess[:, :k, :k] = 4.0 * theta[:, :, None] * theta[:, None, :] * d2
    hess[:, np.arange(k), np.arange(k)] += 2.0 * d1
    hess[:, :k, k] = hess[:, k, :k] = 4.0 * theta * vv / (sigma[:, None] ** 3)
    hess[:, k, k] = 6.0 * ev.r2 / sigma2**2 - 2.0 * dof / sigma2
    vals, vecs = np.linalg.eigh(hess)
    keep = vals > EIGEN_TOL
    inv_vals = np.where(keep, 1.0 / np.where(keep, vals, 1.0), 0.0)
    cov_varpar = 2.0 * np.einsum("bij,bj,bkj->bik", vecs, inv_vals, vecs)
    minv = required(ev.minv)
    mx = minv[:, q:, :]
    gram = required(ev.gram)
    grad = np.empty((psi.shape[0], design.p, k + 1))
    grad[:, :, :k] = (2.0 * theta * sigma2[:, None])[:, None, :] * np.einsum(
        "bpc,bjcd,bpd->bpj", mx, gram, mx
    )
    hinv_diag = np.diagonal(minv[:, q:, q:], axis1=1, axis2=2)
    grad[:, :, k] = 2.0 * sigma[:, None] * hinv_diag
    var = sigma2[:, None] * hinv_diag
    with np.errstate(divide="ignore", invalid="ignore"):
        df = 2.0 * var**2 / np.einsum("bpi,bij,bpj->bp", grad, cov_varpar, grad)
    notes = []
    for row in vals:
        neg, zero = int((row < -EIGEN_TOL).sum()), int((np.abs(row) <= EIGEN_TOL).sum())
        text = ""
        if neg:
            text = f"variance-parameter Hessian has {neg} negative eigenvalue(s)"
        if zero:
            text = _join(text, f"variance-parameter Hessian has {zero} eigenvalue(s) near 0")
        notes.append(text)
    return df, notes, cov_varpar

"""Logistic regression for many binary outcomes at once (batched IRLS).

The prevalence half of a MaAsLin-3-style scan: for every feature, presence (value > 0)
is regressed on the same design matrix. All features are fitted together: each IRLS
iteration forms the ``m`` stacked ``p x p`` information matrices with one matrix product
and solves them with one batched :func:`numpy.linalg.solve`; only the iterations loop in
Python, with a mask of the features still moving.

This module also holds what the mixed model (:mod:`gutaxis.stats.models.logistic_mixed`) shares:
the :class:`LogisticFit` result, input validation, MaAsLin 3's data augmentation and
the Wald tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from gutaxis.errors import InputError
from gutaxis.stats.models.separation import separated_terms, separation_message
from gutaxis.stats.results import FitResults

__all__ = ["LogisticFit", "fit_logistic"]

#: ``|eta|`` beyond which a fitted probability is numerically 0 or 1 (R warns at
#: ``mu < 10 * .Machine$double.eps``, i.e. ``|eta| > 36``; a separated fit gets there).
ETA_SATURATED = 30.0


@dataclass(frozen=True)
class LogisticFit:
    """Logistic (or logistic mixed) fits of ``m`` binary outcomes on one design.

    Attributes
    ----------
    coef, stderr, zvalue, pval
        ``(m, p)`` estimates, Wald standard errors, ``z = coef / stderr`` and two-sided
        normal p-values, as R's ``summary.glm`` / ``summary.merMod`` report them.
        ``NaN`` for features that could not be estimated (see ``messages``).
    variances
        ``(m, k)`` random-intercept variances (mixed models only, else ``None``).
    converged
        ``(m,)`` whether the fit converged to a finite maximum (of the augmented
        likelihood when augmented: then also for separated features).
    separated
        ``(m,)`` some term is separated (``separated_terms.any(axis=1)``): the unaugmented
        maximum-likelihood estimate does not exist.
    messages
        ``m`` strings: remarks other than separation, ``''`` when there are none
        (:meth:`describe` adds the separation, naming the terms).
    deviance
        ``(m,)`` the minimised objective: ``-2 log L`` for :func:`fit_logistic`, the
        Laplace approximation of ``-2 log L`` for mixed models (what ``glmer`` reports
        as ``-2 * logLik``).
    iterations
        ``(m,)`` iterations used (IRLS steps, or outer Newton steps for mixed models).
    separated_terms
        ``(m, p)`` booleans: the coefficient is unbounded in the unaugmented likelihood
        of the fixed-effects design (:mod:`gutaxis.stats.models.separation`); ``None``
        means none is.
    """

    coef: np.ndarray
    stderr: np.ndarray
    zvalue: np.ndarray
    pval: np.ndarray
    variances: np.ndarray | None
    converged: np.ndarray
    separated: np.ndarray
    messages: tuple[str, ...]
    deviance: np.ndarray | None = None
    iterations: np.ndarray | None = None
    separated_terms: np.ndarray | None = None

    def describe(self, terms: Sequence[str]) -> tuple[str, ...]:
        """Per feature, ``messages`` with the separation (if any) stated first, naming
        the separated ``terms``."""
        if self.separated_terms is None:
            return self.messages
        out = list(self.messages)
        names = np.asarray(terms, dtype=object)
        for j in np.flatnonzero(self.separated_terms.any(axis=1)):
            out[j] = separation_message(list(names[self.separated_terms[j]]),
                                        estimated=bool(np.isfinite(self.coef[j]).all()),
                                        note=out[j])
        return tuple(out)

    def results(self, *, terms: Sequence[str], responses: Sequence[str] | None = None
                ) -> FitResults:
        """These fits as a :class:`~gutaxis.stats.results.FitResults` (Wald z tests)."""
        model = "logistic GLM (ML)" if self.variances is None else "logistic GLMM (Laplace)"
        return FitResults.from_arrays(
            model, terms=terms, responses=responses, coef=self.coef, stderr=self.stderr,
            statistic=self.zvalue, df=np.inf, pvalue=self.pval, statistic_name="z",
            messages=self.describe(terms), converged=self.converged, separated=self.separated,
            separated_terms=self.separated_terms)


def validate_design(Y01: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Check ``Y01`` (0/1, ``(n, m)``) and ``X`` (finite, full rank ``(n, p)``).

    Returns ``Y`` as a float ``(m, n)`` array (feature-major, the layout the fitters use)
    and ``X`` as a float ``(n, p)`` array. A 1-D ``Y01`` is one feature.
    """
    Y = np.asarray(Y01)
    if Y.ndim == 1:
        Y = Y[:, None]
    X = np.asarray(X, dtype=float)
    if Y.ndim != 2 or X.ndim != 2:
        raise InputError("outcome and design must be 2-D", field="Y01" if Y.ndim != 2 else "X",
                         found=f"{Y.ndim}-D and {X.ndim}-D",
                         expected="Y01 (samples x features), X (samples x terms)")
    if Y.shape[0] != X.shape[0]:
        raise InputError("outcome and design have different numbers of samples", field="X",
                         found=f"{X.shape[0]} rows of X for {Y.shape[0]} rows of Y01",
                         expected="one design row per sample")
    Yf = Y.astype(float)
    bad = ~((Yf == 0) | (Yf == 1))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError("outcome is not presence/absence", field="Y01", row=int(row) + 1,
                         column=str(col), found=Y[row, col], expected="0 or 1 (or bool)")
    if not np.isfinite(X).all():
        row, col = np.argwhere(~np.isfinite(X))[0]
        raise InputError("design has a missing or infinite value", field="X",
                         row=int(row) + 1, column=str(col), found=X[row, col],
                         expected="finite numbers (drop incomplete cases first)")
    n, p = X.shape
    if p == 0 or n <= p:
        raise InputError("too few samples for the number of terms", field="X",
                         found=f"{n} samples, {p} terms", expected="more samples than terms")
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise InputError("design matrix is rank deficient", field="X",
                         found=f"rank {rank} with {p} columns",
                         expected="linearly independent columns (drop aliased terms)")
    return np.ascontiguousarray(Yf.T), X


def augmented_response(Y: np.ndarray, p: int, *, augment: bool) -> tuple[np.ndarray, float]:
    """Responses and prior weight after MaAsLin 3's augmentation (identity when off).

    MaAsLin 3 appends two copies of every row, one with outcome 1 and one with 0, each
    weighted ``a = (p - 1) / (2 n)``. Collapsed, each sample is one binomial observation
    of weight ``1 + 2a`` with proportion ``(y + a) / (1 + 2a)`` (same likelihood).
    """
    if not augment:
        return Y, 1.0
    a = (p - 1) / (2.0 * Y.shape[1])
    return (Y + a) / (1.0 + 2.0 * a), 1.0 + 2.0 * a


def binomial_deviance(Y: np.ndarray, eta: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """``-2 log L`` of proportions ``Y`` (weight ``weight``) at logits ``eta``, per row.

    Written as ``2 w [log(1 + e^eta) - y eta]``, exact for large ``|eta|``. For 0/1 data
    this is R's ``deviance``; for augmented data it is R's deviance of the expanded rows.
    """
    dev = np.logaddexp(0.0, eta) - Y * eta
    return 2.0 * weight * dev.sum(axis=-1)


def wald(coef: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard errors, z values and two-sided normal p-values from stacked covariances."""
    stderr = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        zvalue = coef / stderr
    pval = 2.0 * stats.norm.sf(np.abs(zvalue))
    return stderr, zvalue, pval


def degenerate_messages(Y: np.ndarray) -> np.ndarray:
    """Per feature: ``''``, or why a 0/1 outcome cannot be modelled (present in all/none)."""
    present = Y.sum(axis=1)
    n = Y.shape[1]
    out = np.full(Y.shape[0], "", dtype=object)
    out[present == 0] = f"degenerate: absent from all {n} samples"
    out[present == n] = f"degenerate: present in all {n} samples"
    return out


def outer_rows(X: np.ndarray) -> np.ndarray:
    """Row-wise outer products ``x_i x_i^T`` of ``X``, flattened: ``(n, p * p)``."""
    return (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)


def information(XX: np.ndarray, W: np.ndarray, p: int) -> np.ndarray:
    """Stacked ``X^T diag(w_j) X`` for every row ``w_j`` of ``W``, shape ``(m, p, p)``;
    ``XX`` is :func:`outer_rows` of ``X``."""
    return (W @ XX).reshape(W.shape[0], p, p)


def _newton_step(X: np.ndarray, XX: np.ndarray, Yt: np.ndarray, eta: np.ndarray,
                 weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton (= IRLS) step, the information matrices and the Newton decrement."""
    mu = special.expit(eta)
    info = information(XX, weight * mu * (1.0 - mu), X.shape[1])
    score = (weight * (Yt - mu)) @ X
    try:
        step = np.linalg.solve(info, score[..., None])[..., 0]
    except np.linalg.LinAlgError:
        step = _pinv_solve(info, score)
    return step, info, np.einsum("mp,mp->m", step, score)


def _pinv_solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Least-squares solve of stacked systems, for information matrices gone singular."""
    return np.einsum("mij,mj->mi", np.linalg.pinv(info, hermitian=True), score)


def fit_logistic(Y01: np.ndarray, X: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10,
                 augment: bool = False, augment_columns: int | None = None) -> LogisticFit:
    """Fit ``logit P(y_j = 1) = X beta_j`` for every column ``y_j`` of ``Y01``.

    Parameters
    ----------
    Y01
        ``(n, m)`` presence/absence (0/1 or bool) of ``m`` features in ``n`` samples.
    X
        ``(n, p)`` full-rank design with an intercept column, shared by all features.
    max_iter
        Maximum IRLS (Newton) iterations per feature.
    tol
        Convergence when the Newton decrement ``g^T H^{-1} g`` falls below
        ``tol * (|deviance| + 0.1)`` (R's relative-deviance rule, one step ahead);
        the final Newton step is still applied, so estimates are at machine precision.
    augment
        Apply MaAsLin 3's augmentation (``augment = TRUE``, its default): every sample
        also counts as a success and a failure with weight ``(p - 1) / (2 n)`` each.
        This keeps estimates finite under separation (see Notes).
    augment_columns
        The ``p`` of the augmentation weight, if not ``X``'s number of columns: a reduced
        model compared with a full one keeps the full model's weight (MaAsLin 3 refits
        with the full model's weights).

    Returns
    -------
    LogisticFit
        ``variances`` is ``None``.

    Notes
    -----
    With ``mu = 1 / (1 + exp(-X beta))`` and ``W = diag(w mu (1 - mu))`` each iteration is
    the Newton step ``beta <- beta + (X^T W X)^{-1} X^T w (y - mu)`` (IRLS for the
    canonical link), halved while the deviance rises. Standard errors are
    ``sqrt(diag((X^T W X)^{-1}))`` at the estimate, dispersion fixed at 1, and
    ``p = 2 Phi(-|z|)``, as in R's ``summary.glm``.

    Separation is found per term, exactly, by linear programming on the unaugmented data
    (:mod:`gutaxis.stats.models.separation`), for the features whose unaugmented IRLS does
    not converge to a finite maximum (under separation the Newton steps keep moving the
    linear predictor; the batched fit is the cheap screen). ``separated_terms`` marks the
    coefficients that run to infinity in the unaugmented likelihood; ``separated`` is their
    row-wise ``any``. Without augmentation such a feature has no estimate and is reported
    ``NaN``, not converged (R would print finite but meaningless numbers, and "fitted
    probabilities numerically 0 or 1 occurred"). With augmentation every estimate is
    finite and kept, as MaAsLin 3 reports it: the estimable terms have stable estimates
    (on HMP2 within 0.43 standard errors of their limits along the divergent direction),
    the separated ones are kept finite only by the pseudo-observations and are flagged,
    not dropped.
    Features present in all or in no samples are degenerate: without augmentation
    ``NaN`` with a reason (and not flagged as separated); with it, every term is separated.

    References
    ----------
    .. [1] McCullagh P, Nelder JA (1989). *Generalized Linear Models*, 2nd ed. Chapman & Hall.
    .. [2] Albert A, Anderson JA (1984). On the existence of maximum likelihood estimates
       in logistic regression models. *Biometrika* 71:1-10.
    .. [3] Nickols WA et al. (2024). MaAsLin 3: refining and extending generalized
       multivariable linear models for meta-omic association discovery. *bioRxiv*.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(200), rng.normal(size=200)])
    >>> Y = (rng.random((200, 3)) < 1 / (1 + np.exp(-X @ [[0.5, 0, -1], [1, 0, 2]]))).astype(int)
    >>> fit = fit_logistic(Y, X)
    >>> fit.coef.shape, bool(fit.converged.all())
    ((3, 2), True)
    """
    Y, X = validate_design(Y01, X)
    m = Y.shape[0]
    p = X.shape[1]
    Yt, weight = augmented_response(Y, augment_columns or p, augment=augment)
    messages = degenerate_messages(Y) if not augment else np.full(m, "", dtype=object)
    fit_mask = messages == ""

    XX = outer_rows(X)
    beta, info, iters, converged, _ = _irls(X, XX, Yt[fit_mask], weight, max_iter=max_iter,
                                            tol=tol, bounded=augment)
    conv_all = np.zeros(m, dtype=bool)
    conv_all[fit_mask] = converged
    sep_terms = separated_terms(Y, X, candidates=fit_mask & ~_mle_exists(
        X, XX, Y, fit_mask, None if augment else conv_all, start=beta, max_iter=max_iter,
        tol=tol))
    sep_all = np.asarray(sep_terms.any(axis=1))
    if not augment:  # no maximum-likelihood estimate: nothing to report
        conv_all &= ~sep_all
        messages[sep_all] = "fitted probabilities run to 0 or 1 (try augment=True)"
    ok = conv_all[fit_mask]
    rows = np.flatnonzero(fit_mask)[ok]
    coef = np.full((m, p), np.nan)
    cov = np.full((m, p, p), np.nan)
    coef[rows] = beta[ok]
    cov[rows] = np.linalg.inv(info[ok])
    stderr, zvalue, pval = wald(coef, cov)
    deviance = np.full(m, np.nan)
    deviance[fit_mask] = binomial_deviance(Yt[fit_mask], beta @ X.T, weight)

    stuck = fit_mask & ~conv_all & ~sep_all
    messages[stuck] = f"IRLS did not converge in {max_iter} iterations"
    iterations = np.zeros(m, dtype=int)
    iterations[fit_mask] = iters
    return LogisticFit(coef=coef, stderr=stderr, zvalue=zvalue, pval=pval, variances=None,
                       converged=conv_all, separated=sep_all,
                       messages=tuple(str(s) for s in messages), deviance=deviance,
                       iterations=iterations, separated_terms=sep_terms)


def _mle_exists(X: np.ndarray, XX: np.ndarray, Y: np.ndarray, fit_mask: np.ndarray,
                converged: np.ndarray | None, *, start: np.ndarray, max_iter: int,
                tol: float) -> np.ndarray:
    """The screen before the separation programmes: ``(m,)`` True where the unaugmented
    IRLS converged to a finite maximum (then the estimate exists and nothing is separated).

    ``converged`` is that IRLS's outcome when already known (an unaugmented fit), else
    the features ``fit_mask`` are fitted without augmentation here, from ``start`` (the
    augmented estimates, close to the unaugmented ones where those exist). Under
    separation the Newton steps keep moving the linear predictor, so a separated feature
    never passes.
    """
    if converged is not None:
        return converged
    out = np.zeros(len(Y), dtype=bool)
    out[fit_mask] = _irls(X, XX, Y[fit_mask], 1.0, max_iter=max_iter, tol=tol,
                          start=start)[3]
    return out


def _irls(X: np.ndarray, XX: np.ndarray, Yt: np.ndarray, weight: float, *, max_iter: int,
          tol: float, bounded: bool = False, start: np.ndarray | None = None,
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Batched Newton-IRLS; returns beta, information (at the estimate for the converged
    features, whose standard errors it gives), iterations, converged, separated.

    ``bounded``: the likelihood is known to have a finite maximum (augmented data), so
    large fitted logits are not taken as a sign of separation and every feature runs to
    convergence. ``start``: initial estimates (default: R's start for the binomial)."""
    m, _n = Yt.shape
    p = X.shape[1]
    if start is not None:
        beta = np.array(start, dtype=float)  # a copy: updated in place below
    else:  # R's binomial start: mu = (w y + 0.5) / (w + 1), then one weighted LS fit
        mu0 = (weight * Yt + 0.5) / (weight + 1.0)
        eta0 = special.logit(mu0)
        w0 = weight * mu0 * (1.0 - mu0)
        z0 = eta0 + (Yt - mu0) / (mu0 * (1.0 - mu0))
        beta = np.linalg.solve(information(XX, w0, p), ((w0 * z0) @ X)[..., None])[..., 0]

    info = np.empty((m, p, p))
    iters = np.zeros(m, dtype=int)
    converged = np.zeros(m, dtype=bool)
    separated = np.zeros(m, dtype=bool)
    streak = np.zeros(m, dtype=int)  # consecutive iterations with a tiny decrement, big step
    active = np.arange(m)
    dev = binomial_deviance(Yt, beta @ X.T, weight)
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        b = beta[active]
        y = Yt[active]
        eta = b @ X.T
        step, inf, decrement = _newton_step(X, XX, y, eta, weight)
        info[active] = inf
        iters[active] = it
        small = decrement < tol * (np.abs(dev[active]) + 0.1)
        moving = np.abs(step @ X.T).max(axis=1) > 1e-4
        new_b, new_dev = _halve_until_better(X, y, b, step, dev[active], weight)
        beta[active] = new_b
        dev[active] = new_dev
        saturated = np.abs(new_b @ X.T).max(axis=1) > ETA_SATURATED
        saturated &= not bounded
        streak[active] = np.where(small & moving & (not bounded), streak[active] + 1, 0)
        done_sep = (streak[active] >= 3) | saturated
        done_ok = small & ~moving & ~saturated
        separated[active[done_sep]] = True
        converged[active[done_ok]] = True
        active = active[~(done_sep | done_ok)]
    if active.size:  # hit max_iter: separated if the last estimate saturates
        separated[active] = np.abs(beta[active] @ X.T).max(axis=1) > ETA_SATURATED
    done = converged.copy()
    if done.any():  # information at the final estimate, for the standard errors
        mu = special.expit(beta[done] @ X.T)
        info[done] = information(XX, weight * mu * (1.0 - mu), p)
    return beta, info, iters, converged, separated


def _halve_until_better(X: np.ndarray, Y: np.ndarray, beta: np.ndarray, step: np.ndarray,
                        dev: np.ndarray, weight: float, *, max_halvings: int = 30,
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Take ``beta + t * step`` with ``t = 1, 1/2, ...`` until the deviance does not rise."""
    t = np.ones(beta.shape[0])
    new_beta = beta + step
    new_dev = binomial_deviance(Y, new_beta @ X.T, weight)
    for _ in range(max_halvings):
        worse = ~(new_dev <= dev * (1.0 + 1e-12) + 1e-12)
        if not worse.any():
            break
        t[worse] *= 0.5
        new_beta[worse] = beta[worse] + t[worse, None] * step[worse]
        new_dev[worse] = binomial_deviance(Y[worse], new_beta[worse] @ X.T, weight)
    else:  # no improvement along the step: stay
        worse = ~(new_dev <= dev * (1.0 + 1e-12) + 1e-12)
        new_beta[worse] = beta[worse]
        new_dev[worse] = dev[worse]
    return new_beta, new_dev

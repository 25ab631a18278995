"""Ordinary least squares for many outcomes at once.

One model ``y_j = X b_j + e_j`` per column ``j`` of ``Y``, all sharing the design ``X``.
When every outcome uses every row, one QR decomposition of ``X`` serves all columns
(a few matrix products, no loop over features). When each outcome uses its own rows
(missing values, or MaAsLin 3's "nonzero samples only" abundance model) the columns are
grouped by identical row sets; if there are many distinct sets, the per-outcome
least-squares problems are solved as one batched QR over a stack of masked designs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.special as sps

from gutaxis.errors import InputError
from gutaxis.stats.results import FitResults

#: Memory budget (bytes) of one chunk of the batched (per-outcome rows) solver.
_CHUNK_BYTES = 64 * 2**20

#: Relative tolerance under which a diagonal element of R counts as zero (rank loss).
RANK_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class OLSFit:
    """Per-outcome OLS estimates; arrays are ``(m, p)`` unless noted.

    Attributes
    ----------
    coef, stderr, tvalue, pval
        Estimates, standard errors, t statistics and two-sided p-values.
    df
        Residual degrees of freedom ``n_j - p``, shape ``(m,)``.
    sigma2
        Residual variance ``RSS_j / df_j``, shape ``(m,)``.
    n
        Rows used by each outcome, shape ``(m,)``.
    messages
        Per outcome: ``""`` for a good fit, else why its estimates are ``NaN``.
    """

    coef: np.ndarray
    stderr: np.ndarray
    tvalue: np.ndarray
    pval: np.ndarray
    df: np.ndarray
    sigma2: np.ndarray
    n: np.ndarray
    messages: tuple[str, ...]

    def results(self, *, terms: Sequence[str], responses: Sequence[str] | None = None
                ) -> FitResults:
        """These fits as a :class:`~gutaxis.stats.results.FitResults` (t tests).

        Parameters
        ----------
        terms
            The names of the columns of the design matrix.
        responses
            The names of the responses (columns of ``Y``).
        """
        return FitResults.from_arrays(
            "LM (OLS)", terms=terms, responses=responses, coef=self.coef, stderr=self.stderr,
            statistic=self.tvalue, df=self.df, pvalue=self.pval, statistic_name="t",
            messages=self.messages,
            converged=np.array([not msg for msg in self.messages], dtype=bool))


def fit_ols(Y: np.ndarray, X: np.ndarray, *, mask: np.ndarray | None = None,
            level_rows: np.ndarray | None = None) -> OLSFit:
    """Fit ``Y[:, j] ~ X`` by least squares for every column ``j`` at once.

    Parameters
    ----------
    Y
        ``(n, m)`` outcomes. Entries outside ``mask`` are ignored (may be ``NaN``).
    X
        ``(n, p)`` design matrix, intercept included by the caller; full column rank.
    mask
        Optional ``(n, m)`` boolean: the rows each outcome uses. ``None`` means all rows.
    level_rows
        Optional ``(n, p)`` 0/1: column ``k`` marks the rows of the categorical level whose
        coefficient is column ``k`` (all zero for a column that is not a level's). Where an
        outcome uses none of a level's rows (a level absent among a feature's nonzero
        samples), the column is left out of that outcome's fit, as R's ``lm`` drops the
        aliased column: its coefficient is ``NaN``, the others are those of the smaller
        model, with ``n - rank`` residual df.

    Returns
    -------
    OLSFit

    Notes
    -----
    With ``X = QR`` (thin QR), :math:`\\hat b = R^{-1} Q^T y`,
    :math:`\\hat\\sigma^2 = \\lVert y - X\\hat b\\rVert^2 / (n - p)` and
    :math:`\\operatorname{se}(\\hat b_k) = \\hat\\sigma \\sqrt{[(X^TX)^{-1}]_{kk}}
    = \\hat\\sigma \\lVert (R^{-1})_{k\\cdot} \\rVert`; p-values are two-sided from
    Student's t with ``n - p`` degrees of freedom. Residuals are formed explicitly
    (not as ``|y|^2 - |Q^T y|^2``) so that the result matches ``statsmodels`` OLS to
    about 1e-12. An outcome with zero variance on its rows, too few rows, or a design
    that loses rank on its rows is reported with ``NaN`` estimates and a message.

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]])
    >>> fit_ols(np.array([[1.0], [3.0], [5.0], [7.1]]), X).coef.round(2)
    array([[0.98, 2.03]])
    """
    Y = np.asarray(Y, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise InputError("outcomes and design must have the same rows",
                         found=f"Y {Y.shape}, X {X.shape}", expected="Y (n, m), X (n, p)")
    if not np.all(np.isfinite(X)):
        raise InputError("design matrix holds NaN or infinite values", expected="finite numbers")
    if mask is None:
        if not np.all(np.isfinite(Y)):
            raise InputError("outcomes hold NaN or infinite values",
                             expected="finite numbers, or a mask excluding them")
        return _fit_shared_rows(Y, X)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != Y.shape:
        raise InputError("mask shape differs from the outcomes", found=mask.shape,
                         expected=str(Y.shape))
    if np.any(mask & ~np.isfinite(Y)):
        raise InputError("outcomes hold NaN or infinite values inside the mask",
                         expected="finite numbers where mask is True")
    return _fit_masked(Y, X, mask, level_rows)


def _empty(m: int, p: int) -> dict[str, np.ndarray]:
    nan = np.full((m, p), np.nan)
    return {"coef": nan.copy(), "stderr": nan.copy(), "tvalue": nan.copy(), "pval": nan.copy(),
            "df": np.full(m, np.nan), "sigma2": np.full(m, np.nan),
            "n": np.zeros(m, dtype=np.int64)}


def _fit_shared_rows(Y: np.ndarray, X: np.ndarray, absent: np.ndarray | None = None
                     ) -> OLSFit:
    n, p = X.shape
    m = Y.shape[1]
    if absent is not None and absent.any():  # levels absent from these rows: left out
        return _with_columns(_fit_shared_rows(Y, X[:, ~absent]), ~absent)
    out = _empty(m, p)
    out["n"][:] = n
    messages = np.full(m, "", dtype=object)
    if n <= p:
        messages[:] = f"{n} samples for {p} parameters: no residual degrees of freedom"
        return _finish(out, messages)
    Q, R = np.linalg.qr(X)
    diag = np.abs(np.diag(R))
    if diag.min() <= RANK_TOL * diag.max():
        messages[:] = "design matrix is rank-deficient"
        return _finish(out, messages)
    coef = sla.solve_triangular(R, Q.T @ Y).T
    resid = Y - X @ coef.T
    rss = np.einsum("ij,ij->j", resid, resid)
    df = float(n - p)
    rinv = sla.solve_triangular(R, np.eye(p))
    xtx_inv_diag = np.einsum("ij,ij->i", rinv, rinv)
    out["coef"] = coef
    out["df"][:] = df
    out["sigma2"] = rss / df
    out["stderr"] = np.sqrt(out["sigma2"][:, None] * xtx_inv_diag[None, :])
    constant = np.ptp(Y, axis=0) == 0
    messages[constant] = f"constant feature: zero variance on the {n} samples used"
    return _finish(out, messages)


def _with_columns(fit: OLSFit, keep: np.ndarray) -> OLSFit:
    """``fit`` of the columns ``keep`` spread over all columns (``NaN`` elsewhere)."""
    def spread(arr: np.ndarray) -> np.ndarray:
        full = np.full((arr.shape[0], len(keep)), np.nan)
        full[:, keep] = arr
        return full

    return OLSFit(coef=spread(fit.coef), stderr=spread(fit.stderr), tvalue=spread(fit.tvalue),
                  pval=spread(fit.pval), df=fit.df, sigma2=fit.sigma2, n=fit.n,
                  messages=fit.messages)


def absent_levels(level_rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(c, p)`` boolean: the level columns none of whose rows an outcome uses, for
    ``weights`` ``(c, n)`` (1 where the outcome uses a row) and ``level_rows`` ``(n, p)``
    (see :func:`fit_ols`)."""
    return (weights @ level_rows == 0) & np.any(level_rows != 0, axis=0)[None, :]


def masked_designs(X: np.ndarray, weights: np.ndarray, level_rows: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-outcome designs ``X * w`` (``(c, n, p)`` for ``weights`` ``(c, n)``) and the
    ``(c, p)`` level columns absent from each outcome's rows (see :func:`fit_ols`).

    An absent level's column is redundant on the rows used (all zero for a treatment
    dummy; equal to the next level's for the cumulative coding of an ordered variable) and
    would make the QR rank-deficient. It is replaced by the indicator of a stand-in row of
    that level (unused by the outcome, one row per column): the outcome is zero there and no
    other column touches it, so the column's effect and coefficient are 0 and the other
    columns' fit is that of the design without it.
    """
    Xw = X[None, :, :] * weights[:, :, None]
    stand_in = None if level_rows is None else _stand_in_rows(level_rows)
    if stand_in is None or level_rows is None:
        return Xw, np.zeros((weights.shape[0], X.shape[1]), dtype=bool)
    absent = absent_levels(level_rows, weights) & (stand_in >= 0)[None, :]
    Xw *= ~absent[:, None, :]
    ci, ki = np.nonzero(absent)
    Xw[ci, stand_in[ki], ki] = 1.0
    return Xw, absent


def _stand_in_rows(level_rows: np.ndarray) -> np.ndarray | None:
    """For each level column a distinct row of that level (-1: not a level's column, or no
    free row; such a column is never left out)."""
    columns = np.flatnonzero(np.any(level_rows != 0, axis=0))
    if not len(columns):
        return None
    rows = np.full(level_rows.shape[1], -1)
    taken: set[int] = set()
    for k in columns:  # a few level columns, not features
        candidates = np.flatnonzero(level_rows[:, k] != 0)[: len(taken) + 1]
        free = [r for r in candidates if r not in taken]
        if free:
            rows[k] = free[0]
            taken.add(int(free[0]))
    return rows


def _fit_masked(Y: np.ndarray, X: np.ndarray, mask: np.ndarray,
                level_rows: np.ndarray | None = None) -> OLSFit:
    p = X.shape[1]
    m = Y.shape[1]
    sets = row_sets(mask)
    if len(sets) * 4 <= m:  # few distinct row sets: one shared-rows fit per set
        out = _empty(m, p)
        messages = np.full(m, "", dtype=object)
        for rows, cols in sets:  # loop over row sets, each fits many features at once
            absent = None if level_rows is None else absent_levels(
                level_rows, rows[None, :].astype(np.float64))[0]
            part = _fit_shared_rows(Y[np.ix_(rows, cols)], X[rows], absent)
            for key in out:
                out[key][cols] = getattr(part, key)
            messages[cols] = part.messages
        return _finish(out, messages, recompute=False)
    return _fit_batched(Y, X, mask, level_rows)


def row_sets(mask: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group the columns of a boolean ``(n, m)`` mask by identical row sets.

    Returns ``(rows, cols)`` pairs: the ``(n,)`` boolean row set and the ascending column
    indices that use exactly it.
    """
    by_column = np.asarray(mask, dtype=bool).T
    if not len(by_column):
        return []
    packed = np.packbits(by_column, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return [(by_column[first[g]], cols) for g, cols in enumerate(np.split(order, bounds))]


def _fit_batched(Y: np.ndarray, X: np.ndarray, mask: np.ndarray,
                 level_rows: np.ndarray | None = None) -> OLSFit:
    n, p = X.shape
    m = Y.shape[1]
    out = _empty(m, p)
    messages = np.full(m, "", dtype=object)
    weights = mask.astype(np.float64)
    Yz = np.where(mask, Y, 0.0)
    n_used = mask.sum(axis=0)
    out["n"] = n_used.astype(np.int64)
    chunk = max(1, int(_CHUNK_BYTES // (8 * n * (2 * p + 2))))
    for start in range(0, m, chunk):  # chunks of features bound memory; each is one batch
        sl = slice(start, min(m, start + chunk))
        Xw, absent = masked_designs(X, weights[:, sl].T, level_rows)
        rank = p - absent.sum(axis=1)
        yw = Yz[:, sl].T
        Q, R = np.linalg.qr(Xw)
        diag = np.abs(np.diagonal(R, axis1=1, axis2=2))
        ok = diag.min(axis=1) > RANK_TOL * np.maximum(diag.max(axis=1), 1e-300)
        ok &= n_used[sl] > rank
        R_safe = np.where(ok[:, None, None], R, np.eye(p)[None])
        qty = np.einsum("cnp,cn->cp", Q, yw)
        coef = np.linalg.solve(R_safe, qty[:, :, None])[:, :, 0]
        resid = yw - np.einsum("cnp,cp->cn", Xw, coef)
        rss = np.einsum("cn,cn->c", resid, resid)
        df = (n_used[sl] - rank).astype(np.float64)
        rinv = np.linalg.inv(R_safe)
        xtx_inv_diag = np.einsum("cij,cij->ci", rinv, rinv)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma2 = rss / df
            stderr = np.sqrt(sigma2[:, None] * xtx_inv_diag)
        bad = ~ok
        dropped = bad[:, None] | absent
        out["coef"][sl] = np.where(dropped, np.nan, coef)
        out["stderr"][sl] = np.where(dropped, np.nan, stderr)
        out["df"][sl] = np.where(bad, np.nan, df)
        out["sigma2"][sl] = np.where(bad, np.nan, sigma2)
        too_few = n_used[sl] <= rank
        idx = np.arange(sl.start, sl.stop)
        messages[idx[bad & ~too_few]] = "design matrix is rank-deficient on this feature's samples"
        for j in idx[too_few]:  # only the degenerate few: builds their messages
            messages[j] = (f"{n_used[j]} samples for {rank[j - sl.start]} parameters: "
                           "no residual degrees of freedom")
    span = np.nanmax(np.where(mask, Y, -np.inf), axis=0) - np.nanmin(np.where(mask, Y, np.inf),
                                                                     axis=0)
    constant = (span == 0) & (messages == "")
    for j in np.flatnonzero(constant):  # only the degenerate few
        messages[j] = f"constant feature: zero variance on the {n_used[j]} samples used"
    return _finish(out, messages)


def _finish(out: dict[str, np.ndarray], messages: np.ndarray, *, recompute: bool = True) -> OLSFit:
    bad = messages != ""
    for key in ("coef", "stderr"):
        out[key][bad] = np.nan
    out["df"][bad] = np.nan
    out["sigma2"][bad] = np.nan
    if recompute:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["tvalue"] = out["coef"] / out["stderr"]
        out["pval"] = 2.0 * sps.stdtr(out["df"][:, None], -np.abs(out["tvalue"]))
    return OLSFit(coef=out["coef"], stderr=out["stderr"], tvalue=out["tvalue"], pval=out["pval"],
                  df=out["df"], sigma2=out["sigma2"], n=out["n"],
                  messages=tuple(str(s) for s in messages))

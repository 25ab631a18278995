"""Aliased design columns, dropped as R's ``lm`` drops them.

On a feature's own samples (the nonzero ones, for MaAsLin 3's abundance model) a design
can lose rank: a level of one categorical variable may coincide with a level of another.
R's QR (LINPACK ``dqrdc2``) then keeps the columns in order and drops each column whose
part not explained by the columns kept before it is below ``1e-7`` of its own norm;
``summary(lm)`` reports ``NA`` for it. MaAsLin 3 keeps such a fit when every dropped
column is a level of a categorical variable, and refuses the feature otherwise
("Metadata dropped during fitting (rank deficient)"). This module does the same.
"""

from __future__ import annotations

import numpy as np

from gutaxis.stats.design import Design
from gutaxis.stats.models.linear import fit_ols
from gutaxis.stats.results import FitResults

#: R's ``lm`` tolerance (``lm.fit(tol = 1e-7)``).
R_QR_TOLERANCE = 1e-7


def estimable_columns(X: np.ndarray, *, tol: float = R_QR_TOLERANCE) -> np.ndarray:
    """Boolean ``(p,)``: the columns of ``X`` R's QR keeps, in order (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 0, 0], [1, 1, 1], [1, 1, 1], [1, 0, 0.0]])
    >>> estimable_columns(X).tolist()
    [True, True, False]
    """
    keep = np.zeros(X.shape[1], dtype=bool)
    basis = np.zeros((X.shape[0], 0))
    for j in range(X.shape[1]):  # p is a handful of columns
        col = X[:, j].astype(np.float64)
        norm = np.linalg.norm(col)
        if basis.shape[1]:
            col = col - basis @ (basis.T @ col)
            col = col - basis @ (basis.T @ col)  # twice is enough (Kahan-Parlett)
        if norm > 0 and np.linalg.norm(col) > tol * norm:
            keep[j] = True
            basis = np.column_stack([basis, col / np.linalg.norm(col)])
    return keep


def droppable_columns(design: Design) -> np.ndarray:
    """Boolean ``(p,)``: the design columns R may drop and MaAsLin 3 still report the fit:
    the levels of categorical variables (never the intercept or a numeric variable)."""
    out = np.zeros(design.p, dtype=bool)
    for var in design.levels:
        out[design.columns_of(var)] = True
    return out


def refit_aliased(res: FitResults, Y: np.ndarray, design: Design, used: np.ndarray,
                  ) -> FitResults:
    """``res`` (OLS over all design columns, intercept included) with the features whose
    design lost rank on their samples refitted without the aliased columns, where those are
    all categorical levels (their rows ``NaN``); the others keep their message.

    Only the few rank-deficient features are refitted, one by one.
    """
    droppable = droppable_columns(design)
    arrays = {name: getattr(res, name).copy()
              for name in ("coef", "stderr", "statistic", "df", "pvalue")}
    messages = list(res.messages)
    converged = res.converged.copy()
    for f in [i for i, msg in enumerate(messages) if "rank-deficient" in msg]:
        rows = used[:, f].astype(bool)
        keep = estimable_columns(design.matrix[rows])
        if keep.all() or (~keep & ~droppable).any() or rows.sum() <= keep.sum():
            continue
        fit = fit_ols(Y[rows][:, [f]], design.matrix[np.ix_(rows, keep)])
        if fit.messages[0]:
            continue
        for name, value in (("coef", fit.coef), ("stderr", fit.stderr),
                            ("statistic", fit.tvalue), ("df", fit.df), ("pvalue", fit.pval)):
            row = np.full(design.p, np.nan)
            row[keep] = np.broadcast_to(value, (1, int(keep.sum())))[0]
            arrays[name][f] = row
        dropped = ", ".join(t.name for t, k in zip(design.terms, keep[1:], strict=True)
                            if not k)
        messages[f] = f"aliased on this feature's samples, not estimated: {dropped}"
        converged[f] = True
    return FitResults.from_arrays(
        res.model, terms=res.terms, responses=res.responses, statistic_name="t",
        messages=tuple(messages), converged=converged, **arrays)


def kept_columns(design: Design, rows: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``keep`` (the columns to fit on ``rows``) without the columns R finds aliased there,
    when those are all categorical levels (else ``keep`` unchanged: the fit is refused)."""
    inner = estimable_columns(design.matrix[np.ix_(rows, keep)])
    if inner.all():
        return keep
    dropped = np.flatnonzero(keep)[~inner]
    if not droppable_columns(design)[dropped].all():
        return keep
    out = keep.copy()
    out[dropped] = False
    return out

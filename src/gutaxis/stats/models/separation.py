"""Which coefficients of a logistic model are separated (unbounded likelihood), per term.

Separation is a property of the data, not of a fit: with ``s_i = 2 y_i - 1`` and ``a_i =
s_i x_i``, the log-likelihood of ``logit P(y = 1) = X beta`` increases without bound along
every direction ``d != 0`` of the cone ``C = {d : A d >= 0}`` (Albert & Anderson 1984), and
the maximum-likelihood estimate exists iff ``C = {0}`` (``X`` of full rank). A coefficient
is *separated* when it can be nonzero in such a direction: the likelihood keeps rising as it
runs to infinity (together with the other separated coefficients), while the remaining
coefficients have finite limits.

The coordinates are found exactly, with one linear programme per examined feature:

1. The *separated samples* ``I = {i : a_i d > 0 for some d in C}``: maximise ``sum_i t_i``
   subject to ``A d >= t``, ``0 <= t <= 1`` (``d`` free). ``C`` is a convex cone, so the
   sum of directions that reach each ``i in I`` is in ``C`` and reaches them all: the
   optimum has ``t_i = 1`` exactly on ``I`` (Konis 2007, ch. 4, for LP certificates).
2. Every ``d in C`` has ``a_i d = 0`` off ``I``, and ``C`` contains an open piece of
   ``L = null(X[not I])`` (around the direction of step 1, strictly positive on ``I``), so
   ``C`` spans ``L``: coefficient ``k`` is separated iff ``L`` has a vector with ``d_k != 0``,
   i.e. iff row ``k`` of a null-space basis of ``X[not I]`` is nonzero.

Only features whose unaugmented fit does not converge to a finite maximum can be separated,
so callers pass those as ``candidates`` (a cheap, batched screen) and the programmes run for
the few candidates only.

References
----------
.. [1] Albert A, Anderson JA (1984). On the existence of maximum likelihood estimates in
   logistic regression models. *Biometrika* 71:1-10.
.. [2] Konis K (2007). *Linear programming algorithms for detecting separated data in
   binary logistic regression models*. DPhil thesis, University of Oxford.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from gutaxis.errors import ConvergenceError

__all__ = ["separated_samples", "separated_terms", "separation_message"]

#: Relative size below which a singular value (of the column-scaled design) or a null-space
#: component counts as zero.
NULL_TOL = 1e-9


def separated_samples(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(n,)`` booleans: samples whose fitted probability runs to 0 or 1 under separation.

    Parameters
    ----------
    y
        ``(n,)`` 0/1 outcomes of one feature.
    X
        ``(n, p)`` full-rank design.

    Returns
    -------
    numpy.ndarray
        The set ``I`` of step 1 in the module notes; empty when the MLE exists.
    """
    rows = (2.0 * np.asarray(y, dtype=float) - 1.0)[:, None] * _scaled(X)
    # repeated rows (e.g. one subject's samples) are one constraint: solve for the distinct
    A, inverse = np.unique(rows, axis=0, return_inverse=True)
    n, p = A.shape
    # variables (d, t): maximise sum t subject to t - A d <= 0, d free, 0 <= t <= 1
    constraints = sparse.hstack([sparse.csr_array(-A), sparse.eye_array(n)], format="csr")
    res = linprog(np.r_[np.zeros(p), -np.ones(n)], A_ub=constraints, b_ub=np.zeros(n),
                  bounds=[(None, None)] * p + [(0.0, 1.0)] * n, method="highs")
    if res.status != 0:  # pragma: no cover - the programme is feasible (0) and bounded (n)
        raise ConvergenceError(f"separation linear programme failed: {res.message}")
    return np.asarray(res.x[p:] > 0.5)[inverse.ravel()]


def separated_terms(Y: np.ndarray, X: np.ndarray, *,
                    candidates: np.ndarray | None = None) -> np.ndarray:
    """``(m, p)`` booleans: coefficient ``k`` of feature ``j`` is separated.

    Parameters
    ----------
    Y
        ``(m, n)`` 0/1 outcomes, feature-major (as the fitters hold them).
    X
        ``(n, p)`` full-rank design (intercept included).
    candidates
        ``(m,)`` booleans: the features to examine; the others are taken as not separated.
        By default all (one linear programme each).

    Returns
    -------
    numpy.ndarray
        True for the coordinates that can be nonzero in a direction of separation; a row
        of False means the maximum-likelihood estimate exists.
    """
    Y = np.atleast_2d(np.asarray(Y))
    X = np.asarray(X, dtype=float)
    m, p = Y.shape[0], X.shape[1]
    out = np.zeros((m, p), dtype=bool)
    rows = np.arange(m) if candidates is None else np.flatnonzero(candidates)
    scaled = _scaled(X)
    for j in rows:  # candidates only: the features the batched screen could not clear
        overlap = ~separated_samples(Y[j], X)
        out[j] = _free_coordinates(scaled[overlap])
    return out


def separation_message(names: Sequence[str], *, estimated: bool, note: str = "") -> str:
    """The text reported for a feature whose separated coefficients are ``names``.

    ``estimated``: the (augmented) estimates are kept, else there is none; ``note`` (any
    other remark on the fit) is appended after a semicolon.
    """
    head = f"separation: presence is predicted exactly by {', '.join(names)} "
    head += ("(augmented estimate, likelihood unbounded)" if estimated
             else "(no maximum-likelihood estimate)")
    return f"{head}; {note}" if note else head


def _scaled(X: np.ndarray) -> np.ndarray:
    """``X`` with every column divided by its largest absolute value (same null-space
    support, better conditioned programmes)."""
    X = np.asarray(X, dtype=float)
    scale = np.abs(X).max(axis=0)
    return X / np.where(scale > 0, scale, 1.0)


def _free_coordinates(X: np.ndarray) -> np.ndarray:
    """``(p,)`` booleans: coordinates that are nonzero in some vector of ``null(X)``."""
    p = X.shape[1]
    if X.shape[0] == 0:
        return np.ones(p, dtype=bool)
    _u, s, vt = np.linalg.svd(X, full_matrices=X.shape[0] < p)  # vt: p x p either way
    rank = int((s > NULL_TOL * max(s.max(initial=0.0), 1.0)).sum())
    null = vt[rank:]  # orthonormal basis of the null space, as rows
    return np.linalg.norm(null, axis=0) > np.sqrt(NULL_TOL)

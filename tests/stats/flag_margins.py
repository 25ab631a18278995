"""Status flags compared only where they are well-defined (not a test module).

A status flag is a threshold on an estimate (``singular``: the smallest relative standard
deviation ``theta`` below ``1e-4``, as lme4's ``isSingular``). Where the estimate lies within
its own tolerance of the threshold, two optimisers that agree on the criterion to rounding
may land on either side (issue 7: ``theta`` 2.7e-4 vs 3.7e-5, REML criteria 2e-7 apart), and
an exact comparison then tests the floating-point path, not the model. These helpers compare
a flag exactly only where the reference estimate clears the threshold by more than the
stated tolerance, and compare the estimate itself (to that tolerance) everywhere else.

Separation (``separated``) is a property of the data, not of an optimiser: the logistic
maximum-likelihood estimate does not exist iff some ``b != 0`` has ``(2 y_i - 1) x_i b >= 0``
for every sample (Albert & Anderson 1984). :func:`separation_margin` certifies it with a
linear programme (as R's ``detectseparation``, Konis 2007), independently of any fit.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

SINGULAR_TOL = 1e-4
"""lme4's ``isSingular`` threshold on ``theta``.

As :data:`gutaxis.stats.models.linear_mixed.SINGULAR_TOL`.
"""


def assert_singular_where_clear(
    singular: np.ndarray, theta: np.ndarray, ref_singular: np.ndarray, ref_theta: np.ndarray,
    *, theta_tol: float, min_compared: int,
) -> None:
    """``singular`` equals the reference where the reference's smallest ``theta`` is more
    than ``theta_tol`` from the threshold; elsewhere the smallest ``theta`` agrees to
    ``theta_tol``. At least ``min_compared`` flags must be compared (no vacuous pass)."""
    ref_min = np.asarray(ref_theta, dtype=float).min(axis=1)
    clear = np.abs(ref_min - SINGULAR_TOL) > theta_tol
    assert clear.sum() >= min_compared, (int(clear.sum()), min_compared)
    np.testing.assert_array_equal(np.asarray(singular)[clear],
                                  np.asarray(ref_singular, dtype=bool)[clear])
    ours_min = np.asarray(theta, dtype=float).min(axis=1)
    np.testing.assert_allclose(ours_min[~clear], ref_min[~clear], rtol=0, atol=theta_tol)


def separation_margin(y: np.ndarray, X: np.ndarray) -> float:
    """Largest ``sum_i s_i x_i b`` over ``s_i x_i b >= 0`` (``s = 2y - 1``) and a box on ``b``.

    0 when the maximum-likelihood estimate exists; positive (here: tens and more) when the
    outcomes are completely or quasi-completely separated by a direction ``b``.
    """
    sign = 2.0 * np.asarray(y, dtype=float) - 1.0
    A = sign[:, None] * np.asarray(X, dtype=float)
    scale = np.abs(X).max(axis=0)
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(sign)),
                  bounds=[(-1 / c, 1 / c) for c in scale], method="highs")
    assert res.status == 0, res.message
    return float(-res.fun)


def separated_by_lp(Y: np.ndarray, X: np.ndarray, *, margin: float = 1e-6) -> np.ndarray:
    """``(m,)`` separation certificates for the columns of ``Y`` (0/1), with every margin
    either below ``margin`` or far above it (asserted: the certificate is unambiguous)."""
    Y = np.asarray(Y).reshape(len(X), -1)
    margins = np.array([separation_margin(Y[:, j], X) for j in range(Y.shape[1])])
    ambiguous = (margins > margin) & (margins < 1e3 * margin)
    assert not ambiguous.any(), margins[ambiguous]
    return margins > margin

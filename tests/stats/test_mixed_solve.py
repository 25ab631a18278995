"""The one Schur-complement solve of both mixed models, against dense linear algebra."""

from __future__ import annotations

import numpy as np
import pytest

from gutaxis.stats.mixed.solve import (
    SchurSystem,
    cholesky_or_identity,
    cholesky_solve,
    schur_complement_one,
    schur_solve_one,
)


def _blocks(rng: np.random.Generator, b: int, g: int, s: int):
    """SPD ``M = [[diag(d), B], [B', C]]`` built as ``I + A'A`` with a diagonal first block."""
    Z0 = rng.integers(0, g, size=40)  # one factor with g levels: its cross-product is diagonal
    Z1 = rng.integers(0, max(s, 1), size=40)
    d = np.empty((b, g))
    B = np.empty((b, g, s))
    C = np.empty((b, s, s))
    for i in range(b):
        w = rng.uniform(0.1, 2.0, size=40)
        A0 = np.zeros((40, g))
        A0[np.arange(40), Z0] = 1.0
        A1 = np.zeros((40, s))
        if s:
            A1[np.arange(40), Z1] = 1.0
            A1 += 0.3 * rng.normal(size=(40, s))
        A = np.hstack([A0, A1]) * np.sqrt(w)[:, None]
        M = np.eye(g + s) + A.T @ A
        d[i], B[i], C[i] = np.diag(M[:g, :g]), M[:g, g:], M[g:, g:]
    return d, B, C


def _dense(d: np.ndarray, B: np.ndarray, C: np.ndarray) -> np.ndarray:
    return np.block([[np.diag(d), B], [B.T, C]])


@pytest.mark.parametrize("s", [0, 1, 4])
def test_schur_system_matches_dense_solve_and_log_determinant(s):
    rng = np.random.default_rng(3)
    d, B, C = _blocks(rng, 5, 7, s)
    system = SchurSystem.factor(d, B, C)
    R = rng.normal(size=(5, 7 + s, 3))
    for i in range(5):
        M = _dense(d[i], B[i], C[i])
        np.testing.assert_allclose(system.solve(R)[i], np.linalg.solve(M, R[i]), rtol=1e-10)
        np.testing.assert_allclose(system.solve(R[:, :, 0])[i], np.linalg.solve(M, R[i, :, 0]),
                                   rtol=1e-10)
        np.testing.assert_allclose(system.logdet[i], np.linalg.slogdet(M)[1], rtol=1e-12)


@pytest.mark.parametrize("s", [1, 4])
def test_compiled_one_response_form_matches_dense(s):
    rng = np.random.default_rng(4)
    d, B, C = _blocks(rng, 3, 6, s)
    for i in range(3):
        M = _dense(d[i], B[i], C[i])
        F, Sinv, logdet = schur_complement_one(d[i].copy(), B[i].copy(), C[i].copy())
        r = rng.normal(size=6 + s)
        np.testing.assert_allclose(schur_solve_one(d[i], F, Sinv, r), np.linalg.solve(M, r),
                                   rtol=1e-10)
        assert logdet == pytest.approx(np.linalg.slogdet(M)[1], rel=1e-12)


def test_a_matrix_that_is_not_positive_definite_is_flagged_and_the_rest_solved():
    S = np.stack([np.array([[4.0, 2.0], [2.0, 3.0]]), np.array([[1.0, 2.0], [2.0, 1.0]])])
    chol, ok = cholesky_or_identity(S)
    assert ok.tolist() == [True, False]
    np.testing.assert_array_equal(chol[1], np.eye(2))
    rhs = np.array([[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(cholesky_solve(chol, rhs)[0], np.linalg.solve(S[0], rhs[0]))

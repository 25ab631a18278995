"""gutaxis.stats.mixed.newton: the Newton step and the backtracking both mixed models use,
against closed forms."""

from __future__ import annotations

import numpy as np

from gutaxis.stats.mixed.newton import backtrack, modified_newton_step


def test_positive_definite_hessian_gives_the_exact_newton_step():
    H = np.array([[[4.0, 1.0], [1.0, 3.0]], [[2.0, 0.0], [0.0, 5.0]]])
    g = np.array([[1.0, 2.0], [-2.0, 10.0]])
    step, positive = modified_newton_step(H, g, rel_floor=1e-10)
    np.testing.assert_allclose(step, -np.linalg.solve(H, g[:, :, None])[:, :, 0], rtol=1e-13)
    assert positive.all()


def test_indefinite_hessian_is_replaced_by_its_absolute_value_and_flagged():
    H = np.array([[[1.0, 0.0], [0.0, -2.0]]])
    g = np.array([[1.0, 1.0]])
    step, positive = modified_newton_step(H, g, rel_floor=1e-10)
    np.testing.assert_allclose(step, [[-1.0, -0.5]], rtol=1e-14)  # |H| = diag(1, 2)
    assert not positive[0]
    assert step @ g[0] < 0  # a descent direction


def test_eigenvalue_floor_is_relative_or_absolute_whichever_is_larger():
    H = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    g = np.array([[0.0, 1.0]])
    rel, _ = modified_newton_step(H, g, rel_floor=1e-8, abs_floor=1e-10)
    absolute, _ = modified_newton_step(H * 1e-6, g, rel_floor=1e-8, abs_floor=1e-10)
    np.testing.assert_allclose(rel, [[0.0, -1e8]], rtol=1e-12)
    np.testing.assert_allclose(absolute, [[0.0, -1e10]], rtol=1e-12)


def test_backtracking_halves_until_accepted_and_reports_the_stalled():
    """f(x) = x^2 from x = 1, trials projected onto x >= -0.25: steps -4 and -1.5 land on
    -0.25 and are accepted at once; +3 only ever increases f (t = 1, 1/2, ..., 1/16) and
    stalls after ``halvings`` = 5 trials."""
    x = np.array([[1.0], [1.0], [1.0]])
    step = np.array([[-4.0], [3.0], [-1.5]])
    value = (x**2).ravel()
    trials: list[int] = []

    def evaluate(pending, trial):
        trials.append(pending.size)

        def accept(ok):
            x[pending[ok]] = trial[ok]
            value[pending[ok]] = trial[ok, 0] ** 2

        return trial[:, 0] ** 2, accept

    def no_increase(pending, t, values):
        return values <= value[pending]

    stalled = backtrack(x.copy(), step, evaluate, no_increase, halvings=5,
                        project=lambda trial: np.maximum(trial, -0.25))
    np.testing.assert_array_equal(stalled, [False, True, False])
    np.testing.assert_allclose(x.ravel(), [-0.25, 1.0, -0.25])  # projected at -0.25
    assert trials == [3, 1, 1, 1, 1]

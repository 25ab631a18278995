"""The classifier's measures equal scikit-learn's and their closed forms on fixed
predictions (ties included), column by column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.classify import (
    auprc,
    auroc,
    brier_score,
    calibration_table,
    permutation_pvalue,
    spread_interval,
)

sklearn_metrics = pytest.importorskip("sklearn.metrics")
sklearn_calibration = pytest.importorskip("sklearn.calibration")

#: Agreement with scikit-learn: the same sums in another order (float64 rounding only).
TOL = 1e-12


def _predictions(seed: int, n: int = 60, tied: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    rng.shuffle(y)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + y)))
    if tied:
        p = np.round(p, 1)  # many ties
    return y, p


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auroc_equals_sklearn_and_mann_whitney_u(seed: int, tied: bool) -> None:
    y, p = _predictions(seed, tied=tied)
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert auroc(y, p) == pytest.approx(sklearn_metrics.roc_auc_score(y, p), abs=TOL)
    assert auroc(y, p) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=TOL)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auprc_equals_sklearn_average_precision(seed: int, tied: bool) -> None:
    y, p = _predictions(seed, tied=tied)
    assert auprc(y, p) == pytest.approx(sklearn_metrics.average_precision_score(y, p),
                                        abs=TOL)


@pytest.mark.parametrize("seed", [1, 2])
def test_brier_equals_sklearn(seed: int) -> None:
    y, p = _predictions(seed)
    assert brier_score(y, p) == pytest.approx(sklearn_metrics.brier_score_loss(y, p), abs=TOL)


def test_columns_are_scored_one_by_one() -> None:
    y, _ = _predictions(4)
    columns = np.column_stack([_predictions(s, tied=s % 2 == 0)[1] for s in range(5)])
    for measure in (auroc, auprc, brier_score):
        together = measure(y, columns)
        apart = [measure(y, columns[:, k]) for k in range(5)]
        np.testing.assert_allclose(together, apart, rtol=0, atol=TOL)


def test_calibration_equals_sklearn_uniform_bins() -> None:
    y, p = _predictions(5, n=200)
    table = calibration_table(y, p, bins=10)
    fraction, mean = sklearn_calibration.calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(table["observed_fraction"], fraction, atol=TOL)
    np.testing.assert_allclose(table["mean_predicted"], mean, atol=TOL)
    assert table["n"].sum() == 200


def test_perfect_and_reversed_and_constant_scores() -> None:
    y = np.array([0, 0, 1, 1.0])
    assert auroc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auroc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auroc(y, np.full(4, 0.3)) == 0.5
    assert auprc(y, np.full(4, 0.3)) == 0.5  # the prevalence
    assert brier_score(y, y) == 0.0


@given(st.lists(st.floats(0, 1), min_size=6, max_size=6), st.integers(1, 5))
def test_auroc_of_reversed_scores_is_its_complement(scores: list[float], n_pos: int) -> None:
    y = np.r_[np.ones(n_pos), np.zeros(6 - n_pos)]
    p = np.array(scores)
    assert auroc(y, p) + auroc(y, -p) == pytest.approx(1.0, abs=1e-12)  # -p: ties kept


def test_permutation_pvalue_is_b_plus_one_over_b_plus_one() -> None:
    null = np.array([0.4, 0.5, 0.6, 0.7, 0.55, np.nan])
    assert permutation_pvalue(null, 0.6) == (2 + 1) / (5 + 1)
    assert permutation_pvalue(null, 0.9) == 1 / 6  # never zero
    assert permutation_pvalue(np.array([]), 0.9) == 1.0


def test_spread_interval_is_the_central_quantiles() -> None:
    low, high = spread_interval(np.arange(101.0))
    assert (low, high) == pytest.approx((2.5, 97.5), abs=1e-9)


def test_one_class_is_refused() -> None:
    with pytest.raises(InputError, match="both classes"):
        auroc(np.ones(4), np.linspace(0, 1, 4))

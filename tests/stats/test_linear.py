"""Batched OLS: equal to a per-feature statsmodels OLS on real data (1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from assoc_data import COVARIATES, fibromyalgia_genus
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.stats.associate import filter_features, transform_table
from gutaxis.stats.design import build_design
from gutaxis.stats.models import linear
from gutaxis.stats.models.linear import fit_ols

TOL = {"rtol": 1e-10, "atol": 1e-12}


@pytest.fixture(scope="module")
def problem(fibromyalgia_dir):
    """Y: 101 samples x 160 genera (TSS + LOG); X: intercept, FM, age, BMI, IBS; raw counts."""
    cohort = fibromyalgia_genus(fibromyalgia_dir)
    keep = filter_features(cohort.table.values, min_prevalence=0.1, min_abundance=0,
                           min_variance=0)
    raw = cohort.table.subset_features(keep).dense()
    design = build_design(cohort.metadata, fixed=["fm", *COVARIATES],
                          reference={"fm": "control"})
    return transform_table(raw, normalization="TSS", transform="LOG"), design.matrix, raw


def _statsmodels(y, X):
    res = sm.OLS(y, X).fit()
    return res.params, res.bse, res.tvalues, res.pvalues, res.df_resid


def _assert_feature_matches(fit, j, y, X):
    params, bse, tvalues, pvalues, df = _statsmodels(y, X)
    np.testing.assert_allclose(fit.coef[j], params, **TOL)
    np.testing.assert_allclose(fit.stderr[j], bse, **TOL)
    np.testing.assert_allclose(fit.tvalue[j], tvalues, **TOL)
    np.testing.assert_allclose(fit.pval[j], pvalues, rtol=1e-10, atol=1e-15)
    assert fit.df[j] == df


def test_every_genus_matches_statsmodels_ols(problem):
    Y, X, _ = problem
    fit = fit_ols(Y, X)
    assert fit.coef.shape == (160, 5) and not any(fit.messages)
    for j in range(Y.shape[1]):  # the reference is per feature by construction
        _assert_feature_matches(fit, j, Y[:, j], X)


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped-row-sets", "batched-qr"])
def test_nonzero_subsets_match_statsmodels_on_each_subset(problem, grouped, monkeypatch):
    Y, X, raw = problem
    mask = raw > 0
    if not grouped:  # force the batched solver even though row sets are few
        monkeypatch.setattr(linear, "_fit_masked", linear._fit_batched)
    fit = fit_ols(np.where(mask, Y, np.nan), X, mask=mask)
    np.testing.assert_array_equal(fit.n, mask.sum(axis=0))
    checked = 0
    for j in range(Y.shape[1]):  # reference: one statsmodels fit per feature
        rows = mask[:, j]
        if fit.messages[j]:
            assert np.isnan(fit.coef[j]).all()
            continue
        _assert_feature_matches(fit, j, Y[rows, j], X[rows])
        checked += 1
    assert checked > 100


def test_masked_groups_with_shared_row_sets(problem):
    Y, X, _ = problem
    mask = np.ones_like(Y, dtype=bool)
    mask[:7, ::2] = False  # two distinct row sets: grouped path
    fit = fit_ols(Y, X, mask=mask)
    _assert_feature_matches(fit, 0, Y[7:, 0], X[7:])
    _assert_feature_matches(fit, 1, Y[:, 1], X)


def test_constant_feature_is_reported_not_fitted(problem):
    Y, X, _ = problem
    Y2 = np.column_stack([Y[:, :3], np.full(Y.shape[0], 2.5)])
    fit = fit_ols(Y2, X)
    assert "constant feature" in fit.messages[3]
    assert np.isnan(fit.coef[3]).all() and np.isnan(fit.pval[3]).all()
    assert fit.messages[:3] == ("", "", "")


def test_too_few_rows_in_a_mask_is_reported(problem):
    Y, X, _ = problem
    mask = np.ones((Y.shape[0], 2), dtype=bool)
    mask[5:, 1] = False
    fit = fit_ols(Y[:, :2], X, mask=mask)
    assert "no residual degrees of freedom" in fit.messages[1]
    assert fit.messages[0] == ""


def test_subset_that_loses_a_level_is_rank_deficient(problem):
    Y, X, _ = problem
    mask = np.ones((Y.shape[0], 8), dtype=bool)
    mask[X[:, 1] == 1, 0] = False  # feature 0 only on controls: the FM column is all zero
    fit = fit_ols(Y[:, :8], X, mask=mask)
    assert "rank-deficient" in fit.messages[0]


def test_nan_outside_a_mask_is_ignored_but_nan_inside_is_refused(problem):
    Y, X, _ = problem
    y = Y[:, :2].copy()
    y[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        fit_ols(y, X)
    mask = np.ones_like(y, dtype=bool)
    mask[0, 0] = False
    assert fit_ols(y, X, mask=mask).messages == ("", "")


def test_shape_mismatch_is_an_input_error():
    with pytest.raises(InputError, match="same rows"):
        fit_ols(np.ones((5, 2)), np.ones((4, 2)))


def test_single_outcome_vector_is_accepted():
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    fit = fit_ols(np.array([1.0, 2.9, 5.2, 7.0, 9.1, 10.8]), X)
    assert fit.coef.shape == (1, 2)


@settings(max_examples=40, deadline=None)
@given(st.integers(6, 40), st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_property_batched_equals_one_column_at_a_time(n, p_extra, m, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p_extra))])
    Y = rng.normal(size=(n, m))
    together = fit_ols(Y, X)
    for j in range(m):  # property: each column alone gives the same answer
        alone = fit_ols(Y[:, j], X)
        np.testing.assert_allclose(together.coef[j], alone.coef[0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(together.stderr[j], alone.stderr[0], rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(8, 40), st.integers(0, 2**31 - 1))
def test_property_coefficients_are_equivariant_to_scaling_the_outcome(n, seed):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = rng.normal(size=n)
    a, b = fit_ols(y, X), fit_ols(3.0 * y, X)
    np.testing.assert_allclose(b.coef, 3.0 * a.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.tvalue, a.tvalue, rtol=1e-9, atol=1e-12)

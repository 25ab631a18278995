"""gutaxis.stats.mixed.structure: one validation and indexing of the grouping factors,
shared by the linear and the logistic mixed model (same input, same refusal)."""

from __future__ import annotations

import numpy as np
import pytest

from gutaxis.errors import InputError
from gutaxis.stats.mixed.lme4_replay import lme4_theta_order
from gutaxis.stats.mixed.structure import (
    grouping_factors,
    indicator,
    most_levels_first,
    random_intercepts,
)
from gutaxis.stats.models.linear_mixed import fit_lmm
from gutaxis.stats.models.logistic_mixed import fit_logistic_mixed

N = 40
GOOD = np.repeat(np.arange(8), 5)


@pytest.mark.parametrize(("groups", "fragment", "field"), [
    ([], "no grouping factor", "groups"),
    ([GOOD[:-1]], "wrong length", "groups[0]"),
    ([GOOD, GOOD + 0.5], "not integer coded", "groups[1]"),
    ([np.where(GOOD == 3, np.nan, GOOD)], "not integer coded", "groups[0]"),
    ([np.where(GOOD == 2, -1, GOOD)], "negative group code", "groups[0]"),
    ([np.zeros(N, dtype=int)], "single level", "groups[0]"),
])
def test_both_mixed_models_refuse_bad_factors_with_the_same_error(groups, fragment, field):
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(N), rng.normal(size=N)])
    errors = []
    for fit in (lambda: fit_lmm(rng.normal(size=N), X, groups),
                lambda: fit_logistic_mixed(rng.integers(0, 2, (N, 1)), X, groups)):
        with pytest.raises(InputError, match=fragment) as info:
            fit()
        errors.append(info.value)
    assert errors[0].field == errors[1].field == field
    assert str(errors[0]) == str(errors[1])


def test_a_level_per_row_is_refused_only_where_the_model_cannot_separate_it():
    one_per_row = np.arange(N)
    with pytest.raises(InputError, match="a level per row"):
        grouping_factors([one_per_row], N, fewer_levels_than_rows=True)
    assert grouping_factors([one_per_row], N).levels == (N,)


def test_codes_are_recoded_to_consecutive_levels_in_sorted_order():
    factors = grouping_factors([np.array([7, 3, 7, 10, 3]), np.array([1.0, 0.0, 1.0, 0.0, 0.0])], 5)
    np.testing.assert_array_equal(factors.codes[0], [1, 0, 1, 2, 0])
    np.testing.assert_array_equal(factors.codes[1], [1, 0, 1, 0, 0])
    assert factors.levels == (3, 2) and factors.codes[0].dtype == np.int64


@pytest.mark.parametrize(("levels", "order"), [
    ([5, 100], (1, 0)), ([100, 5], (0, 1)), ([5, 5], (0, 1)), ([3, 5, 5], (1, 2, 0)),
])
def test_most_levels_first_keeps_ties_in_the_callers_order(levels, order):
    """Unlike lme4's theta order (``rev(order())``, ties reversed), ties stay as given."""
    assert most_levels_first(levels) == order
    assert sorted(levels, reverse=True) == [levels[i] for i in order]
    if len(set(levels)) < len(levels) and len(levels) > 2:
        assert tuple(lme4_theta_order(levels)) != order


def test_one_indicator_builder_serves_both_models_and_the_cross_blocks_are_z_w_z():
    """Indicators equal one-hot coding; a pair's weighted crosses are ``Z_a' W Z_b``."""
    rng = np.random.default_rng(2)
    site, subject = rng.integers(0, 3, 30), rng.integers(0, 8, 30)
    zt = indicator(subject, 8).toarray()
    np.testing.assert_array_equal(zt, (subject[None, :] == np.arange(8)[:, None]).astype(float))
    ri = random_intercepts([site, subject], 30)
    assert ri.order == (1, 0)  # subject has most levels
    w = rng.uniform(size=30)
    za = ri.indicators[0].toarray()
    zb = ri.indicators[1].toarray()
    np.testing.assert_array_equal(za, zt.T[:, np.unique(subject)])
    np.testing.assert_allclose((w @ ri.crosses[0, 1]).reshape(za.shape[1], zb.shape[1]),
                               za.T @ np.diag(w) @ zb, rtol=1e-12)

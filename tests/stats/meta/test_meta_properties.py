"""Invariants of the meta-analysis estimators (hypothesis), and its honest words."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.meta import TAU2_METHODS, StudyEffects, bias_tests, fit_meta
from gutaxis.stats.meta.bias import rank_correlation

studies = st.integers(min_value=3, max_value=12).flatmap(lambda k: st.tuples(
    st.lists(st.floats(-3, 3), min_size=k, max_size=k),
    st.lists(st.floats(0.01, 2.0), min_size=k, max_size=k)))


@settings(max_examples=25, deadline=None)
@given(studies, st.sampled_from(TAU2_METHODS))
def test_heterogeneity_is_never_negative(data, method):
    fit = fit_meta(StudyEffects.from_arrays(*data), method=method)
    assert fit.tau2 >= 0
    assert 0 <= fit.i2 < 100
    assert fit.q >= 0
    if method == "FE":  # metafor's H² of a fixed-effect model is Q/(k - 1), may be < 1
        assert fit.h2 == pytest.approx(fit.q / (fit.k - 1))
    else:
        assert fit.h2 >= 1


@settings(max_examples=25, deadline=None)
@given(studies, st.sampled_from(TAU2_METHODS), st.floats(-5, 5), st.randoms())
def test_shifting_or_reordering_studies_moves_only_the_estimate(data, method, shift, rnd):
    yi, vi = map(np.array, data)
    base = fit_meta(StudyEffects.from_arrays(yi, vi), method=method)
    order = np.array(rnd.sample(range(len(yi)), len(yi)))
    moved = fit_meta(StudyEffects.from_arrays(yi[order] + shift, vi[order]), method=method)
    assert moved.coef[0] == pytest.approx(base.coef[0] + shift, abs=1e-7)
    assert moved.tau2 == pytest.approx(base.tau2, rel=1e-6, abs=1e-9)
    assert moved.se[0] == pytest.approx(base.se[0], rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(studies)
def test_the_fixed_effect_is_the_inverse_variance_mean(data):
    yi, vi = map(np.array, data)
    fit = fit_meta(StudyEffects.from_arrays(yi, vi), method="FE")
    assert fit.coef[0] == pytest.approx(np.sum(yi / vi) / np.sum(1 / vi))
    assert fit.se[0] == pytest.approx(np.sqrt(1 / np.sum(1 / vi)))


@settings(max_examples=25, deadline=None)
@given(studies)
def test_the_paule_mandel_estimate_lies_in_its_q_profile_interval(data):
    fit = fit_meta(StudyEffects.from_arrays(*data), method="PM")
    low, high = fit.tau2_ci
    assert low - 1e-9 <= fit.tau2 <= high + 1e-9


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=4, max_size=20, unique=True),
       st.randoms())
def test_begg_exact_p_equals_scipy_kendall_exact(yi, rnd):
    yi = np.array(yi)
    vi = np.array(rnd.sample(range(1, 100), len(yi)), dtype=float) / 50
    effects = StudyEffects.from_arrays(yi, vi)
    w = 1 / vi
    x = (yi - np.sum(w * yi) / np.sum(w)) / np.sqrt(vi - 1 / np.sum(w))
    assume(len(np.unique(x)) == len(x))
    tau, p = rank_correlation(effects)
    expected = stats.kendalltau(x, vi, method="exact")
    assert tau == pytest.approx(expected.statistic)
    assert p == pytest.approx(expected.pvalue)


def test_few_studies_are_called_thin_evidence():
    fit = fit_meta(StudyEffects.from_arrays([0.2, 0.5, 0.1], [0.02, 0.03, 0.05]))
    assert "Evidence is thin: only 3 studies" in fit.summary()


def test_a_prediction_interval_across_zero_is_said_in_words():
    fit = fit_meta(StudyEffects.from_arrays([0.9, -0.2, 0.8, 0.1, 1.2, 0.6],
                                            [0.02, 0.03, 0.02, 0.04, 0.05, 0.03]))
    assert fit.prediction_interval()[0] < 0 < fit.prediction_interval()[1]
    assert "prediction interval includes no effect" in fit.summary()


def test_knapp_hartung_widens_the_interval_with_t_quantiles():
    effects = StudyEffects.from_arrays([0.9, -0.2, 0.8, 0.1, 1.2], [0.02, 0.03, 0.02, 0.04, 0.05])
    z, t = fit_meta(effects, method="DL"), fit_meta(effects, method="DL", test="knha")
    assert t.df == 4 and np.isinf(z.df)
    assert t.crit == pytest.approx(stats.t.isf(0.025, 4))


def test_bias_tests_refuse_moderators_and_too_few_studies():
    effects = StudyEffects.from_arrays([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.03, 0.04])
    moderated = fit_meta(effects, moderators=np.array([1.0, 2.0, 3.0, 5.0]))
    with pytest.raises(InputError, match="without moderators"):
        bias_tests(moderated)
    with pytest.raises(InputError, match="at least 3 studies"):
        bias_tests(fit_meta(effects.subset(np.array([0, 1]))))


def test_unknown_estimator_is_refused():
    with pytest.raises(InputError, match="unknown heterogeneity estimator"):
        fit_meta(StudyEffects.from_arrays([0.1, 0.2], [0.01, 0.01]), method="XX")  # type: ignore[arg-type]

"""Multiple-testing correction: against statsmodels and R's p.adjust on real p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from statsmodels.stats.multitest import multipletests

from gutaxis.errors import InputError
from gutaxis.stats.multitest import adjust_pvalues, correction_name

STATSMODELS = {"BH": "fdr_bh", "BY": "fdr_by", "bonferroni": "bonferroni", "holm": "holm"}


@pytest.fixture(scope="module")
def real_pvalues(reference_dir):
    """640 p-values of a genus-level LM scan of the fibromyalgia cohort, with R's BH q."""
    ref = pd.read_csv(reference_dir / "associate" / "fibromyalgia_genus_lm.tsv.gz", sep="\t")
    return ref.loc[ref["model"] == "fm_log", ["pval", "qval"]]


@pytest.mark.parametrize("method", sorted(STATSMODELS))
def test_matches_statsmodels_on_real_pvalues_to_1e12(real_pvalues, method):
    p = real_pvalues["pval"].to_numpy()
    expected = multipletests(p, method=STATSMODELS[method])[1]
    np.testing.assert_allclose(adjust_pvalues(p, method=method), expected, rtol=1e-12, atol=0)


def test_bh_matches_r_p_adjust(real_pvalues):
    q = adjust_pvalues(real_pvalues["pval"].to_numpy(), method="BH")
    np.testing.assert_allclose(q, real_pvalues["qval"].to_numpy(), rtol=1e-12)


def test_nan_pvalues_are_not_counted_as_tests():
    p = np.array([0.01, np.nan, 0.02, 0.04, np.nan])
    q = adjust_pvalues(p, method="bonferroni")
    np.testing.assert_array_equal(np.isnan(q), np.isnan(p))
    np.testing.assert_allclose(q[~np.isnan(q)], [0.03, 0.06, 0.12])


def test_shape_is_kept():
    p = np.array([[0.01, 0.5], [0.2, 0.03]])
    assert adjust_pvalues(p).shape == (2, 2)


@pytest.mark.parametrize("p", [np.array([]), np.array([np.nan, np.nan])])
def test_empty_or_all_missing(p):
    q = adjust_pvalues(p)
    assert q.shape == p.shape and np.all(np.isnan(q))


def test_single_pvalue_is_unchanged():
    for method in STATSMODELS:
        assert adjust_pvalues(np.array([0.03]), method=method)[0] == pytest.approx(0.03)


def test_ties_get_equal_qvalues():
    q = adjust_pvalues(np.array([0.01, 0.01, 0.01, 0.5]))
    assert q[0] == q[1] == q[2] == pytest.approx(0.01 * 4 / 3)


def test_none_returns_the_pvalues():
    p = np.array([0.2, 0.01])
    np.testing.assert_array_equal(adjust_pvalues(p, method="none"), p)


@pytest.mark.parametrize("bad", [np.array([-0.1, 0.5]), np.array([0.5, 1.2])])
def test_pvalues_outside_unit_interval_are_refused(bad):
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        adjust_pvalues(bad)


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(InputError, match="BH, BY, bonferroni"):
        adjust_pvalues(np.array([0.1]), method="sidak")


def test_method_names_are_case_insensitive():
    assert correction_name("bh") == "BH"
    assert correction_name("fdr") == "BH"
    assert correction_name("BONFERRONI") == "bonferroni"


pvals = arrays(np.float64, st.integers(1, 60), elements=st.floats(0, 1))


@settings(max_examples=60, deadline=None)
@given(pvals, st.sampled_from(sorted(STATSMODELS)))
def test_property_adjusted_at_least_p_at_most_one_and_order_preserving(p, method):
    q = adjust_pvalues(p, method=method)
    assert np.all(q >= p - 1e-15) and np.all(q <= 1.0)
    order = np.argsort(p, kind="mergesort")
    assert np.all(np.diff(q[order]) >= -1e-15)


@settings(max_examples=60, deadline=None)
@given(pvals, st.sampled_from(sorted(STATSMODELS)))
def test_property_agrees_with_statsmodels(p, method):
    expected = multipletests(p, method=STATSMODELS[method])[1]
    np.testing.assert_allclose(adjust_pvalues(p, method=method), expected, rtol=1e-12, atol=1e-300)

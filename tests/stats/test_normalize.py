"""Normalisations and transforms: against R (MaAsLin 2's definitions) on real data."""

from __future__ import annotations

import numpy as np
import pytest
from assoc_data import fibromyalgia_genus, r_transformed
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gutaxis.errors import InputError
from gutaxis.stats.associate import filter_features
from gutaxis.stats.normalize import check_options, normalize, transform

PIPELINES = {"TSS_LOG": ("TSS", "LOG"), "TSS_AST": ("TSS", "AST"),
             "TSS_LOGIT": ("TSS", "LOGIT"), "CLR_NONE": ("CLR", "NONE")}


@pytest.fixture(scope="module")
def genus(fibromyalgia_dir):
    cohort = fibromyalgia_genus(fibromyalgia_dir)
    keep = filter_features(cohort.table.values, min_prevalence=0.1, min_abundance=0.0,
                           min_variance=0.0)
    return cohort.table.subset_features(keep)


@pytest.fixture(scope="module")
def reference(reference_dir):
    return r_transformed(reference_dir)


def test_filter_keeps_the_same_160_genera_as_r(genus, reference):
    r_features = reference.loc[reference["pipeline"] == "TSS_LOG", "feature"].unique()
    assert sorted(genus.feature_ids) == sorted(r_features)
    assert genus.n_features == 160


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_matches_r_on_fibromyalgia_genera_to_1e12(genus, reference, pipeline):
    norm, trans = PIPELINES[pipeline]
    ours = transform(normalize(genus.dense(), method=norm), method=trans)
    ref = reference[reference["pipeline"] == pipeline].pivot(
        index="sample_id", columns="feature", values="value")
    ref = ref.loc[list(genus.sample_ids), list(genus.feature_ids)].to_numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-13)


def test_tss_leaves_an_empty_sample_at_zero():
    out = normalize(np.array([[0.0, 0.0], [2.0, 6.0]]), method="TSS")
    np.testing.assert_array_equal(out, [[0.0, 0.0], [0.25, 0.75]])


def test_log_replaces_zeros_with_half_the_feature_minimum_per_feature():
    x = np.array([[0.0, 0.5], [0.2, 0.0], [0.4, 0.25]])
    out = transform(x, method="LOG")
    np.testing.assert_allclose(out[:, 0], np.log2([0.1, 0.2, 0.4]))
    np.testing.assert_allclose(out[:, 1], np.log2([0.5, 0.125, 0.25]))


def test_log_of_an_all_zero_feature_is_nan():
    out = transform(np.array([[0.0, 1.0], [0.0, 2.0]]), method="LOG")
    assert np.all(np.isnan(out[:, 0])) and np.all(np.isfinite(out[:, 1]))


def test_logit_sets_the_infinite_ends_to_zero():
    np.testing.assert_allclose(transform(np.array([[0.0], [0.5], [1.0], [0.25]]), method="LOGIT"),
                               [[0.0], [0.0], [0.0], [np.log(1 / 3)]])


def test_ast_refuses_counts():
    with pytest.raises(InputError, match="AST"):
        transform(np.array([[3.0, 0.0]]), method="AST")


def test_log_refuses_negative_values():
    with pytest.raises(InputError, match="non-negative"):
        transform(np.array([[-0.5, 1.0]]), method="LOG")


def test_tss_refuses_negative_values():
    with pytest.raises(InputError, match="non-negative"):
        normalize(np.array([[-1.0, 2.0]]), method="TSS")


def test_clr_rows_are_centred():
    out = normalize(np.array([[0.0, 3.0, 7.0], [1.0, 1.0, 1.0]]), method="CLR")
    np.testing.assert_allclose(out.sum(axis=1), 0.0, atol=1e-15)
    np.testing.assert_allclose(out[1], 0.0)


@pytest.mark.parametrize(("norm", "trans"), [("CLR", "LOG"), ("CLR", "AST"), ("CLR", "LOGIT")])
def test_combinations_maaslin2_refuses_are_refused(norm, trans):
    with pytest.raises(InputError, match="transform"):
        check_options(norm, trans)


def test_unknown_names_list_the_choices():
    with pytest.raises(InputError, match="TSS, CLR, NONE"):
        check_options("CSS", "LOG")
    with pytest.raises(InputError, match="LOG, AST, LOGIT, NONE"):
        check_options("TSS", "SQRT")


def test_option_names_are_case_insensitive():
    assert check_options("tss", "log") == ("TSS", "LOG")


counts = arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 6)),
                elements=st.integers(0, 1000).map(float))


@settings(max_examples=60, deadline=None)
@given(counts)
def test_property_tss_rows_sum_to_one_or_zero(x):
    sums = normalize(x, method="TSS").sum(axis=1)
    expected = np.where(x.sum(axis=1) > 0, 1.0, 0.0)
    np.testing.assert_allclose(sums, expected, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(counts)
def test_property_log_and_ast_preserve_order_within_a_feature(x):
    rel = normalize(x, method="TSS")
    for method in ("LOG", "AST"):
        out = transform(rel, method=method)
        for j in range(x.shape[1]):  # a handful of columns per example
            col, src = out[:, j], rel[:, j]
            if np.all(np.isnan(col)):
                continue
            order = np.argsort(src, kind="mergesort")
            assert np.all(np.diff(col[order]) >= -1e-12)

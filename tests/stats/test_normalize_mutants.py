"""Normalisation tests written to kill mutmut mutants of ``stats/normalize.py``.

References are MaAsLin 2's definitions worked by hand on small tables. Run
``python scripts/mutation.py gutaxis.stats.normalize`` to re-measure; mutants that
behave as the original are listed in ``scripts/mutation_equivalent.txt``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gutaxis.errors import InputError
from gutaxis.stats.normalize import check_options, normalize, transform


def test_clr_with_no_transform_is_a_valid_pair():
    assert check_options("clr", "none") == ("CLR", "NONE")
    assert check_options("TSS", "logit") == ("TSS", "LOGIT")


@pytest.mark.parametrize(("call", "message", "field", "found", "expected"), [
    (lambda: check_options("rarefy", "LOG"), "unknown normalization", "normalization",
     "rarefy", "one of TSS, CLR, NONE"),
    (lambda: check_options("TSS", "boxcox"), "unknown transform", "transform", "boxcox",
     "one of LOG, AST, LOGIT, NONE"),
    (lambda: normalize(np.ones((1, 2)), method="css"), "unknown normalization",
     "normalization", "css", "one of TSS, CLR, NONE"),
    (lambda: transform(np.ones((1, 2)), method="sqrt"), "unknown transform", "transform",
     "sqrt", "one of LOG, AST, LOGIT, NONE"),
    (lambda: check_options("CLR", "ast"), "the AST transform needs proportions", "transform",
     "AST after CLR", "normalization TSS or NONE"),
    (lambda: check_options("clr", "LOG"), "CLR values are already log-ratios and can be negative",
     "transform", "LOG after CLR", "transform NONE"),
    (lambda: normalize(np.array([[1.0, -2.0]]), method="clr"),
     "CLR normalization needs non-negative abundances", None, "minimum -2.0",
     "counts or proportions"),
    (lambda: transform(np.array([[0.25, -1.5]]), method="ast"),
     "the AST transform cannot take these values", "transform", "values in [-1.5, 0.25]",
     "values in [-1, 1] (proportions: normalization TSS)"),
    (lambda: transform(np.array([[0.25, 1.5]]), method="AST"),
     "the AST transform cannot take these values", "transform", "values in [0.25, 1.5]",
     "values in [-1, 1] (proportions: normalization TSS)"),
    (lambda: transform(np.array([[0.25, 1.5]]), method="LOGIT"),
     "the LOGIT transform cannot take these values", "transform", "values in [0.25, 1.5]",
     "proportions in [0, 1] (normalization TSS)"),
    (lambda: transform(np.array([[0.25, -0.5]]), method="log"),
     "the LOG transform cannot take these values", "transform", "values in [-0.5, 0.25]",
     "non-negative values"),
])
def test_each_refusal_names_the_field_what_was_found_and_what_is_expected(
        call, message, field, found, expected):
    with pytest.raises(InputError) as caught:
        call()
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        message, field, found, expected)


def test_none_normalization_returns_the_values_unchanged_as_float():
    x = np.array([[1, 3], [0, 5]])
    out = normalize(x, method="none")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0, 3.0], [0.0, 5.0]])


def test_none_transform_returns_the_values_unchanged_as_float():
    x = np.array([[2, -1], [0, 7]])
    out = transform(x, method="NONE")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[2.0, -1.0], [0.0, 7.0]])


def test_the_defaults_are_tss_and_log():
    x = np.array([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(normalize(x), [[0.25, 0.75], [0.5, 0.5]])
    # zeros replaced by half the feature's smallest positive value, then log2
    np.testing.assert_allclose(transform(np.array([[0.0], [0.5], [0.25]])),
                               np.log2([[0.125], [0.5], [0.25]]))


def test_tss_of_integer_counts_gives_proportions():
    np.testing.assert_allclose(normalize(np.array([[1, 3], [2, 2]]), method="TSS"),
                               [[0.25, 0.75], [0.5, 0.5]])


def test_tss_rescales_a_sample_whose_total_is_below_one():
    np.testing.assert_allclose(normalize(np.array([[0.2, 0.3]]), method="TSS"), [[0.4, 0.6]])


def test_tss_empty_sample_is_zero_even_when_fresh_memory_holds_garbage():
    # Fill numpy's small-buffer cache with non-zero values first, so a result array
    # left uninitialised where the total is 0 would show them.
    for _ in range(8):
        junk = np.full((4, 4), 7.0)
        del junk
    x = np.zeros((4, 4))
    x[0] = [1.0, 1.0, 2.0, 0.0]
    out = normalize(x, method="TSS")
    np.testing.assert_array_equal(out[1:], 0.0)
    np.testing.assert_allclose(out[0], [0.25, 0.25, 0.5, 0.0])


def test_log_of_a_table_with_no_samples_keeps_its_features():
    out = transform(np.zeros((0, 3)), method="LOG")
    assert out.shape == (0, 3)


def test_logit_at_0_and_1_raises_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = transform(np.array([[0.0], [1.0], [0.75]]), method="LOGIT")
    np.testing.assert_allclose(out, [[0.0], [0.0], [np.log(3.0)]])

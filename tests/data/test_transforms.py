"""gutaxis.data.transforms: the one home of TSS, CLR and prevalence filters.

References: closed forms and scikit-bio's ``clr``; MaAsLin 2's conventions (CLR of
``x + 1``, strict prevalence) and gutaxis' own (CLR of ``x + 0.5``, inclusive prevalence)
are presets of these functions and are pinned at their boundaries here.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from skbio.stats.composition import clr as skbio_clr

from gutaxis.data import ProfileTable
from gutaxis.data.transforms import (
    clr,
    log_pseudocounted,
    prevalence_mask,
    total_sum_scale,
)
from gutaxis.errors import InputError
from gutaxis.gut.beta import aitchison
from gutaxis.stats.associate import filter_features
from gutaxis.stats.normalize import normalize

COUNTS = np.array([[0.0, 3.0, 1.0, 0.0], [5.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0],
                   [1.0, 1.0, 2.0, 4.0]])


@pytest.mark.parametrize("as_sparse", [False, True])
def test_total_sum_scale_is_the_closed_form_and_keeps_empty_samples_zero(as_sparse):
    values = sp.csr_array(COUNTS) if as_sparse else COUNTS
    scaled = total_sum_scale(values)
    assert sp.issparse(scaled) == as_sparse
    dense = scaled.toarray() if as_sparse else scaled
    expected = np.array([[0, 0.75, 0.25, 0], [5 / 7, 0, 0, 2 / 7], [0, 0, 0, 0],
                         [0.125, 0.125, 0.25, 0.5]])
    np.testing.assert_allclose(dense, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("pseudocount", [0.5, 1.0, 3.0])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_clr_equals_skbio_clr_of_values_plus_pseudocount(pseudocount, as_sparse):
    values = sp.csr_array(COUNTS) if as_sparse else COUNTS
    expected = skbio_clr(COUNTS + pseudocount)
    np.testing.assert_allclose(clr(values, pseudocount=pseudocount), expected, rtol=0,
                               atol=1e-12)


def test_log_pseudocounted_keeps_a_sparse_table_sparse_with_zeros_at_zero():
    logged = log_pseudocounted(sp.csr_array(COUNTS), pseudocount=0.5)
    assert sp.issparse(logged) and logged.nnz == np.count_nonzero(COUNTS)
    np.testing.assert_allclose(logged.toarray(), np.log((COUNTS + 0.5) / 0.5), rtol=1e-14)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, None])
def test_clr_refuses_a_pseudocount_that_is_not_positive(bad):
    with pytest.raises(InputError, match="pseudocount") as info:
        clr(COUNTS, pseudocount=bad)
    assert info.value.field == "pseudocount"
    with pytest.raises(InputError, match="pseudocount"):
        ProfileTable(sp.csr_array(COUNTS), list("abcd"), list("wxyz")).clr(pseudocount=bad)


def test_maaslin2_clr_preset_is_log1p_centred_bit_for_bit():
    """MaAsLin 2: ``log(x + 1)`` less its row mean; pinned exactly (its fixtures rely on it)."""
    logged = np.log1p(COUNTS)
    np.testing.assert_array_equal(normalize(COUNTS, method="CLR"),
                                  logged - logged.mean(axis=1, keepdims=True))


def test_maaslin2_tss_preset_is_division_by_the_total_bit_for_bit():
    totals = COUNTS.sum(axis=1, keepdims=True)
    expected = np.divide(COUNTS, totals, out=np.zeros_like(COUNTS), where=totals > 0)
    np.testing.assert_array_equal(normalize(COUNTS, method="TSS"), expected)


def test_aitchison_with_any_pseudocount_is_the_distance_between_skbio_clrs():
    table = ProfileTable(sp.csr_array(COUNTS[[0, 1, 3]]), list("abc"), list("wxyz"))
    for c in (0.5, 1.0):
        z = skbio_clr(COUNTS[[0, 1, 3]] + c)
        expected = np.linalg.norm(z[:, None, :] - z[None, :, :], axis=2)
        np.testing.assert_allclose(aitchison(table, pseudocount=c).data, expected, rtol=1e-12,
                                   atol=1e-12)


# ---- prevalence filters: one rule, two conventions ---------------------------------------
#: feature 0 present in 2 of 4 samples, 1 in 1 of 4, 2 nowhere, 3 in 4 of 4 (above 0.5)
PRESENCE = np.array([[1.0, 0.0, 0.0, 1.0], [2.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 1.0],
                     [0.0, 0.0, 0.0, 0.7]])


def test_inclusive_prevalence_keeps_a_feature_exactly_at_the_threshold():
    """gutaxis' convention (ProfileTable.filter_features): ``>=``, and present somewhere."""
    mask = prevalence_mask(PRESENCE, min_prevalence=0.5)
    np.testing.assert_array_equal(mask, [True, False, False, True])
    np.testing.assert_array_equal(prevalence_mask(PRESENCE, min_prevalence=0.0),
                                  [True, True, True, True])  # 0: nothing dropped
    table = ProfileTable(sp.csr_array(PRESENCE), list("abcd"), list("wxyz"))
    assert list(table.filter_features(min_prevalence=0.5).feature_ids) == ["w", "z"]


def test_strict_prevalence_is_maaslin2s_rule_and_drops_the_threshold_feature():
    """MaAsLin 2 (``associate``'s filter): ``count > min_prevalence * n``."""
    mask = prevalence_mask(PRESENCE, min_prevalence=0.5, strict=True)
    np.testing.assert_array_equal(mask, [False, False, False, True])
    np.testing.assert_array_equal(prevalence_mask(PRESENCE, min_prevalence=0.0, strict=True),
                                  [True, True, False, True])  # present nowhere: dropped
    np.testing.assert_array_equal(
        filter_features(sp.csr_array(PRESENCE), min_prevalence=0.5, min_abundance=0.0,
                        min_variance=0.0), [False, False, False, True])


def test_abundance_and_variance_thresholds_are_strict_in_both_conventions():
    # feature 3 is present everywhere but above 0.7 in only 3 samples
    var3 = np.var(PRESENCE[:, 3], ddof=1)
    for strict in (False, True):
        mask = prevalence_mask(PRESENCE, min_prevalence=1.0, min_abundance=0.7, strict=strict)
        assert not mask[3]
        above = prevalence_mask(PRESENCE, min_prevalence=0.25, min_variance=var3 * 1.001,
                                strict=strict)
        assert not above[3]
        below = prevalence_mask(PRESENCE, min_prevalence=0.25, min_variance=var3 * 0.999,
                                strict=strict)
        assert below[3]

"""Multiple-testing tests written to kill mutmut mutants of ``stats/multitest.py``.

Run ``python scripts/mutation.py gutaxis.stats.multitest`` to re-measure; the mutants
that behave as the original are listed in ``scripts/mutation_equivalent.txt``.
"""

from __future__ import annotations

import numpy as np
import pytest

from gutaxis.errors import InputError
from gutaxis.stats.multitest import adjust_pvalues, correction_name


def test_an_unknown_correction_names_the_field_the_value_and_the_choices():
    with pytest.raises(InputError) as caught:
        correction_name("sidak")
    error = caught.value
    assert error.message == "unknown multiple-testing correction"
    assert error.field == "correction"
    assert error.found == "sidak"
    assert error.expected == "one of BH, BY, bonferroni, holm, none"


@pytest.mark.parametrize("bad", [-0.01, 1.5])
def test_a_pvalue_outside_0_1_names_the_field_the_range_and_what_is_expected(bad):
    with pytest.raises(InputError) as caught:
        adjust_pvalues(np.array([0.2, bad, np.nan]))
    error = caught.value
    assert error.message == "p-values must lie in [0, 1]"
    assert error.field == "pvalues"
    low, high = min(0.2, bad), max(0.2, bad)
    assert error.found == f"range [{low}, {high}]"
    assert error.expected == "probabilities in [0, 1] (NaN for no test)"


def test_float32_pvalues_are_adjusted_in_double_precision():
    # Bonferroni by hand on the float32 values widened to float64: m * p, capped at 1.
    p32 = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    expected = np.minimum(1.0, 3 * p32.astype(np.float64))
    got = adjust_pvalues(p32, method="bonferroni")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-15)

"""Beta diversity tests written to kill mutmut mutants of ``gut/beta.py``.

References: ``scipy.spatial.distance.cdist(..., "braycurtis")`` and the documented error
contracts. The numba kernels (``_block_minima``, ``_pairwise_minima``,
``_cross_minima``) are not mutated by mutmut (it leaves decorated functions alone);
they are checked through :func:`sum_of_minima` against a dense NumPy reference here and
against scikit-bio in ``test_beta.py``. Re-measure with
``python scripts/mutation.py gutaxis.gut.beta``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.beta import braycurtis_between, sum_of_minima


def _table(values: np.ndarray, prefix: str, kind: str = "counts",
           features: list[str] | None = None) -> ProfileTable:
    ids = [f"{prefix}{i}" for i in range(values.shape[0])]
    features = features or [f"f{j}" for j in range(values.shape[1])]
    return ProfileTable(sp.csr_array(values), ids, features, kind=kind)


@pytest.fixture(scope="module")
def counts() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261204)
    a = rng.poisson(2.0, size=(11, 7)).astype(float)  # more than one block of 8 rows
    b = rng.poisson(3.0, size=(5, 7)).astype(float)
    a[a.sum(axis=1) == 0, 0] = 1.0
    b[b.sum(axis=1) == 0, 0] = 1.0
    return a, b


def test_braycurtis_between_matches_scipy(counts):
    a, b = counts
    got = braycurtis_between(_table(a, "a"), _table(b, "b"))
    np.testing.assert_allclose(got, cdist(a, b, "braycurtis"), rtol=1e-12, atol=1e-15)


def test_braycurtis_between_accepts_relative_abundances(counts):
    a, b = (x / x.sum(axis=1, keepdims=True) for x in counts)
    got = braycurtis_between(_table(a, "a", "relative"), _table(b, "b", "relative"))
    np.testing.assert_allclose(got, cdist(a, b, "braycurtis"), rtol=1e-12, atol=1e-15)


def test_sum_of_minima_between_two_tables_matches_dense_numpy(counts):
    a, b = counts
    expected = np.minimum(a[:, None, :], b[None, :, :]).sum(axis=2)
    np.testing.assert_allclose(sum_of_minima(sp.csr_array(a), sp.csr_array(b)), expected)


def test_tables_with_other_features_are_refused(counts):
    a, b = counts
    other = _table(b, "b", features=[f"g{j}" for j in range(7)])
    with pytest.raises(InputError) as caught:
        braycurtis_between(_table(a, "a"), other)
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        "the two tables do not share their features", "other", "7 and 7 features",
        "the same feature ids in the same order")


def test_an_empty_sample_in_the_other_table_is_refused(counts):
    a, b = counts
    b = b.copy()
    b[2] = 0.0
    with pytest.raises(InputError) as caught:
        braycurtis_between(_table(a, "a"), _table(b, "b"))
    error = caught.value
    assert error.message == ("Bray-Curtis is undefined between two empty samples; "
                             "1 sample(s) have no reads")
    assert (error.field, error.found) == ("table", "b2")


def test_a_clr_table_is_refused(counts):
    a, b = counts
    with pytest.raises(DataKindError) as caught:
        braycurtis_between(_table(a, "a"), _table(b - 1.0, "b", "clr"))
    assert caught.value.message == "Bray-Curtis needs counts or relative"

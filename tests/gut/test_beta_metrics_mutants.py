"""Bray-Curtis, Jaccard, Aitchison and ``beta_diversity`` of ``gut/beta.py``: the error
contracts and the numerical edges, written to kill mutmut mutants (re-measure with
``python scripts/mutation.py gutaxis.gut.beta``).

References: ``scipy.spatial.distance`` (``cdist``/``pdist``), scikit-bio's ``clr`` (QIIME 2's
Aitchison: CLR of counts + 1, then Euclidean), and the documented error contracts (an
:class:`InputError` names the field, what was found and what was expected).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist, pdist, squareform
from skbio.stats.composition import clr

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.beta import (
    aitchison,
    beta_diversity,
    braycurtis,
    braycurtis_between,
    jaccard,
    sum_of_minima,
)


def _table(values: np.ndarray | list[list[float]], kind: str = "counts") -> ProfileTable:
    matrix = np.asarray(values, dtype=np.float64)
    return ProfileTable(sp.csr_array(matrix), [f"s{i}" for i in range(matrix.shape[0])],
                        [f"f{j}" for j in range(matrix.shape[1])], kind=kind)  # type: ignore[arg-type]


def _error(call) -> InputError:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value


def test_sum_of_minima_refuses_tables_of_other_widths():
    error = _error(lambda: sum_of_minima(sp.csr_array(np.ones((2, 3))),
                                         sp.csr_array(np.ones((4, 5)))))
    assert (error.message, error.found, error.expected) == (
        "tables have different numbers of features", "3 and 5",
        "the same features in the same order")


@pytest.mark.parametrize(("metric", "name"), [
    (braycurtis, "Bray-Curtis"), (jaccard, "Jaccard"),
])
def test_an_empty_sample_is_refused_saying_what_is_expected(metric, name):
    error = _error(lambda: metric(_table([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]])))
    assert (error.message, error.field, error.found, error.expected) == (
        f"{name} is undefined between two empty samples; 1 sample(s) have no reads",
        "table", "s1",
        "samples with at least one nonzero value (leave the empty samples out)")


@pytest.mark.parametrize(("metric", "name"), [
    (braycurtis, "Bray-Curtis"), (jaccard, "Jaccard"), (aitchison, "Aitchison distance"),
])
def test_a_clr_table_is_refused_naming_the_metric(metric, name):
    with pytest.raises(DataKindError) as caught:
        metric(_table([[1.0, 2.0], [2.0, 1.0]]).clr())
    assert caught.value.message == f"{name} needs counts or relative"


def test_jaccard_of_relative_abundances_equals_scipy_on_presence():
    counts = np.array([[3.0, 0.0, 1.0, 2.0], [0.0, 5.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    relative = counts / counts.sum(axis=1, keepdims=True)
    got = jaccard(_table(relative, "relative"))
    np.testing.assert_allclose(got.data, squareform(pdist(counts > 0, "jaccard")),
                               rtol=0, atol=1e-15)


def test_aitchison_of_relative_abundances_equals_skbio_clr():
    counts = np.array([[3.0, 0.0, 1.0, 2.0], [0.0, 5.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    relative = counts / counts.sum(axis=1, keepdims=True)
    got = aitchison(_table(relative, "relative"), pseudocount=0.01)
    reference = squareform(pdist(clr(relative + 0.01), "euclidean"))
    np.testing.assert_allclose(got.data, reference, rtol=0, atol=1e-12)
    assert got.metric == "aitchison"


@pytest.mark.parametrize("pseudocount", [0.0, -1.0, float("nan")])
def test_a_pseudocount_that_is_not_positive_is_refused(pseudocount):
    error = _error(lambda: aitchison(_table([[1.0, 2.0], [2.0, 1.0]]),
                                     pseudocount=pseudocount))
    assert (error.message, error.field, error.expected) == (
        "Aitchison pseudocount must be > 0", "pseudocount",
        "a positive number (QIIME 2 uses 1)")
    assert error.found == pseudocount or np.isnan(pseudocount)


def test_braycurtis_of_a_sample_with_itself_is_zero_not_below():
    # the kernel's sum of minima and the row totals are summed in different orders, so
    # S + S - 2M can round below zero (seen here); the documented range is [0, 1]
    rng = np.random.default_rng(2)
    relative = rng.dirichlet(np.ones(7), size=60)
    table = _table(relative, "relative")
    got = braycurtis_between(table, table)
    np.testing.assert_allclose(got, cdist(relative, relative, "braycurtis"), rtol=0,
                               atol=1e-15)
    assert got.min() >= 0.0 and got.max() <= 1.0


def test_aitchison_of_many_near_identical_samples_is_accurate_to_rounding():
    # 40 samples one read apart: 780 pairs whose Gram-form distance loses about half its
    # digits, so every one of them (more than two chunks of 256) must be recomputed
    n, width = 40, 60
    base = np.random.default_rng(7).integers(1_000, 100_000, size=width).astype(float)
    counts = np.tile(base, (n, 1))
    counts[np.arange(n), np.arange(n)] += 1.0
    reference = squareform(pdist(clr(counts + 1.0), "euclidean"))
    got = aitchison(_table(counts)).data
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-13)


def test_an_unknown_metric_names_the_field_and_the_known_metrics():
    error = _error(lambda: beta_diversity(_table([[1.0]]), "canberra"))
    assert (error.message, error.field, error.found) == (
        "unknown beta diversity metric", "metric", "canberra")
    assert error.expected == (
        "one of ['braycurtis', 'jaccard', 'aitchison', 'unweighted_unifrac', "
        "'weighted_unifrac', 'weighted_normalized_unifrac', 'generalized_unifrac', "
        "'variance_adjusted_weighted_unifrac']")


def test_aitchison_of_near_identical_samples_warns_of_nothing():
    # the Gram form of these two samples (1e-9 apart) rounds the squared distance below
    # zero (-2.8e-17 here); it is clipped to 0 before the square root, so no
    # "invalid value in sqrt" warning, and the pair is then recomputed directly
    rng = np.random.default_rng(1)
    first = rng.dirichlet(np.ones(50))
    relative = np.vstack([first, first * (1 + rng.normal(0, 1e-9, size=50))])
    relative /= relative.sum(axis=1, keepdims=True)
    reference = squareform(pdist(clr(relative + 1.0), "euclidean"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = aitchison(_table(relative, "relative")).data
    np.testing.assert_allclose(got, reference, rtol=0, atol=1e-15)

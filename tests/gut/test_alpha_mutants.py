"""Alpha diversity tests written to kill mutmut mutants of ``gut/alpha.py``.

References are closed forms on tiny tables (Shannon of two equal features is ln 2,
Simpson 1/2, inverse Simpson 2, Pielou 1) and the documented contracts (which kinds each
metric takes, warnings pointing at the caller). Re-measure with
``python scripts/mutation.py gutaxis.gut.alpha``.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.alpha import (
    NoSingletonsWarning,
    alpha_diversity,
    chao1,
    inverse_simpson,
    observed_features,
    pielou_evenness,
    shannon,
    simpson,
)

#: mutmut calls every function through a trampoline, one stack frame deeper, so where a
#: warning points can only be checked outside mutmut (those mutants are listed apart).
UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ

NO_SINGLETONS = (
    "Chao1: the table has no singletons, so Chao1 equals observed richness and estimates "
    "nothing about unseen taxa (were singletons removed upstream, e.g. by denoising or an "
    "abundance filter?)")


def _table(rows: list[list[float]], kind: str = "counts") -> ProfileTable:
    ids = [f"s{i}" for i in range(len(rows))]
    features = [f"f{j}" for j in range(len(rows[0]))]
    return ProfileTable(sp.csr_array(np.array(rows, dtype=float)), ids, features, kind=kind)


def test_every_metric_but_chao1_accepts_relative_abundances():
    t = _table([[0.5, 0.5]], kind="relative")
    assert observed_features(t)["s0"] == 2
    assert shannon(t)["s0"] == pytest.approx(math.log(2))
    assert simpson(t)["s0"] == pytest.approx(0.5)
    assert inverse_simpson(t)["s0"] == pytest.approx(2.0)
    assert pielou_evenness(t)["s0"] == pytest.approx(1.0)


@pytest.mark.parametrize(("metric", "action"), [
    (observed_features, "observed features"), (shannon, "Shannon diversity"),
    (simpson, "Simpson diversity"), (inverse_simpson, "inverse Simpson diversity"),
])
def test_a_clr_table_is_refused_naming_the_metric(metric, action):
    t = _table([[1.0, -1.0]], kind="clr")
    with pytest.raises(DataKindError) as caught:
        metric(t)
    assert caught.value.message == f"{action} needs counts or relative"
    assert caught.value.found == "a table of clr values"


def test_default_metrics_of_a_relative_table_leave_out_chao1():
    frame = alpha_diversity(_table([[0.25, 0.75]], kind="relative"))
    assert list(frame.columns) == ["observed_features", "shannon", "simpson",
                                   "inverse_simpson", "pielou_evenness"]
    assert frame.index.name == "sample_id"
    assert list(frame.index) == ["s0"]


def test_an_unknown_metric_names_the_field_and_the_choices():
    with pytest.raises(InputError) as caught:
        alpha_diversity(_table([[1.0, 2.0]]), metrics=["shannon", "goods", "ace"])
    error = caught.value
    assert (error.message, error.field, error.found) == (
        "unknown alpha diversity metric", "metrics", "goods, ace")
    assert error.expected == ("names among ['observed_features', 'shannon', 'simpson', "
                              "'inverse_simpson', 'pielou_evenness', 'chao1', 'faith_pd']")


def test_pielou_of_an_empty_and_a_single_feature_sample_raises_no_numpy_warning():
    t = _table([[0.0, 0.0], [3.0, 0.0], [2.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evenness = pielou_evenness(t)
    assert np.isnan(evenness["s0"])
    np.testing.assert_allclose(evenness[["s1", "s2"]], [1.0, 1.0])


def test_chao1_on_an_all_empty_table_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(chao1(_table([[0.0, 0.0]])), [0.0])


def test_chao1_without_singletons_warns_at_the_callers_line():
    # F1 = 0, F2 = 1: S_obs + 0 = 2
    with pytest.warns(NoSingletonsWarning) as caught:
        estimate = chao1(_table([[2.0, 3.0]]))
    assert estimate["s0"] == 2
    assert str(caught[0].message) == NO_SINGLETONS
    assert UNDER_MUTMUT or caught[0].filename == __file__


def test_alpha_diversity_reissues_the_chao1_warning_at_the_callers_line():
    with pytest.warns(NoSingletonsWarning) as caught:
        alpha_diversity(_table([[2.0, 3.0]]), metrics=["chao1"])
    assert [str(w.message) for w in caught] == [NO_SINGLETONS]
    assert caught[0].category is NoSingletonsWarning
    assert UNDER_MUTMUT or caught[0].filename == __file__


@pytest.mark.parametrize(("metric", "function"), [
    ("observed_features", observed_features), ("shannon", shannon), ("simpson", simpson),
    ("inverse_simpson", inverse_simpson), ("pielou_evenness", pielou_evenness),
    ("chao1", chao1)])
def test_each_metric_is_a_series_named_after_it_indexed_by_sample_id(metric, function):
    got = function(_table([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0]]))
    assert got.name == metric
    assert (got.index.name, list(got.index)) == ("sample_id", ["s0", "s1"])


def test_alpha_diversity_rows_are_the_samples_by_id():
    got = alpha_diversity(_table([[1.0, 2.0], [3.0, 1.0]]), metrics=["shannon"])
    assert (got.index.name, list(got.index)) == ("sample_id", ["s0", "s1"])


def test_shannon_takes_a_base_below_one():
    # log base 1/2 of four equal features: ln 4 / ln(1/2) = -2
    got = shannon(_table([[5.0, 5.0, 5.0, 5.0]]), base=0.5)
    assert got["s0"] == pytest.approx(-2.0, rel=1e-15)


def test_a_bad_shannon_base_is_named_with_what_is_expected():
    with pytest.raises(InputError) as caught:
        shannon(_table([[1.0, 2.0]]), base=1.0)
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        "Shannon logarithm base must be a positive number other than 1", "base", 1.0,
        "2 (bits, QIIME 2) or e (nats)")


def test_alpha_diversity_without_metrics_still_lists_the_samples():
    got = alpha_diversity(_table([[1.0, 2.0], [3.0, 1.0]]), metrics=[])
    assert got.shape == (2, 0)
    assert (got.index.name, list(got.index)) == ("sample_id", ["s0", "s1"])

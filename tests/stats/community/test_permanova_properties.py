"""Invariants of PERMANOVA on random data (hypothesis), edge cases and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import vegan_fixtures as vf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist, squareform

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.stats.community import pairwise_permanova, permanova
from gutaxis.stats.multitest import adjust_pvalues


def random_case(seed: int, n: int) -> tuple[DistanceMatrix, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"s{i}" for i in range(n)]
    dm = DistanceMatrix(ids, squareform(pdist(rng.random((n, 4)), "braycurtis")))
    meta = pd.DataFrame({"g": rng.choice(["a", "b", "c"], n), "x": rng.normal(size=n),
                         "h": rng.choice(["u", "v"], n)}, index=ids)
    return dm, meta


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(12, 30))
def test_sums_of_squares_add_up_and_sample_order_does_not_matter(seed: int, n: int) -> None:
    dm, meta = random_case(seed, n)
    res = permanova(dm, meta, formula="g * x + h", permutations=0)
    t = res.table
    np.testing.assert_allclose(t["sum_of_squares"].iloc[:-1].sum(), t["sum_of_squares"].iloc[-1],
                               rtol=1e-10)
    assert t["df"].iloc[:-1].sum() == t["df"].iloc[-1] == n - 1
    order = np.random.default_rng(seed).permutation(n)
    shuffled = permanova(dm.subset(dm.ids[order]), meta.iloc[::-1], formula="g * x + h",
                         permutations=0)
    np.testing.assert_allclose(shuffled.table["f"], t["f"], rtol=1e-9)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_last_term_is_the_same_by_terms_and_by_margin(seed: int) -> None:
    dm, meta = random_case(seed, 20)
    terms = permanova(dm, meta, formula="g + x + h", permutations=0).table
    margin = permanova(dm, meta, formula="g + x + h", by="margin", permutations=0).table
    np.testing.assert_allclose(terms["f"][2], margin["f"][2], rtol=1e-10)
    np.testing.assert_allclose(terms["sum_of_squares"].iloc[-2:],
                               margin["sum_of_squares"].iloc[-2:], rtol=1e-10)


def test_one_factor_f_equals_scikit_bio() -> None:
    skbio = pytest.importorskip("skbio.stats.distance")
    dm, meta = random_case(4, 40)
    ours = permanova(dm, meta, formula="g", permutations=0).table["f"][0]
    theirs = skbio.permanova(skbio.DistanceMatrix(dm.data, ids=list(dm.ids)),
                             meta["g"].to_numpy(), permutations=0)["test statistic"]
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_missing_values_drop_samples_with_a_note() -> None:
    dm, meta = random_case(5, 20)
    meta.loc["s3", "x"] = np.nan
    res = permanova(dm, meta, formula="g + x", permutations=9)
    assert res.n == 19 and "s3" in res.notes[0] and "1 sample(s) left out" in res.notes[0]


@pytest.mark.parametrize(("formula", "kwargs", "message"), [
    ("g + age", {}, "age: not a metadata column"),
    ("g", {"strata": "nope"}, "nope: not a metadata column"),
    ("g", {"by": "type2"}, "unknown kind of sums of squares"),
    ("g", {"permutations": -1}, "negative number of permutations"),
])
def test_bad_arguments_are_refused(formula: str, kwargs: dict, message: str) -> None:
    dm, meta = random_case(6, 15)
    with pytest.raises(InputError, match=message):
        permanova(dm, meta, formula=formula, **kwargs)


def test_samples_without_metadata_are_refused() -> None:
    dm, meta = random_case(7, 15)
    with pytest.raises(InputError, match=r"2 sample.*have no metadata row.*s0, s1"):
        permanova(dm, meta.iloc[2:], formula="g")


def test_pairwise_equals_permanova_on_each_pair_and_corrects_p() -> None:
    dm, meta = vf.distances("dune_braycurtis"), vf.metadata("dune")
    res = pairwise_permanova(dm, meta, column="Management", permutations=99, seed=2,
                             correction="holm")
    t = res.to_frame()
    assert len(t) == 6 and t[["group1", "group2"]].iloc[0].tolist() == ["BF", "HF"]
    keep = meta["Management"].isin(["BF", "HF"])
    single = permanova(dm.subset(meta.index[keep]), meta[keep], formula="Management",
                       permutations=0).table
    assert t["f"][0] == pytest.approx(single["f"][0], rel=1e-12)
    assert t["r2"][0] == pytest.approx(single["r2"][0], rel=1e-12)
    np.testing.assert_allclose(t["padj"], adjust_pvalues(t["pval"].to_numpy(), method="holm"))
    assert (t["n1"] + t["n2"] == keep.sum()).iloc[0]
    assert "BF vs HF" in res.summary()


def test_summary_names_terms_and_restriction() -> None:
    res = permanova(vf.distances("dune_braycurtis"), vf.metadata("dune"),
                    formula="A1 + Management", strata="Use", permutations=19)
    assert "within Use" in res.summary() and "Management R2=" in res.summary()

"""Alpha diversity against scikit-bio 0.7.4 on the fibromyalgia cohort, edge cases and
invariants.

Tolerance: absolute 1e-9 against scikit-bio (observed differences are <= 5e-14).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from diversity_data import fibromyalgia_counts, fibromyalgia_table
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skbio.diversity import alpha_diversity as skbio_alpha_diversity

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

ATOL = 1e-9

#: gutaxis column -> scikit-bio metric name
SKBIO_NAMES = {
    "observed_features": "observed_features",
    "shannon": "shannon",
    "simpson": "simpson",
    "inverse_simpson": "inv_simpson",
    "pielou_evenness": "pielou_e",
    "chao1": "chao1",
}


def skbio_values(counts: np.ndarray, metric: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = skbio_alpha_diversity(SKBIO_NAMES[metric], counts)
    return result.to_numpy(dtype=np.float64)


def table_of(rows: list[list[float]], kind: str = "counts") -> ProfileTable:
    matrix = np.asarray(rows, dtype=np.float64)
    return ProfileTable(sp.csr_array(matrix), [f"s{i}" for i in range(matrix.shape[0])],
                        [f"f{j}" for j in range(matrix.shape[1])], kind=kind)  # type: ignore[arg-type]


@pytest.mark.realdata
@pytest.mark.parametrize("metric", list(SKBIO_NAMES))
def test_alpha_metric_equals_skbio_on_fibromyalgia(fibromyalgia_dir: Path, metric: str) -> None:
    table = fibromyalgia_table(fibromyalgia_dir)
    counts = fibromyalgia_counts(fibromyalgia_dir).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSingletonsWarning)
        ours = alpha_diversity(table, metrics=[metric])[metric].to_numpy()
    np.testing.assert_allclose(ours, skbio_values(counts, metric), rtol=0, atol=ATOL)


@pytest.mark.realdata
def test_alpha_equals_vegan_on_fibromyalgia(fibromyalgia_dir: Path, reference_dir: Path) -> None:
    """vegan 2.6-4 (specnumber, diversity); see tests/reference/diversity/*.R."""
    vegan = pd.read_csv(reference_dir / "diversity" / "vegan_alpha.tsv.gz", sep="\t",
                        index_col=0)
    table = fibromyalgia_table(fibromyalgia_dir)
    ours = alpha_diversity(table, metrics=list(vegan.columns))
    assert list(ours.index) == list(vegan.index.astype(str))
    np.testing.assert_allclose(ours.to_numpy(), vegan.to_numpy(dtype=np.float64), rtol=0,
                               atol=ATOL)


@pytest.mark.realdata
def test_chao1_with_singletons_equals_skbio_on_rarefied_fibromyalgia(
    fibromyalgia_dir: Path,
) -> None:
    table = fibromyalgia_table(fibromyalgia_dir).rarefy(2000, seed=7)
    assert (table.values.data == 1).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSingletonsWarning)
        ours = chao1(table)
    np.testing.assert_allclose(ours, skbio_values(table.dense(), "chao1"), rtol=0, atol=ATOL)
    assert np.all(ours >= observed_features(table))


@pytest.mark.realdata
def test_chao1_warns_when_the_table_has_no_singletons(fibromyalgia_dir: Path) -> None:
    with pytest.warns(NoSingletonsWarning, match="no singletons"):
        values = chao1(fibromyalgia_table(fibromyalgia_dir))
    np.testing.assert_array_equal(values, observed_features(fibromyalgia_table(fibromyalgia_dir)))


@pytest.mark.realdata
def test_relative_table_gives_the_same_diversity_as_counts(fibromyalgia_dir: Path) -> None:
    counts = fibromyalgia_table(fibromyalgia_dir)
    relative = counts.relative()
    for metric in (shannon, simpson, inverse_simpson, pielou_evenness, observed_features):
        np.testing.assert_allclose(metric(relative), metric(counts), rtol=1e-12)


@pytest.mark.realdata
def test_alpha_diversity_columns_and_index(fibromyalgia_dir: Path) -> None:
    table = fibromyalgia_table(fibromyalgia_dir)
    with pytest.warns(NoSingletonsWarning):
        frame = alpha_diversity(table)
    assert list(frame.columns) == list(SKBIO_NAMES)
    assert frame.index.name == "sample_id"
    assert list(frame.index) == list(table.sample_ids)
    relative = alpha_diversity(table.relative())
    assert "chao1" not in relative.columns


def test_chao1_refuses_proportions() -> None:
    with pytest.raises(DataKindError, match="Chao1 needs counts"):
        chao1(table_of([[0.5, 0.5]], kind="relative"))


def test_chao1_refuses_fractional_counts() -> None:
    with pytest.raises(DataKindError, match="whole-number counts") as info:
        chao1(table_of([[1.0, 2.5]]))
    assert info.value.column == "f1"


def test_clr_table_is_refused() -> None:
    table = table_of([[1.0, 3.0], [2.0, 2.0]]).clr()
    with pytest.raises(DataKindError):
        shannon(table)


def test_unknown_metric_is_named() -> None:
    with pytest.raises(InputError, match="unknown alpha") as info:
        alpha_diversity(table_of([[1.0]]), metrics=["shannon", "goods_coverage"])
    assert "goods_coverage" in str(info.value)


def test_empty_sample_matches_skbio() -> None:
    rows = [[0.0, 0.0, 0.0], [3.0, 1.0, 2.0]]
    frame = alpha_diversity(table_of(rows))
    for metric in SKBIO_NAMES:
        np.testing.assert_allclose(frame[metric], skbio_values(np.array(rows), metric),
                                   rtol=0, atol=ATOL, equal_nan=True)
    assert frame.loc["s0", "observed_features"] == 0
    assert np.isnan(frame.loc["s0", "shannon"])
    assert frame.loc["s0", "chao1"] == 0


def test_all_zero_table() -> None:
    frame = alpha_diversity(table_of([[0.0, 0.0], [0.0, 0.0]]))
    assert (frame["observed_features"] == 0).all()
    assert frame[["shannon", "simpson", "inverse_simpson", "pielou_evenness"]].isna().all().all()


def test_single_feature_sample() -> None:
    with pytest.warns(NoSingletonsWarning):
        frame = alpha_diversity(table_of([[0.0, 7.0, 0.0]]))
    assert frame.loc["s0"].to_dict() == {
        "observed_features": 1.0, "shannon": 0.0, "simpson": 0.0, "inverse_simpson": 1.0,
        "pielou_evenness": 1.0, "chao1": 1.0,
    }


def test_ties_reach_the_maximum_entropy() -> None:
    frame = alpha_diversity(table_of([[5.0, 5.0, 5.0, 5.0]]), metrics=[
        "shannon", "simpson", "inverse_simpson", "pielou_evenness"])
    np.testing.assert_allclose(frame.loc["s0"].to_numpy(), [np.log(4), 0.75, 4.0, 1.0],
                               rtol=1e-15)


def test_chao1_singletons_and_doubletons() -> None:
    # S_obs = 5, F1 = 3, F2 = 1: 5 + 3*2 / (2*2) = 6.5
    assert chao1(table_of([[1.0, 1.0, 1.0, 2.0, 9.0]])).iloc[0] == pytest.approx(6.5)


def test_faith_pd_dispatches_to_the_phylogenetic_module() -> None:
    phylogenetic = pytest.importorskip("gutaxis.gut.phylogenetic")
    from gutaxis.data.tree import PhyloTree

    tree = PhyloTree(parent=np.array([2, 2, -1]), length=np.array([1.0, 2.0, 0.0]),
                     names=np.array(["f0", "f1", ""], dtype=object))
    table = ProfileTable(sp.csr_array(np.array([[1.0, 0.0], [1.0, 3.0]])), ["s0", "s1"],
                         ["f0", "f1"], tree=tree)
    frame = alpha_diversity(table)
    assert frame.columns[-1] == "faith_pd"
    np.testing.assert_allclose(frame["faith_pd"], phylogenetic.faith_pd(table))


count_matrices = arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 12)),
                        elements=st.integers(0, 50))


@settings(max_examples=60, deadline=None)
@given(count_matrices)
def test_diversity_invariants(matrix: np.ndarray) -> None:
    table = table_of(matrix.tolist())
    richness = observed_features(table)
    present = richness > 0
    entropy = shannon(table)
    assert np.all(entropy[present] >= -1e-12)
    assert np.all(entropy[present] <= np.log(richness[present]) + 1e-12)
    gini = simpson(table)
    assert np.all((gini[present] >= -1e-12) & (gini[present] < 1))
    inverse = inverse_simpson(table)
    assert np.all((inverse[present] >= 1 - 1e-12) & (inverse[present] <= richness[present] + 1e-9))
    evenness = pielou_evenness(table)
    assert np.all((evenness[present] >= -1e-12) & (evenness[present] <= 1 + 1e-12))
    assert np.all(np.isnan(entropy[~present]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSingletonsWarning)
        assert np.all(chao1(table) >= richness)


@settings(max_examples=40, deadline=None)
@given(count_matrices)
def test_shannon_equals_a_dense_reference(matrix: np.ndarray) -> None:
    table = table_of(matrix.tolist())
    frame = pd.DataFrame(matrix.astype(np.float64))
    probs = frame.div(frame.sum(axis=1), axis=0)
    expected = -(probs * np.log(probs.where(probs > 0, 1.0))).sum(axis=1).to_numpy()
    expected[matrix.sum(axis=1) == 0] = np.nan
    np.testing.assert_allclose(shannon(table), expected, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.realdata
def test_shannon_in_bits_equals_skbio_base_2_on_fibromyalgia(fibromyalgia_dir: Path) -> None:
    """QIIME 2's ``shannon_entropy`` is scikit-bio's ``shannon`` with ``base=2``."""
    from skbio.diversity.alpha import shannon as skbio_shannon

    table = fibromyalgia_table(fibromyalgia_dir)
    counts = fibromyalgia_counts(fibromyalgia_dir).to_numpy()
    expected = np.array([skbio_shannon(row, base=2) for row in counts])
    np.testing.assert_allclose(shannon(table, base=2), expected, rtol=0, atol=ATOL)
    frame = alpha_diversity(table, metrics=["shannon", "pielou_evenness"], shannon_base=2)
    np.testing.assert_allclose(frame["shannon"].to_numpy(), expected, rtol=0, atol=ATOL)
    np.testing.assert_allclose(frame["pielou_evenness"].to_numpy(),
                               skbio_values(counts, "pielou_evenness"), rtol=0, atol=ATOL)


def test_shannon_base_2_of_four_equal_features_is_two_bits() -> None:
    bits = shannon(table_of([[5.0, 5.0, 5.0, 5.0]]), base=2).iloc[0]
    assert bits == pytest.approx(2.0, rel=1e-15)
    assert shannon(table_of([[5.0, 5.0, 5.0, 5.0]])).iloc[0] == pytest.approx(np.log(4), rel=1e-15)


@pytest.mark.parametrize("base", [1.0, 0.0, -2.0, float("nan"), float("inf")])
def test_shannon_refuses_a_base_that_is_no_logarithm_base(base: float) -> None:
    with pytest.raises(InputError, match="base") as info:
        shannon(table_of([[1.0, 2.0]]), base=base)
    assert "2 (bits, QIIME 2) or e" in str(info.value)

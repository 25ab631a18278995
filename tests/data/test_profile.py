"""ProfileTable: alignment, immutability, filters, transforms, against references."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skbio.stats.composition import clr as skbio_clr
from skbio.stats.composition import multi_replace

from gutaxis.data import ProfileTable
from gutaxis.errors import DataKindError, InputError


def small_table() -> ProfileTable:
    values = np.array([[10, 0, 5, 0], [0, 0, 3, 7], [1, 2, 0, 0]], dtype=float)
    taxonomy = pd.DataFrame(
        {
            "kingdom": ["Bacteria"] * 4,
            "phylum": ["Firmicutes", "Firmicutes", "Bacteroidota", np.nan],
            "genus": ["Roseburia", "Blautia", "Bacteroides", np.nan],
        },
        index=["f1", "f2", "f3", "f4"],
    )
    return ProfileTable(sp.csr_array(values), ["s1", "s2", "s3"], ["f1", "f2", "f3", "f4"],
                        taxonomy=taxonomy)


def load_fibromyalgia(folder: Path) -> tuple[ProfileTable, pd.DataFrame]:
    with gzip.open(folder / "feature-table.tsv.gz", "rt") as fh:
        frame = pd.read_csv(fh, sep="\t", index_col=0)
    taxonomy = pd.read_csv(folder / "taxonomy.tsv.gz", sep="\t", index_col=0, dtype=str)
    taxonomy = taxonomy.where(taxonomy != "0")
    return ProfileTable.from_dataframe(frame.T, taxonomy=taxonomy), frame.T


def test_shape_ids_and_totals() -> None:
    table = small_table()
    assert table.shape == (3, 4)
    np.testing.assert_array_equal(table.sample_totals(), [15, 10, 3])
    np.testing.assert_allclose(table.prevalence(), [2 / 3, 1 / 3, 2 / 3, 1 / 3])


def test_subsetting_keeps_everything_aligned_and_does_not_mutate() -> None:
    table = small_table()
    sub = table.subset_features(["f3", "f1"]).subset_samples(["s3", "s1"])
    np.testing.assert_array_equal(sub.dense(), [[0, 1], [5, 10]])
    assert list(sub.taxonomy.index) == ["f3", "f1"]
    assert list(sub.taxonomy["genus"]) == ["Bacteroides", "Roseburia"]
    assert table.shape == (3, 4)  # the original is untouched


def test_subset_with_unknown_id_names_it() -> None:
    with pytest.raises(InputError, match="nope"):
        small_table().subset_samples(["s1", "nope"])


def test_subset_with_positions_outside_the_table_names_them() -> None:
    with pytest.raises(InputError, match=r"sample position out of range.*found '3, -4'"):
        small_table().subset_samples(np.array([0, 3, -4]))
    np.testing.assert_array_equal(small_table().subset_samples(np.array([-1])).sample_ids,
                                  ["s3"])


def test_nan_names_sample_and_feature() -> None:
    with pytest.raises(InputError, match=r"row s2.*column 'f1'.*NaN or infinite"):
        ProfileTable(sp.csr_array(np.array([[1.0], [np.nan]])), ["s1", "s2"], ["f1"])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(InputError, match=r"duplicate sample ids.*s1"):
        ProfileTable(sp.csr_array(np.ones((2, 1))), ["s1", "s1"], ["f1"])


def test_negative_count_names_sample_and_feature() -> None:
    with pytest.raises(InputError, match=r"row s2.*column 'f1'.*-1"):
        ProfileTable(sp.csr_array(np.array([[1.0], [-1.0]])), ["s1", "s2"], ["f1"])


def test_relative_rows_sum_to_one_and_empty_sample_stays_zero() -> None:
    values = np.array([[2, 2], [0, 0], [1, 3]], dtype=float)
    rel = ProfileTable(sp.csr_array(values), ["a", "b", "c"], ["x", "y"]).relative()
    np.testing.assert_allclose(rel.dense(), [[0.5, 0.5], [0, 0], [0.25, 0.75]], rtol=0, atol=0)
    assert rel.kind == "relative"


def test_clr_pseudocount_matches_skbio() -> None:
    table = small_table()
    expected = skbio_clr(table.dense() + 0.5)
    np.testing.assert_allclose(table.clr(pseudocount=0.5).dense(), expected, rtol=0, atol=1e-12)


def test_clr_multiplicative_replacement_matches_skbio() -> None:
    table = small_table()
    expected = skbio_clr(multi_replace(table.dense()))
    got = table.clr(method="multiplicative").dense()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_clr_refuses_transformed_input() -> None:
    with pytest.raises(DataKindError, match="CLR needs counts or relative"):
        small_table().clr().clr()


def test_filter_by_prevalence_abundance_variance() -> None:
    table = small_table()
    assert list(table.filter_features(min_prevalence=0.5).feature_ids) == ["f1", "f3"]
    # present means strictly above min_abundance: f3 (5, 3) passes > 2, f1 (10, 1) only once
    assert list(table.filter_features(min_prevalence=0.5, min_abundance=2).feature_ids) == ["f3"]
    const = ProfileTable(sp.csr_array(np.array([[1.0, 1], [1, 2]])), ["a", "b"], ["c", "v"])
    assert list(const.filter_features(min_variance=0.0).feature_ids) == ["v"]


def test_rarefy_is_seeded_and_hits_depth() -> None:
    table = small_table()
    a = table.rarefy(10, seed=1)
    b = table.rarefy(10, seed=1)
    np.testing.assert_array_equal(a.dense(), b.dense())
    assert list(a.sample_ids) == ["s1", "s2"]  # s3 has only 3 reads
    np.testing.assert_array_equal(a.sample_totals(), [10, 10])
    assert np.all(a.dense() <= table.subset_samples(["s1", "s2"]).dense())


@pytest.mark.parametrize("depth", [0, -1, 2.5, True])
def test_rarefy_refuses_a_depth_that_is_not_a_positive_integer(depth: object) -> None:
    with pytest.raises(InputError, match=r"field 'depth'.*whole number of reads"):
        small_table().rarefy(depth, seed=0)  # type: ignore[arg-type]


def test_rarefy_refuses_proportions() -> None:
    with pytest.raises(DataKindError, match="whole-number counts"):
        ProfileTable(sp.csr_array(np.array([[0.5, 0.5]])), ["a"], ["x", "y"]).rarefy(1, seed=0)


def test_aggregate_sums_within_taxon_and_keeps_unassigned_apart() -> None:
    genus = small_table().aggregate("genus")
    frame = genus.to_dataframe()
    assert frame.loc["s1", "k__Bacteria;p__Firmicutes;g__Roseburia"] == 10
    assert frame.loc["s2", "k__Bacteria;p__;g__"] == 7
    phylum = small_table().aggregate("phylum").to_dataframe()
    assert phylum.loc["s3", "k__Bacteria;p__Firmicutes"] == 3


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
              elements=st.integers(0, 50)))
def test_relative_closes_every_nonempty_row(values: np.ndarray) -> None:
    table = ProfileTable(sp.csr_array(values.astype(float)),
                         [f"s{i}" for i in range(values.shape[0])],
                         [f"f{j}" for j in range(values.shape[1])])
    sums = table.relative().sample_totals()
    nonempty = values.sum(axis=1) > 0
    np.testing.assert_allclose(sums[nonempty], 1.0, rtol=1e-12)
    np.testing.assert_array_equal(sums[~nonempty], 0.0)


@pytest.mark.realdata
def test_fibromyalgia_genus_aggregation_matches_pandas_groupby(fibromyalgia_dir: Path) -> None:
    table, frame = load_fibromyalgia(fibromyalgia_dir)
    assert table.shape == (101, 6993)
    genus = table.aggregate("genus")
    lineage = table.taxonomy[["kingdom", "phylum", "class", "order", "family", "genus"]]
    key = lineage.fillna("").astype(str).agg("|".join, axis=1)
    expected = frame.T.groupby(key.to_numpy()).sum().T
    assert genus.n_features == expected.shape[1]
    np.testing.assert_array_equal(np.sort(genus.dense().sum(axis=0)),
                                  np.sort(expected.to_numpy().sum(axis=0)))
    np.testing.assert_array_equal(genus.sample_totals(), frame.sum(axis=1).to_numpy())


@pytest.mark.realdata
def test_fibromyalgia_clr_matches_skbio(fibromyalgia_dir: Path) -> None:
    table, _frame = load_fibromyalgia(fibromyalgia_dir)
    sub = table.filter_features(min_prevalence=0.2)
    expected = skbio_clr(sub.dense() + 1.0)
    np.testing.assert_allclose(sub.clr(pseudocount=1.0).dense(), expected, rtol=0, atol=1e-10)

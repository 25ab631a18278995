"""Beta diversity against scikit-bio 0.7.4 / SciPy on the fibromyalgia cohort, edge cases
and invariants.

Tolerance: absolute 1e-9 against the references (observed: Bray-Curtis and Jaccard
exact, Aitchison <= 1e-11 on distances of ~100).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from diversity_data import fibromyalgia_counts, fibromyalgia_table
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist, squareform
from skbio.diversity import beta_diversity as skbio_beta_diversity
from skbio.stats.composition import clr

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.beta import (
    BETA_METRICS,
    aitchison,
    beta_diversity,
    braycurtis,
    braycurtis_between,
    jaccard,
    sum_of_minima,
)

ATOL = 1e-9


def table_of(rows: list[list[float]] | np.ndarray, kind: str = "counts") -> ProfileTable:
    matrix = np.asarray(rows, dtype=np.float64)
    return ProfileTable(sp.csr_array(matrix), [f"s{i}" for i in range(matrix.shape[0])],
                        [f"f{j}" for j in range(matrix.shape[1])], kind=kind)  # type: ignore[arg-type]


@pytest.mark.realdata
@pytest.mark.parametrize("metric", ["braycurtis", "jaccard"])
def test_metric_equals_skbio_on_fibromyalgia(fibromyalgia_dir: Path, metric: str) -> None:
    counts = fibromyalgia_counts(fibromyalgia_dir)
    ours = beta_diversity(fibromyalgia_table(fibromyalgia_dir), metric)
    reference = skbio_beta_diversity(metric, counts.to_numpy(), ids=list(counts.index))
    assert list(ours.ids) == list(reference.ids)
    np.testing.assert_allclose(ours.data, reference.data, rtol=0, atol=ATOL)
    assert ours.metric == metric


@pytest.mark.realdata
@pytest.mark.parametrize(("metric", "file"), [("braycurtis", "vegan_bray.tsv.gz"),
                                              ("jaccard", "vegan_jaccard_binary.tsv.gz")])
def test_metric_equals_vegan_on_fibromyalgia(fibromyalgia_dir: Path, reference_dir: Path,
                                             metric: str, file: str) -> None:
    """vegan 2.6-4 vegdist (jaccard with binary=TRUE); see tests/reference/diversity/*.R."""
    vegan = pd.read_csv(reference_dir / "diversity" / file, sep="\t", index_col=0)
    ours = beta_diversity(fibromyalgia_table(fibromyalgia_dir), metric)
    assert list(ours.ids) == list(vegan.index.astype(str))
    np.testing.assert_allclose(ours.data, vegan.to_numpy(dtype=np.float64), rtol=0, atol=ATOL)


@pytest.mark.realdata
def test_aitchison_equals_qiime2_definition_on_fibromyalgia(fibromyalgia_dir: Path) -> None:
    """QIIME 2's ``aitchison``: scikit-bio CLR of counts + 1, then Euclidean distance."""
    counts = fibromyalgia_counts(fibromyalgia_dir).to_numpy(dtype=np.float64)
    reference = squareform(pdist(clr(counts + 1.0), "euclidean"))
    ours = beta_diversity(fibromyalgia_table(fibromyalgia_dir), "aitchison")
    np.testing.assert_allclose(ours.data, reference, rtol=0, atol=ATOL)


@pytest.mark.realdata
def test_aitchison_pseudocount_is_honoured(fibromyalgia_dir: Path) -> None:
    counts = fibromyalgia_counts(fibromyalgia_dir).to_numpy(dtype=np.float64)[:20]
    table = fibromyalgia_table(fibromyalgia_dir).subset_samples(slice(0, 20))
    reference = squareform(pdist(clr(counts + 0.5), "euclidean"))
    np.testing.assert_allclose(aitchison(table, pseudocount=0.5).data, reference,
                               rtol=0, atol=ATOL)


@pytest.mark.realdata
def test_braycurtis_on_proportions_equals_skbio(fibromyalgia_dir: Path) -> None:
    relative = fibromyalgia_table(fibromyalgia_dir).relative()
    reference = skbio_beta_diversity("braycurtis", relative.dense())
    np.testing.assert_allclose(braycurtis(relative).data, reference.data, rtol=0, atol=ATOL)


@pytest.mark.realdata
@pytest.mark.parametrize("n_samples", [1, 8, 9, 16, 17, 30])  # around the 8-row blocks
def test_sum_of_minima_equals_dense_minimum(fibromyalgia_dir: Path, n_samples: int) -> None:
    counts = fibromyalgia_counts(fibromyalgia_dir).to_numpy(dtype=np.float64)[:n_samples]
    expected = np.minimum(counts[:, None, :], counts[None, :, :]).sum(axis=2)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_array_equal(sum_of_minima(sp.csr_array(counts)), expected)


@pytest.mark.realdata
@pytest.mark.parametrize(("rows", "columns"), [(slice(0, 1), slice(0, 101)),
                                               (slice(3, 20), slice(40, 49)),
                                               (slice(0, 101), slice(0, 101))])
def test_braycurtis_between_equals_the_square_matrix(fibromyalgia_dir: Path, rows: slice,
                                                     columns: slice) -> None:
    table = fibromyalgia_table(fibromyalgia_dir)
    square = braycurtis(table).data
    block = braycurtis_between(table.subset_samples(rows), table.subset_samples(columns))
    np.testing.assert_allclose(block, square[rows, columns], rtol=0, atol=1e-15)


def test_braycurtis_between_needs_the_same_features() -> None:
    a = table_of([[1.0, 2.0]])
    b = ProfileTable(sp.csr_array(np.array([[1.0, 2.0]])), ["t0"], ["f1", "f0"])
    with pytest.raises(InputError, match="do not share their features"):
        braycurtis_between(a, b)


@pytest.mark.parametrize("metric", ["braycurtis", "jaccard"])
def test_empty_sample_is_refused_by_name(metric: str) -> None:
    with pytest.raises(InputError, match="undefined between two empty samples") as info:
        beta_diversity(table_of([[1.0, 2.0], [0.0, 0.0]]), metric)
    assert "s1" in str(info.value)


def test_aitchison_accepts_an_empty_sample() -> None:
    rows = np.array([[0.0, 0.0, 0.0], [4.0, 0.0, 1.0]])
    expected = squareform(pdist(clr(rows + 1.0), "euclidean"))
    np.testing.assert_allclose(aitchison(table_of(rows)).data, expected, atol=1e-12)


def test_identical_samples_are_at_distance_zero() -> None:
    table = table_of([[3.0, 0.0, 5.0], [3.0, 0.0, 5.0]])
    for metric in ("braycurtis", "jaccard", "aitchison"):
        assert beta_diversity(table, metric).data[0, 1] == 0.0


def test_disjoint_samples_are_at_distance_one() -> None:
    table = table_of([[3.0, 0.0], [0.0, 5.0]])
    assert braycurtis(table).data[0, 1] == 1.0
    assert jaccard(table).data[0, 1] == 1.0


def test_one_feature_table() -> None:
    table = table_of([[2.0], [6.0]])
    assert braycurtis(table).data[0, 1] == pytest.approx(0.5)
    assert jaccard(table).data[0, 1] == 0.0
    assert aitchison(table).data[0, 1] == 0.0  # one part: the CLR is always zero


def test_jaccard_ignores_abundance() -> None:
    table = table_of([[1.0, 100.0, 0.0], [50.0, 1.0, 3.0]])
    assert jaccard(table).data[0, 1] == pytest.approx(1 / 3)


def test_single_sample_gives_a_one_by_one_matrix() -> None:
    dm = braycurtis(table_of([[1.0, 2.0]]))
    assert dm.data.shape == (1, 1)
    assert dm.data[0, 0] == 0.0


def test_clr_table_is_refused() -> None:
    with pytest.raises(DataKindError):
        braycurtis(table_of([[1.0, 3.0], [2.0, 2.0]]).clr())


def test_unknown_metric_is_named() -> None:
    with pytest.raises(InputError, match="unknown beta") as info:
        beta_diversity(table_of([[1.0]]), "canberra")
    assert "canberra" in str(info.value)


SKBIO_UNIFRAC = {  # QIIME 2's name -> scikit-bio's metric and options
    "unweighted_unifrac": ("unweighted_unifrac", {}),
    "weighted_unifrac": ("weighted_unifrac", {"normalized": False}),
    "weighted_normalized_unifrac": ("weighted_unifrac", {"normalized": True}),
}
UNIFRAC_NAMES = [*SKBIO_UNIFRAC, "generalized_unifrac", "variance_adjusted_weighted_unifrac"]


@pytest.mark.parametrize("metric", UNIFRAC_NAMES)
def test_unifrac_without_a_tree_is_refused(metric: str) -> None:
    pytest.importorskip("gutaxis.gut.phylogenetic")
    with pytest.raises(InputError, match="needs a phylogenetic tree"):
        beta_diversity(table_of([[1.0, 2.0], [2.0, 1.0]]), metric)


def test_bad_pseudocount_is_refused() -> None:
    with pytest.raises(InputError, match="pseudocount"):
        aitchison(table_of([[1.0, 2.0]]), pseudocount=0.0)


nonempty_counts = arrays(
    np.int64, st.tuples(st.integers(2, 7), st.integers(1, 10)), elements=st.integers(0, 30)
).map(lambda m: np.hstack([m, np.ones((m.shape[0], 1), dtype=np.int64)]))


@settings(max_examples=60, deadline=None)
@given(nonempty_counts)
def test_braycurtis_invariants_and_scipy_agreement(matrix: np.ndarray) -> None:
    data = braycurtis(table_of(matrix)).data
    assert np.all((data >= 0) & (data <= 1))
    np.testing.assert_array_equal(data, data.T)
    assert np.all(np.diagonal(data) == 0)
    np.testing.assert_allclose(data, squareform(pdist(matrix, "braycurtis")), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(nonempty_counts)
def test_jaccard_and_aitchison_agree_with_scipy(matrix: np.ndarray) -> None:
    table = table_of(matrix)
    np.testing.assert_allclose(jaccard(table).data,
                               squareform(pdist(matrix > 0, "jaccard")), atol=1e-12)
    np.testing.assert_allclose(aitchison(table).data,
                               squareform(pdist(clr(matrix + 1.0), "euclidean")), atol=1e-9)


@pytest.mark.parametrize("metric", list(SKBIO_UNIFRAC))
def test_unifrac_names_follow_qiime2(metric: str) -> None:
    """``weighted_unifrac`` is unnormalized and ``weighted_normalized_unifrac`` normalized,
    as in QIIME 2 (scikit-bio as the reference)."""
    import skbio

    from gutaxis.io.newick import parse_newick

    newick = "((f0:1,f1:2):0.5,f2:1.5);"
    table = ProfileTable(sp.csr_array(np.array([[1.0, 0.0, 4.0], [2.0, 3.0, 0.0],
                                                [0.0, 1.0, 1.0]])),
                         ["s0", "s1", "s2"], ["f0", "f1", "f2"], tree=parse_newick(newick))
    dm = beta_diversity(table, metric)
    assert dm.metric == metric
    name, options = SKBIO_UNIFRAC[metric]
    theirs = skbio_beta_diversity(name, table.dense(), taxa=["f0", "f1", "f2"],
                                  tree=skbio.TreeNode.read([newick]), **options).data
    np.testing.assert_allclose(dm.data, theirs, rtol=1e-12)


def test_every_unifrac_variant_is_offered_under_its_qiime2_name() -> None:
    assert set(UNIFRAC_NAMES) <= set(BETA_METRICS)


def test_generalized_alpha_reaches_the_metric() -> None:
    from gutaxis.io.newick import parse_newick

    table = ProfileTable(sp.csr_array(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])),
                         ["s0", "s1"], ["a", "b", "c"],
                         tree=parse_newick("((a:1,b:2):0.5,c:3);"))
    # hand computed (see tests/gut/test_unifrac_variants.py): 0.3 at alpha 1, 3/6.5 at 0
    assert beta_diversity(table, "generalized_unifrac", generalized_alpha=1.0).data[0, 1] \
        == pytest.approx(0.3, rel=1e-14)
    assert beta_diversity(table, "generalized_unifrac", generalized_alpha=0.0).data[0, 1] \
        == pytest.approx(3 / 6.5, rel=1e-14)


@pytest.mark.realdata
def test_concurrent_calls_from_threads_agree(fibromyalgia_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    table = fibromyalgia_table(fibromyalgia_dir)
    expected = braycurtis(table).data
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: braycurtis(table).data, range(3)))
    for result in results:
        np.testing.assert_array_equal(result, expected)

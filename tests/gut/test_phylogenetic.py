"""Faith PD and UniFrac against scikit-bio 0.7.4, on the fibromyalgia cohort and on
random small trees.

Tolerance: 1e-9 absolute and relative (values are O(1) distances and O(10) PD sums; the
observed differences are ~1e-14, from the order of floating-point summation).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st
from skbio.diversity import alpha_diversity, beta_diversity

from gutaxis.data.profile import ProfileTable
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.phylogenetic import clade_totals, faith_pd, unifrac, unifrac_rows
from gutaxis.io.newick import format_newick, parse_newick, read_newick

TOL = {"rtol": 1e-9, "atol": 1e-9}
VARIANTS = [(False, True), (True, False), (True, True)]  # (weighted, normalized)


def _skbio_unifrac(table: ProfileTable, tree: skbio.TreeNode, *, weighted: bool,
                   normalized: bool) -> np.ndarray:
    counts = table.dense()
    taxa = list(table.feature_ids)
    if weighted:
        return beta_diversity("weighted_unifrac", counts, taxa=taxa, tree=tree,
                              normalized=normalized).data
    return beta_diversity("unweighted_unifrac", counts, taxa=taxa, tree=tree).data


def _skbio_faith(table: ProfileTable, tree: skbio.TreeNode) -> np.ndarray:
    return alpha_diversity("faith_pd", table.dense(), taxa=list(table.feature_ids),
                           tree=tree).to_numpy()


def _table(rows: list[list[float]], names: list[str], tree: PhyloTree | None,
           kind: str = "counts") -> ProfileTable:
    ids = [f"s{i}" for i in range(len(rows))]
    return ProfileTable(sp.csr_array(np.array(rows, dtype=float).reshape(len(rows), -1)),
                        ids, names, kind=kind, tree=tree)  # type: ignore[arg-type]


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def cohort(fibromyalgia_dir: Path) -> tuple[ProfileTable, skbio.TreeNode]:
    frame = pd.read_csv(fibromyalgia_dir / "feature-table.tsv.gz", sep="\t", index_col=0)
    tree = read_newick(fibromyalgia_dir / "tree.nwk")
    table = ProfileTable(sp.csr_array(frame.to_numpy(dtype=float).T), frame.columns.astype(str),
                         frame.index.astype(str), tree=tree)
    reference = skbio.TreeNode.read(str(fibromyalgia_dir / "tree.nwk"), convert_underscores=False)
    return table, reference


@pytest.mark.realdata
def test_faith_pd_matches_skbio_on_fibromyalgia(
    cohort: tuple[ProfileTable, skbio.TreeNode],
) -> None:
    table, reference = cohort
    np.testing.assert_allclose(faith_pd(table), _skbio_faith(table, reference), **TOL)


@pytest.mark.realdata
@pytest.mark.parametrize(("weighted", "normalized"), VARIANTS)
def test_unifrac_matches_skbio_on_fibromyalgia(
    cohort: tuple[ProfileTable, skbio.TreeNode], weighted: bool, normalized: bool
) -> None:
    table, reference = cohort
    mine = unifrac(table, weighted=weighted, normalized=normalized).data
    theirs = _skbio_unifrac(table, reference, weighted=weighted, normalized=normalized)
    np.testing.assert_allclose(mine, theirs, **TOL)
    assert np.array_equal(mine, mine.T)


@pytest.mark.realdata
@pytest.mark.parametrize(("weighted", "normalized"), VARIANTS)
def test_bands_reassemble_the_full_matrix(
    cohort: tuple[ProfileTable, skbio.TreeNode], weighted: bool, normalized: bool
) -> None:
    table, _ = cohort
    full = unifrac(table, weighted=weighted, normalized=normalized).data
    bands = [unifrac_rows(table, slice(start, start + 30), weighted=weighted,
                          normalized=normalized) for start in range(0, table.n_samples, 30)]
    np.testing.assert_allclose(np.vstack(bands), full, rtol=1e-13, atol=1e-13)
    picked = np.array([100, 3, 3, 0])
    np.testing.assert_allclose(unifrac_rows(table, picked, weighted=weighted,
                                            normalized=normalized), full[picked],
                               rtol=1e-13, atol=1e-13)


@pytest.mark.realdata
def test_relative_abundances_give_the_same_weighted_unifrac(
    cohort: tuple[ProfileTable, skbio.TreeNode],
) -> None:
    table, _ = cohort
    relative = table.relative()
    for normalized in (False, True):
        np.testing.assert_allclose(unifrac(relative, weighted=True, normalized=normalized).data,
                                   unifrac(table, weighted=True, normalized=normalized).data,
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(unifrac(relative, weighted=False).data,
                                  unifrac(table, weighted=False).data)


@pytest.mark.realdata
def test_sheared_tree_gives_the_same_results(cohort: tuple[ProfileTable, skbio.TreeNode]) -> None:
    table, _ = cohort
    subset = table.subset_features(table.feature_ids[:1500])
    assert subset.tree is not None
    sheared = subset.tree.shear(subset.feature_ids)
    np.testing.assert_allclose(faith_pd(subset, tree=sheared), faith_pd(subset), rtol=1e-12)
    for weighted, normalized in VARIANTS:
        np.testing.assert_allclose(
            unifrac(subset, weighted=weighted, normalized=normalized, tree=sheared).data,
            unifrac(subset, weighted=weighted, normalized=normalized).data, rtol=1e-12, atol=1e-12)


@pytest.mark.realdata
def test_clade_totals_match_skbio_counts_by_node(
    cohort: tuple[ProfileTable, skbio.TreeNode],
) -> None:
    from skbio.diversity._util import vectorize_counts_and_tree

    table, reference = cohort
    theirs, _, _ = vectorize_counts_and_tree(table.dense(), list(table.feature_ids), reference)
    mine = clade_totals(table).toarray()
    assert mine.shape == theirs.shape
    # skbio numbers sibling subtrees in another order: compare the sets of node columns
    by_column = np.lexsort(mine[::-1]), np.lexsort(theirs[::-1])
    np.testing.assert_array_equal(mine[:, by_column[0]], theirs[:, by_column[1]])


# ---------------------------------------------------------------- edge cases
SMALL = "(((a:1,b:2)x:0.5,c:3)y:1,(d:0,e:4)z:2)r;"
NAMES = ["a", "b", "c", "d", "e"]


def _both(text: str) -> tuple[PhyloTree, skbio.TreeNode]:
    return parse_newick(text), skbio.TreeNode.read([text], convert_underscores=False)


def _check_against_skbio(rows: list[list[float]], text: str = SMALL,
                         names: list[str] = NAMES) -> None:
    tree, reference = _both(text)
    table = _table(rows, names, tree)
    np.testing.assert_allclose(faith_pd(table), _skbio_faith(table, reference), **TOL)
    for weighted, normalized in VARIANTS:
        mine = unifrac(table, weighted=weighted, normalized=normalized).data
        with np.errstate(invalid="ignore"):
            theirs = _skbio_unifrac(table, reference, weighted=weighted, normalized=normalized)
        undefined = np.isnan(theirs)  # skbio's 0/0: both samples only on zero-length branches
        assert np.all(mine[undefined] == 0)
        np.testing.assert_allclose(mine[~undefined], theirs[~undefined], **TOL)


def test_empty_sample_matches_skbio() -> None:
    rows = [[0, 0, 0, 0, 0], [1, 0, 3, 0, 2], [0, 5, 0, 1, 0]]
    _check_against_skbio(rows)
    table = _table(rows, NAMES, parse_newick(SMALL))
    assert faith_pd(table).iloc[0] == 0.0
    assert unifrac(table, weighted=False).data[0, 1] == 1.0
    assert unifrac(table, weighted=True).data[0, 1] == pytest.approx(1.0, rel=1e-12)


def test_all_zero_table_gives_zero_distances_and_pd() -> None:
    table = _table([[0] * 5] * 3, NAMES, parse_newick(SMALL))
    assert np.all(faith_pd(table) == 0)
    for weighted, normalized in VARIANTS:
        assert np.all(unifrac(table, weighted=weighted, normalized=normalized).data == 0)
    _check_against_skbio([[0] * 5] * 3)


def test_one_feature_table() -> None:
    tree, reference = _both(SMALL)
    table = _table([[3], [0], [7]], ["c"], tree)
    np.testing.assert_allclose(faith_pd(table), [4.0, 0.0, 4.0])
    np.testing.assert_allclose(faith_pd(table), _skbio_faith(table, reference), **TOL)
    for weighted, normalized in VARIANTS:
        np.testing.assert_allclose(
            unifrac(table, weighted=weighted, normalized=normalized).data,
            _skbio_unifrac(table, reference, weighted=weighted, normalized=normalized), **TOL)
    assert unifrac(table, weighted=False).data[0, 2] == 0.0


def test_single_sample_gives_a_zero_matrix() -> None:
    table = _table([[1, 2, 0, 0, 4]], NAMES, parse_newick(SMALL))
    for weighted, normalized in VARIANTS:
        assert unifrac(table, weighted=weighted, normalized=normalized).data.tolist() == [[0.0]]


def test_identical_samples_are_exactly_zero_apart() -> None:
    rows = [[1, 0, 3, 9, 2], [1, 0, 3, 9, 2], [2, 0, 6, 18, 4], [0, 1, 0, 0, 0]]
    table = _table(rows, NAMES, parse_newick(SMALL))
    for weighted, normalized in VARIANTS:
        d = unifrac(table, weighted=weighted, normalized=normalized).data
        assert d[0, 1] == 0.0
        if weighted or not normalized:
            assert d[0, 2] == pytest.approx(0.0, abs=1e-15)  # same proportions
    assert unifrac(table, weighted=False).data[0, 2] == 0.0  # same presence


def test_zero_length_branches_match_skbio() -> None:
    text = "(((a:0,b:0)x:0,c:3)y:0,(d:0,e:4)z:0)r;"
    _check_against_skbio([[1, 2, 0, 0, 0], [0, 1, 3, 0, 2], [0, 0, 0, 5, 0], [4, 0, 0, 0, 0]],
                         text)


def test_only_zero_length_branches_give_zero_not_nan() -> None:
    table = _table([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]], NAMES,
                   parse_newick("(((a:0,b:0):0,c:0):0,(d:0,e:0):0);"))
    for weighted, normalized in VARIANTS:
        assert np.all(unifrac(table, weighted=weighted, normalized=normalized).data == 0)


def test_root_length_counts_as_in_skbio() -> None:
    _check_against_skbio([[1, 2, 0, 0, 0], [0, 1, 3, 0, 2], [0, 0, 0, 5, 1]],
                         SMALL.replace(")r;", ")r:0.75;"))


def test_tree_may_have_more_tips_than_features() -> None:
    _check_against_skbio([[1, 0, 5], [0, 2, 5]], SMALL, ["e", "a", "c"])


def test_missing_tips_are_named() -> None:
    tree = parse_newick(SMALL, source="tree.nwk")
    table = _table([[1, 2, 3]], ["a", "zz1", "zz2"], None)
    with pytest.raises(InputError, match=r"tree\.nwk: tree is missing 2 feature.*zz1, zz2"):
        faith_pd(table, tree=tree)
    with pytest.raises(InputError, match="zz1"):
        unifrac(table, weighted=False, tree=tree)


def test_unrooted_tree_is_refused_like_skbio() -> None:
    text = "((a:1,b:2)x:0.5,c:3,(d:0,e:4)z:2);"
    tree, reference = _both(text)
    table = _table([[1, 0, 1, 0, 1], [0, 1, 0, 1, 0]], NAMES, tree)
    with pytest.raises(ValueError, match="rooted"):
        _skbio_unifrac(table, reference, weighted=False, normalized=True)
    with pytest.raises(InputError, match=r"needs a rooted tree.*root with 3 children"):
        unifrac(table, weighted=False)
    with pytest.raises(InputError, match="Faith PD needs a rooted tree"):
        faith_pd(table)
    from_arrays = replace(tree, rooted=True)  # the structure decides, as in scikit-bio
    with pytest.raises(InputError, match="needs a rooted tree"):
        unifrac(replace(table, tree=from_arrays), weighted=True)


@pytest.mark.parametrize(
    ("b_branch", "problem"),
    [
        ("b", r"needs every branch length; 1 branch\(es\) have none; found 'b'"),
        ("b:-0.2", r"needs branch lengths >= 0; 1 branch\(es\) are negative; found 'b'"),
    ],
    ids=["missing", "negative"],
)
def test_missing_or_negative_branch_lengths_are_refused(b_branch: str, problem: str) -> None:
    tree = parse_newick(f"(((a:1,{b_branch})x:0.5,c:3)y:1,(d:0,e:4)z:2)r;", source="t.nwk")
    table = _table([[1, 1, 0, 0, 0]], NAMES, tree)
    for weighted in (False, True):
        name = "weighted UniFrac" if weighted else "unweighted UniFrac"
        with pytest.raises(InputError, match=rf"t\.nwk: {name} {problem}"):
            unifrac(table, weighted=weighted)
    with pytest.raises(InputError, match=rf"t\.nwk: Faith PD {problem}"):
        faith_pd(table)


def test_band_of_no_rows_and_bad_rows() -> None:
    table = _table([[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]], NAMES, parse_newick(SMALL))
    assert unifrac_rows(table, np.array([], dtype=int), weighted=False).shape == (0, 2)
    with pytest.raises(InputError, match="one-dimensional"):
        unifrac_rows(table, np.array([[0, 1]]), weighted=True)


def test_no_tree_is_refused() -> None:
    with pytest.raises(InputError, match="needs a phylogenetic tree"):
        unifrac(_table([[1, 2, 3, 4, 5]], NAMES, None), weighted=False)


def test_transformed_values_are_refused() -> None:
    table = _table([[1, 2, 3, 4, 5], [2, 1, 1, 1, 1]], NAMES, parse_newick(SMALL)).clr()
    with pytest.raises(DataKindError, match="needs counts or relative"):
        unifrac(table, weighted=True)


def test_tree_argument_overrides_table_tree() -> None:
    table = _table([[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]], NAMES, parse_newick(SMALL))
    other = parse_newick(SMALL.replace("e:4", "e:40"))
    assert not np.allclose(unifrac(table, weighted=False, tree=other).data,
                           unifrac(table, weighted=False).data)
    np.testing.assert_allclose(unifrac(table, weighted=False, tree=other).data,
                               unifrac(replace(table, tree=other), weighted=False).data)


# ------------------------------------------------------ property-based tests
@st.composite
def trees_and_tables(draw: st.DrawFn) -> tuple[str, ProfileTable]:
    """A random rooted binary tree (some zero lengths) and a sparse count table."""
    n_tips = draw(st.integers(2, 12))  # skbio cannot match a one-node tree's root as a tip
    roots = list(range(n_tips))
    parent = [-1] * n_tips
    while len(roots) > 1:
        a, b = draw(st.permutations(roots))[:2]
        parent[a] = parent[b] = len(parent)
        parent.append(-1)
        roots = [r for r in roots if r not in (a, b)] + [len(parent) - 1]
    n = len(parent)
    lengths = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.01, 5.0)), min_size=n, max_size=n))
    lengths[-1] = 0.0
    names = [f"f{i}" if i < n_tips else "" for i in range(n)]
    tree = PhyloTree(np.array(parent), np.array(lengths), np.array(names, dtype=object))
    n_samples = draw(st.integers(1, 7))
    counts = draw(st.lists(st.lists(st.one_of(st.just(0), st.integers(1, 30)), min_size=n_tips,
                                    max_size=n_tips), min_size=n_samples, max_size=n_samples))
    return format_newick(tree), _table(counts, names[:n_tips], tree)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(trees_and_tables())
def test_property_matches_skbio_and_is_a_proper_dissimilarity(
    case: tuple[str, ProfileTable],
) -> None:
    text, table = case
    reference = skbio.TreeNode.read([text], convert_underscores=False)
    np.testing.assert_allclose(faith_pd(table), _skbio_faith(table, reference), **TOL)
    for weighted, normalized in VARIANTS:
        d = unifrac(table, weighted=weighted, normalized=normalized).data
        assert np.array_equal(d, d.T)
        assert np.all(np.diag(d) == 0) and np.all(d >= -1e-12)
        if normalized:
            assert np.all(d <= 1 + 1e-12)
        with np.errstate(invalid="ignore", divide="ignore"):
            theirs = _skbio_unifrac(table, reference, weighted=weighted, normalized=normalized)
        undefined = np.isnan(theirs)  # skbio's 0/0 (all covered branches of length 0)
        assert np.all(d[undefined] == 0)
        np.testing.assert_allclose(d[~undefined], theirs[~undefined], **TOL)
        band = unifrac_rows(table, slice(None, None, -1), weighted=weighted,
                            normalized=normalized)
        np.testing.assert_allclose(band, d[::-1], rtol=1e-12, atol=1e-12)

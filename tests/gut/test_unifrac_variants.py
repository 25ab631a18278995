"""Generalized UniFrac and variance-adjusted weighted UniFrac.

References:

- the values the ``unifrac`` package (biocore) checks itself against, computed by the R
  package GUniFrac on its ``test.biom`` (``tests/reference/unifrac/``, printed to 7-8
  decimals: tolerance 1e-6 absolute, the package's own);
- a plain per-branch evaluation of the published formulas on scikit-bio's tree
  (independent of gutaxis' tree arrays and kernels): tolerance 1e-12 relative.
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
from test_phylogenetic import trees_and_tables

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.phylogenetic import unifrac
from gutaxis.gut.unifrac_variants import (
    generalized_unifrac,
    unifrac_variant_rows,
    variance_adjusted_unifrac,
)
from gutaxis.io import read_table, read_tree
from gutaxis.io.newick import parse_newick, read_newick

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "unifrac"
PACKAGE_TOL = {"rtol": 0.0, "atol": 1e-6}
TOL = {"rtol": 1e-12, "atol": 1e-12}


def _expected(name: str, ids: np.ndarray) -> np.ndarray:
    frame = pd.read_csv(REFERENCE / f"{name}.tsv", sep="\t", index_col=0)
    return frame.loc[list(ids), list(ids)].to_numpy()


@pytest.fixture(scope="module")
def package_test_table() -> ProfileTable:
    table = read_table(REFERENCE / "test.biom")
    return replace(table, tree=read_tree(REFERENCE / "test.rooted.tre"))


@pytest.mark.parametrize(("alpha", "name"), [
    (0.0, "test.generalized_unifrac_alpha0"),
    (0.5, "test.generalized_unifrac_alpha0.5"),
    (1.0, "test.weighted_normalized_unifrac"),
])
def test_generalized_matches_the_unifrac_package_reference(
    package_test_table: ProfileTable, alpha: float, name: str
) -> None:
    mine = generalized_unifrac(package_test_table, alpha=alpha).data
    np.testing.assert_allclose(mine, _expected(name, package_test_table.sample_ids),
                               **PACKAGE_TOL)


def test_variance_adjusted_matches_the_unifrac_package_reference(
    package_test_table: ProfileTable,
) -> None:
    mine = variance_adjusted_unifrac(package_test_table).data
    expected = _expected("test.variance_adjusted_weighted_unifrac",
                         package_test_table.sample_ids)
    np.testing.assert_allclose(mine, expected, **PACKAGE_TOL)


def test_unweighted_matches_the_unifrac_package_on_crawford() -> None:
    table = read_table(REFERENCE / "crawford.biom")
    table = replace(table, tree=read_tree(REFERENCE / "crawford.tre"))
    expected = _expected("crawford.unweighted_unifrac", table.sample_ids)
    # the package's file has 16 digits; it differs from scikit-bio by ~2e-9 relative
    np.testing.assert_allclose(unifrac(table, weighted=False).data, expected, rtol=1e-8, atol=0)


# ------------------------------------------------------- per-branch reference
def _branch_shares(table: ProfileTable, tree: skbio.TreeNode
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads below every branch (samples x branches), and the branch lengths, summed over
    each node's tip names with scikit-bio's tree. The root's own length counts, as in
    scikit-bio's weighted normalized UniFrac (a sheared tree's root keeps the length of
    the single-child chain it absorbed)."""
    counts = table.dense()
    column = {name: k for k, name in enumerate(table.feature_ids)}
    below, lengths = [], []
    for node in tree.non_tips(include_self=True):
        tips = [column[t.name] for t in node.tips() if t.name in column]
        below.append(counts[:, tips].sum(axis=1))
        lengths.append(node.length or 0.0)
    for tip in tree.tips():
        below.append(counts[:, column[tip.name]] if tip.name in column
                     else np.zeros(len(counts)))
        lengths.append(tip.length or 0.0)
    return np.array(below).T, np.array(lengths), counts.sum(axis=1)


def _reference(table: ProfileTable, tree: skbio.TreeNode, *, alpha: float | None
               ) -> np.ndarray:
    """Chen et al. (2012) generalized UniFrac, or Chang et al. (2011) with ``alpha=None``,
    pair by pair and branch by branch."""
    below, lengths, totals = _branch_shares(table, tree)
    n = table.n_samples
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            u, v = (below[k] / totals[k] if totals[k] > 0 else below[k] for k in (i, j))
            if alpha is not None:
                keep = u + v > 0
                weight = lengths[keep] * (u[keep] + v[keep]) ** alpha
                num = np.sum(weight * np.abs(u[keep] - v[keep]) / (u[keep] + v[keep]))
                den = np.sum(weight)
            else:
                m_b = below[i] + below[j]
                spread = np.sqrt(m_b * (totals[i] + totals[j] - m_b))
                keep = spread > 0
                num = np.sum(lengths[keep] * np.abs(u - v)[keep] / spread[keep])
                den = np.sum(lengths[keep] * (u + v)[keep] / spread[keep])
            out[i, j] = num / den if den > 0 else 0.0  # 0/0 (empty, zero lengths) is 0
    return out


@pytest.fixture(scope="module")
def fibromyalgia_subset(fibromyalgia_dir: Path) -> tuple[ProfileTable, skbio.TreeNode]:
    frame = pd.read_csv(fibromyalgia_dir / "feature-table.tsv.gz", sep="\t", index_col=0)
    frame = frame.iloc[:, :12]
    frame = frame.loc[frame.sum(axis=1) > 0].iloc[:300]
    full = read_newick(fibromyalgia_dir / "tree.nwk")
    names = frame.index.astype(str)
    tree = full.shear(names)
    table = ProfileTable(sp.csr_array(frame.to_numpy(dtype=float).T),
                         frame.columns.astype(str), names, tree=tree)
    reference = skbio.TreeNode.read(str(fibromyalgia_dir / "tree.nwk"),
                                    convert_underscores=False).shear(list(names))
    return table, reference


@pytest.mark.realdata
@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 1.0])
def test_generalized_matches_per_branch_formula_on_fibromyalgia(
    fibromyalgia_subset: tuple[ProfileTable, skbio.TreeNode], alpha: float
) -> None:
    table, reference = fibromyalgia_subset
    np.testing.assert_allclose(generalized_unifrac(table, alpha=alpha).data,
                               _reference(table, reference, alpha=alpha), **TOL)


@pytest.mark.realdata
def test_variance_adjusted_matches_per_branch_formula_on_fibromyalgia(
    fibromyalgia_subset: tuple[ProfileTable, skbio.TreeNode],
) -> None:
    table, reference = fibromyalgia_subset
    np.testing.assert_allclose(variance_adjusted_unifrac(table).data,
                               _reference(table, reference, alpha=None), **TOL)


@pytest.mark.realdata
def test_generalized_alpha_one_is_skbio_weighted_normalized(
    fibromyalgia_subset: tuple[ProfileTable, skbio.TreeNode],
) -> None:
    from skbio.diversity import beta_diversity

    table, reference = fibromyalgia_subset
    theirs = beta_diversity("weighted_unifrac", table.dense(), taxa=list(table.feature_ids),
                            tree=reference, normalized=True).data
    np.testing.assert_allclose(generalized_unifrac(table, alpha=1.0).data, theirs,
                               rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- edge cases
SMALL = "((a:1,b:2):0.5,c:3);"


def _small(rows: list[list[float]], kind: str = "counts") -> ProfileTable:
    return ProfileTable(sp.csr_array(np.array(rows, dtype=float)),
                        [f"s{i}" for i in range(len(rows))], ["a", "b", "c"],
                        kind=kind, tree=parse_newick(SMALL))  # type: ignore[arg-type]


def test_hand_computed_generalized_distance() -> None:
    # s0 = (1/2, 0, 1/2), s1 = (0, 1/2, 1/2): branches a (1, u=.5, v=0), b (2, 0, .5),
    # (a,b) (0.5, .5, .5), c (3, .5, .5). alpha=1: num = .5 + 1 + 0 + 0 = 1.5,
    # den = .5 + 1 + .5 + 3 = 5 -> 0.3; alpha=0: num = 1 + 2 = 3, den = 6.5
    table = _small([[1, 0, 1], [0, 1, 1]])
    assert generalized_unifrac(table, alpha=1.0).data[0, 1] == pytest.approx(0.3, rel=1e-14)
    assert generalized_unifrac(table, alpha=0.0).data[0, 1] == pytest.approx(3 / 6.5, rel=1e-14)


def test_identical_and_empty_samples() -> None:
    table = _small([[2, 1, 0], [4, 2, 0], [0, 0, 0], [0, 0, 0]])
    result = generalized_unifrac(table).data
    assert result[0, 1] == 0.0  # same proportions
    assert result[2, 3] == 0.0  # two empty samples: 0/0 is 0, as weighted UniFrac
    assert result[0, 2] == pytest.approx(1.0, rel=1e-14)
    assert np.array_equal(result, result.T) and np.all(np.diag(result) == 0)


def test_relative_table_gives_the_same_generalized_distances() -> None:
    counts = _small([[3, 1, 6], [0, 5, 5], [1, 1, 0]])
    np.testing.assert_allclose(generalized_unifrac(counts.relative()).data,
                               generalized_unifrac(counts).data, rtol=1e-13)


def test_variance_adjusted_refuses_proportions() -> None:
    with pytest.raises(DataKindError, match="counts"):
        variance_adjusted_unifrac(_small([[0.5, 0.5, 0], [0, 0.2, 0.8]], kind="relative"))


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_alpha_outside_zero_one_is_refused(alpha: float) -> None:
    with pytest.raises(InputError, match=r"alpha.*\[0, 1\]"):
        generalized_unifrac(_small([[1, 0, 1], [0, 1, 1]]), alpha=alpha)


def test_no_tree_is_refused() -> None:
    table = ProfileTable(sp.csr_array(np.eye(2)), ["s0", "s1"], ["a", "b"])
    for metric in (generalized_unifrac, variance_adjusted_unifrac):
        with pytest.raises(InputError, match="needs a phylogenetic tree"):
            metric(table)


@settings(max_examples=40, deadline=None)
@given(trees_and_tables(), st.floats(0.0, 1.0))
def test_property_variants_match_the_formulas_and_lie_in_zero_one(
    case: tuple[str, ProfileTable], alpha: float
) -> None:
    text, table = case
    reference = skbio.TreeNode.read([text], convert_underscores=False)
    for mine, theirs in ((generalized_unifrac(table, alpha=alpha).data,
                          _reference(table, reference, alpha=alpha)),
                         (variance_adjusted_unifrac(table).data,
                          _reference(table, reference, alpha=None))):
        assert np.array_equal(mine, mine.T) and np.all(np.diag(mine) == 0)
        assert np.all((mine >= 0) & (mine <= 1 + 1e-12))
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("metric", "alpha", "name"), [
    ("generalized_unifrac", 0.0, "test.generalized_unifrac_alpha0"),
    ("generalized_unifrac", 0.5, "test.generalized_unifrac_alpha0.5"),
    ("variance_adjusted_weighted_unifrac", 0.5, "test.variance_adjusted_weighted_unifrac"),
])
def test_bands_match_the_reference_and_the_full_matrix(
    package_test_table: ProfileTable, metric: str, alpha: float, name: str
) -> None:
    table = package_test_table
    bands = np.vstack([unifrac_variant_rows(table, slice(start, start + 4), metric=metric,
                                            alpha=alpha) for start in (0, 4)])
    np.testing.assert_allclose(bands, _expected(name, table.sample_ids), **PACKAGE_TOL)
    full = (generalized_unifrac(table, alpha=alpha).data if metric == "generalized_unifrac"
            else variance_adjusted_unifrac(table).data)
    # variance-adjusted pairs are summed in the same order; generalized ones may not be
    tol = {"rtol": 0, "atol": 0} if metric != "generalized_unifrac" else \
        {"rtol": 1e-13, "atol": 1e-15}
    np.testing.assert_allclose(bands, full, **tol)
    picked = np.array([5, 1, 1])
    np.testing.assert_allclose(unifrac_variant_rows(table, picked, metric=metric, alpha=alpha),
                               full[picked], **tol)


def test_band_refuses_an_unknown_variant_and_two_dimensional_rows(
    package_test_table: ProfileTable,
) -> None:
    with pytest.raises(InputError, match="unknown UniFrac variant") as info:
        unifrac_variant_rows(package_test_table, slice(None), metric="weighted_unifrac")
    assert "generalized_unifrac or variance_adjusted_weighted_unifrac" in str(info.value)
    with pytest.raises(InputError, match="one-dimensional"):
        unifrac_variant_rows(package_test_table, np.zeros((2, 2), dtype=int),
                             metric="generalized_unifrac")
    with pytest.raises(InputError, match="alpha"):
        unifrac_variant_rows(package_test_table, slice(None), metric="generalized_unifrac",
                             alpha=2.0)

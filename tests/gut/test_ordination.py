"""PCoA against scikit-bio 0.7.4 on fibromyalgia distances, edge cases and invariants.

Tolerances: eigenvalues and proportions absolute 1e-9; coordinates absolute 1e-8 after
matching each axis's sign (axes with a zero eigenvalue are not compared: their vectors
are arbitrary).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skbio
from diversity_data import fibromyalgia_table
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist, squareform
from skbio.stats.ordination import pcoa as skbio_pcoa

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.gut.beta import beta_diversity
from gutaxis.gut.ordination import NegativeEigenvalueWarning, pcoa


def skbio_reference(dm: DistanceMatrix, dimensions: int = 0) -> skbio.OrdinationResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return skbio_pcoa(skbio.DistanceMatrix(np.array(dm.data), list(dm.ids)),
                          dimensions=dimensions)


def assert_matches_skbio(dm: DistanceMatrix, n_components: int | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeEigenvalueWarning)
        ours = pcoa(dm, n_components=n_components)
    ref = skbio_reference(dm, dimensions=n_components or 0)
    np.testing.assert_allclose(ours.eigenvalues, ref.eigvals, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.proportion_explained, ref.proportion_explained,
                               rtol=0, atol=1e-9)
    theirs = ref.samples.to_numpy()
    mine = ours.coordinates.to_numpy()
    live = ref.eigvals.to_numpy() > 1e-8
    signs = np.sign(np.sum(theirs * mine, axis=0))
    np.testing.assert_allclose(mine[:, live], theirs[:, live] * signs[live], rtol=0, atol=1e-8)
    assert list(ours.coordinates.index) == list(dm.ids)


@pytest.mark.realdata
@pytest.mark.parametrize("metric", ["braycurtis", "jaccard", "aitchison"])
@pytest.mark.parametrize("n_components", [None, 5, 40])  # full, Lanczos, dense partial
def test_pcoa_equals_skbio_on_fibromyalgia(fibromyalgia_dir: Path, metric: str,
                                           n_components: int | None) -> None:
    dm = beta_diversity(fibromyalgia_table(fibromyalgia_dir), metric)
    assert_matches_skbio(dm, n_components)


@pytest.mark.realdata
def test_pcoa_equals_r_cmdscale_on_fibromyalgia(fibromyalgia_dir: Path,
                                                reference_dir: Path) -> None:
    """R stats::cmdscale(eig=TRUE) of vegan's Bray-Curtis; see tests/reference/diversity."""
    folder = reference_dir / "diversity"
    eig = pd.read_csv(folder / "cmdscale_bray_eigenvalues.tsv.gz", sep="\t", index_col=0)
    points = pd.read_csv(folder / "cmdscale_bray_points.tsv.gz", sep="\t", index_col=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegativeEigenvalueWarning)
        ours = pcoa(beta_diversity(fibromyalgia_table(fibromyalgia_dir), "braycurtis"))
    theirs = eig["eigenvalue"].to_numpy()
    positive = theirs > 1e-8
    np.testing.assert_allclose(ours.eigenvalues.to_numpy()[: positive.sum()], theirs[positive],
                               rtol=0, atol=1e-9)
    mine = ours.coordinates[["PC1", "PC2"]].to_numpy()
    reference = points.to_numpy(dtype=np.float64)
    signs = np.sign(np.sum(mine * reference, axis=0))
    np.testing.assert_allclose(mine, reference * signs, rtol=0, atol=1e-8)


@pytest.mark.realdata
def test_negative_eigenvalue_warning_follows_skbio(fibromyalgia_dir: Path) -> None:
    dm = beta_diversity(fibromyalgia_table(fibromyalgia_dir), "braycurtis")
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        skbio_pcoa(skbio.DistanceMatrix(np.array(dm.data), list(dm.ids)))
    skbio_warned = any("negative eigenvalues" in str(w.message) for w in theirs)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        pcoa(dm)
    assert skbio_warned == any(issubclass(w.category, NegativeEigenvalueWarning) for w in ours)


def test_axes_are_named_and_signs_are_fixed() -> None:
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    dm = DistanceMatrix(list("abcd"), squareform(pdist(points)))
    result = pcoa(dm)
    assert list(result.coordinates.columns) == ["PC1", "PC2", "PC3", "PC4"]
    coords = result.coordinates.to_numpy()
    biggest = coords[np.abs(coords).argmax(axis=0), np.arange(coords.shape[1])]
    assert np.all(biggest >= 0)
    assert result.proportion_explained.sum() == pytest.approx(1.0)


def test_two_samples() -> None:
    result = pcoa(DistanceMatrix(["a", "b"], [[0.0, 2.0], [2.0, 0.0]]))
    np.testing.assert_allclose(np.abs(result.coordinates["PC1"]), [1.0, 1.0])
    assert result.eigenvalues["PC1"] == pytest.approx(2.0)


def test_too_few_samples_and_bad_components_are_refused() -> None:
    with pytest.raises(InputError, match="at least two"):
        pcoa(DistanceMatrix(["a"], [[0.0]]))
    dm = DistanceMatrix(["a", "b"], [[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(InputError, match="n_components"):
        pcoa(dm, n_components=3)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 8), st.integers(1, 3)),
              elements=st.integers(-10, 10).map(float)))
def test_euclidean_distances_are_reproduced_by_the_coordinates(points: np.ndarray) -> None:
    """Grid points: no eigenvalue is so small that zeroing it (as skbio) would show."""
    dm = DistanceMatrix([f"s{i}" for i in range(len(points))], squareform(pdist(points)))
    coords = pcoa(dm).coordinates.to_numpy()
    np.testing.assert_allclose(squareform(pdist(coords)), dm.data, atol=1e-6)

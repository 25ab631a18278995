"""Diversity results carry their labels: alpha metrics are Series indexed by sample id and
named after the metric; beta metrics are DistanceMatrix objects with the sample ids and
the metric's QIIME 2 name.

Values are checked against closed forms on a three-sample table (the real-data comparisons
with scikit-bio and the unifrac package are in the other test modules).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.profile import ProfileTable
from gutaxis.gut import (
    ALPHA_METRICS,
    BETA_METRICS,
    alpha_diversity,
    beta_diversity,
    generalized_unifrac,
    variance_adjusted_unifrac,
)
from gutaxis.gut.phylogenetic import faith_pd, unifrac
from gutaxis.io.newick import parse_newick

IDS = ["s1", "s2", "s3"]


@pytest.fixture
def table() -> ProfileTable:
    tree = parse_newick("((a:1,b:2):0.5,c:3);")
    counts = np.array([[1.0, 0.0, 4.0], [0.0, 2.0, 0.0], [3.0, 3.0, 2.0]])
    return ProfileTable(sp.csr_array(counts), IDS, ["a", "b", "c"], tree=tree)


@pytest.mark.parametrize("metric", list(ALPHA_METRICS))
def test_every_alpha_metric_is_a_series_indexed_by_sample_id_named_after_it(
    table: ProfileTable, metric: str
) -> None:
    values = ALPHA_METRICS[metric](table)
    assert isinstance(values, pd.Series)
    assert values.name == metric
    assert values.index.name == "sample_id"
    assert values.index.tolist() == IDS
    assert values.dtype == np.float64
    pd.testing.assert_series_equal(alpha_diversity(table, metrics=[metric])[metric], values)


def test_alpha_series_values_are_the_closed_forms(table: ProfileTable) -> None:
    shannon = ALPHA_METRICS["shannon"](table)
    p1 = np.array([0.2, 0.8])
    assert shannon["s1"] == pytest.approx(-(p1 * np.log(p1)).sum(), rel=1e-14)
    assert shannon["s2"] == 0.0
    assert shannon["s3"] == pytest.approx(-(2 * 3 / 8 * np.log(3 / 8) + 2 / 8 * np.log(2 / 8)),
                                          rel=1e-14)
    # Faith's PD: s1 covers a (1), the (a,b) stem (0.5) and c (3); s2 covers b and the stem
    assert faith_pd(table).to_dict() == {"s1": 4.5, "s2": 2.5, "s3": 6.5}


@pytest.mark.parametrize("metric", list(BETA_METRICS))
def test_every_beta_metric_is_a_distance_matrix_with_ids_and_its_name(
    table: ProfileTable, metric: str
) -> None:
    distances = BETA_METRICS[metric](table)
    assert isinstance(distances, DistanceMatrix)
    assert distances.ids.tolist() == IDS
    assert distances.metric == metric
    np.testing.assert_array_equal(beta_diversity(table, metric).data, distances.data)


@pytest.mark.parametrize(("weighted", "normalized", "name"), [
    (False, True, "unweighted_unifrac"),
    (True, True, "weighted_normalized_unifrac"),
    (True, False, "weighted_unifrac"),
])
def test_unifrac_is_a_distance_matrix_named_as_qiime2(
    table: ProfileTable, weighted: bool, normalized: bool, name: str
) -> None:
    distances = unifrac(table, weighted=weighted, normalized=normalized)
    assert isinstance(distances, DistanceMatrix)
    assert (distances.metric, distances.ids.tolist()) == (name, IDS)


def test_unweighted_unifrac_value_is_the_closed_form(table: ProfileTable) -> None:
    # s1 covers a, stem, c (4.5); s2 covers b, stem (2.5); union 6.5, shared stem 0.5
    frame = unifrac(table, weighted=False).to_dataframe()
    assert frame.loc["s1", "s2"] == pytest.approx(6.0 / 6.5, rel=1e-14)


def test_unifrac_variants_are_distance_matrices_named_as_qiime2(table: ProfileTable) -> None:
    general = generalized_unifrac(table, alpha=1.0)
    adjusted = variance_adjusted_unifrac(table)
    assert (general.metric, general.ids.tolist()) == ("generalized_unifrac", IDS)
    assert (adjusted.metric, adjusted.ids.tolist()) == ("variance_adjusted_weighted_unifrac",
                                                         IDS)
    # alpha = 1 is weighted normalized UniFrac (Chen et al. 2012)
    np.testing.assert_allclose(general.data, unifrac(table, weighted=True).data, rtol=1e-13)

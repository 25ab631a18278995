"""Gut metrics carry their labels: alpha metrics and gut-health summaries are Series
indexed by sample id and named after the metric; beta metrics are DistanceMatrix objects
with the sample ids and the metric's QIIME 2 name.

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
    butyrate_producer_share,
    dysbiosis_score,
    dysbiotic,
    enterobacteriaceae_share,
    firmicutes_bacteroidota_ratio,
    generalized_unifrac,
    gut_summary,
    md_index,
    prevotella_bacteroides_ratio,
    proteobacteria_share,
    taxon_share,
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


def assert_per_sample(values: object, name: str, ids: list[str]) -> None:
    """``values`` is a float64 Series named ``name``, indexed by ``sample_id`` = ``ids``."""
    assert isinstance(values, pd.Series)
    assert (values.name, values.index.name, values.index.tolist()) == (name, "sample_id", ids)
    assert values.dtype == np.float64


@pytest.mark.parametrize("metric", list(ALPHA_METRICS))
def test_every_alpha_metric_is_a_series_indexed_by_sample_id_named_after_it(
    table: ProfileTable, metric: str
) -> None:
    values = ALPHA_METRICS[metric](table)
    assert_per_sample(values, metric, IDS)
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


SUMMARIES = {
    "butyrate_producer_share": butyrate_producer_share,
    "proteobacteria_share": proteobacteria_share,
    "enterobacteriaceae_share": enterobacteriaceae_share,
    "firmicutes_bacteroidota_ratio": firmicutes_bacteroidota_ratio,
    "prevotella_bacteroides_ratio": prevotella_bacteroides_ratio,
    "md_index": md_index,
}


@pytest.fixture
def species() -> ProfileTable:
    frame = pd.DataFrame({"Faecalibacterium prausnitzii": [0.5, 0.2],
                          "Escherichia coli": [0.25, 0.0],
                          "Bacteroides ovatus": [0.25, 0.4],
                          "Prevotella copri": [0.0, 0.4]}, index=["p1", "p2"])
    return ProfileTable.from_dataframe(frame, kind="relative")


@pytest.mark.parametrize("column", list(SUMMARIES))
def test_every_gut_summary_is_a_series_named_as_its_gut_summary_column(
    species: ProfileTable, column: str
) -> None:
    values = SUMMARIES[column](species)
    assert_per_sample(values, column, ["p1", "p2"])
    pd.testing.assert_series_equal(values, gut_summary(species)[column])


def test_summary_values_are_the_closed_forms(species: ProfileTable) -> None:
    assert enterobacteriaceae_share(species).to_dict() == {"p1": 0.25, "p2": 0.0}
    assert prevotella_bacteroides_ratio(species).to_dict() == {"p1": 0.0, "p2": 1.0}
    assert taxon_share(species, "proteobacteria").name == "proteobacteria_share"


def test_dysbiosis_score_and_flag_keep_the_sample_ids(species: ProfileTable) -> None:
    reference = np.array([True, False])
    scores = dysbiosis_score(species, reference)
    assert_per_sample(scores, "dysbiosis_score", ["p1", "p2"])
    # p2 to the reference p1: Bray-Curtis 1 - (0.2 + 0 + 0.25 + 0) = 0.55; p1 has no
    # reference other than itself
    assert np.isnan(scores["p1"]) and scores["p2"] == pytest.approx(0.55, rel=1e-14)
    flags = dysbiotic(pd.Series([0.1, 0.9], index=["p1", "p2"]), np.array([True, True]),
                      percentile=50)
    assert flags.to_dict() == {"p1": False, "p2": True} and flags.name == "dysbiotic"

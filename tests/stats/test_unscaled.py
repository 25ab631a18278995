"""Scaled abundance (MaAsLin 3's ``unscaled_abundance``): spike-in or total microbial load.

MaAsLin 3 0.99.1 (``UNSCALEDnorm`` after ``TSSnorm``, R/utility_scripts.R): with a column
``total``, the proportions of all the table's features are multiplied by the sample's load;
with a column named after a feature (a spike-in of known amount ``L``), by ``L`` divided by
the spike-in's proportion, and the spike-in is dropped. The worked examples below apply
that recipe by hand; the fibromyalgia scan is compared with MaAsLin 3's own run
(tests/reference/maaslin3/fibro_unscaled.tsv.gz, synthetic lognormal loads in
fibro_total_load.tsv), tolerance 1e-6 (measured <= 1.1e-11).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from maaslin3_fixture import joined, read_all_results

from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.io import read_cohort, read_metadata
from gutaxis.stats.associate import associate
from gutaxis.stats.normalize import scale_samples, unscaled_factors, unscaled_table

REF = Path(__file__).resolve().parents[1] / "reference" / "maaslin3"
COUNTS = np.array([[10.0, 30.0, 0.0, 60.0],
                   [5.0, 0.0, 15.0, 5.0],
                   [0.0, 8.0, 8.0, 4.0]])
SAMPLES = ["a", "b", "c"]


def _table() -> ProfileTable:
    return ProfileTable(COUNTS, SAMPLES, ["f1", "f2", "f3", "spike"])


def _frame(name: str, values: list[float], index: list[str] = SAMPLES) -> pd.DataFrame:
    return pd.DataFrame({name: values}, index=pd.Index(index, name="sample_id"))


def test_total_load_multiplies_proportions_of_all_features():
    table, factors = unscaled_table(_table(), _frame("total", [1e6, 2e6, 4e6]))
    scaled = scale_samples(table.values.toarray(), factors)
    # by hand: a's proportions 0.1, 0.3, 0, 0.6 (total 100) times 1e6; b's total 25, c's 20
    expected = np.array([[1e5, 3e5, 0.0, 6e5],
                         [4e5, 0.0, 12e5, 4e5],
                         [0.0, 16e5, 16e5, 8e5]])
    np.testing.assert_allclose(scaled, expected, rtol=1e-14)
    assert list(table.feature_ids) == ["f1", "f2", "f3", "spike"]


def test_spike_in_gives_values_relative_to_the_spike_and_is_dropped():
    table, factors = unscaled_table(_table(), _frame("spike", [2.0, 1.0, 8.0]))
    scaled = scale_samples(table.values.toarray(), factors)
    # by hand: TSS proportion times amount / spike proportion = count * amount / spike count
    expected = np.array([[10 * 2 / 60, 30 * 2 / 60, 0.0],
                         [5 * 1 / 5, 0.0, 15 * 1 / 5],
                         [0.0, 8 * 8 / 4, 8 * 8 / 4]])
    np.testing.assert_allclose(scaled, expected, rtol=1e-14)
    assert list(table.feature_ids) == ["f1", "f2", "f3"]


def test_an_empty_sample_stays_zero():
    np.testing.assert_array_equal(
        unscaled_factors(np.array([5.0, 5.0]), sample_totals=np.array([0.0, 10.0])), [0, 0.5])


def test_extra_samples_in_the_load_table_are_ignored():
    _, factors = unscaled_table(_table(), _frame("total", [1.0, 1.0, 1.0, 9.0],
                                                 [*SAMPLES, "other"]))
    np.testing.assert_allclose(factors, [0.01, 0.04, 0.05])


@pytest.mark.parametrize("frame, options, match", [
    (_frame("total", [1.0, 1, 1]), {"normalization": "CLR"}, "needs TSS"),
    (pd.DataFrame({"total": [1.0] * 3, "x": [1.0] * 3}, index=SAMPLES), {}, "exactly one"),
    (_frame("load", [1.0, 1, 1]), {}, "neither a feature nor the total"),
    (_frame("total", [1.0, 1], ["a", "c"]), {}, "1 sample.*b"),
    (_frame("total", [1.0, -2, 1]), {}, "row b.*positive number"),
    (_frame("total", [1.0, np.nan, 1]), {}, "positive number"),
    (_frame("f3", [1.0, 1, 1]), {}, "spike-in is absent from 1 sample.*a"),
])
def test_bad_unscaled_tables_are_refused_with_where_and_what(frame, options, match):
    with pytest.raises(InputError, match=match):
        unscaled_table(_table(), frame, **options)


def test_errors_name_the_file_when_known():
    frame = _frame("total", [1.0, 0.0, 1.0])
    frame.attrs["source"] = "load.tsv"
    with pytest.raises(InputError, match=r"load\.tsv"):
        unscaled_table(_table(), frame)


def test_scaling_factors_must_fit_the_table():
    with pytest.raises(InputError, match="one finite"):
        scale_samples(COUNTS, np.array([1.0, np.inf, 1.0]))


@pytest.fixture(scope="module")
def fibromyalgia_unscaled(fibromyalgia_dir: Path):
    cohort = read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                         fibromyalgia_dir / "metadata.tsv")
    load = read_metadata(REF / "fibro_total_load.tsv")
    return cohort, associate(cohort, fixed=["group", "covariate_age", "covariate_imc",
                                            "covariate_sii"], reference={"group": "ctl"},
                             prevalence_model=True, min_prevalence=0.1, standardize=True,
                             unscaled=load)


def test_fibromyalgia_total_load_scan_matches_maaslin3(fibromyalgia_unscaled):
    _, res = fibromyalgia_unscaled
    both = joined(res.table, read_all_results(REF / "fibro_unscaled.tsv.gz"))
    rows = both[(both.model == "abundance") & both.coef.notna()]
    assert len(rows) >= 900
    np.testing.assert_allclose(rows.coef, rows.coef_m3, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rows.stderr, rows.stderr_m3, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rows.pval, rows.pval_individual, rtol=0, atol=1e-6)
    assert res.spec.unscaled_abundance == "total"


def test_fibromyalgia_values_are_log2_of_load_times_proportion(fibromyalgia_unscaled):
    cohort, res = fibromyalgia_unscaled
    load = pd.read_csv(REF / "fibro_total_load.tsv", sep="\t", index_col=0)["total"]
    counts = cohort.table.to_dataframe()
    scaled = counts.div(counts.sum(axis=1), axis=0).mul(load.loc[counts.index], axis=0)
    got = res.values.to_frame()  # nonzero samples only (NaN elsewhere), as MaAsLin 3 models them
    want = np.log2(scaled.loc[got.index, got.columns].where(lambda v: v > 0))
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)


def test_spike_in_scan_equals_the_total_scan_with_the_implied_load(fibromyalgia_dir: Path):
    """A spike-in of amount L_i seen as s_i reads implies a total load L_i T_i / s_i."""
    cohort = read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                         fibromyalgia_dir / "metadata.tsv")
    rng = np.random.default_rng(11)
    spike = rng.integers(50, 500, cohort.n_samples).astype(float)
    amount = rng.uniform(1.0, 3.0, cohort.n_samples)
    counts = cohort.table.to_dataframe()
    with_spike = ProfileTable(np.column_stack([counts.to_numpy(), spike]), counts.index,
                              [*counts.columns, "spike"])
    ids = list(counts.index)
    options = {"fixed": ["covariate_age"], "prevalence_model": True, "min_prevalence": 0.3}
    by_spike = associate(Cohort(with_spike, cohort.metadata),
                         unscaled=_frame("spike", list(amount), ids), **options)
    implied = amount * counts.sum(axis=1).to_numpy() / spike
    by_total = associate(cohort, unscaled=_frame("total", list(implied), ids), **options)
    assert "spike" not in set(by_spike.table.feature)
    assert by_spike.spec.unscaled_abundance == "spike"
    assert by_spike.spec.n_features_input == cohort.table.n_features + 1
    np.testing.assert_allclose(by_spike.values.to_numpy(), by_total.values.to_numpy(),
                               rtol=1e-12)


def test_median_comparison_is_off_with_scaled_abundance_and_warned_when_asked(
        fibromyalgia_dir: Path):
    cohort = read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                         fibromyalgia_dir / "metadata.tsv")
    load = read_metadata(REF / "fibro_total_load.tsv")
    options = {"fixed": ["covariate_age"], "prevalence_model": True, "min_prevalence": 0.3,
               "unscaled": load}
    assert associate(cohort, **options).spec.median_comparison_abundance is False
    with pytest.warns(UserWarning, match="MaAsLin 3 refuses it"):
        res = associate(cohort, median_comparison_abundance=True, **options)
    assert res.spec.median_comparison_abundance is True

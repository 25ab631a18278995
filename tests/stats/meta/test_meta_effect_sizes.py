"""Effect sizes from what papers report: CIs, p-values, SEs and change scores, each
recorded per study; and the rules a study row must keep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.meta import StudyEffects, effect_sizes

Z = stats.norm.isf(0.025)


def test_a_ratio_and_its_ci_become_a_log_ratio_and_its_variance():
    table = pd.DataFrame({"estimate": [0.5], "ci_low": [0.3], "ci_high": [0.83]})
    out = effect_sizes(table, measure="OR")
    assert out.yi[0] == pytest.approx(np.log(0.5))
    assert out.vi[0] == pytest.approx(((np.log(0.83) - np.log(0.3)) / (2 * Z)) ** 2)
    assert out.conversion == ("ci",)


def test_a_difference_and_its_p_value_give_the_standard_error():
    table = pd.DataFrame({"estimate": [-2.0], "pval": [0.04]})
    out = effect_sizes(table, measure="MD")
    assert np.sqrt(out.vi[0]) == pytest.approx(2.0 / stats.norm.isf(0.02))
    assert out.conversion == ("p_value",)


def test_an_arm_sd_comes_from_its_standard_error():
    table = pd.DataFrame({"mean_t": [10.0], "se_t": [0.5], "n_t": [16], "mean_c": [8.0],
                          "sd_c": [2.0], "n_c": [16]})
    out = effect_sizes(table, measure="MD")
    assert out.vi[0] == pytest.approx(2.0**2 / 16 + 2.0**2 / 16)  # sd_t = 0.5 * 4
    assert out.conversion == ("sd_from_se",)


def test_change_score_sds_come_from_baseline_and_follow_up_sds_and_their_correlation():
    table = pd.DataFrame({"mean_t": [-3.0], "sd_pre_t": [4.0], "sd_post_t": [5.0],
                          "n_t": [20], "mean_c": [-1.0], "sd_pre_c": [4.0],
                          "sd_post_c": [5.0], "n_c": [20], "r": [0.6]})
    out = effect_sizes(table, measure="MD")
    sd2 = 4.0**2 + 5.0**2 - 2 * 0.6 * 4.0 * 5.0
    assert out.vi[0] == pytest.approx(2 * sd2 / 20)
    assert out.conversion == ("change_scores",)


def test_each_study_uses_the_first_complete_source_and_records_it():
    table = pd.DataFrame({
        "study": ["raw", "given", "from_ci", "from_p"],
        "mean_t": [5, None, None, None], "sd_t": [1, None, None, None],
        "n_t": [10, None, None, None], "mean_c": [4, None, None, None],
        "sd_c": [1, None, None, None], "n_c": [10, None, None, None],
        "yi": [None, 0.3, None, None], "sei": [None, 0.1, None, None],
        "estimate": [None, None, 0.2, 0.4], "ci_low": [None, None, 0.0, None],
        "ci_high": [None, None, 0.4, None], "pval": [None, None, None, 0.01]})
    out = effect_sizes(table, measure="SMD")
    assert out.conversion == ("raw", "yi_sei", "ci", "p_value")
    assert out.vi[1] == pytest.approx(0.01)
    assert out.to_frame().columns.tolist() == ["study", "yi", "vi", "sei", "conversion",
                                                "zero_cells"]
    assert "1 raw" in out.summary()


def test_zero_cells_add_a_half_to_that_study_only():
    table = pd.DataFrame({"events_t": [0, 5], "n_t": [10, 10], "events_c": [3, 2],
                          "n_c": [10, 10]})
    out = effect_sizes(table, measure="OR")
    assert list(out.zero_cells) == [True, False]
    assert out.yi[0] == pytest.approx(np.log((0.5 / 10.5) / (3.5 / 7.5)))
    assert out.yi[1] == pytest.approx(np.log((5 / 5) / (2 / 8)))
    assert "1/2 added" in out.summary()


def test_from_arrays_and_subset_keep_studies_aligned():
    out = StudyEffects.from_arrays([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], study=["a", "b", "c"])
    part = out.subset(np.array([True, False, True]))
    assert part.study == ("a", "c")
    assert list(part.vi) == [0.01, 0.03]


@pytest.mark.parametrize("columns, measure, message", [
    ({"mean_t": [1, 2], "sd_t": [-1, 1], "n_t": [5, 5], "mean_c": [1, 1], "sd_c": [1, 1],
      "n_c": [5, 5]}, "MD", "row 2, field 'sd_t': negative standard deviation"),
    ({"events_t": [3, 9], "n_t": [10, 8], "events_c": [1, 1], "n_c": [10, 10]}, "RR",
     "row 3, field 'events_t': more events than participants"),
    ({"events_t": [3, 2], "n_t": [10, 1], "events_c": [1, 1], "n_c": [10, 10]}, "RR",
     "row 3, field 'n_t': a group needs at least 2 participants"),
    ({"mean_t": [1, 2], "n_t": [5, 5], "mean_c": [1, 1], "n_c": [5, 5]}, "SMD",
     "missing column(s) sd_t, sd_c"),
    ({"yi": [0.1, "x"], "vi": [0.1, 0.1]}, "GEN", "row 3, field 'yi': not a number"),
    ({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, "GEN", "row 3, field 'vi'"),
    ({"mean_t": [1, -2], "sd_t": [1, 1], "n_t": [5, 5], "mean_c": [1, 1], "sd_c": [1, 1],
      "n_c": [5, 5]}, "ROM", "row 3, field 'mean_t': ROM needs positive means"),
    ({"estimate": [0.5, 2], "ci_low": [0.3, -1], "ci_high": [0.8, 3]}, "OR",
     "row 3, field 'ci_low': a ratio must be > 0"),
])
def test_bad_rows_are_named_with_row_and_field(columns, measure, message):
    with pytest.raises(InputError) as caught:
        effect_sizes(pd.DataFrame(columns), measure=measure, source="t.csv")
    assert message in str(caught.value)
    assert str(caught.value).startswith("t.csv")

"""A Cohort carries its longitudinal record and turns it into aligned metadata columns.

Small cases are computed by hand (each expected value is written beside the reasoning);
the rolling joins on HMP2's 1,595 samples are R data.table's (tests/reference/join).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data import Cohort, Measurements, ProfileTable
from gutaxis.errors import InputError
from gutaxis.instruments.record import record_from_answers, score_record
from gutaxis.stats import associate

# The references (R's lm / lmerTest, MaAsLin 2) test coefficients against zero: the scans
# here turn MaAsLin 3's median comparison (gutaxis's default) off.
associate = partial(associate, median_comparison_abundance=False)

if TYPE_CHECKING:
    from tests.data.conftest import DiaryJoin

SAMPLES = ["s1", "s2", "s3", "s4"]


def small_record() -> Measurements:
    """p1: samples 03-01 and 03-10; p2: samples 03-02 and 03-20 (09:00 UTC).
    NRS pain: p1 6 (03-01 08:00), 4 (03-10 20:00); p2 7 (03-02 07:00), 5 (03-12 09:00).
    CRP: p1 10 mg/L (02-25), 0.3 mg/dL = 3 mg/L (03-09); p2 5 mg/L (03-03, after s3),
    2 mg/L (03-18)."""
    admins = pd.DataFrame({"administration_id": ["a1", "a2", "a3", "a4"],
                           "subject": ["p1", "p1", "p2", "p2"],
                           "time": ["2024-03-01T08:00Z", "2024-03-10T20:00Z",
                                    "2024-03-02T07:00Z", "2024-03-12T09:00Z"],
                           "instrument": "nrs"})
    labs = pd.DataFrame({"subject": ["p1", "p1", "p2", "p2"],
                         "time": ["2024-02-25T08:00Z", "2024-03-09T08:00Z",
                                  "2024-03-03T08:00Z", "2024-03-18T08:00Z"],
                         "analyte": "CRP", "reported_value": [10, 0.3, 5, 2],
                         "reported_unit": ["mg/L", "mg/dL", "mg/L", "mg/L"]})
    samples = pd.DataFrame({"sample_id": SAMPLES, "subject": ["p1", "p1", "p2", "p2"],
                            "time": ["2024-03-01T09:00Z", "2024-03-10T09:00Z",
                                     "2024-03-02T09:00Z", "2024-03-20T09:00Z"]})
    return score_record(record_from_answers(
        administrations=admins,
        responses=pd.DataFrame({"administration_id": admins["administration_id"],
                                "item": "pain", "answer": [6, 4, 7, 5]}),
        labs=labs, samples=samples))


def small_cohort(counts: np.ndarray | None = None) -> Cohort:
    values = np.ones((4, 1)) if counts is None else counts
    table = ProfileTable(sp.csr_array(values), SAMPLES,
                         [f"f{j}" for j in range(values.shape[1])])
    meta = pd.DataFrame({"subject": ["p1", "p1", "p2", "p2"]}, index=SAMPLES)
    return Cohort(table, meta, subject_column="subject", record=small_record())


def test_a_cohort_has_an_empty_record_by_default() -> None:
    table = ProfileTable(sp.csr_array(np.ones((2, 1))), ["a", "b"], ["f"])
    cohort = Cohort(table, pd.DataFrame({"x": [1, 2]}, index=["a", "b"]))
    assert cohort.record.is_empty


def test_pain_at_the_samples_date() -> None:
    # nearest NRS within a day: s1 6 (1 h), s2 4 (11 h), s3 7 (2 h), s4 none (8 days)
    cohort = small_cohort().add_from_record("nrs.pain", within="1D", name="pain")
    np.testing.assert_array_equal(cohort.metadata["pain"], [6.0, 4.0, 7.0, np.nan])
    assert cohort.metadata.index.tolist() == SAMPLES


def test_crp_within_seven_days_before() -> None:
    # last CRP at or before the sample, at most 7 days: s1 10 (5 d 1 h before), s2 3 mg/L
    # (0.3 mg/dL, 1 day before), s3 none (the 03-03 value is after), s4 2 (2 days before)
    cohort = small_cohort().add_from_record("crp", rule="last_before", within="7D")
    np.testing.assert_array_equal(cohort.metadata["crp"], [10.0, 3.0, np.nan, 2.0])
    # the same within 5 days loses s1 (5 d 1 h)
    tight = small_cohort().add_from_record("crp", rule="last_before", within="5D", name="c5")
    np.testing.assert_array_equal(tight.metadata["c5"], [np.nan, 3.0, np.nan, 2.0])


def test_change_since_baseline() -> None:
    # baselines: p1's first NRS 6, p2's first 7; at the samples (within a day) 6, 4, 7, none
    cohort = small_cohort().add_from_record("nrs.pain", within="1D",
                                            change_since_baseline=True)
    np.testing.assert_array_equal(cohort.metadata["nrs.pain change"], [0.0, -2.0, 0.0, np.nan])


def test_record_columns_follow_subsetting_and_bad_rules_are_refused() -> None:
    cohort = small_cohort().add_from_record("nrs.pain", within="1D", name="pain")
    part = cohort.subset_samples(["s3", "s2"])
    assert part.metadata["pain"].tolist() == [7.0, 4.0]
    assert part.record.subjects == ["p1", "p2"]
    only_p1 = cohort.subset_samples(["s1"])
    assert only_p1.record.subjects == ["p1"]
    assert only_p1.record.samples["sample_id"].tolist() == ["s1"]
    assert only_p1.record.scores["administration_id"].tolist() == ["a1", "a2"]
    with pytest.raises(InputError, match=r"field 'rule': unknown match rule; found 'closest'"):
        cohort.add_from_record("nrs.pain", rule="closest")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"column 'pain': metadata column already exists"):
        cohort.add_from_record("nrs.pain", name="pain")
    with pytest.raises(InputError, match=r"field 'within': not a time span; found 'a week'"):
        cohort.add_from_record("nrs.pain", within="a week")


def test_a_variable_the_record_lacks_is_refused_listing_what_it_holds() -> None:
    cohort = small_cohort()
    with pytest.raises(InputError, match=r"field 'code': no values of this variable in the "
                                         r"record; found 'nsr.pain'; expected one of crp, "
                                         r"nrs.pain"):
        cohort.add_from_record("nsr.pain")
    with pytest.raises(InputError, match=r"found 'esr'; expected one of crp, nrs.pain"):
        cohort.add_from_record("esr")
    with pytest.raises(InputError, match=r"unknown lab analyte; found 'histamine'"):
        cohort.add_from_record("histamine")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=4, unique=True),
       st.sampled_from(["nearest", "last_before", "first_after"]),
       st.sampled_from(["crp", "nrs.pain"]), st.booleans())
def test_subsetting_then_adding_equals_adding_then_subsetting(
        keep: list[str], rule: str, code: str, change: bool) -> None:
    """The record stays aligned: a column added after subsetting the samples holds the
    values the same samples got before subsetting."""
    whole = small_cohort()
    before = whole.add_from_record(code, rule=rule, within="10D",  # type: ignore[arg-type]
                                   change_since_baseline=change, name="v")
    after = whole.subset_samples(keep).add_from_record(
        code, rule=rule, within="10D", change_since_baseline=change, name="v")  # type: ignore[arg-type]
    np.testing.assert_array_equal(after.metadata["v"], before.metadata.loc[keep, "v"])


def test_a_record_linking_a_sample_to_another_subject_is_refused() -> None:
    table = ProfileTable(sp.csr_array(np.ones((4, 1))), SAMPLES, ["f"])
    meta = pd.DataFrame({"subject": ["p1", "p1", "p2", "p9"]}, index=SAMPLES)
    with pytest.raises(InputError, match=r"row s4, field 'subject': sample linked to a "
                                         r"different subject"):
        Cohort(table, meta, subject_column="subject", record=small_record())


def test_associate_uses_a_column_added_from_the_record() -> None:
    """Untransformed abundances against pain at the sample's date: s4 has no pain score
    within a day and is dropped, leaving an ordinary least-squares fit on s1-s3, solved
    here in closed form."""
    counts = np.array([[3.0, 5.0], [9.0, 1.0], [1.0, 4.0], [8.0, 8.0]])
    cohort = small_cohort(counts).add_from_record("nrs.pain", within="1D", name="pain")
    res = associate(cohort, fixed=["pain"], normalization="NONE", transform="NONE",
                    min_prevalence=0.0)
    pain = np.array([6.0, 4.0, 7.0])
    x = pain - pain.mean()
    slopes = (x @ (counts[:3] - counts[:3].mean(axis=0))) / (x @ x)
    table = res.table.set_index("feature")
    np.testing.assert_allclose(table.loc[["f0", "f1"], "coef"], slopes, rtol=1e-10)
    assert table["n"].tolist() == [3, 3]


@pytest.mark.realdata
def test_record_columns_match_r_data_table_on_hmp2(hmp2_pain_diary: DiaryJoin) -> None:
    """tests/reference/join: the R data.table rolling joins of a simulated pain diary
    onto HMP2's 1,595 samples, now through the Cohort. Exact equality."""
    bare, record, expected = hmp2_pain_diary
    cohort = (replace(bare, record=record)
              .add_from_record("nrs.pain", rule="nearest", within="7D", name="nearest_7d")
              .add_from_record("nrs.pain", rule="last_before", within="10D",
                               name="last_before_10d")
              .add_from_record("nrs.pain", within=None, name="nearest_any"))
    for column in ("nearest_7d", "last_before_10d", "nearest_any"):
        np.testing.assert_array_equal(
            cohort.metadata[column].to_numpy(dtype=float),
            expected.loc[cohort.sample_ids, column].to_numpy(dtype=float), err_msg=column)

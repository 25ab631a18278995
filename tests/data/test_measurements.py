"""Measurements: validation at the door, the cohort join, change since baseline.

The join is checked against a brute-force reference (a plain loop over samples and
measurements) on the real HMP2 cohort's structure: 1,595 samples of 130 subjects with
their real visit sequence (``collection``), placed two weeks apart as the HMP2 protocol
sampled, and pain scores at jittered times. Equality is exact (same floats picked).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data import Cohort, ProfileTable
from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError
from gutaxis.instruments.record import record_from_answers, score_record

if TYPE_CHECKING:
    from tests.data.conftest import DiaryJoin

T0 = pd.Timestamp("2024-01-01T00:00:00Z")


def nrs_record(subjects: list[str], times: list[str], pains: list[int], **tables: pd.DataFrame
               ) -> Measurements:
    ids = [f"a{i}" for i in range(len(subjects))]
    return score_record(record_from_answers(
        administrations=pd.DataFrame({"administration_id": ids, "subject": subjects,
                                      "time": times, "instrument": "nrs"}),
        responses=pd.DataFrame({"administration_id": ids, "item": "pain", "answer": pains}),
        **tables))


def cohort_of(samples: list[str], **metadata: list[object]) -> Cohort:
    table = ProfileTable(sp.csr_array(np.ones((len(samples), 1))), samples, ["f1"])
    meta = pd.DataFrame(metadata or {"x": [0] * len(samples)}, index=samples)
    return Cohort(table, meta, subject_column="subject" if "subject" in metadata else None,
                  time_column="time" if "time" in metadata else None)


# ----------------------------------------------------------------- validation
def test_times_are_utc_instants_and_labs_are_converted() -> None:
    m = Measurements(labs=pd.DataFrame({
        "subject": ["p1", "p1"], "time": ["2024-03-01T08:00:00+01:00", "2024-03-02T07:00Z"],
        "analyte": ["CRP", "faecal calprotectin"], "reported_value": [0.81, 0.2],
        "reported_unit": ["mg/dL", "mg/g"]}))
    assert str(m.labs["time"].dtype) == "datetime64[us, UTC]"
    assert m.labs["time"].iloc[0] == pd.Timestamp("2024-03-01T07:00Z")
    assert m.labs[["analyte", "value", "unit"]].values.tolist() == [
        ["crp", 8.1, "mg/L"], ["calprotectin", 200.0, "ug/g"]]
    assert m.labs["reported_unit"].tolist() == ["mg/dL", "mg/g"]


def test_answers_are_canonical_and_unanswered_items_dropped() -> None:
    m = record_from_answers(
        administrations=pd.DataFrame({"administration_id": ["b"], "subject": ["p"],
                                      "time": ["2024-03-01T08:00Z"], "instrument": ["bpi-sf"]}),
        responses=pd.DataFrame({"administration_id": "b",
                                "item": ["q1_pain_today", "q3_worst_pain", "q4_least_pain"],
                                "answer": ["yes", 7.0, None]}))
    assert m.responses[["item", "answer"]].values.tolist() == [["q1_pain_today", "true"],
                                                               ["q3_worst_pain", "7"]]


@pytest.mark.parametrize(("tables", "message"), [
    ({"administrations": pd.DataFrame({"subject": ["p"], "time": ["2024-03-01T08:00Z"],
                                       "instrument": ["womac-x"]})},
     r"row 1, field 'instrument': unknown instrument; found 'womac-x'"),
    ({"administrations": pd.DataFrame({"subject": ["p"], "time": ["2024-03-01 08:00"],
                                       "instrument": ["nrs"]})},
     r"row 1, column 'time': a time without a timezone"),
    ({"administrations": pd.DataFrame({"subject": ["p"], "time": ["2024-03-01"],
                                       "instrument": ["nrs"]})},
     r"a date without a timezone"),
    ({"labs": pd.DataFrame({"subject": ["p", "p"], "time": ["2024-03-01T08:00Z"] * 2,
                            "analyte": ["crp", "esr"], "reported_value": [1, 2],
                            "reported_unit": ["mg/L", "mg/L"]})},
     r"row 2, field 'unit': Erythrocyte sedimentation rate \(Westergren\): cannot convert "
     r"mg/L"),
    ({"labs": pd.DataFrame({"subject": ["p"], "time": ["2024-03-01T08:00Z"],
                            "analyte": ["histamine"], "reported_value": [1],
                            "reported_unit": ["ng/mL"]})},
     r"field 'analyte': unknown lab analyte; found 'histamine'"),
    ({"labs": pd.DataFrame({"subject": ["p"], "time": ["2024-03-01T08:00Z"],
                            "analyte": ["crp"], "reported_value": ["high"],
                            "reported_unit": ["mg/L"]})},
     r"lab value is not a finite number; found 'high'"),
    ({"interventions": pd.DataFrame({"subject": ["p"], "type": ["yoga retreat"],
                                     "start": ["2024-03-01T08:00Z"]})},
     r"field 'type': unknown intervention type"),
    ({"interventions": pd.DataFrame({"subject": ["p"], "type": ["diet"],
                                     "start": ["2024-03-05T08:00Z"],
                                     "stop": ["2024-03-01T08:00Z"]})},
     r"intervention stops before it starts"),
    ({"samples": pd.DataFrame({"sample_id": ["s1", "s1"], "subject": ["p", "p"],
                               "time": ["2024-03-01T08:00Z"] * 2})},
     r"row 2, field 'sample_id': duplicate sample_id; found 's1'"),
    ({"samples": pd.DataFrame({"sample_id": ["s1", "s2"], "subject": ["p", "p"],
                               "time": pd.to_datetime(["2024-03-01T08:00Z", None])})},
     r"row 2, column 'time': time is missing"),
    ({"labs": pd.DataFrame({"subject": ["p"], "time": pd.to_datetime([None]).tz_localize(None),
                            "analyte": ["crp"], "reported_value": [1],
                            "reported_unit": ["mg/L"]})},
     r"row 1, column 'time': time is missing"),
])
def test_bad_input_is_refused_naming_row_and_field(tables: dict[str, pd.DataFrame],
                                                   message: str) -> None:
    with pytest.raises(InputError, match=message):
        record_from_answers(**tables, source="record")


def test_unknown_item_and_out_of_range_answer_name_the_row() -> None:
    admins = pd.DataFrame({"administration_id": ["a", "b"], "subject": ["p", "p"],
                           "time": ["2024-03-01T08:00Z", "2024-03-02T08:00Z"],
                           "instrument": "nrs", "source_row": [5, 6]})
    with pytest.raises(InputError, match=r"row 8, field 'worst'.*unknown item for nrs@11"):
        record_from_answers(administrations=admins, responses=pd.DataFrame({
            "administration_id": ["a", "b"], "item": ["pain", "worst"], "answer": [3, 4],
            "source_row": [7, 8]}))
    with pytest.raises(InputError, match=r"row 2, field 'pain': answer above the allowed "
                                         r"range; found 11; expected an integer from 0 to 10"):
        record_from_answers(administrations=admins, responses=pd.DataFrame({
            "administration_id": ["a", "b"], "item": "pain", "answer": [3, 11]}))
    with pytest.raises(InputError, match=r"no such administration; found 'zz'"):
        record_from_answers(administrations=admins, responses=pd.DataFrame({
            "administration_id": ["zz"], "item": ["pain"], "answer": [3]}))


def test_empty_record() -> None:
    m = Measurements()
    assert m.is_empty and m.subjects == []
    assert score_record(m).scores.empty


def test_local_times_need_a_timezone_and_dst_gaps_are_refused() -> None:
    from gutaxis.data.timestamps import parse_times

    out = parse_times(["2024-03-30 08:00", "2024-04-02 08:00"], timezone="Europe/Berlin")
    assert out.tolist() == [pd.Timestamp("2024-03-30T07:00Z"), pd.Timestamp("2024-04-02T06:00Z")]
    with pytest.raises(InputError, match=r"row 1, column 'time': local time does not exist"):
        parse_times(["2024-03-31 02:30"], timezone="Europe/Berlin")
    with pytest.raises(InputError, match="unknown timezone"):
        parse_times(["2024-03-31 02:30"], timezone="Mars/Olympus")


# --------------------------------------------------------------- cohort join
def test_at_samples_nearest_last_before_and_tolerance() -> None:
    m = nrs_record(["p1", "p1", "p2"],
                   ["2024-03-01T08:00Z", "2024-03-15T08:00Z", "2024-03-02T09:00Z"], [6, 3, 7],
                   samples=pd.DataFrame({"sample_id": ["s1", "s2", "s3"],
                                         "subject": ["p1", "p1", "p2"],
                                         "time": ["2024-03-03T10:00Z", "2024-03-12T10:00Z",
                                                  "2024-03-20T10:00Z"]}))
    cohort = cohort_of(["s1", "s2", "s3"])
    assert m.at_samples(cohort, "nrs.pain").tolist()[:2] == [6.0, 3.0]
    assert np.isnan(m.at_samples(cohort, "nrs.pain").iloc[2])        # 18 days > 7D
    assert m.at_samples(cohort, "nrs.pain", how="last-before", tolerance=None).tolist() == [
        6.0, 6.0, 7.0]
    first_after = m.at_samples(cohort, "nrs@11.pain", how="first-after", tolerance="30D")
    assert first_after.iloc[:2].tolist() == [3.0, 3.0] and np.isnan(first_after.iloc[2])


def test_change_since_baseline_absolute_relative_and_at_intervention() -> None:
    samples = pd.DataFrame({"sample_id": ["s1", "s2", "s3"], "subject": ["p1", "p1", "p1"],
                            "time": ["2024-03-01T09:00Z", "2024-03-10T09:00Z",
                                     "2024-03-20T09:00Z"]})
    m = nrs_record(["p1"] * 4, ["2024-02-20T08:00Z", "2024-03-01T08:00Z", "2024-03-10T08:00Z",
                                "2024-03-20T08:00Z"], [8, 6, 4, 3], samples=samples,
                   interventions=pd.DataFrame({"subject": ["p1"], "type": ["probiotic"],
                                               "start": ["2024-03-05T00:00Z"]}))
    cohort = cohort_of(["s1", "s2", "s3"])
    assert m.change_since_baseline(cohort, "nrs.pain").tolist() == [-2.0, -4.0, -5.0]
    assert m.change_since_baseline(cohort, "nrs.pain", baseline="first-sample").tolist() == [
        0.0, -2.0, -3.0]
    assert m.change_since_baseline(cohort, "nrs.pain", relative=True).tolist() == [
        -25.0, -50.0, -62.5]
    assert m.change_since_baseline(cohort, "nrs.pain", baseline="intervention").tolist() == [
        0.0, -2.0, -3.0]
    assert m.change_since_baseline(cohort, "nrs.pain", baseline="intervention",
                                   intervention_type="Probiotic").tolist() == [0.0, -2.0, -3.0]
    with pytest.raises(InputError, match=r"field 'intervention_type': unknown intervention"):
        m.change_since_baseline(cohort, "nrs.pain", baseline="intervention",
                                intervention_type="probiotics")
    active = m.interventions_at_samples(cohort)
    assert active["active"].tolist() == [False, True, True]
    assert active["days_since_start"].iloc[1] == pytest.approx(5 + 9 / 24)


def test_lab_values_at_samples_in_canonical_units() -> None:
    m = Measurements(
        labs=pd.DataFrame({"subject": ["p1", "p1"], "time": ["2024-03-01T08:00Z",
                                                             "2024-03-09T08:00Z"],
                           "analyte": ["crp", "crp"], "reported_value": [0.5, 12],
                           "reported_unit": ["mg/dL", "mg/L"]}),
        samples=pd.DataFrame({"sample_id": ["s1", "s2"], "subject": ["p1", "p1"],
                              "time": ["2024-03-02T08:00Z", "2024-03-08T08:00Z"]}))
    assert m.at_samples(cohort_of(["s1", "s2"]), lab="CRP").tolist() == [5.0, 12.0]


def test_sample_times_from_the_cohort_metadata_and_conflicts() -> None:
    m = nrs_record(["p1"], ["2024-03-01T08:00Z"], [4])
    cohort = cohort_of(["s1", "s2"], subject=["p1", "p1"],
                       time=["2024-03-02T08:00+01:00", "2024-04-02T08:00Z"])
    out = m.at_samples(cohort, "nrs.pain")
    assert out.iloc[0] == 4.0 and np.isnan(out.iloc[1])
    numeric = cohort_of(["s1"], subject=["p1"], time=[1])
    with pytest.raises(InputError, match="cohort time column holds numbers"):
        m.at_samples(numeric, "nrs.pain")
    with pytest.raises(InputError, match=r"1 sample\(s\) have no collection time"):
        m.at_samples(cohort_of(["s9"]), "nrs.pain")
    linked = nrs_record(["p1"], ["2024-03-01T08:00Z"], [4], samples=pd.DataFrame(
        {"sample_id": ["s1"], "subject": ["p2"], "time": ["2024-03-01T08:00Z"]}))
    with pytest.raises(InputError, match="linked to a different subject"):
        linked.at_samples(cohort_of(["s1"], subject=["p1"]), "nrs.pain")


def test_variable_names_are_checked() -> None:
    m = nrs_record(["p1"], ["2024-03-01T08:00Z"], [4])
    with pytest.raises(InputError, match="unknown score for nrs@11"):
        m.series("nrs.worst")
    with pytest.raises(InputError, match="name exactly one variable"):
        m.series("nrs.pain", lab="crp")
    with pytest.raises(InputError, match="not an instrument score"):
        m.series("nrs")


def brute_force_match(samples: pd.DataFrame, obs: pd.DataFrame, how: str,
                      tolerance: pd.Timedelta | None) -> np.ndarray:
    """The reference: for each sample, scan the subject's measurements one by one."""
    out = np.full(len(samples), np.nan)
    by_subject = {s: g for s, g in obs.groupby("subject")}
    for i, (subject, time) in enumerate(zip(samples["subject"], samples["time"],
                                            strict=True)):
        best, best_gap, best_time = np.nan, None, None
        for t, v in zip(by_subject.get(subject, obs.iloc[:0])["time"],
                        by_subject.get(subject, obs.iloc[:0])["value"], strict=True):
            gap = time - t
            if how == "last-before" and gap < pd.Timedelta(0):
                continue
            size = abs(gap)
            if tolerance is not None and size > tolerance:
                continue
            if best_gap is None or size < best_gap or (size == best_gap and t < best_time):
                best, best_gap, best_time = v, size, t
        out[i] = best
    return out


@pytest.mark.realdata
@pytest.mark.parametrize(("how", "tolerance"), [("nearest", "7D"), ("last-before", "10D"),
                                                ("nearest", None)])
def test_join_matches_brute_force_on_hmp2_visit_structure(hmp2_dir: Path, how: str,
                                                          tolerance: str | None) -> None:
    meta = pd.read_csv(hmp2_dir / "HMP2_metadata.tsv", sep="\t", index_col="ID")
    assert len(meta) == 1595 and meta["subject"].nunique() == 130
    rng = np.random.default_rng(20240301)
    when = T0 + pd.to_timedelta(14 * (meta["collection"].to_numpy() - 1), unit="D")
    samples = pd.DataFrame({"sample_id": meta.index, "subject": meta["subject"].astype(str),
                            "time": when})
    # pain diaries: about 3 entries per sample, jittered +- 12 days, distinct instants
    n = 3 * len(meta)
    pick = rng.integers(0, len(meta), n)
    jitter = pd.to_timedelta(rng.integers(-12 * 86400, 12 * 86400, n), unit="s")
    times = (when[pick] + jitter + pd.to_timedelta(np.arange(n), unit="ms"))
    pains = rng.integers(0, 11, n)
    m = score_record(record_from_answers(
        administrations=pd.DataFrame({"administration_id": [f"a{i}" for i in range(n)],
                                      "subject": samples["subject"].to_numpy()[pick],
                                      "time": times, "instrument": "nrs"}),
        responses=pd.DataFrame({"administration_id": [f"a{i}" for i in range(n)],
                                "item": "pain", "answer": pains}),
        samples=samples))
    table = ProfileTable(sp.csr_array(np.ones((len(meta), 1))), meta.index.to_numpy(), ["f"])
    cohort = Cohort(table, meta, subject_column="subject")
    got = m.at_samples(cohort, "nrs.pain", how=how, tolerance=tolerance)  # type: ignore[arg-type]
    ordered = m.sample_times(cohort)
    expected = brute_force_match(ordered, m.series("nrs.pain"), how,
                                 None if tolerance is None else pd.Timedelta(tolerance))
    np.testing.assert_array_equal(got.to_numpy(), expected)
    assert got.notna().mean() > 0.5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p1", "p2"]), st.integers(0, 60 * 24 * 30),
                          st.integers(0, 10)), min_size=1, max_size=15, unique_by=lambda t: t[:2]),
       st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(0, 60 * 24 * 30)),
                min_size=1, max_size=8),
       st.sampled_from(["nearest", "last-before"]), st.integers(1, 20))
def test_join_property_matches_brute_force(obs: list[tuple[str, int, int]],
                                           samples: list[tuple[str, int]], how: str,
                                           days: int) -> None:
    minutes = pd.to_timedelta([o[1] for o in obs], unit="min")
    m = nrs_record([o[0] for o in obs], list(T0 + minutes), [o[2] for o in obs],
                   samples=pd.DataFrame({
                       "sample_id": [f"s{i}" for i in range(len(samples))],
                       "subject": [s[0] for s in samples],
                       "time": T0 + pd.to_timedelta([s[1] for s in samples], unit="min")}))
    cohort = cohort_of([f"s{i}" for i in range(len(samples))])
    got = m.at_samples(cohort, "nrs.pain", how=how, tolerance=f"{days}D")  # type: ignore[arg-type]
    expected = brute_force_match(m.sample_times(cohort), m.series("nrs.pain"), how,
                                 pd.Timedelta(days=days))
    np.testing.assert_array_equal(got.to_numpy(), expected)


def test_variables_with_no_measurements_give_nan_not_errors() -> None:
    m = Measurements(samples=pd.DataFrame({"sample_id": ["s1"], "subject": ["p"],
                                           "time": ["2024-01-01T00:00Z"]}))
    cohort = cohort_of(["s1"])
    assert m.at_samples(cohort, "nrs.pain").isna().all()
    assert m.at_samples(cohort, lab="crp").isna().all()
    assert m.change_since_baseline(cohort, "nrs.pain", baseline="intervention").isna().all()
    assert not m.interventions_at_samples(cohort)["active"].any()


@given(st.lists(st.datetimes(min_value=pd.Timestamp("1972-01-01").to_pydatetime(),
                             max_value=pd.Timestamp("2200-01-01").to_pydatetime()),
                max_size=20),
       st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"]))
def test_time_text_round_trips_exactly(moments: list[object], zone: str) -> None:
    from zoneinfo import ZoneInfo

    from gutaxis.data.timestamps import format_times, parse_times

    aware = pd.Series([pd.Timestamp(m).tz_localize("UTC").tz_convert(ZoneInfo(zone))
                       .isoformat() for m in moments], dtype=object)
    parsed = parse_times(aware)
    again = parse_times(format_times(parsed))
    pd.testing.assert_series_equal(parsed, again)
    assert all(text.endswith("+00:00") for text in format_times(parsed))


def test_overlapping_interventions_report_the_latest_started() -> None:
    m = Measurements(
        interventions=pd.DataFrame({
            "intervention_id": ["diet", "lgg"], "subject": ["p1", "p1"],
            "type": ["diet", "probiotic"], "start": ["2024-03-01T00:00Z", "2024-03-10T00:00Z"],
            "stop": ["2024-03-31T00:00Z", None]}),
        samples=pd.DataFrame({"sample_id": ["s1", "s2", "s3"], "subject": "p1",
                              "time": ["2024-03-05T00:00Z", "2024-03-12T00:00Z",
                                       "2024-04-05T00:00Z"]}))
    cohort = cohort_of(["s1", "s2", "s3"])
    both = m.interventions_at_samples(cohort)
    assert both["intervention_id"].tolist() == ["diet", "lgg", "lgg"]
    assert both["days_since_start"].tolist() == [4.0, 2.0, 26.0]
    diet = m.interventions_at_samples(cohort, type="diet")
    assert diet["active"].tolist() == [True, True, False]
    lgg = m.interventions_at_samples(cohort, type="Probiotic")
    assert lgg["active"].tolist() == [False, True, True]
    with pytest.raises(InputError, match=r"field 'type': unknown intervention type; found "
                                         r"'yoga'"):
        m.interventions_at_samples(cohort, type="yoga")


@pytest.mark.realdata
def test_join_matches_r_data_table_rolling_joins_on_hmp2(hmp2_pain_diary: DiaryJoin) -> None:
    """tests/reference/join: R data.table 1.14.8 rolling joins (roll="nearest" and
    roll=+10 days, with the same tolerance filters) of an R-simulated pain diary onto the
    1,595 HMP2 samples. Exact equality."""
    cohort, m, expected = hmp2_pain_diary
    for column, how, tolerance in [("nearest_7d", "nearest", "7D"),
                                   ("last_before_10d", "last-before", "10D"),
                                   ("nearest_any", "nearest", None)]:
        got = m.at_samples(cohort, "nrs.pain", how=how, tolerance=tolerance)  # type: ignore[arg-type]
        np.testing.assert_array_equal(got.to_numpy(),
                                      expected.loc[got.index, column].to_numpy(dtype=float),
                                      err_msg=column)


@given(st.integers(-10**40, 10**40), st.integers(0, 80), st.integers(0, 80))
def test_answer_decimal_text_is_exact_at_any_length(numerator: int, twos: int,
                                                    fives: int) -> None:
    """fraction_text against decimal division at 400 digits (enough for every case drawn):
    the same text, and it reads back to the same fraction."""
    from decimal import Decimal, localcontext
    from fractions import Fraction

    from gutaxis.instruments.record import fraction_text

    value = Fraction(numerator, 2**twos * 5**fives)
    with localcontext() as context:
        context.prec = 400
        expected = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    if "." in expected:
        expected = expected.rstrip("0").rstrip(".")
    text = fraction_text(value)
    assert text == expected
    assert Fraction(text) == value


def test_the_record_is_plain_data_and_the_registry_checks_answers() -> None:
    """Measurements stores any instrument name and answer text as given; the instrument
    rules live above it (gutaxis.instruments.record), which refuses the same tables."""
    admins = pd.DataFrame({"administration_id": ["a"], "subject": ["p"],
                           "time": ["2024-03-01T08:00Z"], "instrument": ["home-diary"]})
    answers = pd.DataFrame({"administration_id": ["a"], "item": ["mood"], "answer": [7.5]})
    m = Measurements(administrations=admins, responses=answers)
    assert m.administrations["instrument"].tolist() == ["home-diary"]
    assert m.responses["answer"].tolist() == ["7.5"]
    with pytest.raises(InputError, match=r"row 1, field 'instrument': unknown instrument"):
        record_from_answers(administrations=admins, responses=answers)

"""PSQI component by component at the edges of Buysse 1989's scoring table (research
notes §11: C2 item-2 bins > 15 / > 30 / > 60 minutes and sums 0 / 1-2 / 3-4 / 5-6, C5 sums
0 / 1-9 / 10-18 / 19-27, C7 sums as C2, items 0-3) and the project conventions stated in
the module docstring; expected values are worked by hand in the comments. They pin the
edges mutation testing found unguarded."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.base import RawAnswer, Score
from gutaxis.instruments.sleep import latency_points

#: Every component 0 except where a test changes it: 8 h asleep of 8 h in bed.
ZERO: dict[str, RawAnswer] = dict(
    q1_bedtime="23:00", q2_latency_min=10, q3_rise_time="07:00", q4_sleep_hours=8,
    q5a_latency_30min=0, q5b_wake_night=0, q5c_bathroom=0, q5d_breathing=0,
    q5e_cough_snore=0, q5f_too_cold=0, q5g_too_hot=0, q5h_bad_dreams=0, q5i_pain=0,
    q5j_other=0, q6_sleep_quality=0, q7_medication=0, q8_staying_awake=0, q9_enthusiasm=0)
DISTURBANCES = ("q5b_wake_night", "q5c_bathroom", "q5d_breathing", "q5e_cough_snore",
                "q5f_too_cold", "q5g_too_hot", "q5h_bad_dreams", "q5i_pain", "q5j_other")
COMPONENT_ITEMS = ("q5a_latency_30min", *DISTURBANCES, "q6_sleep_quality", "q7_medication",
                   "q8_staying_awake", "q9_enthusiasm")


def psqi(**changes: RawAnswer) -> Score:
    return get_instrument("psqi").score({**ZERO, **changes})


@pytest.mark.parametrize(("minutes", "points"), [
    (0, 0), (15, 0), (Fraction(31, 2), 1), (30, 1), (Fraction(61, 2), 2), (60, 2),
    (61, 3), (600, 3)])
def test_latency_minutes_bins(minutes: Fraction, points: int) -> None:
    assert latency_points(Fraction(minutes)) == points


@pytest.mark.parametrize(("minutes", "q5a", "c2"), [
    # item-2 points + item 5a: 0 -> 0, 1-2 -> 1, 3-4 -> 2, 5-6 -> 3
    (10, 0, 0), (16, 0, 1), (10, 2, 1), (31, 0, 1), (31, 1, 2), (61, 0, 2),
    (10, 3, 2), (61, 1, 2), (61, 2, 3), (31, 3, 3), (61, 3, 3), (15, 1, 1), (30, 1, 1),
    (60, 1, 2)])
def test_c2_latency_sum_bins(minutes: int, q5a: int, c2: int) -> None:
    score = psqi(q2_latency_min=minutes, q5a_latency_30min=q5a)
    assert score.exact["c2_latency"] == c2 and score.exact["global"] == c2


@pytest.mark.parametrize(("q8", "q9", "c7"), [
    (0, 0, 0), (1, 0, 1), (0, 2, 1), (2, 1, 2), (1, 3, 2), (3, 2, 3), (3, 3, 3)])
def test_c7_daytime_sum_bins(q8: int, q9: int, c7: int) -> None:
    score = psqi(q8_staying_awake=q8, q9_enthusiasm=q9)
    assert score.exact["c7_daytime"] == c7 and score.exact["global"] == c7


@pytest.mark.parametrize(("total", "c5"), [
    (0, 0), (1, 1), (9, 1), (10, 2), (18, 2), (19, 3), (27, 3)])
def test_c5_disturbance_sum_bins(total: int, c5: int) -> None:
    # spread the sum over 5b-5j, 3 points each from the first item on
    answers = {item: min(3, max(0, total - 3 * i)) for i, item in enumerate(DISTURBANCES)}
    assert sum(answers.values()) == total
    score = psqi(**answers)
    assert score.exact["c5_disturbances"] == c5 and score.exact["global"] == c5


def test_global_is_the_sum_of_the_seven_components() -> None:
    # C1 3, C2 (61 min -> 3, + 5a 3 = 6) 3, C3 (4 h) 3, C4 (4 / 8 h = 50 %) 3,
    # C5 (27) 3, C6 3, C7 (3 + 3) 3: the maximum, 21
    score = psqi(q6_sleep_quality=3, q2_latency_min=90, q5a_latency_30min=3,
                 q4_sleep_hours=4, q7_medication=3, q8_staying_awake=3, q9_enthusiasm=3,
                 **dict.fromkeys(DISTURBANCES, 3))
    assert score.exact["global"] == 21 and score.bands["global"] == "poor"
    assert psqi().exact["global"] == 0 and psqi().notes == ()
    assert psqi(q6_sleep_quality=2, q7_medication=1).exact["global"] == 3


def test_efficiency_of_exactly_100_percent_is_not_noted_as_capped() -> None:
    score = psqi()
    assert score.exact["c4_efficiency"] == 0 and score.notes == ()
    over = psqi(q4_sleep_hours=9)
    assert over.exact["c4_efficiency"] == 0
    assert over.notes == ("C4: efficiency 112.5 % > 100 % capped at 100 %",)


@pytest.mark.parametrize(("bed", "rise", "hours", "c4"), [
    # 22:30 -> 06:30 = 8 h in bed; 6.8 h = 85 % -> 0, 6.79 h = 84.9 % -> 1
    ("22:30", "06:30", 6.8, 0), ("22:30", "06:30", 6.79, 1),
    # 00:00 -> 10:00 = 10 h; 7.5 h = 75 % -> 1, 7.49 h -> 2
    ("00:00", "10:00", 7.5, 1), ("00:00", "10:00", 7.49, 2),
    # 20:00 -> 06:00 = 10 h; 6.5 h = 65 % -> 2, 6.49 h -> 3
    ("20:00", "06:00", 6.5, 2), ("20:00", "06:00", 6.49, 3),
    # 23:59 -> 00:01 = 2 minutes across midnight: 1 minute asleep is 50 % -> 3
    ("23:59", "00:01", Fraction(1, 60), 3),
])
def test_c4_efficiency_across_and_within_a_day(bed: str, rise: str, hours: float,
                                               c4: int) -> None:
    score = psqi(q1_bedtime=bed, q3_rise_time=rise, q4_sleep_hours=hours)
    assert score.exact["c4_efficiency"] == c4


def test_equal_bed_and_rise_times_leave_c4_and_global_undefined() -> None:
    score = psqi(q3_rise_time="23:00")
    assert score.values["c4_efficiency"] is None and score.values["global"] is None
    assert score.notes == ("C4: bedtime equals rise time, time in bed undefined: no score",
                           "components not computable: c4_efficiency: no global score")


@pytest.mark.parametrize(("missing", "components"), [
    ("q1_bedtime", ["c4_efficiency"]),
    ("q3_rise_time", ["c4_efficiency"]),
    ("q4_sleep_hours", ["c3_duration", "c4_efficiency"]),
    ("q2_latency_min", ["c2_latency"]),
    ("q5a_latency_30min", ["c2_latency"]),
    ("q6_sleep_quality", ["c1_quality"]),
    ("q7_medication", ["c6_medication"]),
    ("q8_staying_awake", ["c7_daytime"]),
    ("q9_enthusiasm", ["c7_daytime"]),
    ("q5b_wake_night", ["c5_disturbances"]),
    ("q5i_pain", ["c5_disturbances"]),
])
def test_a_missing_item_leaves_its_components_and_the_global_undefined(
        missing: str, components: list[str]) -> None:
    score = psqi(**{missing: None})
    undefined = [name for name, value in score.values.items() if value is None]
    assert undefined == [*components, "global"]
    assert score.notes == (
        "components not computable: " + ", ".join(components) + ": no global score",)
    assert not score.missing_rule_applied


def test_two_missing_components_are_both_named() -> None:
    score = psqi(q6_sleep_quality=None, q9_enthusiasm=None)
    assert score.notes == ("components not computable: c1_quality, c7_daytime: no global "
                           "score",)


def test_answered_5j_is_scored_as_answered() -> None:
    # 5j = 3 with no reason given still counts 3: sum 3 -> C5 1
    score = psqi(q5j_other=3)
    assert score.exact["c5_disturbances"] == 1 and not score.missing_rule_applied
    assert score.notes == ()


def test_unanswered_5j_without_reason_is_scored_0_with_a_note() -> None:
    score = psqi(q5j_other=None, q5b_wake_night=1)
    assert score.exact["c5_disturbances"] == 1 and score.exact["global"] == 1
    assert score.missing_rule_applied
    assert score.notes == ("q5j_other unanswered and no other reason given: scored 0",)


def test_unanswered_5i_is_not_taken_for_5j() -> None:
    score = psqi(q5i_pain=None)
    assert score.values["c5_disturbances"] is None and not score.missing_rule_applied


@pytest.mark.parametrize("item", COMPONENT_ITEMS)
def test_component_items_are_integers_0_to_3(item: str) -> None:
    spec = get_instrument("psqi").item(item)
    assert (spec.id, spec.kind, spec.minimum, spec.maximum) == (item, "integer", 0, 3)
    assert spec.scored and spec.topic
    for bad in (4, -1, 1.5):
        with pytest.raises(InstrumentError):
            psqi(**{item: bad})
    assert psqi(**{item: 3}).values["global"] is not None


def test_component_item_topics() -> None:
    instrument = get_instrument("psqi")
    assert instrument.item("q6_sleep_quality").topic == "overall sleep quality"
    assert instrument.item("q5b_wake_night").topic == "trouble: wake night"
    assert instrument.item("q9_enthusiasm").topic == "problem keeping up enthusiasm"


def test_efficiency_just_above_100_percent_is_capped_and_noted() -> None:
    # 8.04 h asleep of 8 h in bed = 100.5 %
    score = psqi(q4_sleep_hours=8.04)
    assert score.exact["c4_efficiency"] == 0
    assert score.notes == ("C4: efficiency 100.5 % > 100 % capped at 100 %",)

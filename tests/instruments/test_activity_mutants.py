"""IPAQ-SF at the edges of every rule of the 2005 scoring protocol (research notes §10:
categories, the 960-minute exclusion, the 10-minute recode, the 180-minute truncation,
weights 3.3 / 4 / 8) and the form's answer ranges (days 0-7 of the last week, minutes
0-1440 per day); expected values are worked by hand in the comments. They pin the
edges mutation testing found unguarded."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.base import Score

INTENSITIES = ("vigorous", "moderate", "walking")


def ipaq(vig: tuple[float, float | None], mod: tuple[float, float | None],
         walk: tuple[float | None, float | None]) -> Score:
    answers: dict[str, float | None] = {}
    for name, (days, minutes) in zip(INTENSITIES, (vig, mod, walk), strict=True):
        answers[f"{name}_days"] = days
        answers[f"{name}_min_per_day"] = minutes
    return get_instrument("ipaq-sf").score(answers)


@pytest.mark.parametrize(("vig", "mod", "walk", "total", "category"), [
    # high, rule 1: vigorous 3 days, total 8 x 62.5 x 3 = 1500 exactly
    ((3, 62.5), (0, 0), (0, 0), Fraction(1500), "high"),
    # 8 x 62.4 x 3 = 1497.6 < 1500; vigorous 3 days of >= 20 min -> moderate
    ((3, 62.4), (0, 0), (0, 0), Fraction(74880, 50), "moderate"),
    # vigorous on 2 days only: 8 x 100 x 2 = 1600 but 2 combined days -> low
    ((2, 100), (0, 0), (0, 0), Fraction(1600), "low"),
    # high, rule 2: 2 + 5 = 7 combined days, 8 x 120 x 2 + 4 x 54 x 5 = 1920 + 1080 = 3000
    ((2, 120), (5, 54), (0, 0), Fraction(3000), "high"),
    # 1920 + 4 x 53.9 x 5 = 2998 < 3000; moderate on 5 days of >= 30 min -> moderate
    ((2, 120), (5, 53.9), (0, 0), Fraction(2998), "moderate"),
    # 6 combined days: 1920 + 4 x 75 x 4 = 3120 >= 3000 but < 7 days -> moderate
    ((2, 120), (4, 75), (0, 0), Fraction(3120), "moderate"),
    # moderate, rule 1: vigorous 3 days x 20 min = 480, 3 combined days
    ((3, 20), (0, 0), (0, 0), Fraction(480), "moderate"),
    # vigorous 3 days x 19.9 min = 477.6 -> low
    ((3, 19.9), (0, 0), (0, 0), Fraction(4776, 10), "low"),
    # vigorous 2 days x 20 min = 320 -> low
    ((2, 20), (0, 0), (0, 0), Fraction(320), "low"),
    # moderate, rule 2: moderate 3 + walking 2 days of 30 min (4x30x3 + 3.3x30x2 = 558)
    ((0, 0), (3, 30), (2, 30), Fraction(558), "moderate"),
    # walking 29.9 min does not count: 3 qualifying days; 360 + 3.3 x 29.9 x 2 = 557.34
    ((0, 0), (3, 30), (2, 29.9), Fraction(55734, 100), "low"),
    # moderate 29.9 min does not count either: 2 walking days; 4x29.9x3 + 198 = 556.8
    ((0, 0), (3, 29.9), (2, 30), Fraction(5568, 10), "low"),
    # 4 qualifying days: 360 + 99 = 459 -> low
    ((0, 0), (3, 30), (1, 30), Fraction(459), "low"),
    # moderate, rule 3: 1 + 4 = 5 combined days, 8 x 42 + 3.3 x 20 x 4 = 336 + 264 = 600
    ((1, 42), (0, 0), (4, 20), Fraction(600), "moderate"),
    # 8 x 41.9 + 264 = 599.2 < 600 -> low
    ((1, 41.9), (0, 0), (4, 20), Fraction(5992, 10), "low"),
    # 4 combined days: 8 x 60 + 3.3 x 20 x 3 = 480 + 198 = 678 -> low
    ((1, 60), (0, 0), (3, 20), Fraction(678), "low"),
])
def test_category_rules_at_their_edges(vig: tuple[float, float], mod: tuple[float, float],
                                       walk: tuple[float, float], total: Fraction,
                                       category: str) -> None:
    score = ipaq(vig, mod, walk)
    assert score.exact["total_met"] == total
    assert score.bands["category"] == category
    assert score.exact["category"] == {"low": 1, "moderate": 2, "high": 3}[category]


def test_met_minutes_per_intensity_use_weights_8_4_and_3_point_3() -> None:
    score = ipaq((2, 30), (3, 40), (5, 50))
    assert score.exact["vigorous_met"] == 480          # 8 x 30 x 2
    assert score.exact["moderate_met"] == 480          # 4 x 40 x 3
    assert score.exact["walking_met"] == 825           # 3.3 x 50 x 5
    assert score.exact["total_met"] == 1785
    assert not score.missing_rule_applied and score.notes == ()


def test_recoded_bout_loses_its_days_for_the_category() -> None:
    # vigorous 3 days x 9 min -> 0 min and 0 days; moderate 4 x 60 x 2 = 480, walking
    # 3.3 x 30 x 2 = 198: total 678 over 4 combined days -> low (with the 3 vigorous days
    # still counted it would be 7 days; with 1 it would be 5 days >= 600 -> moderate)
    score = ipaq((3, 9), (2, 60), (2, 30))
    assert score.exact["vigorous_met"] == 0 and score.exact["total_met"] == 678
    assert score.bands["category"] == "low"
    assert score.notes == ("vigorous: 9 min/day < 10: recoded to 0 min and 0 days",)
    assert not score.missing_rule_applied


def test_ten_minutes_are_kept_and_zero_minutes_are_not_noted() -> None:
    score = ipaq((0, 0), (2, 10), (0, 0))
    assert score.exact["moderate_met"] == 80 and score.notes == ()


def test_truncation_to_180_minutes_is_noted_above_180_only() -> None:
    at_limit = ipaq((0, 0), (1, 180), (0, 0))
    assert at_limit.exact["moderate_met"] == 720 and at_limit.notes == ()
    above = ipaq((0, 0), (1, 180.5), (6, 10))
    assert above.exact["moderate_met"] == 720 and above.exact["total_met"] == 918
    assert above.notes == ("moderate: 180.5 min/day truncated to 180",)


def test_per_day_sum_above_960_excludes_the_case_with_a_note() -> None:
    # 321 + 320 + 320 = 961 > 960 (exactly 960 is kept: see the worked examples)
    score = ipaq((1, 321), (1, 320), (1, 320))
    assert all(value is None for value in score.values.values())
    assert set(score.values) == {"walking_met", "moderate_met", "vigorous_met",
                                 "total_met", "category"}
    assert score.notes == ("minutes per day sum to 961 > 960: case excluded (IPAQ rule)",)


@pytest.mark.parametrize("missing", INTENSITIES)
def test_missing_minutes_after_days_exclude_the_case(missing: str) -> None:
    pairs: dict[str, tuple[float, float | None]] = dict.fromkeys(INTENSITIES, (2, 30))
    pairs[missing] = (2, None)
    score = ipaq(pairs["vigorous"], pairs["moderate"], pairs["walking"])
    assert all(value is None for value in score.values.values())
    assert score.notes == (f"{missing}: days or minutes missing: case excluded (IPAQ rule)",)
    assert not score.missing_rule_applied


def test_missing_days_exclude_the_case_even_with_minutes() -> None:
    score = ipaq((2, 30), (2, 30), (None, 30))
    assert score.values["total_met"] is None
    assert score.notes == ("walking: days or minutes missing: case excluded (IPAQ rule)",)


def test_skip_pattern_note_and_zero_minutes() -> None:
    score = ipaq((2, 30), (0, None), (1, 30))
    assert score.exact["moderate_met"] == 0 and score.exact["total_met"] == 579
    assert score.notes == ("moderate: 0 days, minutes not asked (skip pattern) -> 0",)
    assert score.missing_rule_applied


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_day_and_minute_items_follow_the_form(intensity: str) -> None:
    instrument = get_instrument("ipaq-sf")
    days = instrument.item(f"{intensity}_days")
    minutes = instrument.item(f"{intensity}_min_per_day")
    assert (days.kind, days.minimum, days.maximum, days.unit) == ("integer", 0, 7, "d/wk")
    assert (minutes.kind, minutes.minimum, minutes.maximum, minutes.unit) == (
        "number", 0, 1440, "min/d")
    assert days.topic == f"days of {intensity} activity, last 7 days"
    assert minutes.topic == f"minutes per day of {intensity} activity"
    assert days.scored and minutes.scored


@pytest.mark.parametrize("intensity", INTENSITIES)
@pytest.mark.parametrize(("suffix", "bad"), [("days", 8), ("days", -1), ("days", 2.5),
                                             ("min_per_day", 1441),
                                             ("min_per_day", -1)])
def test_answers_outside_the_form_are_refused(intensity: str, suffix: str,
                                              bad: float) -> None:
    answers: dict[str, float] = {f"{k}_{s}": 1 for k in INTENSITIES
                                 for s in ("days", "min_per_day")}
    answers[f"{intensity}_{suffix}"] = bad
    with pytest.raises(InstrumentError):
        get_instrument("ipaq-sf").score(answers)


@pytest.mark.parametrize("intensity", INTENSITIES)
def test_answers_at_the_ends_of_the_form_are_accepted(intensity: str) -> None:
    answers: dict[str, float] = {f"{k}_{s}": 0 for k in INTENSITIES
                                 for s in ("days", "min_per_day")}
    answers[f"{intensity}_days"] = 7
    answers[f"{intensity}_min_per_day"] = 1440
    # 1440 min/day > 960: accepted as an answer, then excluded by the protocol
    score = get_instrument("ipaq-sf").score(answers)
    assert score.values["total_met"] is None
    answers[f"{intensity}_min_per_day"] = 12.5
    weight = {"vigorous": Fraction(8), "moderate": Fraction(4),
              "walking": Fraction(33, 10)}[intensity]
    assert get_instrument("ipaq-sf").score(answers).exact["total_met"] == weight * 12.5 * 7


def test_a_one_minute_bout_is_recoded_with_a_note() -> None:
    score = ipaq((2, 1), (0, 0), (0, 0))
    assert score.exact["total_met"] == 0 and score.bands["category"] == "low"
    assert score.notes == ("vigorous: 1 min/day < 10: recoded to 0 min and 0 days",)


def test_skip_pattern_is_recorded_beside_other_notes() -> None:
    # walking 200 min truncated to 180: 8 x 30 x 2 + 3.3 x 180 x 1 = 480 + 594 = 1074
    score = ipaq((2, 30), (0, None), (1, 200))
    assert score.exact["total_met"] == 1074
    assert score.notes == ("moderate: 0 days, minutes not asked (skip pattern) -> 0",
                           "walking: 200 min/day truncated to 180")
    assert score.missing_rule_applied

"""IPAQ-SF, PSQI and the gutaxis diet screener against the notes' vectors (§10-11) and
hand calculations. Exact fractions: 3.3 x 10 x 6 is exactly 198."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.instruments import get_instrument


def ipaq(vig: tuple[int, float | None], mod: tuple[int, float | None],
         walk: tuple[int, float | None]) -> dict[str, float | None]:
    answers: dict[str, float | None] = {}
    for name, (days, minutes) in (("vigorous", vig), ("moderate", mod), ("walking", walk)):
        answers[f"{name}_days"] = days
        answers[f"{name}_min_per_day"] = minutes
    return answers


@pytest.mark.parametrize(("answers", "total", "category"), [
    # 1. 8x25x3 + 4x40x2 + 3.3x30x5 = 600 + 320 + 495 = 1415 -> moderate
    (ipaq((3, 25), (2, 40), (5, 30)), Fraction(1415), "moderate"),
    # 2. vigorous 9 min recoded to 0; walking 3.3x60x7 = 1386 -> moderate (not high)
    (ipaq((3, 9), (0, 0), (7, 60)), Fraction(1386), "moderate"),
    # 3. protocol example: moderate 720 -> 180; 198 + 720 = 918 -> moderate
    (ipaq((0, 0), (1, 720), (6, 10)), Fraction(918), "moderate"),
    # 5. per-day sum exactly 960 kept; 1440 + 720 + 594 = 2754, 3 days -> low
    (ipaq((1, 320), (1, 320), (1, 320)), Fraction(2754), "low"),
    # 6. 8x60x3 + 3.3x30x2 = 1440 + 198 = 1638, vigorous 3 days -> high
    (ipaq((3, 60), (0, 0), (2, 30)), Fraction(1638), "high"),
    # 7. 3.3x20x3 = 198, 3 combined days -> low
    (ipaq((0, 0), (0, 0), (3, 20)), Fraction(198), "low"),
])
def test_ipaq_worked_examples(answers: dict[str, float | None], total: Fraction,
                              category: str) -> None:
    score = get_instrument("ipaq-sf").score(answers)
    assert score.exact["total_met"] == total
    assert score.bands["category"] == category


def test_ipaq_960_exclusion_happens_before_truncation() -> None:
    # 4. per-day 300 + 400 + 300 = 1000 > 960 -> excluded (truncating first would keep it)
    score = get_instrument("ipaq-sf").score(ipaq((2, 300), (3, 400), (5, 300)))
    assert all(v is None for v in score.values.values())
    assert "excluded" in score.notes[0]


def test_ipaq_missing_answer_excludes_the_case() -> None:
    score = get_instrument("ipaq-sf").score(ipaq((3, 25), (2, None), (5, 30)))
    assert score.values["total_met"] is None


def test_ipaq_skip_pattern_is_recorded() -> None:
    score = get_instrument("ipaq-sf").score(ipaq((0, None), (0, None), (3, 20)))
    assert score.exact["total_met"] == 198
    assert score.missing_rule_applied
    assert sum("skip pattern" in note for note in score.notes) == 2


def test_ipaq_high_via_seven_combined_days() -> None:
    # walking 7 x 180 = 4158 >= 3000 with 7 combined days -> high
    score = get_instrument("ipaq-sf").score(ipaq((0, 0), (0, 0), (7, 180)))
    assert score.exact["total_met"] == 4158 and score.bands["category"] == "high"


PSQI_EXAMPLE = dict(
    q1_bedtime="23:00", q2_latency_min=35, q3_rise_time="07:00", q4_sleep_hours=6.5,
    q5a_latency_30min=2, q5b_wake_night=3, q5c_bathroom=1, q5d_breathing=0,
    q5e_cough_snore=1, q5f_too_cold=0, q5g_too_hot=1, q5h_bad_dreams=1, q5i_pain=2,
    q5j_other=0, q6_sleep_quality=2, q7_medication=1, q8_staying_awake=1, q9_enthusiasm=2)


def test_psqi_worked_example() -> None:
    score = get_instrument("psqi").score(PSQI_EXAMPLE)
    # C1 2; C2 35 min -> 2, + 5a 2 = 4 -> 2; C3 6.5 h -> 1; C4 6.5/8 = 81.25 % -> 1;
    # C5 sum 9 -> 1; C6 1; C7 1 + 2 = 3 -> 2; global 10 -> poor
    assert [score.exact[k] for k in ("c1_quality", "c2_latency", "c3_duration",
                                     "c4_efficiency", "c5_disturbances", "c6_medication",
                                     "c7_daytime")] == [2, 2, 1, 1, 1, 1, 2]
    assert score.exact["global"] == 10 and score.bands["global"] == "poor"


@pytest.mark.parametrize(("hours", "c3"), [(7.0, 1), (7.01, 0), (6.0, 1), (5.99, 2),
                                           (5.0, 2), (4.99, 3)])
def test_psqi_duration_boundary_convention(hours: float, c3: int) -> None:
    score = get_instrument("psqi").score({**PSQI_EXAMPLE, "q4_sleep_hours": hours})
    assert score.exact["c3_duration"] == c3


@pytest.mark.parametrize(("hours", "c4"), [(6.8, 0), (6.79, 1), (6.0, 1), (5.99, 2),
                                           (5.2, 2), (5.19, 3), (9.0, 0)])
def test_psqi_efficiency_boundary_convention(hours: float, c4: int) -> None:
    # 8 h in bed: 6.8 h = 85.0 % -> 0 under >= 85; 6.0 h = 75 % -> 1; 5.2 h = 65 % -> 2
    score = get_instrument("psqi").score({**PSQI_EXAMPLE, "q4_sleep_hours": hours})
    assert score.exact["c4_efficiency"] == c4


def test_psqi_efficiency_over_100_is_capped_and_noted() -> None:
    score = get_instrument("psqi").score({**PSQI_EXAMPLE, "q4_sleep_hours": 9})
    assert any("capped" in note for note in score.notes)


@pytest.mark.parametrize(("quality", "band"), [(0, "good"), (1, "poor")])
def test_psqi_global_cut_off_is_greater_than_5(quality: int, band: str) -> None:
    # components all 0 except C1 and the global 5 / 6 boundary via C7 = 3 (5 + 1 = 6)
    base = {**PSQI_EXAMPLE, "q2_latency_min": 10, "q5a_latency_30min": 0,
            "q4_sleep_hours": 7.5, "q5b_wake_night": 0, "q5c_bathroom": 0,
            "q5e_cough_snore": 0, "q5g_too_hot": 0, "q5h_bad_dreams": 0, "q5i_pain": 0,
            "q7_medication": 2, "q8_staying_awake": 3, "q9_enthusiasm": 3,
            "q6_sleep_quality": quality}
    score = get_instrument("psqi").score(base)
    assert score.exact["global"] == 5 + quality
    assert score.bands["global"] == band


def test_psqi_missing_5j_without_reason_is_scored_0_and_recorded() -> None:
    answers = {**PSQI_EXAMPLE, "q5j_other": None}
    score = get_instrument("psqi").score(answers)
    assert score.exact["c5_disturbances"] == 1 and score.missing_rule_applied
    with_reason = get_instrument("psqi").score({**answers, "q5j_other_reason": "noise"})
    assert with_reason.values["c5_disturbances"] is None
    assert with_reason.values["global"] is None


def test_psqi_midnight_crossing_and_equal_times() -> None:
    score = get_instrument("psqi").score({**PSQI_EXAMPLE, "q1_bedtime": "01:00",
                                          "q3_rise_time": "09:00"})
    assert score.exact["c4_efficiency"] == 1
    same = get_instrument("psqi").score({**PSQI_EXAMPLE, "q3_rise_time": "23:00"})
    assert same.values["c4_efficiency"] is None


DIET = dict(fibre_g_per_day=28, fermented_servings_per_day=2, ultra_processed_pct=35,
            added_sugar_g_per_day=40, plant_types_per_week=31)


def test_diet_screener_hand_calculation_and_label() -> None:
    score = get_instrument("gut-diet").score(DIET)
    # fibre 28 in [25, 30) -> 1; fermented 2 in [1, 6) -> 1; UPF 35 in [20, 40) -> 1;
    # sugar 40 g <= 50 g (no energy) -> 1; plants 31 >= 30 -> 2; total 6
    assert score.exact == {"fibre": 1, "fermented": 1, "ultra_processed": 1,
                           "added_sugar": 1, "plant_variety": 2, "total": 6}
    assert "not validated" in get_instrument("gut-diet").name
    assert "gutaxis project instrument, not validated" in score.notes


@pytest.mark.parametrize(("sugar_g", "kcal", "points"), [(24, 2000, 2), (25, 2000, 1),
                                                         (49, 2000, 1), (50, 2000, 0)])
def test_diet_sugar_by_share_of_energy(sugar_g: float, kcal: float, points: int) -> None:
    # 25 g x 4 kcal / 2000 kcal = 5 % (not < 5) -> 1; 50 g -> 10 % -> 0
    score = get_instrument("gut-diet").score({**DIET, "added_sugar_g_per_day": sugar_g,
                                              "energy_kcal_per_day": kcal})
    assert score.exact["added_sugar"] == points


def test_diet_missing_component_leaves_no_total() -> None:
    score = get_instrument("gut-diet").score({**DIET, "fibre_g_per_day": None})
    assert score.values["total"] is None and score.values["plant_variety"] == 2

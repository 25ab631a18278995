"""The gutaxis diet screener at every threshold of its component table (module docstring
of ``gutaxis.instruments.diet``: EFSA 2010 fibre, Wastyk 2021 fermented foods, the project's
ultra-processed convention, WHO 2015 sugars, McDonald 2018 plant variety), written out by
hand; these pin the edges mutation testing found unguarded."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.instruments import get_instrument

#: Answers scoring 1 point on every component (all away from the edges), no energy.
MIDDLE = dict(fibre_g_per_day=27, fermented_servings_per_day=3, ultra_processed_pct=30,
              added_sugar_g_per_day=40, plant_types_per_week=20)
ENERGY_NOTE = ("energy intake not given: added sugar judged by grams (25/50 g approximate "
               "5/10 % of an adult's energy)")
NOT_VALIDATED = "gutaxis project instrument, not validated"
NO_TOTAL = "a component is unanswered: no total"


def points(component: str, **answers: float | None) -> Fraction | None:
    score = get_instrument("gut-diet").score({**MIDDLE, **answers})
    return score.exact[component]


@pytest.mark.parametrize(("grams", "expected"), [
    (0, 0), (24.9, 0), (25, 1), (29.9, 1), (30, 2), (200, 2)])
def test_fibre_thresholds_are_25_and_30_grams_inclusive(grams: float, expected: int) -> None:
    assert points("fibre", fibre_g_per_day=grams) == expected


@pytest.mark.parametrize(("servings", "expected"), [
    (0, 0), (0.9, 0), (1, 1), (5.9, 1), (6, 2), (50, 2)])
def test_fermented_thresholds_are_1_and_6_servings_inclusive(servings: float,
                                                             expected: int) -> None:
    assert points("fermented", fermented_servings_per_day=servings) == expected


@pytest.mark.parametrize(("percent", "expected"), [
    (0, 2), (19.9, 2), (20, 1), (39.9, 1), (40, 0), (100, 0)])
def test_ultra_processed_thresholds_are_below_20_and_below_40_percent(percent: float,
                                                                      expected: int) -> None:
    assert points("ultra_processed", ultra_processed_pct=percent) == expected


@pytest.mark.parametrize(("types", "expected"), [
    (0, 0), (10, 0), (11, 1), (29, 1), (30, 2), (500, 2)])
def test_plant_thresholds_are_more_than_10_and_at_least_30(types: int, expected: int) -> None:
    assert points("plant_variety", plant_types_per_week=types) == expected


@pytest.mark.parametrize(("grams", "expected"), [
    (0, 2), (25, 2), (25.1, 1), (50, 1), (50.1, 0), (1000, 0)])
def test_sugar_without_energy_uses_25_and_50_grams_inclusive(grams: float,
                                                             expected: int) -> None:
    assert points("added_sugar", added_sugar_g_per_day=grams) == expected


@pytest.mark.parametrize(("grams", "kcal", "expected"), [
    # share = grams x 4 kcal/g / kcal x 100: 24.9 g of 2000 kcal = 4.98 % -> 2
    (24.9, 2000, 2), (25, 2000, 1),
    # 12.4 g of 1000 kcal = 4.96 % -> 2; 12.5 g = 5 % -> 1
    (12.4, 1000, 2), (12.5, 1000, 1),
    # 49.9 g of 2000 kcal = 9.98 % -> 1; 100 g of 4000 kcal = 10 % -> 0
    (49.9, 2000, 1), (100, 4000, 0),
    # 30 g of 3000 kcal = 4 % -> 2 (by grams alone it would be 1)
    (30, 3000, 2),
    # 20 g of 500 kcal = 16 % -> 0 (by grams alone it would be 2)
    (20, 500, 0),
])
def test_sugar_with_energy_uses_5_and_10_percent_exclusive(grams: float, kcal: float,
                                                          expected: int) -> None:
    assert points("added_sugar", added_sugar_g_per_day=grams,
                  energy_kcal_per_day=kcal) == expected


def test_total_is_the_sum_of_the_five_components() -> None:
    # fibre 30 -> 2, fermented 0 -> 0, UPF 39 -> 1, sugar 10 g -> 2, plants 5 -> 0: 5
    score = get_instrument("gut-diet").score(dict(
        fibre_g_per_day=30, fermented_servings_per_day=0, ultra_processed_pct=39,
        added_sugar_g_per_day=10, plant_types_per_week=5))
    assert score.exact == {"fibre": 2, "fermented": 0, "ultra_processed": 1,
                           "added_sugar": 2, "plant_variety": 0, "total": 5}


def test_best_and_worst_answers_reach_10_and_0() -> None:
    best = get_instrument("gut-diet").score(dict(
        fibre_g_per_day=40, fermented_servings_per_day=7, ultra_processed_pct=5,
        added_sugar_g_per_day=10, plant_types_per_week=40, energy_kcal_per_day=2500))
    worst = get_instrument("gut-diet").score(dict(
        fibre_g_per_day=5, fermented_servings_per_day=0, ultra_processed_pct=60,
        added_sugar_g_per_day=120, plant_types_per_week=4, energy_kcal_per_day=2000))
    assert best.exact["total"] == 10 and worst.exact["total"] == 0


def test_notes_without_energy_intake() -> None:
    score = get_instrument("gut-diet").score(MIDDLE)
    assert list(score.notes) == [ENERGY_NOTE, NOT_VALIDATED]
    assert score.exact["total"] == 5


def test_notes_with_energy_intake() -> None:
    score = get_instrument("gut-diet").score({**MIDDLE, "energy_kcal_per_day": 2000})
    assert list(score.notes) == [NOT_VALIDATED]


@pytest.mark.parametrize("item", ["fibre_g_per_day", "fermented_servings_per_day",
                                  "ultra_processed_pct", "plant_types_per_week"])
def test_each_unanswered_component_has_no_points_and_no_total(item: str) -> None:
    score = get_instrument("gut-diet").score({**MIDDLE, item: None})
    assert sum(v is None for v in score.values.values()) == 2
    assert score.values["total"] is None
    assert list(score.notes) == [ENERGY_NOTE, NO_TOTAL, NOT_VALIDATED]


def test_unanswered_sugar_has_no_energy_note() -> None:
    score = get_instrument("gut-diet").score({**MIDDLE, "added_sugar_g_per_day": None})
    assert score.values["added_sugar"] is None and score.values["total"] is None
    assert list(score.notes) == [NO_TOTAL, NOT_VALIDATED]
    with_energy = get_instrument("gut-diet").score(
        {**MIDDLE, "added_sugar_g_per_day": None, "energy_kcal_per_day": 2000})
    assert list(with_energy.notes) == [NO_TOTAL, NOT_VALIDATED]

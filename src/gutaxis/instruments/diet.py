"""The gutaxis gut-health diet screener: a gutaxis project instrument, NOT validated.

Five self-reported quantities, each turned into 0, 1 or 2 points by thresholds taken from
public guidance or studies where one exists and from a stated project convention where
none does; the total is 0-10 (higher = closer to the cited guidance). It is a screening
aid for research dashboards, not a validated questionnaire: no psychometric study backs
the total, and the thresholds may change (the scoring version says which were used).

Notes
-----
==========================  =========================  ==================================
component                   points 2 / 1 / 0            basis
==========================  =========================  ==================================
fibre, g/day                >= 30 / [25, 30) / < 25     EFSA 2010 adequate intake 25 g/d
                                                        for normal laxation, benefit above
                                                        25; D-A-CH guiding value >= 30 g/d
fermented foods, serv./day  >= 6 / [1, 6) / < 1         Wastyk 2021: ~6 servings/day in
                                                        the fermented-food arm raised
                                                        microbiota diversity, dose-related
ultra-processed, % energy   < 20 / [20, 40) / >= 40     project convention (NOVA defines
                                                        the group; no official threshold)
added sugar                 < 5 % / [5, 10) % / >= 10 %  WHO 2015 free sugars < 10 % of
                            of energy                   energy, conditionally < 5 %
                            (or <= 25 / <= 50 g/day     (~25 g/day for an adult); grams
                            without energy intake)      used when energy intake is absent
plant types per week        >= 30 / (10, 30) / <= 10    American Gut Project (McDonald
                                                        2018): 30+ plant types/week vs
                                                        10 or fewer, more diverse microbiota
==========================  =========================  ==================================

Added sugar as % of energy = grams x 4 kcal/g / energy (kcal/day) x 100.

References
----------
.. [1] EFSA Panel on Dietetic Products, Nutrition and Allergies. Scientific opinion on
   dietary reference values for carbohydrates and dietary fibre. EFSA J 2010;8:1462.
.. [2] Wastyk HC et al. Gut-microbiota-targeted diets modulate human immune status. Cell
   2021;184:4137-4153.
.. [3] World Health Organization. Guideline: sugars intake for adults and children. 2015.
.. [4] McDonald D et al. American Gut: an open platform for citizen science microbiome
   research. mSystems 2018;3:e00031-18.
.. [5] Monteiro CA et al. Ultra-processed foods, diet quality, and health using the NOVA
   classification system. FAO, 2019.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from gutaxis.instruments.base import (
    Answer,
    Computed,
    Instrument,
    Item,
    ScoreSpec,
    numbers,
    sum_or_none,
)
from gutaxis.instruments.registry import register

_KCAL_PER_G_SUGAR = 4


def _points(*, two: bool, one: bool) -> Fraction:
    return Fraction(2 if two else 1 if one else 0)


def fibre_points(grams: Fraction) -> Fraction:
    """>= 30 g/d -> 2, >= 25 -> 1, else 0."""
    return _points(two=grams >= 30, one=grams >= 25)


def fermented_points(servings: Fraction) -> Fraction:
    """>= 6 servings/d -> 2, >= 1 -> 1, else 0."""
    return _points(two=servings >= 6, one=servings >= 1)


def ultra_processed_points(percent: Fraction) -> Fraction:
    """< 20 % of energy -> 2, < 40 % -> 1, else 0 (project convention)."""
    return _points(two=percent < 20, one=percent < 40)


def plant_points(types: Fraction) -> Fraction:
    """>= 30 plant types/week -> 2, > 10 -> 1, else 0."""
    return _points(two=types >= 30, one=types > 10)


def sugar_points(grams: Fraction, energy_kcal: Fraction | None) -> Fraction:
    """< 5 % of energy -> 2, < 10 % -> 1, else 0; without energy: <= 25 g, <= 50 g."""
    if energy_kcal is None:
        return _points(two=grams <= 25, one=grams <= 50)
    percent = grams * _KCAL_PER_G_SUGAR / energy_kcal * 100
    return _points(two=percent < 5, one=percent < 10)


def score_diet(answers: Mapping[str, Answer]) -> Computed:
    """Five component points (0-2) and their total (0-10)."""
    fibre, fermented, upf, sugar, plants, energy = numbers(
        answers, ("fibre_g_per_day", "fermented_servings_per_day", "ultra_processed_pct",
                  "added_sugar_g_per_day", "plant_types_per_week", "energy_kcal_per_day"))
    out = Computed({
        "fibre": None if fibre is None else fibre_points(fibre),
        "fermented": None if fermented is None else fermented_points(fermented),
        "ultra_processed": None if upf is None else ultra_processed_points(upf),
        "added_sugar": None if sugar is None else sugar_points(sugar, energy),
        "plant_variety": None if plants is None else plant_points(plants),
    })
    if sugar is not None and energy is None:
        out.notes.append("energy intake not given: added sugar judged by grams (25/50 g "
                         "approximate 5/10 % of an adult's energy)")
    out.values["total"] = sum_or_none(list(out.values.values()))
    if out.values["total"] is None:
        out.notes.append("a component is unanswered: no total")
    out.notes.append("gutaxis project instrument, not validated")
    return out


DIET_SCREENER = register(Instrument(
    id="gut-diet", version="0.1",
    name="gutaxis gut-health diet screener (gutaxis project instrument, not validated)",
    items=(
        Item("fibre_g_per_day", "dietary fibre", "number", 0, 200, unit="g/d",
             text="About how many grams of dietary fibre do you eat on a typical day?"),
        Item("fermented_servings_per_day", "fermented foods (yogurt, kefir, kimchi, ...)",
             "number", 0, 50, unit="{serving}/d",
             text="How many servings of fermented foods (yogurt, kefir, sauerkraut, "
                  "kimchi, kombucha, ...) do you have on a typical day?"),
        Item("ultra_processed_pct", "share of energy from ultra-processed foods (NOVA 4)",
             "number", 0, 100, unit="%",
             text="About what share of your daily energy comes from ultra-processed foods?"),
        Item("added_sugar_g_per_day", "added sugar", "number", 0, 1000, unit="g/d",
             text="About how many grams of added sugar do you eat on a typical day?"),
        Item("plant_types_per_week", "different plant foods in a week", "integer", 0, 500,
             unit="{type}/wk",
             text="How many different plant foods (vegetables, fruits, grains, legumes, "
                  "nuts, seeds, herbs, spices) did you eat in the last 7 days?"),
        Item("energy_kcal_per_day", "total energy intake (optional)", "number", 500, 10000,
             unit="kcal/d", scored=False,
             text="Total energy intake per day, if known (kcal)."),
    ),
    scores=(ScoreSpec("fibre", 0, 2), ScoreSpec("fermented", 0, 2),
            ScoreSpec("ultra_processed", 0, 2), ScoreSpec("added_sugar", 0, 2),
            ScoreSpec("plant_variety", 0, 2),
            ScoreSpec("total", 0, 10, description="sum of the five components; not "
                      "validated")),
    missing_rule="No imputation: an unanswered component has no points and the total is "
                 "not computed. Energy intake is optional (sugar then judged in grams).",
    citation="gutaxis project instrument, not validated; thresholds from EFSA 2010 (fibre), "
             "Wastyk 2021 (fermented foods), WHO 2015 (sugars), McDonald 2018 (plant "
             "variety); ultra-processed threshold is a project convention (NOVA).",
    licence="gutaxis project instrument (MIT, with the code); wording may ship.",
    wording_may_ship=True, scorer=score_diet,
    conventions=("NOT VALIDATED: for research screening only.",
                 "Ultra-processed thresholds (20 %, 40 % of energy) are a project "
                 "convention; no official threshold exists.",
                 "Added sugar is treated like WHO 'free sugars' (close, not identical)."),
))

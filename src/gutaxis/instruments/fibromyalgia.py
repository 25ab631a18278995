"""Fibromyalgia: the revised FIQ (FIQR) and the ACR fibromyalgia criteria (2011, 2016).

Notes
-----
FIQR (Bennett 2009): 21 items 0-10.

.. math:: \\text{FIQR} = \\frac{\\Sigma_\\text{function}}{3} + \\Sigma_\\text{overall}
          + \\frac{\\Sigma_\\text{symptoms}}{2} \\in [0, 100]

With :math:`x < 9` function items answered the function sum is multiplied by
:math:`9/x` before dividing by 3; only one function item may be missing and no overall or
symptom item (fiqr.info scoring page).

ACR fibromyalgia criteria: WPI counts 19 painful areas (0-19); SSS = fatigue + waking
unrefreshed + cognitive symptoms (each 0-3) + one point each for headaches, lower-abdominal
pain or cramps and depression (0-12); FS (PSD) = WPI + SSS (0-31).

* 2016: criteria met when (WPI >= 7 and SSS >= 5, or 4 <= WPI <= 6 and SSS >= 9), pain is
  generalised (at least 4 of 5 regions, where jaw, chest and abdomen do not count) and
  symptoms have lasted at least 3 months.
* 2011 (self-report modification of 2010): (WPI >= 7 and SSS >= 5, or 3 <= WPI <= 6 and
  SSS >= 9), symptoms >= 3 months, and no other disorder that would explain the pain.

References
----------
.. [1] Bennett RM et al. The Revised Fibromyalgia Impact Questionnaire (FIQR): validation
   and psychometric properties. Arthritis Res Ther 2009;11:R120.
.. [2] Wolfe F et al. 2016 Revisions to the 2010/2011 fibromyalgia diagnostic criteria.
   Semin Arthritis Rheum 2016;46:319-329.
.. [3] Wolfe F et al. Fibromyalgia criteria and severity scales for clinical and
   epidemiological studies: a modification of the ACR preliminary diagnostic criteria.
   J Rheumatol 2011;38:1113-1122.
.. [4] Wolfe F et al. J Rheumatol 2015;42:1494-1501 (PSD severity categories).
.. [5] Salaffi F et al. Rheumatology 2020 (FIQR and PDS severity bands).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from gutaxis.instruments.base import (
    Answer,
    Computed,
    Instrument,
    Item,
    Scorer,
    ScoreSpec,
    answered,
    bands,
    numbers,
    sum_or_none,
)
from gutaxis.instruments.registry import register

FIQR_FUNCTION = ("brush or comb hair", "walk continuously 20 minutes", "prepare a meal",
                 "vacuum, scrub or sweep floors", "lift and carry a bag of groceries",
                 "climb one flight of stairs", "change bed sheets", "sit 45 minutes",
                 "go shopping for groceries")
FIQR_OVERALL = ("goals for the week prevented", "overwhelmed")
FIQR_SYMPTOMS = ("pain", "energy", "stiffness", "sleep quality", "depression",
                 "memory", "anxiety", "tenderness to touch", "balance",
                 "sensitivity to noise, lights, odours or cold")

#: (score name, item-id prefix, topics, divisor, maximum score, most missing allowed)
FIQR_DOMAINS: tuple[tuple[str, str, tuple[str, ...], int, int, int], ...] = (
    ("function", "function_", FIQR_FUNCTION, 3, 30, 1),
    ("overall", "overall_", FIQR_OVERALL, 1, 20, 0),
    ("symptoms", "symptom_", FIQR_SYMPTOMS, 2, 50, 0),
)

FIQR_SALAFFI_2020 = bands(
    "salaffi-2020", "Salaffi 2020 (n = 2339): 0-23 remission, 24-40 mild, 41-63 moderate, "
    "64-82 severe, >= 83 very severe; gaps closed half-open",
    ("remission", 0, 24, "[)"), ("mild", 24, 41, "[)"), ("moderate", 41, 64, "[)"),
    ("severe", 64, 83, "[)"), ("very severe", 83, 100, "[]"),
)
FIQR_SALAFFI_2018 = bands(
    "salaffi-2018", "Salaffi 2018: <= 30 remission, > 30-45 mild, 46-65 moderate, > 65 high; "
    "gaps closed half-open",
    ("remission", 0, 30, "[]"), ("mild", 30, 45, "(]"), ("moderate", 45, 65, "(]"),
    ("high", 65, 100, "(]"),
)


def _fiqr_ids(prefix: str, topics: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, len(topics) + 1))


def score_fiqr(answers: Mapping[str, Answer]) -> Computed:
    """FIQR domain scores and total, prorating at most one missing function item."""
    out = Computed({})
    for name, prefix, topics, divisor, _, max_missing in FIQR_DOMAINS:
        done = answered(numbers(answers, _fiqr_ids(prefix, topics)))
        missing = len(topics) - len(done)
        if missing > max_missing or not done:
            out.values[name] = None
            out.notes.append(f"{name}: {missing} item(s) missing (at most {max_missing} "
                             "allowed): form invalid")
            continue
        total = sum(done, Fraction(0)) * Fraction(len(topics), len(done))
        out.values[name] = total / divisor
        if missing:
            out.missing_rule_applied = True
            out.notes.append(f"{name}: sum of {len(done)} answered items x "
                             f"{len(topics)}/{len(done)} (FIQR proration)")
    parts = [out.values[name] for name, *_ in FIQR_DOMAINS]
    out.values["total"] = sum_or_none(parts)
    return out


FIQR = register(Instrument(
    id="fiqr", version="2009", name="Revised Fibromyalgia Impact Questionnaire (FIQR)",
    items=tuple(Item(item_id, f"{name}: {topic}", "integer", 0, 10)
                for name, prefix, topics, *_ in FIQR_DOMAINS
                for item_id, topic in zip(_fiqr_ids(prefix, topics), topics, strict=True)),
    scores=(*(ScoreSpec(name, 0, top, description=f"sum / {div}")
              for name, _, _, div, top, _ in FIQR_DOMAINS),
            ScoreSpec("total", 0, 100, bands=FIQR_SALAFFI_2020,
                      alternative_bands=(FIQR_SALAFFI_2018,),
                      description="function + overall + symptoms")),
    missing_rule="One missing function item: function sum x 9/8 (fiqr.info). Two or more "
                 "missing function items, or any missing overall or symptom item: invalid.",
    citation="Bennett RM et al. Arthritis Res Ther 2009;11:R120; fiqr.info scoring page.",
    licence="(c) the authors (Bennett, Friend, Jones et al.); academic use free, commercial "
            "use via Mapi with fees. The status of the CC-BY article's form awaits legal "
            "review: wording not shipped.",
    wording_may_ship=False, scorer=score_fiqr,
    conventions=("Severity bands are not the developers': Salaffi 2020 by default, "
                 "Salaffi 2018 selectable, applied as half-open intervals.",
                 "The 'three or more items with multiple answers' rule applies to paper "
                 "forms; gutaxis takes one answer per item.",
                 "Item topics follow the FIQR order; check against the form."),
))

#: The 19 WPI areas in form order: (item id, region 1-5, counts for generalised pain)
ACR_AREAS: tuple[tuple[str, int, bool], ...] = (
    ("jaw_left", 1, False), ("shoulder_girdle_left", 1, True), ("upper_arm_left", 1, True),
    ("lower_arm_left", 1, True),
    ("jaw_right", 2, False), ("shoulder_girdle_right", 2, True),
    ("upper_arm_right", 2, True), ("lower_arm_right", 2, True),
    ("hip_left", 3, True), ("upper_leg_left", 3, True), ("lower_leg_left", 3, True),
    ("hip_right", 4, True), ("upper_leg_right", 4, True), ("lower_leg_right", 4, True),
    ("neck", 5, True), ("upper_back", 5, True), ("lower_back", 5, True),
    ("chest", 5, False), ("abdomen", 5, False),
)
_REGION_NAMES = {1: "left upper", 2: "right upper", 3: "left lower", 4: "right lower",
                 5: "axial"}
ACR_SEVERITY = ("fatigue", "waking_unrefreshed", "cognitive_symptoms")
ACR_SOMATIC = ("headaches", "lower_abdominal_pain", "depression")

PSD_WOLFE_2015 = bands(
    "wolfe-2015", "Wolfe et al. J Rheumatol 2015;42:1494 PSD categories",
    ("none", 0, 3, "[]"), ("mild", 4, 7, "[]"), ("moderate", 8, 11, "[]"),
    ("severe", 12, 19, "[]"), ("very severe", 20, 31, "[]"),
)
PSD_SALAFFI_2020 = bands(
    "salaffi-2020", "Salaffi 2020 PDS bands: 0-5 remission, 6-15 mild, 16-20 moderate, "
    "21-25 severe, > 25 very severe",
    ("remission", 0, 5, "[]"), ("mild", 6, 15, "[]"), ("moderate", 16, 20, "[]"),
    ("severe", 21, 25, "[]"), ("very severe", 26, 31, "[]"),
)
CRITERIA_BANDS = bands("met-or-not", "1 = criteria met, 0 = not met",
                       ("not met", 0, 0, "[]"), ("met", 1, 1, "[]"))


def _acr_items(*, year: int) -> tuple[Item, ...]:
    areas = tuple(Item(area, f"pain past week: {area.replace('_', ' ')} "
                             f"(region {region}, {_REGION_NAMES[region]})", "boolean",
                       text=f"Pain or tenderness in the past week: {area.replace('_', ' ')}")
                  for area, region, _ in ACR_AREAS)
    severity = tuple(Item(item_id, f"{item_id.replace('_', ' ')}, past week, 0-3", "integer",
                          0, 3) for item_id in ACR_SEVERITY)
    somatic = tuple(Item(item_id, f"{item_id.replace('_', ' ')} in the past 6 months",
                         "boolean") for item_id in ACR_SOMATIC)
    extra = [Item("symptoms_3_months", "symptoms present at a similar level >= 3 months",
                  "boolean")]
    if year == 2011:
        extra.append(Item("other_disorder_explains_pain",
                          "another disorder would otherwise explain the pain", "boolean"))
    return (*areas, *severity, *somatic, *extra)


def _acr_scorer(*, year: int) -> Scorer:
    low_wpi = 4 if year == 2016 else 3

    def scorer(answers: Mapping[str, Answer]) -> Computed:
        out = Computed({})
        area_answers = [answers.get(area) for area, _, _ in ACR_AREAS]
        wpi = (None if any(a is None for a in area_answers)
               else Fraction(sum(1 for a in area_answers if a is True)))
        severity = numbers(answers, ACR_SEVERITY)
        somatic = [answers.get(item_id) for item_id in ACR_SOMATIC]
        sss = (None if any(v is None for v in (*severity, *somatic))
               else sum(answered(severity), Fraction(0)) + sum(1 for s in somatic if s is True))
        regions = {region for area, region, counts in ACR_AREAS
                   if counts and answers.get(area) is True}
        out.values["wpi"] = wpi
        out.values["sss"] = sss
        out.values["fs"] = None if wpi is None or sss is None else wpi + sss
        generalised = len(regions) >= 4
        if year == 2016:
            out.values["regions"] = None if wpi is None else Fraction(len(regions))
        if wpi is None or sss is None:
            out.values["criteria"] = None
            out.notes.append("an area or symptom item is unanswered: WPI/SSS not computable")
            return out
        thresholds = (wpi >= 7 and sss >= 5) or (low_wpi <= wpi <= 6 and sss >= 9)
        duration = answers.get("symptoms_3_months")
        conditions: list[bool | None] = [thresholds, duration if isinstance(duration, bool)
                                         else None]
        if year == 2016:
            conditions.append(generalised)
        else:
            other = answers.get("other_disorder_explains_pain")
            conditions.append(None if other is None else other is False)
        if False in conditions:
            out.values["criteria"] = Fraction(0)
        elif None in conditions:
            out.values["criteria"] = None
            out.notes.append("criteria undecided: a required yes/no item is unanswered")
        else:
            out.values["criteria"] = Fraction(1)
        return out

    return scorer


def _acr(year: int) -> Instrument:
    generalised = (ScoreSpec("regions", 0, 5, description="regions with pain, jaw, chest "
                             "and abdomen not counting (generalised pain needs >= 4)"),)
    rule = ("(WPI >= 7 and SSS >= 5) or (4 <= WPI <= 6 and SSS >= 9); generalised pain in "
            ">= 4 of 5 regions; symptoms >= 3 months" if year == 2016 else
            "(WPI >= 7 and SSS >= 5) or (3 <= WPI <= 6 and SSS >= 9); symptoms >= 3 months; "
            "no other disorder that would explain the pain")
    return Instrument(
        id="acr-fm", version=str(year),
        name=f"ACR {year} fibromyalgia criteria (WPI, SSS, fibromyalgia severity)",
        items=_acr_items(year=year),
        scores=(ScoreSpec("wpi", 0, 19, description="number of painful areas"),
                ScoreSpec("sss", 0, 12, description="symptom severity scale"),
                *(generalised if year == 2016 else ()),
                ScoreSpec("fs", 0, 31, bands=PSD_WOLFE_2015,
                          alternative_bands=(PSD_SALAFFI_2020,),
                          description="fibromyalgia severity (PSD) = WPI + SSS"),
                ScoreSpec("criteria", 0, 1, bands=CRITERIA_BANDS, description=rule)),
        missing_rule="No imputation: an unanswered area or symptom item leaves WPI/SSS/FS "
                     "undefined; an unanswered yes/no criterion item leaves the diagnosis "
                     "undecided unless another criterion already fails.",
        citation=("Wolfe F et al. Semin Arthritis Rheum 2016;46:319-329." if year == 2016
                  else "Wolfe F et al. J Rheumatol 2011;38:1113-1122."),
        licence="Published criteria; the scoring logic is free to implement. Area names are "
                "shipped; the journal's form layout is not copied (licence statement not "
                "retrieved).",
        wording_may_ship=True, scorer=_acr_scorer(year=year),
        conventions=("The diagnosis is 1 (met), 0 (not met) or missing when undecided; a "
                     "failed criterion decides 'not met' even if another item is missing.",
                     "FS bands: Wolfe 2015 by default, Salaffi 2020 selectable."),
    )


ACR_2011 = register(_acr(2011))
ACR_2016 = register(_acr(2016))

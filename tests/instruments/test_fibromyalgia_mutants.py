"""The ACR 2011/2016 fibromyalgia criteria as registered (items, scores, texts) and the
edges of their scoring, written to kill mutmut mutants of ``instruments/fibromyalgia.py``
(re-measure with ``python scripts/mutation.py gutaxis.instruments.fibromyalgia``).

References: the notes' §6 (``docs/research/instruments.md``): 19 areas in 5 regions (jaw,
chest and abdomen not counting for generalised pain), SSS 0-12 from three 0-3 items and
three yes/no items, FS = WPI + SSS in 0-31, Wolfe 2015 PSD bands by default; the 2011
rule (WPI 3-6) and the 2016 rule (WPI 4-6, generalised pain) with their citations.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.instruments import get_instrument

#: Notes §6: region number, its name, and its areas in form order.
REGIONS = (
    (1, "left upper", ("jaw_left", "shoulder_girdle_left", "upper_arm_left",
                       "lower_arm_left")),
    (2, "right upper", ("jaw_right", "shoulder_girdle_right", "upper_arm_right",
                        "lower_arm_right")),
    (3, "left lower", ("hip_left", "upper_leg_left", "lower_leg_left")),
    (4, "right lower", ("hip_right", "upper_leg_right", "lower_leg_right")),
    (5, "axial", ("neck", "upper_back", "lower_back", "chest", "abdomen")),
)

SYMPTOM_ITEMS = (
    ("fatigue", "fatigue, past week, 0-3", "integer", 0, 3),
    ("waking_unrefreshed", "waking unrefreshed, past week, 0-3", "integer", 0, 3),
    ("cognitive_symptoms", "cognitive symptoms, past week, 0-3", "integer", 0, 3),
    ("headaches", "headaches in the past 6 months", "boolean", None, None),
    ("lower_abdominal_pain", "lower abdominal pain in the past 6 months", "boolean", None,
     None),
    ("depression", "depression in the past 6 months", "boolean", None, None),
    ("symptoms_3_months", "symptoms present at a similar level >= 3 months", "boolean",
     None, None),
)
OTHER_DISORDER = ("other_disorder_explains_pain",
                  "another disorder would otherwise explain the pain", "boolean", None, None)

RULE = {
    2016: "(WPI >= 7 and SSS >= 5) or (4 <= WPI <= 6 and SSS >= 9); generalised pain in "
          ">= 4 of 5 regions; symptoms >= 3 months",
    2011: "(WPI >= 7 and SSS >= 5) or (3 <= WPI <= 6 and SSS >= 9); symptoms >= 3 months; "
          "no other disorder that would explain the pain",
}
CITATION = {2016: "Wolfe F et al. Semin Arthritis Rheum 2016;46:319-329.",
            2011: "Wolfe F et al. J Rheumatol 2011;38:1113-1122."}


@pytest.mark.parametrize("year", [2011, 2016])
def test_acr_items_are_the_19_areas_then_the_symptom_items(year):
    instrument = get_instrument(f"acr-fm@{year}")
    areas = [(area, f"pain past week: {area.replace('_', ' ')} (region {number}, {name})",
              "boolean", None, None, "Pain or tenderness in the past week: "
              + area.replace("_", " "), None, True)
             for number, name, region_areas in REGIONS for area in region_areas]
    others = [(*item, None, None, True)
              for item in (*SYMPTOM_ITEMS, *((OTHER_DISORDER,) if year == 2011 else ()))]
    assert [(i.id, i.topic, i.kind, i.minimum, i.maximum, i.text, i.unit, i.scored)
            for i in instrument.items] == areas + others
    assert all(i.choices is None for i in instrument.items)


@pytest.mark.parametrize("year", [2011, 2016])
def test_acr_scores_ranges_bands_and_descriptions(year):
    instrument = get_instrument(f"acr-fm@{year}")
    regions = [("regions", 0, 5, None, (), "regions with pain, jaw, chest and abdomen not "
                "counting (generalised pain needs >= 4)")]
    expected = [
        ("wpi", 0, 19, None, (), "number of painful areas"),
        ("sss", 0, 12, None, (), "symptom severity scale"),
        *(regions if year == 2016 else []),
        ("fs", 0, 31, "wolfe-2015", ("salaffi-2020",),
         "fibromyalgia severity (PSD) = WPI + SSS"),
        ("criteria", 0, 1, "met-or-not", (), RULE[year]),
    ]
    assert [(s.name, s.minimum, s.maximum, s.bands and s.bands.name,
             tuple(b.name for b in s.alternative_bands), s.description)
            for s in instrument.scores] == expected
    assert all((s.unit, s.loinc, s.tolerance) == ("{score}", None, 0)
               for s in instrument.scores)


@pytest.mark.parametrize("year", [2011, 2016])
def test_acr_identity_citation_licence_and_rules(year):
    instrument = get_instrument(f"acr-fm@{year}")
    assert (instrument.id, instrument.version, instrument.key) == (
        "acr-fm", str(year), f"acr-fm@{year}")
    assert instrument.name == (f"ACR {year} fibromyalgia criteria (WPI, SSS, fibromyalgia "
                               "severity)")
    assert instrument.citation == CITATION[year]
    assert instrument.wording_may_ship is True
    assert instrument.licence == (
        "Published criteria; the scoring logic is free to implement. Area names are "
        "shipped; the journal's form layout is not copied (licence statement not "
        "retrieved).")
    assert instrument.missing_rule == (
        "No imputation: an unanswered area or symptom item leaves WPI/SSS/FS undefined; an "
        "unanswered yes/no criterion item leaves the diagnosis undecided unless another "
        "criterion already fails.")
    assert instrument.conventions == (
        "The diagnosis is 1 (met), 0 (not met) or missing when undecided; a failed "
        "criterion decides 'not met' even if another item is missing.",
        "FS bands: Wolfe 2015 by default, Salaffi 2020 selectable.")


#: Counting areas spread over the regions first (one per region), then the rest; jaw,
#: chest and abdomen last because they never count for generalised pain.
SPREAD = ("shoulder_girdle_left", "shoulder_girdle_right", "hip_left", "hip_right", "neck",
          "upper_arm_left", "upper_arm_right", "upper_leg_left", "upper_leg_right",
          "upper_back", "lower_arm_left", "lower_arm_right", "lower_leg_left",
          "lower_leg_right", "lower_back", "jaw_left", "jaw_right", "chest", "abdomen")


def _answers(wpi: int, sss: int, year: int = 2016, **extra: object) -> dict[str, object]:
    """WPI painful areas (spread over the regions) and an SSS of ``sss`` (0-12)."""
    answers: dict[str, object] = {area: area in SPREAD[:wpi] for area in SPREAD}
    severity = min(sss, 9)
    answers |= {"fatigue": min(severity, 3), "waking_unrefreshed": min(max(severity - 3, 0), 3),
                "cognitive_symptoms": max(severity - 6, 0)}
    somatic = sss - severity
    answers |= {"headaches": somatic >= 1, "lower_abdominal_pain": somatic >= 2,
                "depression": somatic >= 3, "symptoms_3_months": True}
    if year == 2011:
        answers["other_disorder_explains_pain"] = False
    return answers | extra


#: (WPI, SSS, met under 2011, met under 2016): the edges of "WPI >= 7 and SSS >= 5, or
#: WPI 3-6 (2011) / 4-6 (2016) and SSS >= 9" (notes §6); with WPI >= 4 the spread areas
#: cover >= 4 regions, so 2016's generalised-pain rule holds.
THRESHOLD_EDGES = [
    (7, 5, True, True), (7, 4, False, False), (6, 5, False, False), (6, 9, True, True),
    (6, 8, False, False), (4, 9, True, True), (3, 9, True, False), (2, 9, False, False),
    (3, 12, True, False), (19, 12, True, True), (0, 0, False, False), (2, 5, False, False),
]


@pytest.mark.parametrize(("wpi", "sss", "met_2011", "met_2016"), THRESHOLD_EDGES)
def test_acr_criteria_at_the_threshold_edges(wpi, sss, met_2011, met_2016):
    for year, met in ((2011, met_2011), (2016, met_2016)):
        score = get_instrument(f"acr-fm@{year}").score(_answers(wpi, sss, year))
        assert (score.exact["wpi"], score.exact["sss"], score.exact["fs"]) == (
            wpi, sss, wpi + sss)
        assert score.exact["criteria"] == (1 if met else 0), (year, wpi, sss)


def test_sss_counts_each_somatic_yes_once_and_no_as_nothing():
    answers = _answers(0, 0) | {"fatigue": 1, "headaches": True}
    assert get_instrument("acr-fm@2016").score(answers).exact["sss"] == 2


def test_wpi_counts_painful_areas_only():
    answers = _answers(3, 0)
    score = get_instrument("acr-fm@2016").score(answers)
    assert score.exact["wpi"] == 3 and score.exact["regions"] == 3


def test_exactly_four_regions_is_generalised_pain():
    # L shoulder, R shoulder, L hip, R hip + their arms/legs: WPI 8, 4 regions (no axial)
    answers = _answers(4, 6) | {area: True for area in ("upper_arm_left", "upper_arm_right",
                                                         "upper_leg_left", "upper_leg_right")}
    score = get_instrument("acr-fm@2016").score(answers)
    assert (score.exact["wpi"], score.exact["regions"]) == (8, 4)
    assert score.exact["criteria"] == 1


def test_unanswered_area_leaves_regions_and_criteria_missing_with_a_note():
    score = get_instrument("acr-fm@2016").score(_answers(8, 6) | {"neck": None})
    assert score.values["wpi"] is None and score.values["regions"] is None
    assert score.values["fs"] is None and score.values["criteria"] is None
    assert score.notes == ("an area or symptom item is unanswered: WPI/SSS not computable",)


def test_unanswered_symptom_item_leaves_sss_fs_and_criteria_missing_with_a_note():
    for item in ("fatigue", "depression"):
        score = get_instrument("acr-fm@2016").score(_answers(8, 6) | {item: None})
        assert score.exact["wpi"] == 8 and score.exact["regions"] == 5
        assert score.values["sss"] is None and score.values["fs"] is None
        assert score.values["criteria"] is None
        assert score.notes == ("an area or symptom item is unanswered: WPI/SSS not "
                               "computable",)


@pytest.mark.parametrize(("other", "criteria"), [(False, 1), (True, 0), (None, None)])
def test_acr2011_other_disorder_decides_or_leaves_undecided(other, criteria):
    score = get_instrument("acr-fm@2011").score(
        _answers(8, 6, 2011, other_disorder_explains_pain=other))
    assert score.values["criteria"] == criteria
    if criteria is None:
        assert score.values["criteria"] is None
        assert score.notes == ("criteria undecided: a required yes/no item is unanswered",)
    else:
        assert score.notes == ()


def test_unknown_duration_is_undecided_but_a_failed_criterion_still_decides():
    inst = get_instrument("acr-fm@2016")
    undecided = inst.score(_answers(8, 6, symptoms_3_months=None))
    assert undecided.values["criteria"] is None
    assert undecided.notes == ("criteria undecided: a required yes/no item is unanswered",)
    failed = inst.score(_answers(8, 4, symptoms_3_months=None))
    assert failed.exact["criteria"] == 0 and failed.notes == ()


def _fiqr(function, overall, symptoms):
    answers = {}
    for prefix, values in (("function_", function), ("overall_", overall),
                           ("symptom_", symptoms)):
        answers |= {f"{prefix}{i}": v for i, v in enumerate(values, start=1)}
    return answers


def test_fiqr_item_ids_are_numbered_from_1_in_form_order():
    ids = get_instrument("fiqr").item_ids
    assert ids == (*(f"function_{i}" for i in range(1, 10)), "overall_1", "overall_2",
                   *(f"symptom_{i}" for i in range(1, 11)))


def test_fiqr_prorated_note_gives_the_9_8_factor():
    # fiqr.info: one missing function item, sum x 9/8 (notes §5 worked example)
    score = get_instrument("fiqr").score(_fiqr([3, 4, 2, 5, 6, 3, 2, 4, None], [5, 6],
                                               [7, 6, 5, 4, 6, 7, 3, 5, 4, 2]))
    assert score.exact["function"] == Fraction(29 * 9, 8 * 3)
    assert score.missing_rule_applied is True
    assert score.notes == ("function: sum of 8 answered items x 9/8 (FIQR proration)",)


def test_fiqr_invalid_domain_notes_name_the_domain_and_the_limit():
    score = get_instrument("fiqr").score(_fiqr([1] * 7 + [None] * 2, [None, 6],
                                               [1] * 10))
    assert score.values["function"] is None and score.values["overall"] is None
    assert score.exact["symptoms"] == 5
    assert score.values["total"] is None
    assert score.notes == (
        "function: 2 item(s) missing (at most 1 allowed): form invalid",
        "overall: 1 item(s) missing (at most 0 allowed): form invalid")


def test_fiqr_complete_form_applies_no_missing_rule():
    score = get_instrument("fiqr").score(_fiqr([10] * 9, [10, 10], [10] * 10))
    assert (score.exact["function"], score.exact["overall"], score.exact["symptoms"],
            score.exact["total"]) == (30, 20, 50, 100)
    assert score.missing_rule_applied is False and score.notes == ()


def test_acr_scorer_reports_criteria_none_under_its_own_name():
    # the scorer's own result (Instrument.scorer is public): every 2016 score is present
    inst = get_instrument("acr-fm@2016")
    unanswered = inst.scorer(inst.parse(_answers(8, 6) | {"neck": None}))
    assert unanswered.values == {"wpi": None, "sss": 6, "fs": None, "regions": None,
                                 "criteria": None}
    undecided = inst.scorer(inst.parse(_answers(8, 6, symptoms_3_months=None)))
    assert undecided.values == {"wpi": 8, "sss": 6, "fs": 14, "regions": 5,
                                "criteria": None}

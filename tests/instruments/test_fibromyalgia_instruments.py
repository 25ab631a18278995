"""FIQR and the ACR fibromyalgia criteria against the notes' vectors (§5-6), plus a
consistency check against the real fibromyalgia cohort's severity bands."""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest

from gutaxis.instruments import get_instrument
from gutaxis.instruments.fibromyalgia import ACR_AREAS

FUNCTION = [3, 4, 2, 5, 6, 3, 2, 4, 3]
OVERALL = [5, 6]
SYMPTOMS = [7, 6, 5, 4, 6, 7, 3, 5, 4, 2]


def fiqr(function: list[int | None], overall: list[int | None],
         symptoms: list[int | None]) -> dict[str, int | None]:
    answers: dict[str, int | None] = {}
    for prefix, values in (("function_", function), ("overall_", overall),
                           ("symptom_", symptoms)):
        answers.update({f"{prefix}{i}": v for i, v in enumerate(values, start=1)})
    return answers


def test_fiqr_worked_example() -> None:
    score = get_instrument("fiqr").score(fiqr(FUNCTION, OVERALL, SYMPTOMS))
    # function 32 / 3; overall 11; symptoms 49 / 2; total 277/6 = 46.17
    assert score.exact["function"] == Fraction(32, 3)
    assert score.exact["overall"] == 11
    assert score.exact["symptoms"] == Fraction(49, 2)
    assert score.exact["total"] == Fraction(277, 6)
    assert round(score.values["total"] or 0, 2) == 46.17
    assert score.bands["total"] == "moderate"          # Salaffi 2020: 41-63


def test_fiqr_one_missing_function_item_is_prorated() -> None:
    score = get_instrument("fiqr").score(fiqr([*FUNCTION[:8], None], OVERALL, SYMPTOMS))
    # (32 - 3) x 9/8 = 32.625; / 3 = 10.875; total 10.875 + 11 + 24.5 = 46.375
    assert score.exact["function"] == Fraction(10875, 1000)
    assert score.exact["total"] == Fraction(46375, 1000)
    assert score.missing_rule_applied


def test_fiqr_two_missing_function_items_invalidate_the_form() -> None:
    score = get_instrument("fiqr").score(fiqr([*FUNCTION[:7], None, None], OVERALL,
                                              SYMPTOMS))
    assert score.values["function"] is None and score.values["total"] is None


def test_fiqr_any_missing_symptom_item_invalidates_the_form() -> None:
    score = get_instrument("fiqr").score(fiqr(FUNCTION, OVERALL, [*SYMPTOMS[:9], None]))
    assert score.values["symptoms"] is None and score.values["total"] is None


def test_fiqr_salaffi_2018_bands_on_request() -> None:
    score = get_instrument("fiqr").score(fiqr(FUNCTION, OVERALL, SYMPTOMS),
                                         bands={"total": "salaffi-2018"})
    assert score.bands["total"] == "moderate"           # 46.17 in (45, 65]


def acr(painful: set[str], fatigue: int, unrefreshed: int, cognitive: int,
        headaches: bool = False, abdominal: bool = False, depression: bool = False,
        **extra: object) -> dict[str, object]:
    unknown = painful - {a for a, _, _ in ACR_AREAS}
    assert not unknown, unknown
    answers: dict[str, object] = {a: a in painful for a, _, _ in ACR_AREAS}
    answers.update(fatigue=fatigue, waking_unrefreshed=unrefreshed,
                   cognitive_symptoms=cognitive, headaches=headaches,
                   lower_abdominal_pain=abdominal, depression=depression,
                   symptoms_3_months=True)
    answers.update(extra)
    return answers


CASE_A = acr({"shoulder_girdle_left", "shoulder_girdle_right", "upper_arm_left",
              "hip_right", "upper_leg_left", "neck", "lower_back", "abdomen"},
             2, 2, 1, headaches=True)
CASE_B = acr({"jaw_left", "shoulder_girdle_right", "upper_arm_right", "hip_left",
              "upper_leg_left", "lower_leg_right", "chest", "abdomen"},
             3, 2, 2, headaches=True, abdominal=True)
CASE_C = acr({"shoulder_girdle_left", "upper_arm_right", "hip_left", "lower_leg_right",
              "upper_back"}, 3, 3, 2, headaches=True)
CASE_D = acr({"shoulder_girdle_left", "upper_arm_right", "hip_left", "lower_leg_right",
              "upper_back"}, 3, 3, 1, headaches=True)
CASE_E = acr({"shoulder_girdle_left", "hip_right", "neck"}, 3, 3, 3,
             headaches=True)


def test_acr2016_case_a_meets_criteria() -> None:
    score = get_instrument("acr-fm@2016").score(CASE_A)
    assert score.exact["wpi"] == 8 and score.exact["sss"] == 6
    assert score.exact["regions"] == 5
    assert score.exact["fs"] == 14 and score.bands["fs"] == "severe"
    assert score.bands["criteria"] == "met"


def test_acr2016_case_b_fails_only_generalised_pain() -> None:
    score = get_instrument("acr-fm@2016").score(CASE_B)
    # jaw-only left upper region and chest/abdomen-only axial region do not count
    assert score.exact["wpi"] == 8 and score.exact["sss"] == 9
    assert score.exact["regions"] == 3
    assert score.exact["fs"] == 17
    assert score.bands["criteria"] == "not met"


def test_acr2016_case_c_meets_via_wpi_4_to_6() -> None:
    score = get_instrument("acr-fm@2016").score(CASE_C)
    assert (score.exact["wpi"], score.exact["sss"], score.exact["fs"]) == (5, 9, 14)
    assert score.bands["criteria"] == "met"


def test_acr2016_case_d_needs_sss_9_when_wpi_is_4_to_6() -> None:
    score = get_instrument("acr-fm@2016").score(CASE_D)
    assert score.exact["sss"] == 8
    assert score.bands["criteria"] == "not met"


def test_version_trap_case_e_met_2011_not_met_2016() -> None:
    old = get_instrument("acr-fm@2011").score({**CASE_E,
                                               "other_disorder_explains_pain": False})
    new = get_instrument("acr-fm@2016").score(CASE_E)
    assert old.exact["wpi"] == 3 and old.exact["sss"] == 10
    assert old.bands["criteria"] == "met"
    assert new.bands["criteria"] == "not met"


def test_acr2011_other_disorder_excludes() -> None:
    score = get_instrument("acr-fm@2011").score({**CASE_E,
                                                 "other_disorder_explains_pain": True})
    assert score.bands["criteria"] == "not met"


def test_acr_short_duration_fails_and_unknown_duration_is_undecided() -> None:
    inst = get_instrument("acr-fm@2016")
    assert inst.score({**CASE_A, "symptoms_3_months": False}).bands["criteria"] == "not met"
    undecided = inst.score({**CASE_A, "symptoms_3_months": None})
    assert undecided.values["criteria"] is None
    assert undecided.values["fs"] == 14


def test_acr_unanswered_area_leaves_wpi_undefined() -> None:
    score = get_instrument("acr-fm@2016").score({**CASE_A, "neck": None})
    assert score.values["wpi"] is None and score.values["criteria"] is None
    assert score.missing_items == ("neck",)


def test_acr_fs_minimum_when_criteria_met_is_12() -> None:
    # Wolfe 2015: FM cannot be diagnosed with FS < 12; smallest routes 7 + 5 and 4 + 9
    smallest = acr({"shoulder_girdle_left", "shoulder_girdle_right", "hip_left",
                    "hip_right", "neck", "upper_arm_left", "upper_arm_right"}, 2, 2, 1)
    score = get_instrument("acr-fm@2016").score(smallest)
    assert score.bands["criteria"] == "met" and score.exact["fs"] == 12


@pytest.mark.realdata
def test_real_cohort_severity_bands_lie_on_the_fs_scale(fibromyalgia_dir: Path) -> None:
    """The real cohort bands its patients as FS 12-20, 21-25, 26-31: every band must lie
    inside the FS range gutaxis declares, start at or above the FS >= 12 floor implied by
    the criteria, and map onto whole Salaffi 2020 PDS bands above 'mild'."""
    spec = get_instrument("acr-fm@2016").score_spec("fs")
    salaffi = spec.band_set("salaffi-2020")
    assert salaffi is not None
    with (fibromyalgia_dir / "metadata.tsv").open(encoding="utf-8") as fh:
        groups = {row["group"] for row in csv.DictReader(fh, delimiter="\t")}
    bands = sorted(g for g in groups if g.startswith("fbm_"))
    assert bands == ["fbm_12_20", "fbm_21_25", "fbm_26_31"]
    labels = {}
    for group in bands:
        low, high = (int(x) for x in group.split("_")[1:])
        assert spec.minimum <= 12 <= low <= high <= spec.maximum
        labels[group] = {salaffi.classify(Fraction(v)) for v in range(low, high + 1)}
    assert labels["fbm_21_25"] == {"severe"}
    assert labels["fbm_26_31"] == {"very severe"}

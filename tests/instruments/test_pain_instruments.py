"""NRS, VAS, PEG-3 and BPI-SF against the vectors in docs/research/instruments.md §1-2.

All expected values are exact fractions (tolerance 0) computed by hand from the manuals'
formulas; the arithmetic is written out beside each case.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument

BPI_SEVERITY = {"q3_worst_pain": 7, "q4_least_pain": 2, "q5_average_pain": 5,
                "q6_pain_now": 4}
BPI_INTERFERENCE = {"q9a_general_activity": 6, "q9b_mood": 5, "q9c_walking_ability": 7,
                    "q9d_normal_work": 4, "q9e_relations_with_others": 3, "q9f_sleep": 8,
                    "q9g_enjoyment_of_life": 6}


@pytest.mark.parametrize(("value", "band"), [(0, "none"), (3, "mild"), (6, "moderate"),
                                             (9, "severe"), (10, "excruciating")])
def test_nrs_is_the_answer_with_hl7_bands(value: int, band: str) -> None:
    score = get_instrument("nrs").score({"pain": value})
    assert score.values["pain"] == value
    assert score.bands["pain"] == band


def test_nrs_validation_vectors() -> None:
    assert get_instrument("nrs").score({"pain": 10}).values["pain"] == 10
    with pytest.raises(InstrumentError, match="above"):
        get_instrument("nrs").score({"pain": 11})


def test_nrs_boonstra_bands_on_request() -> None:
    score = get_instrument("nrs").score({"pain": 6}, bands={"pain": "boonstra-2016"})
    assert score.bands["pain"] == "moderate"
    assert score.band_sets["pain"] == "boonstra-2016"


def test_nrs_unanswered_has_no_score() -> None:
    score = get_instrument("nrs").score({})
    assert score.values["pain"] is None and score.missing_items == ("pain",)


@pytest.mark.parametrize(("mm", "band"), [(34, "mild"), (34.9, "mild"), (35, "moderate"),
                                          (74, "moderate"), (75, "severe")])
def test_vas_boonstra_2014_bands_in_mm(mm: float, band: str) -> None:
    assert get_instrument("vas").score({"pain_mm": mm}).bands["pain"] == band


def test_vas_rejects_more_than_100_mm() -> None:
    with pytest.raises(InstrumentError, match="pain_mm"):
        get_instrument("vas").score({"pain_mm": 100.5})


@pytest.mark.parametrize(("p", "e", "g", "expected"), [
    (6, 5, 7, Fraction(18, 3)),   # 6 + 5 + 7 = 18; 18 / 3 = 6.0
    (3, 4, 4, Fraction(11, 3)),   # 11 / 3 = 3.667
])
def test_peg_worked_examples(p: int, e: int, g: int, expected: Fraction) -> None:
    score = get_instrument("peg").score({"p_average_pain": p, "e_enjoyment_of_life": e,
                                         "g_general_activity": g})
    assert score.exact["peg"] == expected


def test_peg_with_a_missing_item_has_no_score() -> None:
    score = get_instrument("peg").score({"p_average_pain": 6, "g_general_activity": 7})
    assert score.values["peg"] is None
    assert score.missing_items == ("e_enjoyment_of_life",)
    assert not score.missing_rule_applied


def test_bpi_severity_worked_example_is_mild_under_half_open_bands() -> None:
    # (7 + 2 + 5 + 4) / 4 = 18 / 4 = 4.5 -> mild (< 5); worst pain 7 alone -> severe (Serlin)
    score = get_instrument("bpi-sf").score({**BPI_SEVERITY, **BPI_INTERFERENCE})
    assert score.exact["severity"] == Fraction(9, 2)
    assert score.bands["severity"] == "mild"
    assert score.bands["worst_pain"] == "severe"


def test_bpi_interference_complete() -> None:
    # 6 + 5 + 7 + 4 + 3 + 8 + 6 = 39; 39 / 7 = 5.571
    score = get_instrument("bpi-sf").score({**BPI_SEVERITY, **BPI_INTERFERENCE})
    assert score.exact["interference"] == Fraction(39, 7)
    assert not score.missing_rule_applied


def test_bpi_interference_with_4_of_7_is_valid_and_recorded() -> None:
    # 9A, 9B, 9C, 9F = 6, 5, 7, 8 -> 26 / 4 = 6.5
    answers = {k: BPI_INTERFERENCE[k] for k in ("q9a_general_activity", "q9b_mood",
                                                 "q9c_walking_ability", "q9f_sleep")}
    score = get_instrument("bpi-sf").score({**BPI_SEVERITY, **answers})
    assert score.exact["interference"] == Fraction(13, 2)
    assert score.missing_rule_applied
    assert any(">= 4 of 7" in note for note in score.notes)


def test_bpi_interference_with_3_of_7_is_invalid() -> None:
    answers = {k: BPI_INTERFERENCE[k] for k in ("q9a_general_activity", "q9b_mood",
                                                 "q9c_walking_ability")}
    score = get_instrument("bpi-sf").score({**BPI_SEVERITY, **answers})
    assert score.values["interference"] is None
    assert score.values["severity"] == 4.5


def test_bpi_severity_needs_all_four_items() -> None:
    answers = dict(BPI_SEVERITY)
    del answers["q6_pain_now"]
    assert get_instrument("bpi-sf").score(answers).values["severity"] is None


def test_bpi_unscored_items_are_accepted_but_not_missing() -> None:
    score = get_instrument("bpi-sf").score({**BPI_SEVERITY, **BPI_INTERFERENCE,
                                           "q1_pain_today": "yes", "q8_relief_pct": 40})
    assert score.missing_items == ()
    with pytest.raises(InstrumentError, match="q8_relief_pct"):
        get_instrument("bpi-sf").score({"q8_relief_pct": 140})


def test_bpi_single_item_outcomes_are_reported() -> None:
    score = get_instrument("bpi-sf").score(BPI_SEVERITY)
    assert score.values["worst_pain"] == 7 and score.values["average_pain"] == 5

"""Notes of the PSS-10, WOMAC and ODI scorers, pinned to kill mutmut mutants.

Notes are part of a :class:`Score` (and of its JSON); they must state the rule the
manual gives: the PSS-10 local proration (x 10/9), WOMAC mean substitution, and the
ODI scoring sheet's lowered denominator (5 x answered sections, 45 instead of 50 with
one section missing). Re-measure with ``python scripts/mutation.py``.
"""

from __future__ import annotations

from fractions import Fraction

from gutaxis.instruments import get_instrument


def _pss(values: list[int | None]) -> dict[str, int | None]:
    return {f"pss{i}": v for i, v in enumerate(values, start=1)}


def test_pss10_with_one_missing_item_says_it_was_prorated_by_10_9():
    score = get_instrument("pss-10").score(_pss([2, 2, 2, 2, 2, 2, 2, 2, 2, None]))
    # reversed items 4, 5, 7, 8: 4 - 2 = 2, so nine 2s: 18 x 10/9 = 20
    assert score.exact["total"] == 20
    assert score.missing_rule_applied
    assert score.notes == ("1 item missing: total prorated as sum x 10/9 (local rule)",)


def test_pss10_with_two_missing_items_says_why_there_is_no_score():
    score = get_instrument("pss-10").score(_pss([2, 2, 2, 2, 2, 2, 2, 2, None, None]))
    assert score.values["total"] is None
    assert score.notes == ("2 items missing (at most 1 allowed): no score",)


def _womac(function: list[int | None]) -> dict[str, int | None]:
    answers: dict[str, int | None] = {f"p{i}": 2 for i in range(1, 6)}
    answers |= {"s1": 1, "s2": 1}
    answers |= {f"f{i}": v for i, v in enumerate(function, start=1)}
    return answers


def test_womac_notes_say_mean_substitution_or_no_score():
    substituted = get_instrument("womac").score(_womac([1] * 16 + [None]))
    assert substituted.exact["function"] == 17
    assert substituted.notes == (
        "function: 1 missing item(s) replaced by the mean of the answered items",)
    invalid = get_instrument("womac").score(_womac([1] * 13 + [None] * 4))
    assert invalid.notes == ("function: 4 of 17 items missing (at most 3 allowed): no score",)


ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")


def test_odi_one_missing_section_note_gives_the_denominator_45():
    answers = dict(zip(ODI_SECTIONS, [2, 2, 2, 2, 2, 2, 2, None, 1, 1], strict=True))
    score = get_instrument("odi").score(answers)
    assert score.exact["disability"] == Fraction(16, 45) * 100  # scoring sheet: 35.56 %
    assert score.notes == (
        "1 section(s) unanswered or not applicable: denominator 45 instead of 50",)


def test_odi_with_three_missing_sections_says_why_there_is_no_score():
    answers = dict(zip(ODI_SECTIONS, [2, 2, 2, 2, 2, 2, 2, None, None, None], strict=True))
    score = get_instrument("odi").score(answers)
    assert score.values["disability"] is None
    assert score.notes == ("3 of 10 sections missing (at most 2 allowed): no score",)


def test_peg_with_an_item_missing_says_all_three_are_needed():
    score = get_instrument("peg").score({"p_average_pain": 6, "e_enjoyment_of_life": 5})
    assert score.values["peg"] is None
    assert score.notes == ("PEG needs all 3 items: no score",)


BPI_INTERFERENCE = ("q9a_general_activity", "q9b_mood", "q9c_walking_ability",
                    "q9d_normal_work", "q9e_relations_with_others", "q9f_sleep",
                    "q9g_enjoyment_of_life")


def test_bpi_notes_follow_the_user_guide_rules():
    # BPI User Guide: interference is the mean of the answered 9A-9G if >= 4 answered.
    five = dict(zip(BPI_INTERFERENCE, [4, 5, 6, 3, 2, None, None], strict=True))
    score = get_instrument("bpi-sf").score({"q3_worst_pain": 8, **five})
    assert score.exact["interference"] == 4
    assert score.values["severity"] is None
    assert score.notes == ("severity needs all 4 items (3-6): no score",
                           "interference: mean of the 5 answered items (BPI rule: >= 4 of 7)")
    three = dict(zip(BPI_INTERFERENCE[:3], [4, 5, 6], strict=True))
    score = get_instrument("bpi-sf").score(
        {"q3_worst_pain": 8, "q4_least_pain": 2, "q5_average_pain": 5, "q6_pain_now": 5,
         **three})
    assert score.exact["severity"] == 5
    assert score.values["interference"] is None
    assert score.notes == ("interference needs >= 4 of 7 items, 3 answered: no score",)

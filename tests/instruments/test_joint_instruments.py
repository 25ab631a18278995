"""WOMAC LK3.1 and ODI 2.1a against the notes' vectors (§3-4), including the ODI
scoring sheet's published example (16/50 = 32 %, 16/45 = 35.56 %). Exact fractions."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.instruments import get_instrument

WOMAC_PAIN = [2, 3, 1, 2, 2]
WOMAC_STIFFNESS = [3, 2]
WOMAC_FUNCTION = [2] * 12 + [1] * 4 + [2]


def womac(pain: list[int | None], stiffness: list[int | None],
          function: list[int | None]) -> dict[str, int | None]:
    answers: dict[str, int | None] = {}
    for prefix, values in (("p", pain), ("s", stiffness), ("f", function)):
        answers.update({f"{prefix}{i}": v for i, v in enumerate(values, start=1)})
    return answers


def test_womac_worked_example() -> None:
    score = get_instrument("womac").score(womac(WOMAC_PAIN, WOMAC_STIFFNESS, WOMAC_FUNCTION))
    # pain 2+3+1+2+2 = 10; stiffness 3+2 = 5; function 12x2 + 4x1 + 2 = 30; total 45
    assert score.exact == {"pain": 10, "stiffness": 5, "function": 30, "total": 45}
    assert not score.missing_rule_applied


def test_womac_function_with_two_missing_items_is_mean_substituted() -> None:
    function: list[int | None] = [*WOMAC_FUNCTION[:15], None, None]
    score = get_instrument("womac").score(womac(WOMAC_PAIN, WOMAC_STIFFNESS, function))
    # answered 15 items sum to 12x2 + 3x1 = 27; 27 / 15 x 17 = 30.6
    assert score.exact["function"] == Fraction(306, 10)
    assert score.exact["total"] == 10 + 5 + Fraction(306, 10)
    assert score.missing_rule_applied
    assert score.missing_items == ("f16", "f17")


def test_womac_function_with_four_missing_items_is_invalid() -> None:
    function: list[int | None] = [*WOMAC_FUNCTION[:13], None, None, None, None]
    score = get_instrument("womac").score(womac(WOMAC_PAIN, WOMAC_STIFFNESS, function))
    assert score.values["function"] is None
    assert score.values["total"] is None
    assert score.values["pain"] == 10


def test_womac_function_with_three_missing_items_is_still_valid() -> None:
    function: list[int | None] = [*WOMAC_FUNCTION[:14], None, None, None]
    score = get_instrument("womac").score(womac(WOMAC_PAIN, WOMAC_STIFFNESS, function))
    # answered 14: 12x2 + 2x1 = 26; 26 / 14 x 17 = 221/7
    assert score.exact["function"] == Fraction(26 * 17, 14)


def test_womac_pain_with_two_missing_items_is_invalid_under_user_guide_rule() -> None:
    # depends on the [U] user-guide rule recorded in conventions (pain: >= 2 missing)
    score = get_instrument("womac").score(womac([2, 3, 1, None, None], WOMAC_STIFFNESS,
                                                WOMAC_FUNCTION))
    assert score.values["pain"] is None
    assert any("pain" in c.lower() for c in get_instrument("womac").conventions)


def test_womac_stiffness_one_missing_substitutes_the_other() -> None:
    score = get_instrument("womac").score(womac(WOMAC_PAIN, [3, None], WOMAC_FUNCTION))
    assert score.exact["stiffness"] == 6


ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")


def odi(values: list[int | None]) -> dict[str, int | None]:
    return dict(zip(ODI_SECTIONS, values, strict=True))


def test_odi_published_example_all_sections() -> None:
    # scoring sheet: total 16 of a possible 50 -> 16 / 50 x 100 = 32 %
    score = get_instrument("odi").score(odi([2, 2, 2, 2, 2, 2, 1, 1, 1, 1]))
    assert score.exact["disability"] == 32
    assert score.bands["disability"] == "moderate disability"


def test_odi_published_example_one_section_missed() -> None:
    # sheet: 16 / 45 x 100, printed truncated as 35.5 %; exact 320/9 = 35.56 %
    score = get_instrument("odi").score(odi([2, 2, 2, 2, 2, 2, 2, None, 1, 1]))
    assert score.exact["disability"] == Fraction(320, 9)
    assert round(score.values["disability"] or 0, 2) == 35.56
    assert score.missing_rule_applied
    assert score.missing_items == ("sex_life",)


@pytest.mark.parametrize(("values", "expected", "band"), [
    ([3, 3, 3, 2, 2, 2, 2, 2, 2, 2], Fraction(46), "severe disability"),        # 23/50
    ([3, 3, 3, 3, 3, 2, 2, None, 2, 2], Fraction(2300, 45), "severe disability"),  # 23/45
    ([2, 2, 2, 2, 2, 0, 0, 0, 0, 0], Fraction(20), "minimal disability"),       # 10/50 edge
    ([5] * 10, Fraction(100), "bed-bound or exaggerating"),
])
def test_odi_additional_vectors(values: list[int | None], expected: Fraction,
                                band: str) -> None:
    score = get_instrument("odi").score(odi(values))
    assert score.exact["disability"] == expected
    assert score.bands["disability"] == band


def test_odi_no_sections_answered_has_no_score() -> None:
    assert get_instrument("odi").score({}).values["disability"] is None


def test_odi_three_missing_sections_exceed_the_local_limit() -> None:
    score = get_instrument("odi").score(odi([2, 2, 2, 2, 2, 2, 2, None, None, None]))
    assert score.values["disability"] is None
    assert "at most 2" in score.notes[0]

"""PSS-10, GSRS, Bristol and the stool diary summary against the notes' vectors (§8-9).
Exact fractions throughout."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.gut import summarise_stool_diary


def pss(values: list[int | None]) -> dict[str, int | None]:
    return {f"pss{i}": v for i, v in enumerate(values, start=1)}


def test_pss10_worked_example() -> None:
    # reversed 4: 1->3, 5: 1->3, 7: 1->3, 8: 2->2; 3+2+3+3+3+2+3+2+3+2 = 26
    score = get_instrument("pss-10").score(pss([3, 2, 3, 1, 1, 2, 1, 2, 3, 2]))
    assert score.exact["total"] == 26
    assert score.bands["total"] is None          # no default cut-offs (not diagnostic)


@pytest.mark.parametrize(("values", "expected"), [
    ([0] * 10, 16),                               # six direct 0 + four reversed 4
    ([4] * 10, 24),                               # 6 x 4 + 4 x 0
    ([4, 4, 4, 0, 0, 4, 0, 0, 4, 4], 40),         # maximum
    ([0, 0, 0, 4, 4, 0, 4, 4, 0, 0], 0),          # minimum
])
def test_pss10_reversal_extremes(values: list[int], expected: int) -> None:
    assert get_instrument("pss-10").score(pss(values)).exact["total"] == expected


def test_pss10_secondary_bands_are_opt_in_and_labelled() -> None:
    score = get_instrument("pss-10").score(pss([3, 2, 3, 1, 1, 2, 1, 2, 3, 2]),
                                           bands={"total": "secondary-0-13-26"})
    assert score.bands["total"] == "moderate"
    spec = get_instrument("pss-10").score_spec("total").band_set("secondary-0-13-26")
    assert spec is not None and "not Cohen" in spec.source


def test_pss10_one_missing_item_is_prorated_two_are_not() -> None:
    one = get_instrument("pss-10").score(pss([3, 2, 3, 1, 1, 2, 1, 2, 3, None]))
    # scored answered items sum to 26 - 2 = 24; 24 x 10/9 = 80/3
    assert one.exact["total"] == Fraction(80, 3)
    assert one.missing_rule_applied
    two = get_instrument("pss-10").score(pss([3, 2, 3, 1, 1, 2, 1, 2, None, None]))
    assert two.values["total"] is None


GSRS_EXAMPLE = [3, 5, 4, 2, 1, 3, 4, 2, 3, 1, 2, 2, 1, 3, 2]


def gsrs(values: list[int | None]) -> dict[str, int | None]:
    return {f"gsrs{i}": v for i, v in enumerate(values, start=1)}


def test_gsrs_worked_example() -> None:
    score = get_instrument("gsrs@self-7").score(gsrs(GSRS_EXAMPLE))
    assert score.exact == {"reflux": Fraction(9, 2), "abdominal_pain": 2,
                           "indigestion": 3, "diarrhoea": Fraction(7, 3),
                           "constipation": Fraction(4, 3), "total": Fraction(38, 15)}


def test_gsrs_swapping_items_10_and_11_moves_diarrhoea_and_constipation() -> None:
    swapped = list(GSRS_EXAMPLE)
    swapped[9], swapped[10] = swapped[10], swapped[9]
    score = get_instrument("gsrs").score(gsrs(swapped))
    assert score.exact["diarrhoea"] == 2
    assert score.exact["constipation"] == Fraction(5, 3)


def test_gsrs_versions_have_different_scales() -> None:
    assert get_instrument("gsrs").key == "gsrs@self-7"
    with pytest.raises(InstrumentError, match="above"):
        get_instrument("gsrs@1988-interview").score(gsrs(GSRS_EXAMPLE))
    with pytest.raises(InstrumentError, match="below"):
        get_instrument("gsrs@self-7").score({"gsrs1": 0})


def test_gsrs_missing_item_removes_only_its_syndrome_and_the_total() -> None:
    values: list[int | None] = list(GSRS_EXAMPLE)
    values[1] = None                               # heartburn (reflux)
    score = get_instrument("gsrs").score(gsrs(values))
    assert score.values["reflux"] is None and score.values["total"] is None
    assert score.exact["indigestion"] == 3


@pytest.mark.parametrize(("stool_type", "band"), [(1, "constipation"), (2, "constipation"),
                                                  (4, "normal"), (5, "toward diarrhoea"),
                                                  (7, "diarrhoea")])
def test_bristol_types(stool_type: int, band: str) -> None:
    score = get_instrument("bristol").score({"stool_type": stool_type})
    assert score.values["type"] == stool_type and score.bands["type"] == band


def test_bristol_rejects_type_8() -> None:
    with pytest.raises(InstrumentError, match="stool_type"):
        get_instrument("bristol").score({"stool_type": 8})


def test_stool_diary_worked_example() -> None:
    # types 4, 6, 6, 7: mode 6; types 6-7 = 3/4; types 1-2 = 0; frequency 4
    summary = summarise_stool_diary([4, 6, 6, 7])
    assert summary.n == 4 and summary.modes == (6,)
    assert summary.share_loose == Fraction(3, 4) and summary.share_hard == 0


def test_stool_diary_ties_and_errors() -> None:
    assert summarise_stool_diary([1, 4]).modes == (1, 4)
    with pytest.raises(InstrumentError, match="row 2"):
        summarise_stool_diary([4, 9])
    with pytest.raises(InstrumentError):
        summarise_stool_diary([])

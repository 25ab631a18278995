"""DAS28 (ESR/CRP, 4 and 3 variables), CDAI, SDAI and the EULAR response against the
notes' vectors (§7). DAS28 values are compared with an absolute tolerance of 5e-7 (the
notes print six decimals); CDAI/SDAI are exact."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.rheumatology import das28, eular_response

TOL = 5e-7


def esr(tjc: int, sjc: int, value: float, gh: float | None = None) -> dict[str, float | None]:
    return {"tjc28": tjc, "sjc28": sjc, "esr_mm_h": value, "gh_mm": gh}


def crp(tjc: int, sjc: int, value: float, gh: float | None = None) -> dict[str, float | None]:
    return {"tjc28": tjc, "sjc28": sjc, "crp_mg_l": value, "gh_mm": gh}


@pytest.mark.parametrize(("instrument", "answers", "name", "expected", "band"), [
    ("das28-esr", esr(4, 4, 16, 25), "das28_esr4", 3.970812, "moderate"),
    ("das28-crp", crp(4, 4, 9, 25), "das28_crp4", 3.818931, "moderate"),
    ("das28-esr", esr(9, 4, 30, 50), "das28_esr4", 5.320838, "high"),
    ("das28-crp", crp(9, 4, 15, 50), "das28_crp4", 4.898132, "moderate"),
    ("das28-esr", esr(9, 4, 30), "das28_esr3", 5.150505, "high"),
    ("das28-crp", crp(9, 4, 15), "das28_crp3", 4.711945, "moderate"),
])
def test_das28_worked_vectors(instrument: str, answers: dict[str, float | None], name: str,
                              expected: float, band: str) -> None:
    score = get_instrument(instrument).score(answers)
    assert score.values[name] == pytest.approx(expected, abs=TOL)
    assert score.bands[name] == band


def test_das28_independent_hand_formula() -> None:
    # the published formula written out again, independently of the module
    tjc, sjc, value, gh = 9, 4, 30.0, 50.0
    by_hand = 0.56 * math.sqrt(tjc) + 0.28 * math.sqrt(sjc) + 0.70 * math.log(value) \
        + 0.014 * gh
    assert das28(tjc, sjc, value, marker_kind="esr", gh=gh) == pytest.approx(by_hand,
                                                                            rel=1e-15)


def test_das28_without_gh_reports_only_the_labelled_3_variable_form() -> None:
    score = get_instrument("das28-crp").score(crp(9, 4, 15))
    assert score.values["das28_crp4"] is None
    assert score.values["das28_crp3"] == pytest.approx(4.711945, abs=TOL)
    assert any("3-variable" in note for note in score.notes)


@pytest.mark.parametrize(("instrument", "answers", "name", "floor"), [
    ("das28-crp", crp(0, 0, 0, 0), "das28_crp4", 0.96),
    ("das28-crp", crp(0, 0, 0), "das28_crp3", 1.15),
    ("das28-esr", esr(0, 0, 1, 0), "das28_esr4", 0.0),
    ("das28-esr", esr(0, 0, 1), "das28_esr3", 0.16),
])
def test_das28_floors(instrument: str, answers: dict[str, float | None], name: str,
                      floor: float) -> None:
    value = get_instrument(instrument).score(answers).values[name]
    assert value == pytest.approx(floor, abs=1e-12)


def test_das28_esr_zero_is_rejected() -> None:
    with pytest.raises(InstrumentError, match="esr_mm_h"):
        get_instrument("das28-esr").score(esr(4, 4, 0, 25))


@pytest.mark.parametrize("answers", [crp(29, 4, 5, 50), crp(4, -1, 5, 50),
                                     crp(4, 4, -2, 50), crp(4, 4, 5, 101)])
def test_das28_out_of_domain_inputs_are_rejected(answers: dict[str, float | None]) -> None:
    with pytest.raises(InstrumentError):
        get_instrument("das28-crp").score(answers)


def test_das28_crp_unit_trap_changes_the_score() -> None:
    # CRP 1.5 entered in mg/dL instead of 15 mg/L gives 4.230 instead of 4.898. The notes
    # print 4.229866, but 0.36 x ln 2.5 = 0.3298648, so the sum is 4.2298648 (checked by
    # hand); the notes' 3-decimal value 4.230 is what is compared here.
    wrong = get_instrument("das28-crp").score(crp(9, 4, 1.5, 50)).values["das28_crp4"]
    assert wrong == pytest.approx(4.230, abs=5e-4)
    assert wrong == pytest.approx(1.68 + 0.56 + 0.36 * math.log(2.5) + 0.70 + 0.96, rel=1e-15)


@pytest.mark.parametrize(("value", "band"), [(2.5999999, "remission"), (2.6, "low"),
                                             (3.2, "low"), (3.2000001, "moderate"),
                                             (5.1, "moderate"), (5.1000001, "high")])
def test_das28_cut_offs_on_the_boundary(value: float, band: str) -> None:
    spec = get_instrument("das28-esr").score_spec("das28_esr4")
    assert spec.bands is not None
    assert spec.bands.classify(value, tolerance=spec.tolerance) == band


@pytest.mark.parametrize(("baseline", "current", "response"), [
    (5.321, 3.971, "moderate"), (5.321, 3.000, "good"), (5.900, 5.200, "none"),
    (4.000, 3.500, "none"), (4.4, 3.2, "moderate"),  # improvement exactly 1.2 -> not > 1.2
    (3.8, 3.2, "none"),                               # improvement exactly 0.6 -> none
    (7.0, 5.5, "moderate"),                           # > 1.2 but current > 5.1
])
def test_eular_response_table(baseline: float, current: float, response: str) -> None:
    assert eular_response(baseline, current) == response


def test_eular_response_rejects_nan() -> None:
    with pytest.raises(InstrumentError):
        eular_response(float("nan"), 3.0)


def cdai(tjc: int, sjc: int, pt: float, ev: float) -> dict[str, float]:
    return {"tjc28": tjc, "sjc28": sjc, "ptga_cm": pt, "evga_cm": ev}


@pytest.mark.parametrize(("answers", "crp_mg_dl", "c_value", "c_band", "s_value", "s_band"), [
    (cdai(9, 4, 5.0, 4.0), 1.5, Fraction(22), "moderate", Fraction(235, 10), "moderate"),
    (cdai(1, 0, 1.0, 0.5), 0.3, Fraction(25, 10), "remission", Fraction(28, 10), "remission"),
    (cdai(2, 1, 2.0, 1.5), 0.8, Fraction(65, 10), "low", Fraction(73, 10), "low"),
])
def test_cdai_and_sdai_vectors(answers: dict[str, float], crp_mg_dl: float, c_value: Fraction,
                               c_band: str, s_value: Fraction, s_band: str) -> None:
    c = get_instrument("cdai").score(answers)
    s = get_instrument("sdai").score({**answers, "crp_mg_dl": crp_mg_dl})
    assert (c.exact["cdai"], c.bands["cdai"]) == (c_value, c_band)
    assert (s.exact["sdai"], s.bands["sdai"]) == (s_value, s_band)


def test_sdai_unit_trap_is_flagged_not_capped() -> None:
    # adding CRP 15 (mg/L by mistake) instead of 1.5 mg/dL gives 37.0 "high"
    s = get_instrument("sdai").score({**cdai(9, 4, 5.0, 4.0), "crp_mg_dl": 15})
    assert s.exact["sdai"] == 37
    assert any("mg/dL" in note for note in s.notes)


def test_cdai_needs_every_component() -> None:
    c = get_instrument("cdai").score({"tjc28": 9, "sjc28": 4, "ptga_cm": 5})
    assert c.values["cdai"] is None

"""DAS28 (ESR/CRP, 4 and 3 variables), CDAI, SDAI and the EULAR response, written to kill
mutmut mutants of ``instruments/rheumatology.py`` (re-measure with
``python scripts/mutation.py gutaxis.instruments.rheumatology``).

References (notes §7, ``docs/research/instruments.md``): the das-score.nl formulae, their
input ranges (counts 0-28, GH 0-100 mm, ESR in mm/h with ln ESR, CRP in mg/L), the EULAR
response table (good: improvement > 1.2 and DAS28 <= 3.2; none: improvement <= 0.6, or <=
1.2 with DAS28 > 5.1; otherwise moderate), CDAI = TJC + SJC + PtGA + EvGA and SDAI = CDAI +
CRP in mg/dL with CRP > 10 mg/dL flagged, not capped. DAS28 values by hand (closed form).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.rheumatology import das28, eular_response


def _error(call) -> InstrumentError:
    with pytest.raises(InstrumentError) as caught:
        call()
    return caught.value


# -- das28 -----------------------------------------------------------------------------

def test_das28_esr_forms_by_hand():
    # TJC 9, SJC 4, ESR e (ln 1), GH 50: 0.56*3 + 0.28*2 + 0.70 = 2.94
    assert das28(9, 4, math.e, marker_kind="esr", gh=50) == pytest.approx(2.94 + 0.7,
                                                                           abs=1e-12)
    assert das28(9, 4, math.e, marker_kind="esr") == pytest.approx(2.94 * 1.08 + 0.16,
                                                                    abs=1e-12)


def test_das28_crp_forms_by_hand():
    # TJC 4, SJC 16, CRP e - 1 (ln(CRP + 1) = 1), GH 100: 0.56*2 + 0.28*4 + 0.36 = 2.6
    assert das28(4, 16, math.e - 1, marker_kind="crp", gh=100) == pytest.approx(
        2.6 + 1.4 + 0.96, abs=1e-12)
    assert das28(4, 16, math.e - 1, marker_kind="crp") == pytest.approx(2.6 * 1.10 + 1.15,
                                                                         abs=1e-12)


def test_das28_floors_at_zero_counts():
    # notes §7: minima CRP(4) 0.96, CRP(3) 1.15; ESR 1 (ln 1 = 0): ESR(4) 0, ESR(3) 0.16
    assert das28(0, 0, 0, marker_kind="crp", gh=0) == pytest.approx(0.96, abs=1e-12)
    assert das28(0, 0, 0, marker_kind="crp") == pytest.approx(1.15, abs=1e-12)
    assert das28(0, 0, 1, marker_kind="esr", gh=0) == 0
    assert das28(0, 0, 1, marker_kind="esr") == pytest.approx(0.16, abs=1e-12)
    assert das28(28, 28, 1, marker_kind="esr", gh=100) == pytest.approx(
        0.84 * math.sqrt(28) + 1.4, abs=1e-12)


@pytest.mark.parametrize(("kwargs", "field", "found", "message", "expected"), [
    ({"tjc": 29}, "tjc28", 29, "joint count out of range", "0 to 28"),
    ({"tjc": -1}, "tjc28", -1, "joint count out of range", "0 to 28"),
    ({"sjc": 29}, "sjc28", 29, "joint count out of range", "0 to 28"),
    ({"sjc": -1}, "sjc28", -1, "joint count out of range", "0 to 28"),
    ({"gh": 101}, "gh_mm", 101, "global health out of range", "0 to 100 mm"),
    ({"gh": -1}, "gh_mm", -1, "global health out of range", "0 to 100 mm"),
    ({"marker": 0.5}, "esr_mm_h", 0.5, "ESR must be >= 1 mm/h (ln ESR)", ">= 1 mm/h"),
    ({"marker": 0.5, "kind": "crp", "gh": None}, None, None, None, None),
    ({"marker": -0.1, "kind": "crp"}, "crp_mg_l", -0.1, "CRP must be >= 0 mg/L",
     ">= 0 mg/L"),
])
def test_das28_refuses_out_of_range_inputs_naming_them(kwargs, field, found, message,
                                                       expected):
    args = {"tjc": 4, "sjc": 4, "marker": 16, "kind": "esr", "gh": 25} | kwargs

    def call():
        return das28(args["tjc"], args["sjc"], args["marker"], marker_kind=args["kind"],
                     gh=args["gh"])

    if field is None:
        assert call() == pytest.approx((0.56 * 2 + 0.28 * 2 + 0.36 * math.log(1.5)) * 1.10
                                       + 1.15, abs=1e-12)
        return
    error = _error(call)
    assert (error.message, error.field, error.found, error.expected) == (
        message, field, found, expected)


def test_das28_range_ends_are_accepted():
    assert das28(28, 0, 1, marker_kind="esr", gh=100) == pytest.approx(
        0.56 * math.sqrt(28) + 1.4, abs=1e-12)
    assert das28(0, 28, 1, marker_kind="esr") == pytest.approx(
        0.28 * math.sqrt(28) * 1.08 + 0.16, abs=1e-12)


# -- DAS28 instruments -------------------------------------------------------------------

COMMON_CONVENTIONS = (
    "Bands classify the unrounded value; within 1e-9 of a cut-off counts as on it.",
    "Low activity includes 3.2 (EULAR tables), not '< 3.2' (das-score.nl formula page).")
MARKERS = {
    "esr": (("esr_mm_h", "erythrocyte sedimentation rate", "number", 1, None, "mm/h"),
            ("ESR in mm/h; ESR 0 is rejected (ln 0).",)),
    "crp": (("crp_mg_l", "C-reactive protein", "number", 0, None, "mg/L"),
            ("CRP in mg/L; convert mg/dL x 10 before scoring.",
             "DAS28-ESR cut-offs are applied to DAS28-CRP as published; CRP-specific "
             "thresholds (Fleischmann: remission ~2.4) are not used.")),
}


#: Each DAS28 form at its smallest inputs (0 tender, 0 swollen, ln ESR = 0 or
#: ln(CRP + 1) = 0, GH 0), read off the published formulas: the additive constant of the
#: 4-variable CRP form, the "x 1.08 + 0.16" and "x 1.10 + 1.15" of the 3-variable forms.
FLOORS = {("esr", 4): 0, ("esr", 3): 0.16, ("crp", 4): 0.96, ("crp", 3): 1.15}


@pytest.mark.parametrize(("kind", "variables"), sorted(FLOORS))
def test_das28_declared_minimum_is_the_formulas_floor(kind, variables):
    """The declared range starts where the formula does (it said 0 for DAS28-CRP(3) and
    DAS28-ESR(3), whose floors are 1.15 and 0.16), and the floor is reached."""
    inst = get_instrument(f"das28-{kind}")
    spec = inst.score_spec(f"das28_{kind}{variables}")
    assert spec.minimum == pytest.approx(FLOORS[kind, variables], abs=1e-12)
    marker = {"esr": ("esr_mm_h", 1), "crp": ("crp_mg_l", 0)}[kind]
    answers = {"tjc28": 0, "sjc28": 0, marker[0]: marker[1], "gh_mm": 0}
    assert inst.score(answers).values[spec.name] == pytest.approx(spec.minimum, abs=1e-12)


@pytest.mark.parametrize("kind", ["esr", "crp"])
def test_das28_instruments_as_registered(kind):
    marker, conventions = MARKERS[kind]
    inst = get_instrument(f"das28-{kind}")
    label = kind.upper()
    assert (inst.id, inst.version) == (f"das28-{kind}", "1995")
    assert inst.name == f"Disease Activity Score, 28 joints, with {label} (4 and 3 variables)"
    assert [(i.id, i.topic, i.kind, i.minimum, i.maximum, i.unit) for i in inst.items] == [
        ("tjc28", "tender joint count, 28 joints", "integer", 0, 28, None),
        ("sjc28", "swollen joint count, 28 joints", "integer", 0, 28, None),
        marker,
        ("gh_mm", "patient global health / disease activity VAS", "number", 0, 100, "mm")]
    assert [(s.name, s.minimum, s.maximum, s.bands and s.bands.name, s.tolerance,
             s.description) for s in inst.scores] == [
        (f"das28_{kind}4", FLOORS[kind, 4], math.inf, "eular",
         Fraction(1, 10**9), f"DAS28-{label}(4)"),
        (f"das28_{kind}3", FLOORS[kind, 3], math.inf, "eular", Fraction(1, 10**9),
         f"DAS28-{label}(3)")]
    assert inst.missing_rule == ("No missing inputs allowed; without global health only the "
                                 "3-variable form is reported (explicitly labelled).")
    assert inst.citation == ("Prevoo MLL et al. Arthritis Rheum 1995;38:44-48; das-score.nl "
                             "alternative validated formulae.")
    assert inst.licence == "Published formula, free to use."
    assert inst.wording_may_ship is True
    assert inst.conventions == (*COMMON_CONVENTIONS, *conventions)


def test_das28_scorer_without_gh_reports_only_the_3_variable_form():
    score = get_instrument("das28-esr").score({"tjc28": 9, "sjc28": 4,
                                               "esr_mm_h": math.e, "gh_mm": None})
    assert score.values["das28_esr4"] is None
    assert score.values["das28_esr3"] == pytest.approx(2.94 * 1.08 + 0.16, abs=1e-12)
    assert score.notes == ("global health missing: only the 3-variable DAS28 is reported",)


def test_das28_scorer_with_gh_reports_both_forms_without_notes():
    score = get_instrument("das28-crp").score({"tjc28": 4, "sjc28": 16,
                                               "crp_mg_l": math.e - 1, "gh_mm": 100})
    assert score.values["das28_crp4"] == pytest.approx(2.6 + 1.4 + 0.96, abs=1e-12)
    assert score.values["das28_crp3"] == pytest.approx(2.6 * 1.10 + 1.15, abs=1e-12)
    assert score.notes == ()


@pytest.mark.parametrize("missing", ["tjc28", "sjc28", "esr_mm_h"])
def test_das28_scorer_needs_counts_and_the_lab_value(missing):
    answers = {"tjc28": 9, "sjc28": 4, "esr_mm_h": 16, "gh_mm": 50} | {missing: None}
    score = get_instrument("das28-esr").score(answers)
    assert score.values["das28_esr4"] is None and score.values["das28_esr3"] is None
    assert score.notes == ("joint counts and the lab value are all required",)


# -- CDAI / SDAI ---------------------------------------------------------------------------

def test_cdai_and_sdai_sums_of_notes_patient_a():
    # notes §7 patient A: TJC 9, SJC 4, PtGA 5.0, EvGA 4.0 -> CDAI 22; CRP 1.5 -> SDAI 23.5
    parts = {"tjc28": 9, "sjc28": 4, "ptga_cm": 5.0, "evga_cm": 4.0}
    cdai = get_instrument("cdai").score(parts)
    assert cdai.values == {"cdai": 22} and cdai.notes == ()
    sdai = get_instrument("sdai").score(parts | {"crp_mg_dl": 1.5})
    assert sdai.exact == {"sdai": Fraction(47, 2)} and sdai.notes == ()


@pytest.mark.parametrize(("crp", "flagged"), [(10, False), ("10.5", True), (15, True)])
def test_sdai_flags_crp_above_10_mg_dl(crp, flagged):
    parts = {"tjc28": 1, "sjc28": 12, "ptga_cm": 1.0, "evga_cm": 0.5, "crp_mg_dl": crp}
    score = get_instrument("sdai").score(parts)
    assert score.exact["sdai"] == Fraction(29, 2) + Fraction(str(crp))
    expected = (f"CRP {float(crp):g} mg/dL > 10: outside the usual 0-86 SDAI range (not "
                "capped); check the unit is mg/dL, not mg/L",)
    assert score.notes == (expected if flagged else ())


@pytest.mark.parametrize(("instrument", "name"), [("cdai", "CDAI"), ("sdai", "SDAI")])
def test_composite_with_a_missing_component_has_no_score(instrument, name):
    parts = {"tjc28": 1, "sjc28": 0, "ptga_cm": None, "evga_cm": 0.5, "crp_mg_dl": 0.3}
    if instrument == "cdai":
        del parts["crp_mg_dl"]
    score = get_instrument(instrument).score(parts)
    assert score.values == {instrument: None}
    assert score.notes == (f"{name} needs every component",)


# -- EULAR response ------------------------------------------------------------------------

@pytest.mark.parametrize(("baseline", "current", "response"), [
    (4.0, 3.4, "none"),        # improvement 0.6 (float 0.6000000000000001): <= 0.6
    (4.0, 3.0, "moderate"),    # 1.0, current <= 3.2
    (4.4, 3.2, "moderate"),    # improvement 1.2 is not > 1.2
    (4.5, 3.2, "good"),        # 1.3 > 1.2 and current 3.2 <= 3.2
    (5.0, 3.0, "good"),        # 2.0
    (4.0, 3.2, "moderate"),    # 0.8, current <= 3.2 but not > 1.2
    (5.5, 4.0, "moderate"),    # 1.5 > 1.2 but current 3.2 < 4.0 <= 5.1
    (6.1, 5.1, "moderate"),    # 1.0, current 5.1 is not > 5.1
    (6.5, 5.5, "none"),        # 1.0 with current > 5.1
    (7.0, 5.5, "moderate"),    # 1.5 with current > 5.1
    (5.9, 5.2, "none"),        # notes §7 worked example
    (0.0, 0.0, "none"),        # the range starts at 0
    (1.9, 0.5, "good"),
])
def test_eular_response_table_edges(baseline, current, response):
    assert eular_response(baseline, current) == response


@pytest.mark.parametrize(("baseline", "current", "field", "found"), [
    (-1.0, 3.0, "baseline", -1.0), (math.inf, 3.0, "baseline", math.inf),
    (5.0, -0.5, "current", -0.5), (5.0, math.inf, "current", math.inf),
])
def test_eular_response_refuses_impossible_das28_values(baseline, current, field, found):
    error = _error(lambda: eular_response(baseline, current))
    assert (error.message, error.field, error.found, error.expected) == (
        "DAS28 out of range", field, found, "a finite DAS28 value >= 0")


TOL = 1e-9    # documented: within 1e-9 of a cut-off counts as on it


@pytest.mark.parametrize(("baseline", "current", "response"), [
    (0.6 + TOL, 0.0, "none"),              # improvement on 0.6 (+ tolerance): <= 0.6
    (1.2 + TOL, 0.0, "moderate"),          # improvement on 1.2: not > 1.2
    (5.1 + TOL + 1.0, 5.1 + TOL, "moderate"),   # current on 5.1: not > 5.1
    (3.2 + TOL + 2.0, 3.2 + TOL, "good"),  # current on 3.2: <= 3.2
])
def test_eular_response_values_on_a_cut_off_within_the_tolerance(baseline, current,
                                                                 response):
    assert eular_response(baseline, current) == response

"""Barrier and inflammation markers as lab analytes: units, conversions against closed
forms, the spellings labs use, wrong-kind units refused naming the row, LOINC codes
checked by their own check digit, caveats and intervals never without a source, and the
cohort join giving a per-sample column as for CRP.

Closed forms (exact, by hand): 1 ug/mL = 1000 ng/mL = 10**6 pg/mL; 1 ng/mL = 1 ug/L;
1 {EU}/L = 0.001 {EU}/mL; 3 % = 0.03 (a ratio). Conversions by powers of ten are compared
for exact equality with the double nearest the decimal result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data.cohort import Cohort
from gutaxis.data.labs import (
    ANALYTES,
    BARRIER_MARKERS,
    BY_LOINC,
    INFLAMMATION_MARKERS,
    analyte_notes,
    get_analyte,
    normalise_labs,
)
from gutaxis.data.measurements import Measurements
from gutaxis.data.profile import ProfileTable
from gutaxis.data.units import convert
from gutaxis.errors import InputError

BARRIER = {
    # id: (canonical unit, specimen)
    "zonulin": ("ng/mL", "serum/plasma"),
    "lps": ("{EU}/mL", "serum/plasma"),
    "lps_mass": ("pg/mL", "serum/plasma"),
    "lbp": ("ug/mL", "serum/plasma"),
    "scd14": ("ug/mL", "serum/plasma"),
    "ifabp": ("pg/mL", "serum/plasma"),
    "lm_ratio": ("{ratio}", "urine"),
    "tnf_alpha": ("pg/mL", "serum/plasma"),
    "calprotectin": ("ug/g", "stool"),
    "hs_crp": ("mg/L", "serum/plasma"),
    "il6": ("pg/mL", "serum/plasma"),
}


def luhn_check_digit(digits: str) -> int:
    """LOINC's mod-10 check digit: from the right, double every other digit starting
    with the rightmost, add the digits of the products and the undoubled digits, and the
    check digit brings the sum to a multiple of ten (Luhn)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


def test_every_barrier_marker_is_known_with_its_unit_and_specimen() -> None:
    for analyte_id, (unit, specimen) in BARRIER.items():
        analyte = ANALYTES[analyte_id]
        assert (analyte.unit, analyte.specimen) == (unit, specimen), analyte_id
    assert set(BARRIER_MARKERS) | set(INFLAMMATION_MARKERS) == set(ANALYTES)
    assert not set(BARRIER_MARKERS) & set(INFLAMMATION_MARKERS)


@pytest.mark.parametrize(("spelling", "analyte_id"), [
    ("LBP", "lbp"), ("Lipopolysaccharide-binding protein", "lbp"), ("sCD14", "scd14"),
    ("soluble CD14", "scd14"), ("I-FABP", "ifabp"), ("FABP2", "ifabp"), ("iFABP", "ifabp"),
    ("L:M", "lm_ratio"), ("L/M ratio", "lm_ratio"), ("Lactulose/Mannitol ratio", "lm_ratio"),
    ("TNF-a", "tnf_alpha"), ("TNFα", "tnf_alpha"), ("TNF-α", "tnf_alpha"),
    ("Tumour necrosis factor  alpha", "tnf_alpha"), ("Zonulin", "zonulin"),
    ("LPS", "lps"), ("endotoxin", "lps"), ("hs-CRP", "hs_crp"), ("IL-6", "il6"),
    ("faecal calprotectin", "calprotectin"),
])
def test_spellings_labs_use(spelling: str, analyte_id: str) -> None:
    assert get_analyte(spelling).id == analyte_id


@pytest.mark.parametrize(("analyte", "value", "unit", "expected"), [
    ("scd14", 1.0, "ug/mL", 1.0),
    ("scd14", 1500.0, "ng/mL", 1.5),            # 1 ug/mL = 1000 ng/mL
    ("lbp", 7.3, "mg/L", 7.3),                  # 1 mg/L = 1 ug/mL
    ("lbp", 7300.0, "ng/mL", 7.3),
    ("ifabp", 0.25, "ng/mL", 250.0),            # 1 ng/mL = 1000 pg/mL
    ("zonulin", 35.0, "ug/L", 35.0),            # 1 ug/L = 1 ng/mL
    ("tnf_alpha", 2.2, "ng/L", 2.2),            # 1 ng/L = 1 pg/mL
    ("lps", 250.0, "EU/L", 0.25),               # 1 EU/L = 0.001 EU/mL
    ("lps", 0.08, "EU/mL", 0.08),
    ("lps_mass", 0.3, "ng/mL", 300.0),
    ("lm_ratio", 0.03, "1", 0.03),
    ("lm_ratio", 3.0, "%", 0.03),
    ("lm_ratio", 0.021, "ratio", 0.021),
])
def test_conversions_match_closed_forms(analyte: str, value: float, unit: str,
                                        expected: float) -> None:
    out = normalise_labs(pd.Series([analyte]), pd.Series([value]), pd.Series([unit]))
    assert out.loc[0, "value"] == expected
    assert out.loc[0, "unit"] == BARRIER[analyte][0]
    assert out.loc[0, "reported_value"] == value


def test_ug_per_ml_is_a_thousand_ng_per_ml() -> None:
    assert convert([1.0], "ug/mL", "ng/mL")[0] == 1000.0
    assert convert([1.0], "{EU}/mL", "{EU}/L")[0] == 1000.0


def test_a_wrong_kind_unit_is_refused_naming_the_row() -> None:
    with pytest.raises(InputError) as caught:
        normalise_labs(pd.Series(["crp", "LBP"]), pd.Series([3.0, 0.5]),
                       pd.Series(["mg/L", "EU/mL"]), source="labs.csv",
                       rows=np.array([2, 3]))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("labs.csv, row 3, field 'unit': Lipopolysaccharide-binding "
                              "protein: LBP is a protein measured by mass")
    assert "found 'EU/mL'" in message and "expected a unit convertible to ug/mL" in message


def test_lps_activity_and_mass_do_not_convert_and_the_message_names_the_other() -> None:
    with pytest.raises(InputError, match=r"row 1, field 'unit': Endotoxin \(LPS\) activity: "
                                         r"LPS measured by mass .* is analyte lps_mass"):
        normalise_labs(pd.Series(["LPS"]), pd.Series([0.3]), pd.Series(["ng/mL"]))
    with pytest.raises(InputError, match=r"in EU/mL \(LAL assay\) is analyte lps\. "
                                         r"Endotoxin activity .* not interconvertible"):
        normalise_labs(pd.Series(["lps_mass"]), pd.Series([0.3]), pd.Series(["EU/mL"]))
    with pytest.raises(InputError, match=r"cannot convert \{EU\}/mL \(endotoxin activity\)"):
        convert([1.0], "{EU}/mL", "pg/mL")


def test_faecal_zonulin_is_not_serum_zonulin() -> None:
    with pytest.raises(InputError, match=r"faecal zonulin .* serum zonulin only"):
        normalise_labs(pd.Series(["zonulin"]), pd.Series([80.0]), pd.Series(["ng/g"]))


def test_ucum_ehrlich_units_are_not_endotoxin_units() -> None:
    # UCUM [EU] is the Ehrlich unit; gutaxis does not read it as an endotoxin unit
    with pytest.raises(InputError, match="unknown unit"):
        normalise_labs(pd.Series(["lps"]), pd.Series([1.0]), pd.Series(["[EU]/mL"]))


def test_loinc_codes_pass_their_check_digit_and_are_unique() -> None:
    codes = [a.loinc for a in ANALYTES.values() if a.loinc]
    assert len(codes) == len(set(codes)) == len(BY_LOINC)
    for code in codes:
        body, check = code.split("-")
        assert luhn_check_digit(body) == int(check), code
    assert ANALYTES["tnf_alpha"].loinc == "3074-2"
    # no code could be confirmed for these: None, never a guess
    for analyte_id in ("zonulin", "lps", "lps_mass", "lbp", "scd14", "ifabp", "lm_ratio"):
        assert ANALYTES[analyte_id].loinc is None


def test_caveats_and_intervals_carry_their_source() -> None:
    for analyte in ANALYTES.values():
        for caveat in analyte.caveats:
            assert caveat.text.strip() and caveat.source.strip(), analyte.id
        for interval in analyte.reference_intervals:
            assert interval.source.strip() and interval.population.strip(), analyte.id
            assert interval.low is not None or interval.high is not None
            assert interval.unit == analyte.unit  # bounds in the canonical unit
    zonulin = " ".join(c.line() for c in ANALYTES["zonulin"].caveats)
    assert "Scheffler et al. 2018, Front Endocrinol 9:22" in zonulin
    assert "Ajamian et al. 2019, PLoS One 14:e0210728" in zonulin
    assert "properdin" in zonulin and "complement C3" in zonulin


def test_hs_crp_categories_are_risk_categories_not_a_reference_interval() -> None:
    kinds = {r.kind for r in ANALYTES["hs_crp"].reference_intervals}
    assert kinds == {"risk category"}
    bounds = [(r.low, r.high) for r in ANALYTES["hs_crp"].reference_intervals]
    assert bounds == [(None, 1.0), (1.0, 3.0), (3.0, None)]
    (calprotectin,) = ANALYTES["calprotectin"].reference_intervals
    assert (calprotectin.kind, calprotectin.high, calprotectin.unit) == (
        "decision limit", 50.0, "ug/g")
    assert "NICE DG11" in calprotectin.source
    for analyte_id in ("zonulin", "lps", "lbp", "scd14", "ifabp", "lm_ratio"):
        assert ANALYTES[analyte_id].reference_intervals == ()  # none sourced


def test_notes_for_a_reader() -> None:
    lines = analyte_notes(["crp", "hs_crp", "zonulin", "hs_crp", "unknown"])
    assert lines[0].startswith("hs_crp: hs-CRP is the same protein as CRP")
    assert "hs_crp: risk category (lower risk) < 1 mg/L" in lines[1]
    assert sum(line.startswith("zonulin: ") for line in lines) == 4
    assert not any(line.startswith("crp: ") for line in lines)


def _cohort(labs: pd.DataFrame) -> Cohort:
    samples = ["s1", "s2", "s3"]
    table = ProfileTable(sp.csr_array(np.ones((3, 1))), samples, ["f0"])
    metadata = pd.DataFrame({"subject": ["p1", "p1", "p2"]}, index=samples)
    links = pd.DataFrame({"sample_id": samples, "subject": ["p1", "p1", "p2"],
                          "time": ["2024-01-10T09:00Z", "2024-02-10T09:00Z",
                                   "2024-01-15T09:00Z"]})
    record = Measurements(labs=labs, samples=links)
    return Cohort(table, metadata, subject_column="subject", record=record)


def test_the_cohort_join_gives_a_column_per_marker_like_crp() -> None:
    labs = pd.DataFrame({
        "subject": ["p1", "p1", "p2", "p1", "p2"],
        "time": ["2024-01-08T08:00Z", "2024-02-09T08:00Z", "2024-01-14T08:00Z",
                 "2024-01-09T08:00Z", "2024-01-01T08:00Z"],
        "analyte": ["Zonulin", "zonulin", "sCD14", "sCD14", "LBP"],
        "reported_value": [40.0, 55.0, 1800.0, 1.2, 9.0],
        "reported_unit": ["ng/mL", "ug/L", "ng/mL", "ug/mL", "mg/L"]})
    cohort = _cohort(labs)
    joined = (cohort.add_from_record("zonulin", rule="last_before", within="7D")
              .add_from_record("scd14", rule="last_before", within="7D")
              .add_from_record("lbp", rule="last_before", within="7D"))
    # s1 (p1, Jan 10): zonulin Jan 8 = 40; sCD14 Jan 9 = 1.2 ug/mL
    # s2 (p1, Feb 10): zonulin Feb 9 = 55 ug/L = 55 ng/mL; no sCD14 within 7 days
    # s3 (p2, Jan 15): no zonulin; sCD14 Jan 14 = 1800 ng/mL = 1.8 ug/mL; LBP Jan 1 too old
    np.testing.assert_array_equal(joined.metadata["zonulin"], [40.0, 55.0, np.nan])
    np.testing.assert_array_equal(joined.metadata["scd14"], [1.2, np.nan, 1.8])
    np.testing.assert_array_equal(joined.metadata["lbp"], [np.nan, np.nan, np.nan])

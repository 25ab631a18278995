"""Unit conversion: every conversion the lab record uses, against a hand calculation.

Hand calculations (exact): 1 dL = 0.1 L, 1 mL = 0.001 L, 1 kg = 1000 g, so
1 mg/dL = 1 mg / 0.1 L = 10 mg/L; 1 ug/mL = 1000 ug/L = 1 mg/L; 1 ng/mL = 1 ug/L;
1 pg/mL = 1 ng/L; 1 mg/kg = 1000 ug / 1000 g = 1 ug/g; 1 mg/g = 1000 ug/g.
Tolerance: conversions by powers of ten are compared for exact equality with the double
nearest the decimal result; others to 1e-12 relative.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gutaxis.data.units import UNITS, conversion_factor, convert, parse_unit
from gutaxis.errors import InputError

HAND = [
    # (value, from, to, expected) - the expected value worked out by hand
    (1.0, "mg/dL", "mg/L", 10.0),
    (0.81, "mg/dL", "mg/L", 8.1),          # CRP 0.81 mg/dL (SDAI unit) = 8.1 mg/L (DAS28)
    (8.1, "mg/L", "mg/dL", 0.81),
    (5.0, "mg/L", "mg/dL", 0.5),
    (3.0, "ug/mL", "mg/L", 3.0),
    (1.0, "g/L", "mg/L", 1000.0),
    (1.0, "g/L", "mg/dL", 100.0),
    (1.0, "g/dL", "g/L", 10.0),
    (2.5, "ng/mL", "mg/L", 0.0025),
    (7.0, "pg/mL", "ng/L", 7.0),            # IL-6
    (7.0, "ng/L", "pg/mL", 7.0),
    (4.2, "ng/mL", "pg/mL", 4200.0),
    (250.0, "ug/dL", "mg/L", 2.5),
    (50.0, "mg/kg", "ug/g", 50.0),          # faecal calprotectin
    (0.2, "mg/g", "ug/g", 200.0),
    (200.0, "ug/g", "mg/g", 0.2),
    (1.0, "ng/g", "ug/kg", 1.0),
    (12.0, "mm/h", "mm/h", 12.0),           # ESR
    (1.0, "nmol/L", "mmol/L", 1e-6),
    (3.0, "umol/L", "nmol/L", 3000.0),
    (45.0, "%", "1", 0.45),
]


@pytest.mark.parametrize(("value", "source", "target", "expected"), HAND)
def test_conversion_matches_hand_calculation(value: float, source: str, target: str,
                                             expected: float) -> None:
    assert convert([value], source, target)[0] == expected


def test_factors_are_exact_fractions() -> None:
    assert conversion_factor("mg/dL", "mg/L") == 10
    assert conversion_factor("mg/L", "mg/dL") == Fraction(1, 10)
    assert conversion_factor("pg/mL", "mg/L") == Fraction(1, 10**6)


@pytest.mark.parametrize(("text", "code"), [
    ("mg/dl", "mg/dL"), ("MG/L", "mg/L"), ("µg/g", "ug/g"), ("μg/mL", "ug/mL"),
    ("mcg/mL", "ug/mL"), ("mm/hr", "mm/h"), (" mg/L ", "mg/L"), ("mm/[hr]", "mm/h"),
])
def test_common_spellings_resolve_to_ucum(text: str, code: str) -> None:
    assert parse_unit(text).code == code


def test_unknown_unit_is_refused_naming_row_and_field() -> None:
    with pytest.raises(InputError, match=r"labs.csv, row 4, field 'unit': unknown unit; "
                                         r"found 'mg/dl/h'"):
        parse_unit("mg/dl/h", source="labs.csv", row=4)


def test_units_of_different_kinds_are_not_converted() -> None:
    with pytest.raises(InputError, match=r"cannot convert mg/L \(mass concentration\) to "
                                         r"mm/h \(sedimentation rate\)"):
        convert([1.0], "mg/L", "mm/h")
    with pytest.raises(InputError, match="cannot convert ug/g"):
        convert([1.0], "ug/g", "mg/L")  # stool mass fraction is not a serum concentration


def test_molar_to_mass_needs_a_given_molar_mass() -> None:
    # CRP has no sourced molar mass in gutaxis (pentamer vs monomer): refuse
    with pytest.raises(InputError, match="without the analyte's molar mass"):
        convert([1.0], "nmol/L", "mg/L")
    # glucose 180.156 g/mol (given by the caller): 1 mmol/L = 180.156 mg/L = 18.0156 mg/dL
    assert convert([1.0], "mmol/L", "mg/dL", molar_mass=180.156)[0] == pytest.approx(
        18.0156, rel=1e-12)
    assert convert([18.0156], "mg/dL", "mmol/L", molar_mass=180.156)[0] == pytest.approx(
        1.0, rel=1e-12)
    with pytest.raises(InputError, match="molar mass must be positive"):
        convert([1.0], "mmol/L", "mg/dL", molar_mass=0)


def test_nan_and_empty_inputs() -> None:
    out = convert([np.nan, 1.0], "mg/dL", "mg/L")
    assert np.isnan(out[0]) and out[1] == 10.0
    assert convert([], "mg/dL", "mg/L").shape == (0,)


_SAME_KIND = [(a, b) for a in UNITS for b in UNITS if UNITS[a].quantity == UNITS[b].quantity]
_SAME_KIND_THREE = [(a, b, c) for a, b in _SAME_KIND for c in UNITS
                    if UNITS[c].quantity == UNITS[a].quantity]


@given(st.sampled_from(_SAME_KIND_THREE))
def test_factors_compose_exactly(units: tuple[str, str, str]) -> None:
    # drawn among units of one quantity (an early return skipped most draws unchecked)
    a, b, third = units
    assert conversion_factor(a, b) * conversion_factor(b, third) == conversion_factor(a, third)


@given(st.sampled_from(_SAME_KIND),
       st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_round_trip_returns_the_value(pair: tuple[str, str], value: float) -> None:
    a, b = pair
    back = convert(convert([value], a, b), b, a)[0]
    assert back == pytest.approx(value, rel=1e-15)


def test_every_conversion_matches_udunits2(reference_dir: Path) -> None:
    """860 conversions made by R ``units`` (UDUNITS-2), see tests/reference/units.

    Tolerance 1e-14 relative: UDUNITS scales in binary floating point, gutaxis on the
    decimal text (so gutaxis gives 8.1 for 0.81 mg/dL where binary gives 8.100000000000001).
    """
    table = pd.read_csv(reference_dir / "units" / "udunits_conversions.tsv", sep="\t",
                        dtype={"result": str})
    assert len(table) == 860
    ours = np.concatenate([convert([v], a, b) for v, a, b in
                           zip(table["value"], table["from"], table["to"], strict=True)])
    np.testing.assert_allclose(ours, table["result"].astype(float), rtol=1e-14, atol=0)


def test_every_code_is_read_in_any_case() -> None:
    for code in UNITS:
        assert parse_unit(code.lower()).code == code
        assert parse_unit(code.upper()).code == code

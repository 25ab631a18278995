"""UCUM-style units for lab results: parse, check and convert, exactly.

A unit is a UCUM code (``mg/L``, ``mg/dL``, ``ug/g``, ``mm/h``, ...) with its *kind of
quantity* and its size as an exact fraction of the kind's base unit. Conversion is
allowed only within one kind of quantity; anything else is refused with a message
that says why (``mg/L`` to ``mm/h`` is not a conversion; ``nmol/L`` to ``mg/L`` needs
the analyte's molar mass, which must be given and sourced, never guessed).

The table is data (:data:`UNITS`); the factors are powers of ten, kept as
:class:`fractions.Fraction` so that every conversion factor is exact (mg/dL -> mg/L is
10, not 9.999999999999998). A value is scaled by a power of ten on its shortest decimal
text (0.81 mg/dL -> 8.1 mg/L, where binary ``0.81 * 10`` gives 8.100000000000001), so
the result is the double nearest to the decimal a person would write down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from gutaxis.errors import InputError

Quantity = Literal["mass concentration", "mass fraction", "substance concentration",
                   "sedimentation rate", "endotoxin activity", "number", "score"]


@dataclass(frozen=True)
class Unit:
    """One unit of measure.

    Parameters
    ----------
    code
        The UCUM case-sensitive code (``mg/dL``).
    quantity
        The kind of quantity it measures.
    factor
        Its size in the base unit of that kind: g/L, g/g, mol/L, mm/h, {EU}/mL or 1.
    """

    code: str
    quantity: Quantity
    factor: Fraction


def _units(quantity: Quantity, table: dict[str, Fraction]) -> dict[str, Unit]:
    return {code: Unit(code, quantity, factor) for code, factor in table.items()}


_MILLI, _MICRO, _NANO, _PICO = Fraction(1, 10**3), Fraction(1, 10**6), Fraction(1, 10**9), \
    Fraction(1, 10**12)

#: Every unit gutaxis knows, by UCUM code. Base units: g/L, g/g, mol/L, mm/h, {EU}/mL, 1.
#: Endotoxin units (EU, defined against a reference endotoxin in the Limulus amebocyte
#: lysate assay) are written with a UCUM annotation, ``{EU}/mL``: UCUM's ``[EU]`` is the
#: Ehrlich unit of urobilinogen, another thing. An EU measures biological activity, not
#: mass, so it converts to no mass unit. ``{ratio}`` is a dimensionless ratio (UCUM
#: annotations are unity), e.g. the urinary lactulose/mannitol recovery ratio.
UNITS: dict[str, Unit] = {
    **_units("mass concentration", {
        "g/L": Fraction(1), "g/dL": Fraction(10), "mg/mL": Fraction(1),
        "mg/dL": Fraction(1, 100), "mg/L": _MILLI, "ug/mL": _MILLI,
        "ug/dL": Fraction(1, 10**5), "ug/L": _MICRO, "ng/mL": _MICRO,
        "ng/L": _NANO, "pg/mL": _NANO,
    }),
    **_units("mass fraction", {
        "mg/g": _MILLI, "ug/g": _MICRO, "mg/kg": _MICRO, "ng/g": _NANO, "ug/kg": _NANO,
    }),
    **_units("substance concentration", {
        "mol/L": Fraction(1), "mmol/L": _MILLI, "umol/L": _MICRO, "nmol/L": _NANO,
        "pmol/L": _PICO,
    }),
    **_units("sedimentation rate", {"mm/h": Fraction(1)}),
    **_units("endotoxin activity", {"{EU}/mL": Fraction(1), "{EU}/L": _MILLI}),
    **_units("score", {"{score}": Fraction(1)}),
    **_units("number", {"1": Fraction(1), "%": Fraction(1, 100), "{ratio}": Fraction(1)}),
}

#: Spellings people write that mean a UCUM code (matched after lower-casing): every
#: code in lower case (no two codes differ only in case), and a few other spellings.
_ALIASES: dict[str, str] = {
    **{code.lower(): code for code in UNITS},
    "mm/hr": "mm/h", "mm/hour": "mm/h", "mm/1h": "mm/h", "mm/[hr]": "mm/h",
    "score": "{score}",
    "eu/ml": "{EU}/mL", "eu/l": "{EU}/L", "ratio": "{ratio}",
}


def parse_unit(text: str, *, source: str | None = None, row: int | str | None = None,
               field: str | None = "unit") -> Unit:
    """The :class:`Unit` a string names, or an :class:`InputError` listing known codes.

    UCUM codes match exactly; common spellings also match (``mg/dl``, ``µg/g``,
    ``mcg/mL``, ``mm/hr``).

    Examples
    --------
    >>> parse_unit("µg/g").code
    'ug/g'
    """
    raw = "" if text is None else str(text).strip()
    if raw in UNITS:
        return UNITS[raw]
    key = raw.replace("µ", "u").replace("μ", "u").replace(" ", "").lower()
    key = key.replace("mcg", "ug")
    if key in _ALIASES:
        return UNITS[_ALIASES[key]]
    raise InputError("unknown unit", source=source, row=row, field=field, found=raw,
                     expected=f"a UCUM code gutaxis knows: {', '.join(UNITS)}")


def conversion_factor(from_unit: str | Unit, to_unit: str | Unit, *,
                      molar_mass: float | Fraction | None = None) -> Fraction:
    """The exact factor f with ``value_in_to = f * value_in_from``.

    Parameters
    ----------
    from_unit, to_unit
        UCUM codes or :class:`Unit`.
    molar_mass
        g/mol of the analyte, needed (and only used) to cross between substance and
        mass concentration. Give it only from a source; gutaxis holds none.

    Notes
    -----
    Within one kind of quantity, :math:`f = s_{from} / s_{to}` with :math:`s` each unit's
    size in the base unit. Between mol/L and g/L, :math:`1\\ \\text{mol/L} = M\\ \\text{g/L}`
    for molar mass :math:`M`.

    Examples
    --------
    >>> conversion_factor("mg/dL", "mg/L")
    Fraction(10, 1)
    """
    source_unit = from_unit if isinstance(from_unit, Unit) else parse_unit(from_unit)
    target = to_unit if isinstance(to_unit, Unit) else parse_unit(to_unit)
    if source_unit.quantity == target.quantity:
        return source_unit.factor / target.factor
    pair = {source_unit.quantity, target.quantity}
    if pair == {"substance concentration", "mass concentration"}:
        if molar_mass is None:
            raise InputError(
                f"cannot convert {source_unit.code} to {target.code} without the analyte's "
                "molar mass", field="unit", found=source_unit.code,
                expected=f"a {target.quantity} unit such as {target.code}, or a sourced "
                "molar_mass (g/mol)")
        mass = Fraction(molar_mass)
        if mass <= 0:
            raise InputError("molar mass must be positive", field="molar_mass",
                             found=molar_mass, expected="g/mol > 0")
        per_mol = mass if source_unit.quantity == "substance concentration" else 1 / mass
        return source_unit.factor * per_mol / target.factor
    raise InputError(
        f"cannot convert {source_unit.code} ({source_unit.quantity}) to {target.code} "
        f"({target.quantity})", field="unit", found=source_unit.code,
        expected=f"a {target.quantity} unit")


def convert(values: npt.ArrayLike, from_unit: str | Unit, to_unit: str | Unit, *,
            molar_mass: float | Fraction | None = None) -> np.ndarray:
    """Convert values between units (vectorised; NaN stays NaN).

    Examples
    --------
    >>> convert([0.5, 1.2], "mg/dL", "mg/L").tolist()
    [5.0, 12.0]
    """
    factor = conversion_factor(from_unit, to_unit, molar_mass=molar_mass)
    array = np.asarray(values, dtype=np.float64)
    exponent = _power_of_ten(factor)
    if exponent is None:
        return array * float(factor)
    if exponent == 0:
        return array.copy()
    return np.array([_shift(v, exponent) for v in array.ravel().tolist()],
                    dtype=np.float64).reshape(array.shape)


def _power_of_ten(factor: Fraction) -> int | None:
    """k when factor == 10**k, else None."""
    num, den = factor.numerator, factor.denominator
    if num != 1 and den != 1:
        return None
    size = num if den == 1 else den
    k = len(str(size)) - 1
    if size != 10**k:
        return None
    return k if den == 1 else -k


def _shift(value: float, exponent: int) -> float:
    """value * 10**exponent done on its shortest decimal text, then rounded once."""
    if not math.isfinite(value):
        return value
    return float(Decimal(repr(value)).scaleb(exponent))

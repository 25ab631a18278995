"""Lab analytes the pain and gut record uses, with their LOINC codes and canonical units.

Every lab result is stored twice over: as the lab reported it (value and UCUM unit) and
in the analyte's canonical unit, converted exactly (:mod:`gutaxis.data.units`). A unit
of the wrong kind (``mm/h`` for CRP) or one gutaxis does not know is refused, naming
the row. Molar units (``nmol/L``) are refused for these analytes: gutaxis holds no
sourced molar mass for them, and for CRP, which circulates as a pentamer of identical
protomers, a molar concentration is ambiguous (pentamers or protomers?).

References
----------
.. [1] LOINC codes as listed in docs/research/instruments.md, section "Lab codes"
   (CRP 1988-5, hs-CRP 30522-7, ESR Westergren 4537-7, IL-6 26881-3,
   faecal calprotectin 38445-3); confirm on loinc.org before clinical use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gutaxis.data.units import UNITS, Unit, convert, parse_unit
from gutaxis.errors import InputError


@dataclass(frozen=True)
class Analyte:
    """A lab analyte.

    Parameters
    ----------
    id
        gutaxis id (``crp``).
    name
        Human name.
    loinc
        LOINC code of the result, or ``None`` when none is known.
    unit
        Canonical UCUM unit: results are converted to it.
    specimen
        What is measured (``serum/plasma``, ``blood``, ``stool``).
    """

    id: str
    name: str
    loinc: str | None
    unit: str
    specimen: str

    @property
    def canonical(self) -> Unit:
        return UNITS[self.unit]


#: The analytes gutaxis knows, by id. CRP in mg/L (the unit DAS28-CRP needs; SDAI
#: takes mg/dL: convert with :func:`gutaxis.data.units.convert`).
ANALYTES: dict[str, Analyte] = {a.id: a for a in (
    Analyte("crp", "C-reactive protein", "1988-5", "mg/L", "serum/plasma"),
    Analyte("hs_crp", "C-reactive protein, high sensitivity", "30522-7", "mg/L", "serum/plasma"),
    Analyte("esr", "Erythrocyte sedimentation rate (Westergren)", "4537-7", "mm/h", "blood"),
    Analyte("il6", "Interleukin 6", "26881-3", "pg/mL", "serum/plasma"),
    Analyte("calprotectin", "Calprotectin, faecal", "38445-3", "ug/g", "stool"),
)}

_ALIASES: dict[str, str] = {
    "c-reactive protein": "crp", "hs-crp": "hs_crp", "hscrp": "hs_crp", "hs crp": "hs_crp",
    "il-6": "il6", "il_6": "il6", "interleukin 6": "il6", "fecal calprotectin": "calprotectin",
    "faecal calprotectin": "calprotectin", "fcp": "calprotectin",
}

#: LOINC code -> analyte id, for reading FHIR.
BY_LOINC: dict[str, str] = {a.loinc: a.id for a in ANALYTES.values() if a.loinc}


def get_analyte(name: str, *, source: str | None = None, row: int | str | None = None,
                field: str | None = "analyte") -> Analyte:
    """The analyte a name means (ids and common spellings), or an error listing ids.

    Examples
    --------
    >>> get_analyte("hs-CRP").loinc
    '30522-7'
    """
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key in ANALYTES:
        return ANALYTES[key]
    raise InputError("unknown lab analyte", source=source, row=row, field=field, found=name,
                     expected=f"one of {', '.join(ANALYTES)}")


def normalise_labs(analytes: pd.Series, values: pd.Series, units: pd.Series, *,
                   source: str | None = None, rows: np.ndarray | None = None,
                   ) -> pd.DataFrame:
    """Canonical analyte ids, values and units for lab results, converted exactly.

    Parameters
    ----------
    analytes, values, units
        One entry per result, aligned by position.
    source, rows
        For error messages: the file and the row label of each result.

    Returns
    -------
    pandas.DataFrame
        Columns ``analyte``, ``value``, ``unit`` (canonical) and ``reported_value``,
        ``reported_unit`` (as given, with the unit spelled as its UCUM code).
    """
    n = len(analytes)
    labels = np.arange(1, n + 1) if rows is None else np.asarray(rows)
    raw_names = pd.Series(analytes).astype(str).to_numpy()
    raw_units = pd.Series(units).astype("string").fillna("").str.strip().to_numpy()
    reported = pd.to_numeric(pd.Series(values).reset_index(drop=True), errors="coerce")
    bad = reported.isna().to_numpy() | ~np.isfinite(reported.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("lab value is not a finite number", source=source, row=labels[i],
                         field="value", found=pd.Series(values).iloc[i], expected="a number")
    ids = np.empty(n, dtype=object)
    for name in pd.unique(raw_names):
        where = raw_names == name
        ids[where] = get_analyte(name, source=source, row=labels[np.argmax(where)]).id
    canonical_value = np.empty(n, dtype=np.float64)
    unit_codes = np.empty(n, dtype=object)
    reported_arr = reported.to_numpy(dtype=np.float64)
    pairs = pd.DataFrame({"a": ids, "u": raw_units}).groupby(["a", "u"], sort=False).indices
    for pair, index in pairs.items():
        analyte_id, unit_text = str(pair[0]), str(pair[1])  # type: ignore[index]
        analyte = ANALYTES[analyte_id]
        row = labels[index[0]]
        unit = parse_unit(unit_text, source=source, row=row)
        try:
            canonical_value[index] = convert(reported_arr[index], unit, analyte.canonical)
        except InputError as exc:
            raise InputError(f"{analyte.name}: {exc.message}", source=source, row=row,
                             field="unit", found=unit_text,
                             expected=f"a unit convertible to {analyte.unit}") from None
        unit_codes[index] = unit.code
    return pd.DataFrame({
        "analyte": pd.Series(ids, dtype=object),
        "value": canonical_value,
        "unit": pd.Series([ANALYTES[a].unit for a in ids], dtype=object),
        "reported_value": reported_arr,
        "reported_unit": pd.Series(unit_codes, dtype=object),
    })

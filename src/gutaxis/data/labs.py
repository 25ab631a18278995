"""Lab analytes the pain and gut record uses, with their LOINC codes and canonical units.

Every lab result is stored twice over: as the lab reported it (value and UCUM unit) and
in the analyte's canonical unit, converted exactly (:mod:`gutaxis.data.units`). A unit
of the wrong kind (``mm/h`` for CRP, ``EU/mL`` for LPS-binding protein) or one gutaxis
does not know is refused, naming the row. Molar units (``nmol/L``) are refused for these
analytes: gutaxis holds no sourced molar mass for them, and for CRP, which circulates as
a pentamer of identical protomers, a molar concentration is ambiguous (pentamers or
protomers?).

The analytes themselves, their caveats, reference intervals and the source of each LOINC
code are in :mod:`gutaxis.data.analytes`.

References
----------
.. [1] LOINC codes as listed in docs/research/instruments.md, section "Lab codes"
   (CRP 1988-5, hs-CRP 30522-7, ESR Westergren 4537-7, IL-6 26881-3,
   faecal calprotectin 38445-3); TNF-alpha 3074-2 from the Mayo Clinic Laboratories test
   catalog (TNFA); confirm on loinc.org before clinical use.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from gutaxis.data.analytes import (
    ALIASES,
    ANALYTES,
    BARRIER_MARKERS,
    INFLAMMATION_MARKERS,
    Analyte,
    Caveat,
    ReferenceInterval,
    alias_key,
)
from gutaxis.data.units import convert, parse_unit
from gutaxis.errors import InputError

__all__ = ["ANALYTES", "BARRIER_MARKERS", "BY_LOINC", "INFLAMMATION_MARKERS", "Analyte",
           "Caveat", "ReferenceInterval", "analyte_notes", "get_analyte", "normalise_labs"]

#: LOINC code -> analyte id, for reading FHIR.
BY_LOINC: dict[str, str] = {a.loinc: a.id for a in ANALYTES.values() if a.loinc}


def get_analyte(name: str, *, source: str | None = None, row: int | str | None = None,
                field: str | None = "analyte") -> Analyte:
    """The analyte a name means (ids and common spellings), or an error listing ids.

    Examples
    --------
    >>> get_analyte("hs-CRP").loinc
    '30522-7'
    >>> get_analyte("TNF-α").id, get_analyte("L:M").id, get_analyte("FABP2").id
    ('tnf_alpha', 'lm_ratio', 'ifabp')
    """
    key = alias_key(name)
    key = ALIASES.get(key, key)
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
            why = analyte.other_kind(unit.quantity)
            raise InputError(f"{analyte.name}: {why or exc.message}", source=source,
                             row=row, field="unit", found=unit_text,
                             expected=f"a unit convertible to {analyte.unit}") from None
        unit_codes[index] = unit.code
    return pd.DataFrame({
        "analyte": pd.Series(ids, dtype=object),
        "value": canonical_value,
        "unit": pd.Series([ANALYTES[a].unit for a in ids], dtype=object),
        "reported_value": reported_arr,
        "reported_unit": pd.Series(unit_codes, dtype=object),
    })


def analyte_notes(analyte_ids: Iterable[str]) -> list[str]:
    """Lines a reader must see for the analytes given (caveats, then intervals), each
    prefixed with the analyte id; analytes without notes give none.

    Examples
    --------
    >>> analyte_notes(["crp", "zonulin"])[0][:60]
    "zonulin: The widely used commercial 'zonulin' ELISA does not"
    """
    lines = []
    for analyte_id in dict.fromkeys(analyte_ids):
        analyte = ANALYTES.get(str(analyte_id))
        if analyte is not None:
            lines += [f"{analyte.id}: {note}" for note in analyte.notes()]
    return lines

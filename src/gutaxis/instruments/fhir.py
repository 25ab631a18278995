"""The longitudinal record as a FHIR R4 Bundle, and back.

One ``collection`` Bundle holds a ``Questionnaire`` per instrument used (item ids,
types, ranges, choices; wording only where its licence allows), and, per subject, a
``Patient`` and:

* a ``QuestionnaireResponse`` per administration (``questionnaire`` is the canonical
  ``{base}/Questionnaire/{id}|{version}``; one item per answer, typed as the item is:
  valueInteger, valueDecimal, valueBoolean, valueCoding, valueTime, valueString);
* an ``Observation`` per score: category ``survey``, the LOINC code where one exists
  (NRS 72514-3, BPI interference 77565-0, ...; Bristol stool form has none and is coded
  SNOMED CT 443172007), always also a gutaxis code ``{instrument}.{score}``, the value as
  a UCUM quantity (integers stay integers: NRS ``6``, not ``6.0``), the band as
  ``interpretation`` text, and ``derivedFrom`` its QuestionnaireResponse;
* an ``Observation`` per lab result: category ``laboratory``, LOINC code where one is
  known (always also a gutaxis code), the value *as the lab reported it* (UCUM unit), so
  nothing is lost (readers convert), and the analyte's assay caveats and sourced
  intervals as ``note`` (zonulin ELISAs that do not measure zonulin, hs-CRP risk
  categories, ...);
* a ``MedicationStatement`` per probiotic or medication and a ``Procedure`` per diet,
  exercise or stress-management intervention, with the period and dose;
* a ``Specimen`` (stool, SNOMED CT 119339001) per microbiome sample.

Resources are identified by ``urn:uuid:`` full URLs derived (UUID 5) from the gutaxis
ids, so the same record always gives the same Bundle. Every Bundle written or read is
validated against the FHIR R4 model of ``fhir.resources`` (its R4B package: R4B
changed none of the resources used here).

References
----------
.. [1] HL7 FHIR R4 (4.0.1), https://hl7.org/fhir/R4/ ; Observation category codes from
   http://terminology.hl7.org/CodeSystem/observation-category.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from gutaxis.data.labs import ANALYTES
from gutaxis.data.measurement_tables import answers_by_administration
from gutaxis.data.measurements import Measurements
from gutaxis.data.timestamps import format_times
from gutaxis.data.units import UNITS
from gutaxis.errors import InputError
from gutaxis.instruments.registry import get_instrument
from gutaxis.io._files import PathLike, atomic_path

#: Default base of gutaxis's own systems, code systems and extensions.
BASE = "https://gutaxis.org/fhir"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
#: Codes for scores without a LOINC term, by instrument id (code system, code, display).
OTHER_CODES: dict[str, tuple[str, str, str]] = {
    "bristol": (SNOMED, "443172007", "Bristol stool form score"),
}
STOOL_SPECIMEN = (SNOMED, "119339001", "Stool specimen")
_MEDICATION_TYPES = ("probiotic", "medication")
_NAMESPACE = uuid.UUID("6b1f7f0e-4d0a-5b8e-9c57-2f6f3b1f9a10")
Json = dict[str, Any]
Validation = Literal["full", "shapes", "none"]
_CODE = re.compile(r"[^\s]+(\s[^\s]+)*")  # the FHIR R4 pattern of code


def check_base_url(base: str, *, field: str = "base") -> str:
    """``base`` if it is an absolute http(s) URL to which ``/subject``, ``/CodeSystem/...``
    can be appended (a host, no query, fragment, whitespace or trailing slash).

    Identifier and code systems are FHIR ``uri`` values that must be absolute; a base such
    as ``gutaxis`` or ``https://x.org/fhir/`` would give ``gutaxis/subject`` or
    ``https://x.org/fhir//subject``.

    Examples
    --------
    >>> check_base_url("https://clinic.example.org/fhir")
    'https://clinic.example.org/fhir'
    """
    parts = urlsplit(base)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.query
            or parts.fragment or base.endswith("/") or any(c.isspace() for c in base)):
        raise InputError("the FHIR base is not an absolute URL", field=field, found=base,
                         expected=f"an http(s) URL with a host and no trailing slash, "
                         f"e.g. {BASE}")
    return base


def to_fhir_bundle(measurements: Measurements, *, base: str = BASE,
                   validate: Validation = "full") -> Json:
    """The record as a FHIR R4 ``collection`` Bundle (a JSON-ready dict).

    An empty record gives a Bundle without ``entry``: FHIR forbids empty lists
    (elements must have a value or children), and ``entry`` is optional.

    Parameters
    ----------
    measurements
        The record.
    base
        Base URL of gutaxis's identifier systems, code systems and extensions (see
        :func:`check_base_url`).
    validate
        ``"full"``: validate every resource against the FHIR R4 model (about 3 ms a
        resource); ``"shapes"``: validate one resource of each distinct structure and
        check the free values of all (see :func:`validate_bundle`); ``"none"``.

    Raises
    ------
    InputError
        ``base`` is not an absolute URL; the Bundle is not valid FHIR R4.
    """
    check_base_url(base)
    m = measurements
    patients = {s: _urn("Patient", s) for s in m.subjects}
    entries = [_entry(url, {"resourceType": "Patient",
                            "identifier": [_identifier(base, "subject", s)]})
               for s, url in patients.items()]
    entries += [_questionnaire(key, base) for key in sorted(set(m.administrations["instrument"]))]
    entries += list(_questionnaire_responses(m, patients, base))
    entries += list(_score_observations(m, patients, base))
    entries += list(_lab_observations(m, patients, base))
    entries += list(_interventions(m, patients, base))
    entries += [_entry(_urn("Specimen", row["sample_id"]), {
        "resourceType": "Specimen",
        "identifier": [_identifier(base, "sample", row["sample_id"])],
        "type": {"coding": [_coding(*STOOL_SPECIMEN)]},
        "subject": {"reference": patients[row["subject"]]},
        "collection": {"collectedDateTime": row["time_text"]}})
        for row in _with_text_times(m.samples, "time").to_dict("records")]
    bundle: Json = {"resourceType": "Bundle", "type": "collection"}
    if entries:
        bundle["entry"] = entries
    if validate != "none":
        validate_bundle(bundle, source="FHIR export", shapes=validate == "shapes")
    return bundle


def write_fhir(measurements: Measurements, path: PathLike, *, base: str = BASE,
               validate: Validation = "full") -> Path:
    """Write the record as a validated FHIR R4 Bundle (JSON; atomically).

    Parameters
    ----------
    measurements
        The record.
    path
        Where to write the Bundle (JSON).
    base, validate
        As for :func:`to_fhir_bundle`.
    """
    bundle = to_fhir_bundle(measurements, base=base, validate=validate)
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(bundle, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    return target


def validate_bundle(bundle: Json, *, source: str | None = None, shapes: bool = False) -> None:
    """Validate a Bundle against the FHIR R4 model; InputError names the first fault.

    Parameters
    ----------
    shapes
        Validate with the model only the first resource of each distinct structure
        (resource type, element names, value types, recursively) and check in every
        resource what can vary within a structure: strings non-empty, codes matching
        FHIR's pattern (no leading, trailing or repeated whitespace). For Bundles that
        gutaxis writes, whose values come from validated tables and fixed formatters,
        this finds what full validation finds at a fraction of the cost; use full
        validation for foreign Bundles.

    In both modes every value is checked for what the models let through: an empty
    string, list or object (FHIR: an element has a value or children; JSON arrays are
    never empty) and a code with stray whitespace.
    """
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    _check_values(bundle, "", source)
    checked = bundle
    if shapes and "entry" in bundle:
        checked = {**bundle, "entry": _one_per_shape(bundle["entry"])}
    try:
        Bundle.model_validate(checked)
    except ValidationError as exc:
        raise _validation_error(bundle, checked, exc.errors()[0], source) from None
    except (KeyError, TypeError) as exc:  # fhir.resources on an unknown resourceType
        raise InputError("not a valid FHIR R4 Bundle", source=source,
                         found=f"{type(exc).__name__}: {exc}",
                         expected="resources of FHIR R4 types (Patient, Observation, ...)"
                         ) from None


def _validation_error(bundle: Json, checked: Json, first: Any, source: str | None
                      ) -> InputError:
    """One line for a person from pydantic's first error: the entry (numbered in
    ``bundle``, though ``checked`` may hold only some of its entries), its resource type,
    the field, a scalar value found (never a dump of a resource) and what FHIR expects."""
    loc = [str(p) for p in first["loc"]]
    what = "not a valid FHIR R4 Bundle"
    if len(loc) >= 3 and loc[0] == "entry" and loc[1].isdigit() and loc[2] == "resource":
        entry = (checked.get("entry") or [])[int(loc[1])]
        index = next(i for i, e in enumerate(bundle["entry"]) if e is entry)
        loc[1] = str(index)
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        what += f": entry {index + 1}" + (f" ({kind})" if kind else "") + \
            (f" {'.'.join(loc[3:])}" if len(loc) > 3 else "")
    found = first.get("input")
    expected = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
    return InputError(what, source=source, field=".".join(loc),
                      found=found if isinstance(found, (str, int, float, bool)) else None,
                      expected=expected)


def _one_per_shape(entries: list[Json]) -> list[Json]:
    seen: dict[Any, Json] = {}
    for entry in entries:
        seen.setdefault(_shape(entry), entry)
    return list(seen.values())


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[]", frozenset(_shape(v) for v in value))
    return type(value).__name__


def _check_values(value: Any, where: str, source: str | None, key: str = "") -> None:
    if isinstance(value, dict | list) and not value:
        raise InputError("not a valid FHIR R4 Bundle", source=source, field=where or "(root)",
                         found="[]" if isinstance(value, list) else "{}",
                         expected="an element with a value or children (leave an empty "
                         "element out)")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_values(v, f"{where}.{k}" if where else str(k), source, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_values(v, f"{where}.{i}", source, key)
    elif isinstance(value, str) and (not value or (
            key == "code" and not _CODE.fullmatch(value))):
        raise InputError("not a valid FHIR R4 Bundle", source=source, field=where,
                         found=value, expected="a non-empty string (codes: no leading, "
                         "trailing or repeated whitespace)")


# ------------------------------------------------------------------ builders
@functools.lru_cache(maxsize=65536)
def _urn(kind: str, ident: str) -> str:
    """``urn:uuid:`` of a resource: UUID 5 of ``kind/ident`` in gutaxis's namespace."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{ident}')}"


def _entry(url: str, resource: Json) -> Json:
    return {"fullUrl": url, "resource": resource}


def _identifier(base: str, kind: str, value: str) -> Json:
    return {"system": f"{base}/{kind}", "value": value}


def _coding(system: str, code: str, display: str | None = None) -> Json:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def _quantity(value: float, unit: str | None) -> Json:
    out: Json = {"value": _number(value)}
    if unit:
        out["unit"] = unit
        if unit in UNITS or unit in ("mm", "min/d"):
            out["system"], out["code"] = UCUM, unit
    return out


def _with_text_times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[f"{column}_text"] = format_times(frame[column]).to_numpy()
    return out


_ITEM_TYPES = {"integer": "integer", "number": "decimal", "boolean": "boolean",
               "choice": "choice", "time": "time", "text": "string"}


def _questionnaire(key: str, base: str) -> Json:
    """The Questionnaire an instrument's responses answer: item ids, types, ranges and
    choices; the item wording only where its licence allows, else gutaxis's topic."""
    instrument = get_instrument(key)
    items = []
    for item in instrument.items:
        entry: Json = {"linkId": item.id, "type": _ITEM_TYPES[item.kind],
                       "text": item.text if instrument.wording_may_ship and item.text
                       else item.topic}
        value = "valueInteger" if item.kind == "integer" else "valueDecimal"
        bounds = [(name, limit) for name, limit in (("minValue", item.minimum),
                                                    ("maxValue", item.maximum))
                  if limit is not None and item.kind in ("integer", "number")]
        if bounds:
            entry["extension"] = [{"url": f"http://hl7.org/fhir/StructureDefinition/{name}",
                                   value: _number(limit)} for name, limit in bounds]
        if item.kind == "choice":
            system = f"{base}/CodeSystem/{instrument.id}-{item.id}"
            entry["answerOption"] = [{"valueCoding": _coding(system, c.value, c.label)}
                                     for c in item.choices or ()]
        items.append(entry)
    return _entry(_urn("Questionnaire", instrument.key), {
        "resourceType": "Questionnaire", "url": f"{base}/Questionnaire/{instrument.id}",
        "version": instrument.version, "title": instrument.name, "status": "active",
        "copyright": instrument.licence, "item": items})


def _questionnaire_responses(m: Measurements, patients: dict[str, str],
                             base: str) -> Iterator[Json]:
    answers = answers_by_administration(m.responses)
    items_of: dict[str, tuple[Any, dict[str, Any]]] = {}
    for row in _with_text_times(m.administrations, "time").to_dict("records"):
        if row["instrument"] not in items_of:
            instrument = get_instrument(row["instrument"])
            items_of[row["instrument"]] = (instrument, {i.id: i for i in instrument.items})
        instrument, lookup = items_of[row["instrument"]]
        resource: Json = {
            "resourceType": "QuestionnaireResponse",
            "identifier": _identifier(base, "administration", row["administration_id"]),
            "questionnaire": f"{base}/Questionnaire/{instrument.id}|{instrument.version}",
            "status": "completed", "subject": {"reference": patients[row["subject"]]},
            "authored": row["time_text"],
        }
        given = answers.get(row["administration_id"], ())
        if given:
            resource["item"] = [
                {"linkId": item_id,
                 "answer": [_answer(lookup[item_id].kind, text, lookup[item_id], instrument.id,
                                    base)]}
                for item_id, text in given]
        yield _entry(_urn("QuestionnaireResponse", row["administration_id"]), resource)


def _answer(kind: str, text: str, item: Any, instrument_id: str, base: str) -> Json:
    if kind == "integer":
        return {"valueInteger": int(text)}
    if kind == "number":
        return {"valueDecimal": _number(float(text))}
    if kind == "boolean":
        return {"valueBoolean": text == "true"}
    if kind == "time":
        return {"valueTime": text if text.count(":") == 2 else f"{text}:00"}
    if kind == "choice":
        label = next((c.label for c in item.choices or () if c.value == text), None)
        return {"valueCoding": _coding(f"{base}/CodeSystem/{instrument_id}-{item.id}", text,
                                       label)}
    return {"valueString": text}


def _score_observations(m: Measurements, patients: dict[str, str],
                        base: str) -> Iterator[Json]:
    table = _with_text_times(m.score_table(), "time")
    specs: dict[tuple[str, str], tuple[list[Json], str]] = {}
    for key, name in set(zip(table["instrument"], table["score"], strict=True)):
        instrument = get_instrument(key)
        spec = instrument.score_spec(name)
        codings = []
        if spec.loinc:
            codings.append(_coding(LOINC, spec.loinc))
        elif instrument.id in OTHER_CODES:
            codings.append(_coding(*OTHER_CODES[instrument.id]))
        codings.append(_coding(f"{base}/CodeSystem/score", f"{instrument.key}.{spec.name}",
                               f"{instrument.name}: {spec.name}"))
        specs[(key, name)] = (codings, spec.unit)
    survey = [{"coding": [_coding(CATEGORY, "survey", "Survey")]}]
    for row in table.to_dict("records"):
        codings, unit = specs[(row["instrument"], row["score"])]
        score_id = f"{row['administration_id']}#{row['score']}"
        resource: Json = {
            "resourceType": "Observation",
            "identifier": [_identifier(base, "score", score_id)],
            "status": "final",
            "category": survey,
            "code": {"coding": codings},
            "subject": {"reference": patients[row["subject"]]},
            "effectiveDateTime": row["time_text"],
            "valueQuantity": _quantity(row["value"], unit),
            "derivedFrom": [{"reference": _urn("QuestionnaireResponse",
                                               row["administration_id"])}],
            "extension": [
                {"url": f"{base}/StructureDefinition/scoring-version",
                 "valueString": row["scoring_version"] or "unknown"},
                {"url": f"{base}/StructureDefinition/missing-rule-applied",
                 "valueBoolean": bool(row["missing_rule_applied"])},
            ],
        }
        if isinstance(row["band"], str) and row["band"]:
            resource["interpretation"] = [{"text": row["band"]}]
        yield _entry(_urn("Observation", f"score/{score_id}"), resource)


def _lab_observations(m: Measurements, patients: dict[str, str],
                      base: str) -> Iterator[Json]:
    notes = {a: [{"text": line} for line in ANALYTES[a].notes()]
             for a in set(m.labs["analyte"])}
    for row in _with_text_times(m.labs, "time").to_dict("records"):
        analyte = ANALYTES[row["analyte"]]
        codings = [_coding(LOINC, analyte.loinc)] if analyte.loinc else []
        codings.append(_coding(f"{base}/CodeSystem/analyte", analyte.id, analyte.name))
        resource: Json = {
            "resourceType": "Observation",
            "identifier": [_identifier(base, "lab", row["lab_id"])],
            "status": "final",
            "category": [{"coding": [_coding(CATEGORY, "laboratory", "Laboratory")]}],
            "code": {"coding": codings, "text": analyte.name},
            "subject": {"reference": patients[row["subject"]]},
            "effectiveDateTime": row["time_text"],
            "valueQuantity": _quantity(row["reported_value"], row["reported_unit"]),
        }
        if notes[analyte.id]:
            resource["note"] = notes[analyte.id]
        yield _entry(_urn("Observation", "lab/" + row["lab_id"]), resource)


def _interventions(m: Measurements, patients: dict[str, str], base: str) -> Iterator[Json]:
    table = _with_text_times(m.interventions, "start", "stop")
    for row in table.to_dict("records"):
        kind = _coding(f"{base}/CodeSystem/intervention-type", row["type"],
                       row["type"].replace("_", " "))
        period = {"start": row["start_text"]}
        if row["stop_text"]:
            period["end"] = row["stop_text"]
        ongoing = not row["stop_text"]
        dose = None if np.isnan(row["dose"]) else _quantity(row["dose"], row["dose_unit"] or None)
        common: Json = {"identifier": [_identifier(base, "intervention", row["intervention_id"])],
                        "subject": {"reference": patients[row["subject"]]}}
        if row["type"] in _MEDICATION_TYPES:
            concept: Json = {"coding": [kind]}
            if row["product"]:
                concept["text"] = row["product"]
            resource: Json = {"resourceType": "MedicationStatement", **common,
                              "status": "active" if ongoing else "completed",
                              "category": {"coding": [kind]},
                              "medicationCodeableConcept": concept,
                              "effectivePeriod": period}
            if dose is not None:
                resource["dosage"] = [{"doseAndRate": [{"doseQuantity": dose}]}]
        else:
            code: Json = {"coding": [kind]}
            if row["product"]:
                code["text"] = row["product"]
            resource = {"resourceType": "Procedure", **common,
                        "status": "in-progress" if ongoing else "completed",
                        "code": code, "performedPeriod": period}
            if dose is not None:
                resource["extension"] = [{"url": f"{base}/StructureDefinition/dose",
                                          "valueQuantity": dose}]
        yield _entry(_urn(resource["resourceType"], row["intervention_id"]), resource)

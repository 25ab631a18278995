"""Reading FHIR R4 Bundles back into the record written by :mod:`gutaxis.instruments.fhir`.

Bundles gutaxis wrote come back exactly. Observations from other systems are placed
by their code: labs by LOINC, scores by the LOINC (or SNOMED CT) code of a registry
score; their ids fall back to the resource id.
"""

from __future__ import annotations

import functools
import json

import pandas as pd

from gutaxis.data.labs import BY_LOINC
from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError
from gutaxis.instruments.fhir import (
    BASE,
    LOINC,
    OTHER_CODES,
    SNOMED,
    Json,
    check_base_url,
    validate_bundle,
)
from gutaxis.instruments.record import record_from_answers
from gutaxis.instruments.registry import list_instruments
from gutaxis.io._files import PathLike, existing_file


def read_fhir(path: PathLike, *, base: str = BASE) -> Measurements:
    """Read a Bundle written by :func:`~gutaxis.instruments.fhir.write_fhir` back into a record.

    Observations from other systems are read too when their code is known: a lab by
    its LOINC code, a score by the LOINC (or SNOMED CT) code of a registry score (NRS
    72514-3, BPI interference 77565-0, ...), recorded as an administration without
    answers; ids fall back to the resource id. Resources gutaxis cannot place (other
    codes, other resource types) are refused with the entry and field named, never
    dropped silently.

    Parameters
    ----------
    path
        A FHIR R4 Bundle (JSON).
    base
        Base URL of gutaxis's identifier systems, code systems and extensions, as given to
        :func:`~gutaxis.instruments.fhir.write_fhir`.
    """
    file = existing_file(path)
    source = str(file)
    try:
        bundle = json.loads(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=source, found=f"byte {exc.start}",
                         expected="a FHIR JSON file in UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError("not JSON", source=source, row=exc.lineno, found=exc.msg,
                         expected="a FHIR R4 Bundle in JSON") from None
    except RecursionError:
        raise InputError("not a FHIR Bundle", source=source, found="JSON nested too deeply",
                         expected="a FHIR R4 Bundle in JSON") from None
    return from_fhir_bundle(bundle, base=base, source=source)


def from_fhir_bundle(bundle: Json, *, base: str = BASE, source: str | None = None,
                     ) -> Measurements:
    """The record held by a Bundle (see :func:`read_fhir`)."""
    check_base_url(base)
    validate_bundle(bundle, source=source)
    return BundleReader(bundle, base=base, source=source).measurements()


@functools.lru_cache(maxsize=1)
def _scores_by_code() -> dict[tuple[str, str], str]:
    """(code system, code) -> ``instrument@version.score`` for every registry score with
    a LOINC code (or another code in :data:`OTHER_CODES`) that only one score uses."""
    seen: dict[tuple[str, str], list[str]] = {}
    for instrument in list_instruments():
        for spec in instrument.scores:
            key = f"{instrument.key}.{spec.name}"
            if spec.loinc:
                seen.setdefault((LOINC, spec.loinc), []).append(key)
            elif instrument.id in OTHER_CODES and len(instrument.scores) == 1:
                system, code, _ = OTHER_CODES[instrument.id]
                seen.setdefault((system, code), []).append(key)
    return {code: keys[0] for code, keys in seen.items() if len(keys) == 1}


class BundleReader:
    """Walks the entries of a validated Bundle and collects the record's tables."""

    def __init__(self, bundle: Json, *, base: str, source: str | None) -> None:
        self.base = base
        self.source = source
        self.entries: list[Json] = [e for e in bundle.get("entry", []) if "resource" in e]
        self.subjects: dict[str, str] = {}
        self.administrations: dict[str, str] = {}
        self.tables: dict[str, list[Json]] = {k: [] for k in (
            "administrations", "responses", "scores", "labs", "interventions", "samples")}

    def measurements(self) -> Measurements:
        kinds = {"Patient": self._patient, "QuestionnaireResponse": self._response,
                 "Observation": self._observation, "MedicationStatement": self._intervention,
                 "Procedure": self._intervention, "Specimen": self._specimen,
                 "Questionnaire": self._questionnaire}
        order = sorted(range(len(self.entries)), key=lambda i: self._pass(self.entries[i]))
        for i in order:
            resource = self.entries[i]["resource"]
            handler = kinds.get(resource["resourceType"])
            if handler is None:
                raise self._error(i, "resource type gutaxis does not read", "resourceType",
                                  resource["resourceType"], ", ".join(kinds))
            handler(i, resource)
        t = {k: pd.DataFrame(v) for k, v in self.tables.items()}
        return record_from_answers(
            administrations=t["administrations"], responses=t["responses"],
            scores=t["scores"], labs=t["labs"], interventions=t["interventions"],
            samples=t["samples"], source=self.source)

    @staticmethod
    def _pass(entry: Json) -> int:
        kind = entry["resource"]["resourceType"]
        return {"Patient": 0, "QuestionnaireResponse": 1}.get(kind, 2)

    @staticmethod
    def _where(i: int) -> str:
        """How errors name entry ``i``, here and in the record's validation."""
        return f"entry {i + 1}"

    def _error(self, i: int, message: str, field: str, found: object,
               expected: str) -> InputError:
        return InputError(message, source=self.source, row=self._where(i), field=field,
                          found=found, expected=expected)

    def _ident(self, i: int, resource: Json, kind: str) -> str:
        """gutaxis's identifier; for resources from elsewhere the resource id, else the
        first identifier, else the entry's fullUrl."""
        found = resource.get("identifier")
        listed = found if isinstance(found, list) else [found] if found else []
        for ident in listed:
            if ident.get("system") == f"{self.base}/{kind}" and ident.get("value"):
                return str(ident["value"])
        fallback = resource.get("id") or next(
            (str(x["value"]) for x in listed if x.get("value")), None) or self.entries[i].get(
            "fullUrl")
        if not fallback:
            raise self._error(i, f"no {kind} identifier", "identifier", found,
                              f"an identifier with system {self.base}/{kind}, or an id")
        return str(fallback)

    def _subject(self, i: int, resource: Json) -> str:
        ref = (resource.get("subject") or {}).get("reference")
        if ref not in self.subjects:
            raise self._error(i, "subject is not a Patient of this Bundle", "subject.reference",
                              ref, "the fullUrl of a Patient entry")
        return self.subjects[ref]

    def _code(self, i: int, concept: Json | None, system: str, field: str) -> str:
        for coding in (concept or {}).get("coding", []):
            if coding.get("system") == system:
                return str(coding["code"])
        raise self._error(i, "no gutaxis code", field, concept, f"a coding from {system}")

    def _questionnaire(self, i: int, resource: Json) -> None:
        """Questionnaires are derived from the instrument registry: nothing to read."""

    def _patient(self, i: int, resource: Json) -> None:
        subject = self._ident(i, resource, "subject")
        for ref in (self.entries[i].get("fullUrl"), resource.get("id") and
                    f"Patient/{resource['id']}"):
            if ref:
                self.subjects[ref] = subject

    def _response(self, i: int, resource: Json) -> None:
        admin = self._ident(i, resource, "administration")
        prefix = f"{self.base}/Questionnaire/"
        canonical = str(resource.get("questionnaire", ""))
        if not canonical.startswith(prefix) or "|" not in canonical:
            raise self._error(i, "questionnaire is not a gutaxis instrument", "questionnaire",
                              canonical, f"{prefix}<id>|<version>")
        url = self.entries[i].get("fullUrl")
        if not url:  # observations of the answers refer to the response by it
            raise self._error(i, "QuestionnaireResponse entry has no fullUrl", "fullUrl", url,
                              "the entry's fullUrl (e.g. urn:uuid:...)")
        self.administrations[url] = admin
        self.tables["administrations"].append({
            "administration_id": admin, "subject": self._subject(i, resource),
            "time": resource.get("authored"),
            "instrument": canonical[len(prefix):].replace("|", "@"),
            "source_row": self._where(i)})
        for item in resource.get("item", []):
            answer = (item.get("answer") or [{}])[0]
            value = next((v for k, v in answer.items() if k.startswith("value")), None)
            if isinstance(value, dict):  # valueCoding
                value = value.get("code")
            self.tables["responses"].append({"administration_id": admin,
                                             "item": item["linkId"], "answer": value,
                                             "source_row": self._where(i)})

    def _observation(self, i: int, resource: Json) -> None:
        """A lab result or a score, told apart by code (gutaxis's, LOINC or SNOMED CT),
        so that Observations from other systems (category vital-signs, no gutaxis
        identifiers) are read too."""
        codes = {c.get("system"): c.get("code") for c in resource["code"].get("coding", [])}
        quantity = resource.get("valueQuantity") or {}
        if "value" not in quantity:
            raise self._error(i, "observation has no valueQuantity", "valueQuantity",
                              resource.get("valueQuantity"), "a value with a unit")
        analyte = codes.get(f"{self.base}/CodeSystem/analyte") or BY_LOINC.get(
            str(codes.get(LOINC)))
        registry = _scores_by_code()
        score = (codes.get(f"{self.base}/CodeSystem/score")
                 or registry.get((LOINC, str(codes.get(LOINC))))
                 or registry.get((SNOMED, str(codes.get(SNOMED)))))
        if analyte is not None:
            self._lab(i, resource, quantity, analyte)
        elif score is not None:
            self._score(i, resource, quantity, str(score))
        else:
            raise self._error(i, "observation code gutaxis does not know", "code",
                              resource["code"], "a LOINC code of a lab ("
                              + ", ".join(BY_LOINC) + ") or of an instrument score")

    @staticmethod
    def _effective(resource: Json) -> object:
        return (resource.get("effectiveDateTime") or resource.get("effectiveInstant")
                or (resource.get("effectivePeriod") or {}).get("start"))

    def _lab(self, i: int, resource: Json, quantity: Json, analyte: str) -> None:
        self.tables["labs"].append({
            "lab_id": self._ident(i, resource, "lab"), "subject": self._subject(i, resource),
            "time": self._effective(resource), "analyte": analyte,
            "reported_value": quantity["value"],
            "reported_unit": quantity.get("code") or quantity.get("unit"),
            "source_row": self._where(i)})

    def _score(self, i: int, resource: Json, quantity: Json, key: str) -> None:
        refs = [d.get("reference") for d in resource.get("derivedFrom", [])]
        admin = next((self.administrations[r] for r in refs if r in self.administrations), None)
        if admin is None:  # a score recorded on its own (e.g. an NRS from an EHR)
            admin = self._ident(i, resource, "score")
            self.tables["administrations"].append({
                "administration_id": admin, "subject": self._subject(i, resource),
                "time": self._effective(resource), "instrument": key.rpartition(".")[0],
                "source_row": self._where(i)})
        ext = {e["url"].rsplit("/", 1)[-1]: e for e in resource.get("extension", [])}
        band = (resource.get("interpretation") or [{}])[0].get("text")
        self.tables["scores"].append({
            "administration_id": admin, "score": key.rpartition(".")[2],
            "value": quantity["value"], "band": band,
            "scoring_version": ext.get("scoring-version", {}).get("valueString", ""),
            "missing_rule_applied": ext.get("missing-rule-applied", {}).get("valueBoolean",
                                                                            False),
            "source_row": self._where(i)})

    def _intervention(self, i: int, resource: Json) -> None:
        medication = resource["resourceType"] == "MedicationStatement"
        concept = resource.get("category" if medication else "code")
        kind = self._code(i, concept, f"{self.base}/CodeSystem/intervention-type",
                          "category" if medication else "code")
        product = (resource.get("medicationCodeableConcept") if medication
                   else resource.get("code")) or {}
        period = resource.get("effectivePeriod" if medication else "performedPeriod") or {}
        if medication:
            rates = ((resource.get("dosage") or [{}])[0].get("doseAndRate") or [{}])
            dose = rates[0].get("doseQuantity") or {}
        else:
            dose = next((e.get("valueQuantity", {}) for e in resource.get("extension", [])
                         if e.get("url") == f"{self.base}/StructureDefinition/dose"), {})
        self.tables["interventions"].append({
            "intervention_id": self._ident(i, resource, "intervention"),
            "subject": self._subject(i, resource), "type": kind,
            "product": product.get("text", ""), "dose": dose.get("value"),
            "dose_unit": dose.get("code") or dose.get("unit") or "",
            "start": period.get("start"), "stop": period.get("end"), "source_row": self._where(i)})

    def _specimen(self, i: int, resource: Json) -> None:
        self.tables["samples"].append({
            "sample_id": self._ident(i, resource, "sample"),
            "subject": self._subject(i, resource),
            "time": (resource.get("collection") or {}).get("collectedDateTime"),
            "source_row": self._where(i)})

"""FHIR R4 Bundles of the clinic's records, built by the engine
(:func:`gutaxis.instruments.fhir.to_fhir_bundle`) from :mod:`gutaxis.app.research.record`.

* One patient, identified: the engine's Bundle with the patient's identity added to the
  ``Patient`` resource (``name``, ``birthDate``, ``telecom``, the record number as an
  ``MR`` identifier).
* The cohort, de-identified: pseudonyms only, ``birthDate`` as the year at most, every
  time shifted per patient (:mod:`gutaxis.app.research.deid`); the Bundle's
  ``meta.security`` says ``PSEUDED`` and ``meta.tag`` states the date shift.

Both are validated against the FHIR R4 model (``validate_bundle``: one resource of each
structure in full, every value checked).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gutaxis.app.db.models import PatientIdentity
from gutaxis.app.research.deid import SHIFT_NOTE
from gutaxis.app.research.record import ClinicRecord

Json = dict[str, Any]
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"


def _bundle(record: ClinicRecord) -> Json:
    from gutaxis.instruments.fhir import to_fhir_bundle

    return to_fhir_bundle(record.measurements, validate="none")


def _patients(bundle: Json) -> dict[str, Json]:
    """Patient resources of the Bundle by their subject identifier (the pseudonym)."""
    return {e["resource"]["identifier"][0]["value"]: e["resource"]
            for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Patient"}


def _ensure_patient(bundle: Json, pseudonym: str) -> Json:
    """The Patient resource of ``pseudonym``; added when the record holds nothing of them."""
    from gutaxis.instruments.fhir import BASE

    found = _patients(bundle).get(pseudonym)
    if found is not None:
        return found
    resource: Json = {"resourceType": "Patient",
                      "identifier": [{"system": f"{BASE}/subject", "value": pseudonym}]}
    bundle.setdefault("entry", []).insert(0, {
        "fullUrl": f"urn:uuid:{_uuid('Patient', pseudonym)}", "resource": resource})
    return resource


def _uuid(kind: str, ident: str) -> str:
    from gutaxis.instruments.fhir import _urn

    return _urn(kind, ident).removeprefix("urn:uuid:")


def patient_bundle(record: ClinicRecord, identity: PatientIdentity | None) -> Json:
    """One patient's identified Bundle (``record`` holds that patient only, not shifted)."""
    from gutaxis.instruments.fhir import validate_bundle

    bundle = _bundle(record)
    for pseudonym in record.subjects.values():
        patient = _ensure_patient(bundle, pseudonym)
        if identity is None:
            continue
        patient["name"] = [{"text": identity.full_name}]
        if identity.date_of_birth is not None:
            patient["birthDate"] = identity.date_of_birth.isoformat()
        telecom = [{"system": system, "value": value} for system, value in
                   (("email", identity.email), ("phone", identity.phone)) if value]
        if telecom:
            patient["telecom"] = telecom
        if identity.medical_record_number:
            patient["identifier"].append({
                "type": {"coding": [{"system": V2_0203, "code": "MR",
                                     "display": "Medical record number"}]},
                "value": identity.medical_record_number})
    bundle["timestamp"] = _now()
    validate_bundle(bundle, source="FHIR export", shapes=True)
    return bundle


def cohort_bundle(record: ClinicRecord, birth_years: dict[int, int | None]) -> Json:
    """The de-identified cohort Bundle (``record`` loaded with the secret: shifted)."""
    from gutaxis.instruments.fhir import BASE, validate_bundle

    bundle = _bundle(record)
    for pid, pseudonym in record.subjects.items():
        patient = _ensure_patient(bundle, pseudonym)
        year = birth_years.get(pid)
        if year is not None:
            patient["birthDate"] = f"{year:04d}"
    bundle["meta"] = {
        "security": [{"system": OBSERVATION_VALUE, "code": "PSEUDED",
                      "display": "pseudonymized"}],
        "tag": [{"system": f"{BASE}/CodeSystem/deidentification", "code": "date-shifted",
                 "display": SHIFT_NOTE}]}
    bundle["timestamp"] = _now()
    validate_bundle(bundle, source="FHIR export", shapes=True)
    return bundle


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()

"""FHIR R4 export and import.

Every Bundle is checked twice, by two independent validators: the FHIR R4 models of
``fhir.resources`` (inside :func:`to_fhir_bundle`) and the official FHIR R4 JSON schema
(HL7's ``fhir.schema.json``, the subset in ``tests/reference/fhir``). Codes are checked
against the LOINC/SNOMED codes of docs/research (NRS 72514-3, BPI interference 77565-0,
CRP 1988-5, hs-CRP 30522-7, ESR 4537-7, calprotectin 38445-3, Bristol SNOMED 443172007).
The record must come back unchanged (exact equality of every table).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError
from gutaxis.instruments.fhir import to_fhir_bundle, validate_bundle, write_fhir
from gutaxis.instruments.fhir_read import from_fhir_bundle, read_fhir
from gutaxis.instruments.record import record_from_answers, score_record
from gutaxis.instruments.record_tsv import read_record, write_record
from gutaxis.instruments.redcap import RedcapMapping, read_redcap

TABLES = ("administrations", "responses", "scores", "labs", "interventions", "samples")


@pytest.fixture(scope="module")
def schema(reference_dir: Path) -> jsonschema.Draft6Validator:
    path = reference_dir / "fhir" / "fhir_r4_bundle_subset.schema.json"
    return jsonschema.Draft6Validator(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def clinic(reference_dir: Path) -> Measurements:
    """The REDCap fixture plus a Bristol stool chart, a PSQI (times, decimals, text) and
    a stress-management programme that has ended."""
    folder = reference_dir / "redcap"
    record = read_redcap(folder / "pain_clinic_export.csv", timezone="Europe/Berlin",
                         mapping=RedcapMapping.from_json(folder / "pain_clinic_mapping.json"))
    extra = record_from_answers(
        administrations=pd.DataFrame({
            "administration_id": ["bristol-1", "psqi-1"], "subject": ["101", "102"],
            "time": ["2024-03-28T07:35:00+01:00", "2024-03-29T20:00:00+01:00"],
            "instrument": ["bristol", "psqi"]}),
        responses=pd.DataFrame({
            "administration_id": ["bristol-1", "psqi-1", "psqi-1", "psqi-1", "psqi-1"],
            "item": ["stool_type", "q1_bedtime", "q2_latency_min", "q4_sleep_hours",
                     "q5j_other_reason"],
            "answer": [4, "23:15", 12.5, 6.75, "neighbour's dog"]}),
        interventions=pd.DataFrame({
            "subject": ["102"], "type": ["stress management"], "product": ["MBSR course"],
            "start": ["2024-03-01T18:00:00+01:00"], "stop": ["2024-04-26T19:30:00+02:00"]}))
    return score_record(record.concat(extra))


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(resource: dict[str, Any]) -> dict[str, str]:
    return {c["system"]: c["code"] for c in resource["code"]["coding"]}


def assert_same_record(a: Measurements, b: Measurements) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def test_bundle_is_valid_against_the_official_r4_json_schema(
        clinic: Measurements, schema: jsonschema.Draft6Validator) -> None:
    bundle = to_fhir_bundle(clinic)
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in schema.iter_errors(bundle)]
    assert errors == []
    kinds = pd.Series([e["resource"]["resourceType"] for e in bundle["entry"]]).value_counts()
    assert kinds.to_dict() == {"Observation": len(clinic.scores) + len(clinic.labs),
                               "QuestionnaireResponse": 9, "Specimen": 3, "Patient": 2,
                               "Questionnaire": 4, "MedicationStatement": 1, "Procedure": 1}


def test_the_schema_check_is_not_vacuous(clinic: Measurements,
                                         schema: jsonschema.Draft6Validator) -> None:
    bundle = to_fhir_bundle(clinic)
    bundle["entry"][0]["resource"]["favourite_colour"] = "blue"
    bundle["entry"][3]["resource"]["authored"] = "2024-13-45"
    assert len(list(schema.iter_errors(bundle))) == 2


def test_scores_carry_loinc_or_snomed_and_point_to_their_response(clinic: Measurements) -> None:
    bundle = to_fhir_bundle(clinic)
    urls = {e["resource"]["identifier"]["value"]: e["fullUrl"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"}
    surveys = [o for o in resources(bundle, "Observation")
               if o["category"][0]["coding"][0]["code"] == "survey"]
    by_key = {codes(o)["https://gutaxis.org/fhir/CodeSystem/score"]: o for o in surveys}
    nrs = [o for o in surveys if codes(o).get("http://loinc.org") == "72514-3"]
    assert len(nrs) == 4
    assert [o["valueQuantity"]["value"] for o in nrs] == [6, 5, 3, 2]
    assert all(type(o["valueQuantity"]["value"]) is int for o in nrs)  # integer quantity
    assert nrs[0]["valueQuantity"]["code"] == "{score}"
    assert nrs[0]["derivedFrom"] == [{"reference": urls["redcap/101/baseline_arm_1/nrs/1"]}]
    interference = [o for o in surveys if codes(o).get("http://loinc.org") == "77565-0"]
    assert [round(o["valueQuantity"]["value"], 6) for o in interference] == [5.571429,
                                                                            2.857143]
    bristol = by_key["bristol@1997.type"]
    assert codes(bristol)["http://snomed.info/sct"] == "443172007"
    assert "http://loinc.org" not in codes(bristol)
    severity = [o for k, o in by_key.items() if k == "bpi-sf@2009.severity"]
    assert "http://loinc.org" not in codes(severity[0])   # no verified LOINC for severity


def test_labs_carry_loinc_and_the_reported_ucum_quantity(clinic: Measurements) -> None:
    labs = [o for o in resources(to_fhir_bundle(clinic), "Observation")
            if o["category"][0]["coding"][0]["code"] == "laboratory"]
    got = [(codes(o)["http://loinc.org"], o["valueQuantity"]) for o in labs]
    ucum = "http://unitsofmeasure.org"
    assert got == [
        ("1988-5", {"value": 0.81, "unit": "mg/dL", "system": ucum, "code": "mg/dL"}),
        ("38445-3", {"value": 0.2, "unit": "mg/g", "system": ucum, "code": "mg/g"}),
        ("30522-7", {"value": 3.1, "unit": "mg/L", "system": ucum, "code": "mg/L"}),
        ("4537-7", {"value": 12, "unit": "mm/h", "system": ucum, "code": "mm/h"}),
    ]


def test_answers_are_typed_as_their_items(clinic: Measurements) -> None:
    responses = {r["identifier"]["value"]: r for r in
                 resources(to_fhir_bundle(clinic), "QuestionnaireResponse")}
    psqi = {i["linkId"]: i["answer"][0] for i in responses["psqi-1"]["item"]}
    assert psqi == {"q1_bedtime": {"valueTime": "23:15:00"},
                    "q2_latency_min": {"valueDecimal": 12.5},
                    "q4_sleep_hours": {"valueDecimal": 6.75},
                    "q5j_other_reason": {"valueString": "neighbour's dog"}}
    assert responses["psqi-1"]["questionnaire"] == "https://gutaxis.org/fhir/Questionnaire/psqi|1989"
    assert responses["psqi-1"]["authored"] == "2024-03-29T19:00:00+00:00"


def test_questionnaires_describe_items_without_licensed_wording(clinic: Measurements) -> None:
    forms = {q["url"].rsplit("/", 1)[1]: q for q in
             resources(to_fhir_bundle(clinic), "Questionnaire")}
    assert sorted(forms) == ["bpi-sf", "bristol", "nrs", "psqi"]
    (pain,) = forms["nrs"]["item"]
    assert (pain["linkId"], pain["type"], forms["nrs"]["version"]) == ("pain", "integer", "11")
    assert [e["valueInteger"] for e in pain["extension"]] == [0, 10]
    assert pain["text"].startswith("Pain intensity from 0")      # generic scale: wording ships
    worst = next(i for i in forms["bpi-sf"]["item"] if i["linkId"] == "q3_worst_pain")
    assert worst["text"] == "worst pain, last 24 h"               # licensed: topic only
    bedtime = next(i for i in forms["psqi"]["item"] if i["linkId"] == "q1_bedtime")
    assert bedtime["type"] == "time" and "extension" not in bedtime


def test_interventions_and_samples(clinic: Measurements) -> None:
    bundle = to_fhir_bundle(clinic)
    (statement,) = resources(bundle, "MedicationStatement")
    assert statement["status"] == "active" and "end" not in statement["effectivePeriod"]
    assert statement["medicationCodeableConcept"]["text"] == "L. rhamnosus GG"
    assert statement["dosage"][0]["doseAndRate"][0]["doseQuantity"] == {
        "value": 10, "unit": "10*9.[CFU]/d"}
    (procedure,) = resources(bundle, "Procedure")
    assert procedure["status"] == "completed"
    assert procedure["performedPeriod"] == {"start": "2024-03-01T17:00:00+00:00",
                                            "end": "2024-04-26T17:30:00+00:00"}
    specimens = resources(bundle, "Specimen")
    assert [s["identifier"][0]["value"] for s in specimens] == ["S101A", "S101B", "S102A"]
    assert specimens[0]["type"]["coding"][0]["code"] == "119339001"


def test_record_round_trips_through_fhir_and_tsv(clinic: Measurements, tmp_path: Path) -> None:
    back = read_fhir(write_fhir(clinic, tmp_path / "bundle.json"))
    assert_same_record(clinic, back)
    again = read_fhir(write_fhir(read_record(write_record(back, tmp_path / "r.tsv")),
                                 tmp_path / "b2.json"))
    assert_same_record(clinic, again)
    assert (tmp_path / "bundle.json").read_bytes() == (tmp_path / "b2.json").read_bytes()


def test_shape_validation_agrees_with_full_validation(clinic: Measurements) -> None:
    bundle = to_fhir_bundle(clinic, validate="shapes")
    assert bundle == to_fhir_bundle(clinic, validate="full")
    for edit, field in [
            (lambda b: b["entry"][5]["resource"].pop("status"), r"entry\.\d+\.resource\.status"),
            (lambda b: b["entry"][0]["resource"]["identifier"][0].update(value=""),
             r"entry\.0\.resource\.identifier\.0\.value"),
            (lambda b: b["entry"][-1]["resource"]["type"]["coding"][0].update(code="a  b"),
             r"resource\.type\.coding\.0\.code")]:
        broken = json.loads(json.dumps(bundle))
        edit(broken)
        for shapes in (True, False):
            with pytest.raises(InputError, match=f"field '[^']*{field}'"):
                validate_bundle(broken, shapes=shapes)


def test_empty_record_gives_a_bundle_without_entry() -> None:
    # FHIR R4 JSON: "arrays are never empty"; an element has a value or children (ele-1).
    # The Bundle was {"entry": []}, which fhir.resources accepts.
    bundle = to_fhir_bundle(Measurements())
    assert bundle == {"resourceType": "Bundle", "type": "collection"}
    assert from_fhir_bundle(bundle).is_empty


@pytest.mark.parametrize(("edit", "field", "found"), [
    (lambda b: b.update(entry=[]), "entry", r"'\[\]'"),
    (lambda b: b["entry"][0].update(resource={}), "entry.0.resource", "'{}'"),
    (lambda b: b["entry"][0]["resource"].update(identifier=[]), "entry.0.resource.identifier",
     r"'\[\]'"),
    (lambda b: b["entry"][0]["resource"]["identifier"][0].update(period={}),
     "entry.0.resource.identifier.0.period", "'{}'")])
def test_empty_lists_and_objects_are_refused_by_name(edit: Any, field: str, found: str) -> None:
    bundle = to_fhir_bundle(Measurements(samples=pd.DataFrame(
        {"sample_id": ["x"], "subject": ["p"], "time": ["2024-01-01T00:00Z"]})))
    edit(bundle)
    for shapes in (True, False):
        with pytest.raises(InputError, match=f"field '{field}': not a valid FHIR R4 Bundle; "
                                             f"found {found}"):
            validate_bundle(bundle, shapes=shapes)


@pytest.mark.parametrize("base", ["gutaxis", "/fhir", "gutaxis.org/fhir", "ftp://x.org/fhir",
                                  "https://", "https://x.org/fhir/", "https://x.org/f hir",
                                  "https://x.org/fhir?v=1", "urn:oid:1.2.3"])
def test_base_that_is_not_an_absolute_url_is_refused(base: str) -> None:
    record = Measurements()
    for call in (lambda: to_fhir_bundle(record, base=base),
                 lambda: from_fhir_bundle({"resourceType": "Bundle", "type": "collection"},
                                          base=base)):
        with pytest.raises(InputError, match="field 'base': the FHIR base is not an absolute"):
            call()


def test_a_base_with_a_path_and_port_is_used_as_given() -> None:
    base = "http://localhost:8080/clinic/fhir"
    record = Measurements(samples=pd.DataFrame(
        {"sample_id": ["x"], "subject": ["p"], "time": ["2024-01-01T00:00Z"]}))
    bundle = to_fhir_bundle(record, base=base)
    assert bundle["entry"][0]["resource"]["identifier"] == [
        {"system": "http://localhost:8080/clinic/fhir/subject", "value": "p"}]
    assert_same_record(record, from_fhir_bundle(bundle, base=base))


def test_invalid_bundles_are_refused_naming_entry_and_field(clinic: Measurements,
                                                            tmp_path: Path) -> None:
    bundle = to_fhir_bundle(clinic)
    broken = json.loads(json.dumps(bundle))
    del broken["entry"][5]["resource"]["status"]
    with pytest.raises(InputError, match=r"field 'entry.5.resource.status': not a valid FHIR "
                                         r"R4 Bundle"):
        from_fhir_bundle(broken, source="b.json")
    other = json.loads(json.dumps(bundle))
    other["entry"].append({"fullUrl": "urn:uuid:1", "resource": {
        "resourceType": "Condition", "subject": {"reference": "urn:uuid:2"}}})
    with pytest.raises(InputError, match=r"row entry \d+, field 'resourceType': resource type "
                                         r"gutaxis does not read; found 'Condition'"):
        from_fhir_bundle(other)
    path = tmp_path / "bad.json"
    path.write_text('{"resourceType": "Bundle",\n "type": }')
    with pytest.raises(InputError, match=r"bad.json, row 2: not JSON"):
        read_fhir(path)


_SUBJECTS = st.sampled_from(["p1", "p2", "p3"])
_MINUTES = st.integers(0, 60 * 24 * 400)
_T0 = pd.Timestamp("2023-01-01T00:00:00Z")


@st.composite
def records(draw: st.DrawFn) -> Measurements:
    """Random records: NRS and BPI answers, labs in random units, interventions, samples."""
    n = draw(st.integers(0, 6))
    admins = pd.DataFrame({"administration_id": [f"a{i}" for i in range(n)],
                           "subject": [draw(_SUBJECTS) for _ in range(n)],
                           "time": [_T0 + pd.Timedelta(minutes=draw(_MINUTES))
                                    for _ in range(n)],
                           "instrument": [draw(st.sampled_from(["nrs", "bpi-sf"]))
                                          for _ in range(n)]})
    rows = []
    for admin, kind in zip(admins["administration_id"], admins["instrument"], strict=True):
        items = ["pain"] if kind == "nrs" else draw(st.lists(st.sampled_from(
            ["q3_worst_pain", "q4_least_pain", "q5_average_pain", "q6_pain_now",
             "q9a_general_activity", "q9b_mood", "q9f_sleep", "q9g_enjoyment_of_life"]),
            unique=True))
        rows += [(admin, item, draw(st.integers(0, 10))) for item in items]
    k = draw(st.integers(0, 5))
    units = {"crp": ["mg/L", "mg/dL", "ug/mL"], "esr": ["mm/h"], "il6": ["pg/mL", "ng/L"],
             "calprotectin": ["ug/g", "mg/kg", "mg/g"]}
    analytes = [draw(st.sampled_from(sorted(units))) for _ in range(k)]
    labs = pd.DataFrame({
        "lab_id": [f"l{i}" for i in range(k)], "subject": [draw(_SUBJECTS) for _ in range(k)],
        "time": [_T0 + pd.Timedelta(minutes=draw(_MINUTES)) for _ in range(k)],
        "analyte": analytes,
        "reported_value": [draw(st.floats(0, 1e4, allow_nan=False)) for _ in range(k)],
        "reported_unit": [draw(st.sampled_from(units[a])) for a in analytes]})
    j = draw(st.integers(0, 3))
    starts = [_T0 + pd.Timedelta(minutes=draw(_MINUTES)) for _ in range(j)]
    interventions = pd.DataFrame({
        "intervention_id": [f"i{i}" for i in range(j)],
        "subject": [draw(_SUBJECTS) for _ in range(j)],
        "type": [draw(st.sampled_from(["probiotic", "diet", "exercise", "stress_management",
                                       "medication"])) for _ in range(j)],
        "product": [draw(st.sampled_from(["", "LGG", "low FODMAP", "ibuprofen\t400"]))
                    for _ in range(j)],
        "dose": [draw(st.one_of(st.none(), st.floats(0.01, 1e3))) for _ in range(j)],
        "dose_unit": [draw(st.sampled_from(["", "mg/d"])) for _ in range(j)],
        "start": starts,
        "stop": [draw(st.one_of(st.none(), st.just(s + pd.Timedelta(days=30))))
                 for s in starts]})
    s = draw(st.integers(0, 3))
    samples = pd.DataFrame({"sample_id": [f"s{i}" for i in range(s)],
                            "subject": [draw(_SUBJECTS) for _ in range(s)],
                            "time": [_T0 + pd.Timedelta(minutes=draw(_MINUTES))
                                     for _ in range(s)]})
    return score_record(record_from_answers(administrations=admins,
                        responses=pd.DataFrame(rows, columns=["administration_id", "item",
                                                              "answer"]),
                        labs=labs, interventions=interventions, samples=samples))


@settings(max_examples=15, deadline=None)
@given(records())
def test_any_record_round_trips_through_tsv_and_fhir(record: Measurements) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        tsv = read_record(write_record(record, Path(folder) / "r.tsv"))
    assert_same_record(record, tsv)
    assert_same_record(record, from_fhir_bundle(to_fhir_bundle(tsv)))
    assert record.equals(tsv) and not record.equals(Measurements(samples=pd.DataFrame(
        {"sample_id": ["x"], "subject": ["p"], "time": ["2024-01-01T00:00Z"]})))


def test_observations_from_another_system_are_read() -> None:
    """An EHR's Bundle: Patient with its own id, an NRS as a vital-signs Observation
    (LOINC 72514-3) and a CRP in mg/dL, no gutaxis identifiers or codes."""
    vital = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                         "observation-category", "code": "vital-signs"}]}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "https://ehr.example/Patient/pat-1",
         "resource": {"resourceType": "Patient", "id": "pat-1"}},
        {"fullUrl": "https://ehr.example/Observation/obs-7", "resource": {
            "resourceType": "Observation", "id": "obs-7", "status": "final",
            "category": [vital], "code": {"coding": [{"system": "http://loinc.org",
                                                       "code": "72514-3"}]},
            "subject": {"reference": "Patient/pat-1"},
            "effectiveDateTime": "2024-03-01T09:30:00+01:00",
            "valueQuantity": {"value": 7, "unit": "{score}",
                              "system": "http://unitsofmeasure.org", "code": "{score}"}}},
        {"fullUrl": "https://ehr.example/Observation/lab-2", "resource": {
            "resourceType": "Observation", "id": "lab-2", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
            "subject": {"reference": "Patient/pat-1"},
            "effectivePeriod": {"start": "2024-03-01T08:00:00+01:00"},
            "valueQuantity": {"value": 1.2, "unit": "mg/dL",
                              "system": "http://unitsofmeasure.org", "code": "mg/dL"}}},
    ]}
    m = from_fhir_bundle(bundle)
    assert m.administrations[["administration_id", "subject", "instrument"]].values.tolist() \
        == [["obs-7", "pat-1", "nrs@11"]]
    assert m.scores[["score", "value"]].values.tolist() == [["pain", 7.0]]
    assert m.labs[["lab_id", "analyte", "value", "unit"]].values.tolist() == [
        ["lab-2", "crp", 12.0, "mg/L"]]
    unknown = json.loads(json.dumps(bundle))
    unknown["entry"][2]["resource"]["code"]["coding"][0]["code"] = "2345-7"  # glucose
    with pytest.raises(InputError, match=r"row entry 3, field 'code': observation code "
                                         r"gutaxis does not know"):
        from_fhir_bundle(unknown)
    odd_unit = json.loads(json.dumps(bundle))
    odd_unit["entry"][2]["resource"]["valueQuantity"] = {"value": 1.2, "unit": "mg/xx"}
    with pytest.raises(InputError, match=r"row entry 3, field 'unit': unknown unit"):
        from_fhir_bundle(odd_unit)  # the record's validation names the entry too
    orphan = json.loads(json.dumps(bundle))
    orphan["entry"][1]["resource"]["subject"]["reference"] = "Patient/pat-9"
    with pytest.raises(InputError, match=r"row entry 2, field 'subject.reference': subject is "
                                         r"not a Patient of this Bundle"):
        from_fhir_bundle(orphan)


@pytest.mark.parametrize("shapes", [False, True])
def test_a_validation_error_is_one_line_naming_entry_resource_and_field(
        clinic: Measurements, shapes: bool) -> None:
    broken = json.loads(json.dumps(to_fhir_bundle(clinic)))
    last = len(broken["entry"]) - 1
    kind = broken["entry"][last]["resource"]["resourceType"]
    broken["entry"][last]["resource"]["meta"] = {"lastUpdated": {"nested": ["a dump"]}}
    with pytest.raises(InputError) as caught:
        validate_bundle(broken, source="b.json", shapes=shapes)
    text = str(caught.value)
    assert f"entry {last + 1} ({kind}) meta.lastUpdated" in text, text
    assert f"entry.{last}.resource" in text
    assert "\n" not in text and "nested" not in text and "Value error" not in text

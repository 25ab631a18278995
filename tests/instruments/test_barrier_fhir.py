"""Barrier and inflammation markers through the record: TSV and FHIR R4 and back.

Every marker is written to the record TSV, exported as a FHIR Observation (LOINC coding
where a code is known and sourced, else gutaxis's analyte code system only; the value and
UCUM unit as reported; the assay caveats as ``note``), checked by the official FHIR R4
JSON schema (tests/reference/fhir, an independent validator besides ``fhir.resources``),
read back and compared table for table (exact equality). An Observation from another
system is placed by its LOINC code (TNF-alpha 3074-2, Mayo Clinic Laboratories TNFA).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app
from gutaxis.data.labs import ANALYTES
from gutaxis.data.measurements import Measurements
from gutaxis.instruments.fhir import to_fhir_bundle
from gutaxis.instruments.fhir_read import from_fhir_bundle
from gutaxis.instruments.record_tsv import read_record, write_record

TABLES = ("administrations", "responses", "scores", "labs", "interventions", "samples")
ANALYTE_SYSTEM = "https://gutaxis.org/fhir/CodeSystem/analyte"

#: (analyte as a lab writes it, value, unit as written) -> (id, canonical value, unit)
RESULTS = [
    ("Zonulin", 48.5, "ng/mL", "zonulin", 48.5, "ng/mL"),
    ("LPS", 0.12, "EU/mL", "lps", 0.12, "{EU}/mL"),
    ("LPS mass", 0.35, "ng/mL", "lps_mass", 350.0, "pg/mL"),
    ("LBP", 7300.0, "ng/mL", "lbp", 7.3, "ug/mL"),
    ("sCD14", 1650.0, "ng/mL", "scd14", 1.65, "ug/mL"),
    ("I-FABP", 0.42, "ng/mL", "ifabp", 420.0, "pg/mL"),
    ("L:M", 0.031, "ratio", "lm_ratio", 0.031, "{ratio}"),
    ("faecal calprotectin", 0.12, "mg/g", "calprotectin", 120.0, "ug/g"),
    ("hs-CRP", 0.21, "mg/dL", "hs_crp", 2.1, "mg/L"),
    ("IL-6", 3.2, "ng/L", "il6", 3.2, "pg/mL"),
    ("TNFα", 1.9, "pg/mL", "tnf_alpha", 1.9, "pg/mL"),
]


@pytest.fixture(scope="module")
def schema(reference_dir: Path) -> jsonschema.Draft6Validator:
    path = reference_dir / "fhir" / "fhir_r4_bundle_subset.schema.json"
    return jsonschema.Draft6Validator(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def record() -> Measurements:
    n = len(RESULTS)
    labs = pd.DataFrame({
        "lab_id": [f"b{i}" for i in range(n)],
        "subject": ["p1" if i % 2 == 0 else "p2" for i in range(n)],
        "time": [f"2024-04-{i + 1:02d}T08:30:00+02:00" for i in range(n)],
        "analyte": [r[0] for r in RESULTS], "reported_value": [r[1] for r in RESULTS],
        "reported_unit": [r[2] for r in RESULTS]})
    return Measurements(labs=labs)


def assert_same_record(a: Measurements, b: Measurements) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def lab_observations(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation":
            codes = {c["system"]: c["code"] for c in resource["code"]["coding"]}
            out[codes[ANALYTE_SYSTEM]] = resource
    return out


def test_the_record_holds_canonical_values(record: Measurements) -> None:
    labs = record.labs.set_index("lab_id").loc[[f"b{i}" for i in range(len(RESULTS))]]
    assert labs["analyte"].tolist() == [r[3] for r in RESULTS]
    assert labs["value"].tolist() == [r[4] for r in RESULTS]  # exact: powers of ten
    assert labs["unit"].tolist() == [r[5] for r in RESULTS]


def test_every_marker_round_trips_through_tsv_and_fhir(
        record: Measurements, schema: jsonschema.Draft6Validator, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "record.tsv")
    tsv = read_record(path)
    assert_same_record(record, tsv)
    bundle = to_fhir_bundle(tsv)
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in schema.iter_errors(bundle)]
    assert errors == []
    back = from_fhir_bundle(json.loads(json.dumps(bundle)))
    assert_same_record(record, back)
    assert sorted(back.labs["analyte"]) == sorted(r[3] for r in RESULTS)


def test_observations_carry_codes_units_and_caveats(record: Measurements) -> None:
    observations = lab_observations(to_fhir_bundle(record))
    assert sorted(observations) == sorted(r[3] for r in RESULTS)
    for _, value, unit, analyte_id, _, _ in RESULTS:
        obs = observations[analyte_id]
        codes = {c["system"]: c["code"] for c in obs["code"]["coding"]}
        loinc = ANALYTES[analyte_id].loinc
        assert codes.get("http://loinc.org") == loinc, analyte_id
        quantity = obs["valueQuantity"]
        assert quantity["value"] == value
        assert quantity["system"] == "http://unitsofmeasure.org"
        assert quantity["code"] == {"EU/mL": "{EU}/mL", "ratio": "{ratio}"}.get(unit, unit)
        notes = [n["text"] for n in obs.get("note", [])]
        assert notes == ANALYTES[analyte_id].notes(), analyte_id
    assert "http://loinc.org" not in {
        c["system"] for c in observations["zonulin"]["code"]["coding"]}
    assert {c["code"] for c in observations["tnf_alpha"]["code"]["coding"]} == {
        "3074-2", "tnf_alpha"}
    zonulin = " ".join(n["text"] for n in observations["zonulin"]["note"])
    assert "does not detect pre-haptoglobin 2" in zonulin
    assert "[Scheffler et al. 2018, Front Endocrinol 9:22]" in zonulin
    assert "[Ajamian et al. 2019, PLoS One 14:e0210728]" in zonulin
    hs_crp = [n["text"] for n in observations["hs_crp"]["note"]]
    assert any(t.startswith("risk category (average risk) 1-3 mg/L") for t in hs_crp)
    assert "note" not in lab_observations(to_fhir_bundle(Measurements(labs=pd.DataFrame({
        "subject": ["p"], "time": ["2024-01-01T00:00Z"], "analyte": ["crp"],
        "reported_value": [3.0], "reported_unit": ["mg/L"]}))))["crp"]


def test_a_tnf_alpha_observation_from_another_system_is_read_by_its_loinc() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "https://ehr.example/Patient/pat-1",
         "resource": {"resourceType": "Patient", "id": "pat-1"}},
        {"fullUrl": "https://ehr.example/Observation/tnf-1", "resource": {
            "resourceType": "Observation", "id": "tnf-1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "3074-2"}]},
            "subject": {"reference": "Patient/pat-1"},
            "effectiveDateTime": "2024-03-01T08:00:00Z",
            "valueQuantity": {"value": 4.1, "unit": "pg/mL",
                              "system": "http://unitsofmeasure.org", "code": "pg/mL"}}},
    ]}
    labs = from_fhir_bundle(bundle).labs
    assert labs[["lab_id", "analyte", "value", "unit"]].values.tolist() == [
        ["tnf-1", "tnf_alpha", 4.1, "pg/mL"]]


def test_the_record_commands_print_the_caveats(record: Measurements, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "record.tsv")
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["export-fhir", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("11 labs, 0 interventions, 0 samples")
    notes = [line for line in lines if line.startswith("note ")]
    assert notes[0].startswith("note calprotectin: 50 ug/g is a decision limit")
    assert any(line.startswith("note zonulin: Commercial 'zonulin' ELISAs detect proteins "
                               "other than zonulin") for line in notes)
    assert len(notes) == sum(len(a.notes()) for a in ANALYTES.values()
                             if a.id in {r[3] for r in RESULTS})


def test_a_wrong_kind_unit_in_a_record_tsv_is_one_line_and_exit_2(
        record: Measurements, tmp_path: Path) -> None:
    path = write_record(record, tmp_path / "record.tsv")
    lines = path.read_text().splitlines()
    lbp = next(i for i, line in enumerate(lines) if "\tlbp\t" in line)
    lines[lbp] = lines[lbp].replace("\tng/mL", "\t{EU}/mL")
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["export-fhir", str(path), "--out", str(out)])
    assert result.exit_code == 2
    message = result.output.strip()
    assert "\n" not in message and not out.exists()
    assert f"row {lbp + 1}" in message
    assert "Lipopolysaccharide-binding protein: LBP is a protein measured by mass" in message

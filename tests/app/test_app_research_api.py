"""The research endpoints on SQLite and PostgreSQL: who may call them, what they return,
that de-identified answers hold no identifying value, and that exports are audited."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
from clinic_fixtures import Cast, Clinic
from research_seed import Seeded, seed_cohort
from sqlalchemy import select

from gutaxis.app.db.models import AuditEvent
from gutaxis.app.research.deid import date_offset_days
from gutaxis.app.research.export import FILES
from gutaxis.instruments.fhir import validate_bundle


@pytest.fixture
def seeded(cast: Cast) -> Seeded:
    return seed_cohort(cast.clinic, n_subjects=4)


def _forbidden(cast: Cast, seeded: Seeded) -> list[bytes]:
    """Identifying values of the seeded patients and of the cast's patients A and B."""
    return [*seeded.forbidden(), b"Ada Alpha", b"ada@example.org", b"1980-01-02",
            b"Ben Beta", b"1975-05-06"]


def _assert_clean(content: bytes, forbidden: list[bytes]) -> None:
    found = [f for f in forbidden if f in content]
    assert not found, found


def _events(clinic: Clinic, action: str) -> list[AuditEvent]:
    with clinic.state.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


def _times(bundle: dict[str, Any]) -> dict[str, dt.datetime]:
    """Specimen collection and lab times by identifier (sample and lab ids)."""
    out = {}
    for entry in bundle["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Specimen":
            out[r["identifier"][0]["value"]] = r["collection"]["collectedDateTime"]
        elif r["resourceType"] == "Observation" and "lab" in r["identifier"][0]["system"]:
            out[r["identifier"][0]["value"]] = r["effectiveDateTime"]
    return {k: dt.datetime.fromisoformat(v) for k, v in out.items()}


@pytest.mark.parametrize("who", ["pat_a", "adm"])
def test_patients_and_admins_get_no_cohort_data(cast: Cast, who: str) -> None:
    client = cast.clients[who]
    for url in ("/api/v1/cohort/export.zip", "/api/v1/cohort/fhir", "/api/v1/analyses"):
        assert client.get(url).status_code == 403, url
    assert client.post("/api/v1/analyses", json={"outcome": "pain_mean_14d"}).status_code == 403
    page = client.get("/research")
    assert page.status_code == 403 and "<h1>Access denied</h1>" in page.text


def test_export_zip_is_tidy_deidentified_and_audited(cast: Cast, seeded: Seeded) -> None:
    response = cast.clients["res"].get("/api/v1/cohort/export.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == list(FILES)
    forbidden = _forbidden(cast, seeded)
    _assert_clean(response.content, forbidden)
    for name in FILES:
        _assert_clean(archive.read(name), forbidden)
    samples = archive.read("samples.tsv").decode().splitlines()
    header = samples[0].split("\t")
    assert header[:4] == ["sample_id", "subject", "time", "pain_mean_14d"]
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in samples[1:]]
    assert {int(r["sample_id"][1:]): float(r["pain_mean_14d"]) for r in rows} == {
        sid: float(pain) for sid, pain in seeded.pain.items()}
    profile = archive.read("profile.tsv").decode().splitlines()
    assert profile[0] == "sample_id\tfeature_id\tvalue" and len(profile) > len(rows)
    patients = archive.read("patients.tsv").decode().splitlines()
    assert patients[0] == "subject\tbirth_year" and len(patients) == 1 + 2 + 4
    assert "1940" in archive.read("patients.tsv").decode()  # the year, never the date
    readme = archive.read("README.txt").decode()
    assert "-180 to +180 days" in readme and "profile.tsv" in readme
    events = _events(cast.clinic, "export")
    assert [(e.username, e.resource) for e in events] == [("res", "cohort")]
    assert cast.clients["doc"].get("/api/v1/cohort/export.zip").status_code == 200


def test_cohort_fhir_is_valid_deidentified_and_shifts_each_patient_rigidly(
        cast: Cast, seeded: Seeded) -> None:
    clinic = cast.clinic
    response = cast.clients["res"].get("/api/v1/cohort/fhir")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    _assert_clean(response.content, _forbidden(cast, seeded))
    bundle = response.json()
    validate_bundle(bundle)  # every resource against the FHIR R4 model
    assert bundle["meta"]["security"][0]["code"] == "PSEUDED"
    assert "-180 to +180 days" in bundle["meta"]["tag"][0]["display"]
    patients = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient"]
    assert len(patients) == 2 + 4
    assert all(set(p) <= {"resourceType", "identifier", "birthDate"} for p in patients)
    assert all(len(p.get("birthDate", "1234")) == 4 for p in patients)
    shifted = _times(bundle)
    for pid, samples in seeded.samples.items():
        own = cast.clients["doc"].get(f"/api/v1/patients/{pid}/fhir").json()
        plain = _times(own)
        pseudonym = next(e["resource"]["identifier"][0]["value"] for e in own["entry"]
                         if e["resource"]["resourceType"] == "Patient")
        offset = dt.timedelta(days=date_offset_days(clinic.state.secret, pseudonym))
        assert len(plain) == 2 * len(samples)  # a sample and a CRP result per visit
        assert {k: shifted[k] - v for k, v in plain.items()} == {k: offset for k in plain}


def test_patient_fhir_is_identified_for_the_clinician_and_the_patient_only(
        cast: Cast) -> None:
    a, b = cast.patient_a, cast.patient_b
    doc = cast.clients["doc"].get(f"/api/v1/patients/{a}/fhir")
    assert doc.status_code == 200
    bundle = doc.json()
    validate_bundle(bundle)
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    assert patient["name"] == [{"text": "Ada Alpha"}]
    assert patient["birthDate"] == "1980-01-02"
    assert patient["telecom"] == [{"system": "email", "value": "ada@example.org"}]
    own = cast.clients["pat_a"].get(f"/api/v1/patients/{a}/fhir")
    assert own.status_code == 200 and own.json()["entry"] == bundle["entry"]
    assert cast.clients["pat_a"].get(f"/api/v1/patients/{b}/fhir").status_code == 403
    for who in ("res", "adm"):
        denied = cast.clients[who].get(f"/api/v1/patients/{a}/fhir")
        assert denied.status_code == 403
        _assert_clean(denied.content, [b"Ada Alpha", b"ada@example.org"])
    assert cast.clients["doc"].get("/api/v1/patients/999999/fhir").status_code == 404
    events = _events(cast.clinic, "export")
    assert [(e.username, e.resource, e.patient_id) for e in events] == [
        ("doc", "fhir", a), ("pat_a", "fhir", a)]


def test_analyses_are_queued_listed_and_reported_without_identities(
        cast: Cast, seeded: Seeded) -> None:
    res = cast.clients["res"]
    created = res.post("/api/v1/analyses", json={
        "outcome": "pain_mean_14d", "covariates": ["fibre_servings_mean_14d"],
        "permutations": 99})
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "queued" and job["progress"] == 0 and job["report_url"] is None
    assert job["params"]["covariates"] == ["fibre_servings_mean_14d"]
    listed = res.get("/api/v1/analyses")
    assert [j["id"] for j in listed.json()] == [job["id"]]
    assert res.get(f"/api/v1/analyses/{job['id']}").json()["status"] == "queued"
    assert res.get(f"/api/v1/analyses/{job['id']}/report").status_code == 404
    assert res.get("/api/v1/analyses/999999").status_code == 404
    bad = res.post("/api/v1/analyses", json={"outcome": "pain", "permutations": 3})
    assert bad.status_code == 422 and bad.json()["field"] == "permutations"
    page = res.get("/research")
    assert page.status_code == 200
    assert f'<progress class="job-progress" data-job="{job["id"]}"' in page.text
    assert '<script src="/static/research.js"' in page.text
    forbidden = _forbidden(cast, seeded)
    for content in (created.content, listed.content, page.content):
        _assert_clean(content, forbidden)
    assert [e.resource for e in _events(cast.clinic, "create")] == ["analysis"]


def test_the_research_form_queues_an_analysis_and_needs_the_csrf_token(cast: Cast) -> None:
    res = cast.clients["res"]
    form = {"outcome": "pain_mean_14d", "outcome_type": "continuous",
            "covariates": "sleep_hours_mean_14d, fibre_servings_mean_14d",
            "exposure": "", "permutations": "199"}
    token = res.headers.pop("X-CSRF-Token")
    assert res.post("/research/analyses", data=form).status_code == 403
    sent = res.post("/research/analyses", data={**form, "csrf_token": token},
                    follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/research"
    job = res.get("/api/v1/analyses").json()[0]
    assert job["params"] == {"outcome": "pain_mean_14d", "outcome_type": "continuous",
                             "covariates": ["sleep_hours_mean_14d",
                                            "fibre_servings_mean_14d"],
                             "exposure": "", "permutations": 199}
    wrong = res.post("/research/analyses", data={**form, "permutations": "many",
                                                 "csrf_token": token})
    assert wrong.status_code == 422 and "permutations" in wrong.text


def test_ids_beyond_a_database_integer_are_refused_as_input(cast: Cast) -> None:
    huge = 2**63
    for url in (f"/api/v1/analyses/{huge}", f"/api/v1/analyses/{huge}/report",
                f"/api/v1/patients/{huge}/fhir"):
        response = cast.clients["doc"].get(url)
        assert response.status_code == 422, (url, response.text)

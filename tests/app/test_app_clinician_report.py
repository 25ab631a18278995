"""The shareable report: self-contained HTML (no external resource) with identity,
charts, evaluations and caveats; its PDF printed by headless Chromium; a clear 503 when
Chromium is missing."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from clinic_fixtures import Cast, Clinic
from fastapi.testclient import TestClient

from gutaxis.app.clinic import report
from gutaxis.app.db.models import Patient
from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.app.diary.service import save_day

TODAY = dt.datetime.now(dt.UTC).date()


def diary_and_probiotic(clinic: Clinic, patient: int, client: TestClient) -> None:
    with clinic.state.db.write() as session:
        for i in range(20):
            save_day(session, patient, TODAY - dt.timedelta(days=19 - i),
                     DiaryDay(pain=6 if i < 10 else 4))
    made = client.post(f"/api/v1/patients/{patient}/interventions",
                       json={"type": "probiotic", "product": "LGG",
                             "start": str(TODAY - dt.timedelta(days=9))})
    assert made.status_code == 201


def pseudonym(clinic: Clinic, patient: int) -> str:
    with clinic.state.db.read() as session:
        found = session.get(Patient, patient)
        assert found is not None
        return found.pseudonym


def test_the_html_report_is_self_contained(cast: Cast) -> None:
    a, doc = cast.patient_a, cast.clients["doc"]
    diary_and_probiotic(cast.clinic, a, doc)
    answer = doc.get(f"/api/v1/patients/{a}/report.html")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert "<h1>Ada Alpha</h1>" in html and pseudonym(cast.clinic, a) in html
    assert "1980-01-02" in html
    assert "<style>" in html and ".card" in html
    assert not re.search(r"<link|<script|src=\"(?!data:)|url\(", html)
    assert 'aria-label="Pain and scores over time"' in html
    assert "Pain before and during LGG" in html and "95% interval" in html
    assert "is not proof of cause" in html and "not declared randomised" in html
    page = doc.get(f"/clinic/patients/{a}/report")
    assert page.status_code == 200 and f"/api/v1/patients/{a}/report.pdf" in page.text
    for role in ("pat_a", "pat_b", "res", "adm"):
        assert cast.clients[role].get(f"/api/v1/patients/{a}/report.html").status_code == 403


def test_no_chromium_is_a_clear_503(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "find_chromium", lambda: None)
    answer = cast.clients["doc"].get(f"/api/v1/patients/{cast.patient_a}/report.pdf")
    assert answer.status_code == 503 and "Chromium" in answer.json()["detail"]
    assert cast.clients["res"].get(
        f"/api/v1/patients/{cast.patient_a}/report.pdf").status_code == 403


@pytest.mark.skipif(report.find_chromium() is None, reason="Chromium is not installed")
def test_the_pdf_is_printed_with_the_patients_pseudonym(sqlite_clinic: Clinic) -> None:
    # one database is enough: the PDF prints the HTML report tested on both above
    clinic = sqlite_clinic
    a = clinic.add_patient("Ada Alpha")
    clinic.add_user("doc", "clinician")
    doc = clinic.login("doc")
    diary_and_probiotic(clinic, a, doc)
    answer = doc.get(f"/api/v1/patients/{a}/report.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pdf = answer.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    title = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]+)>", pdf)  # UTF-16 document title
    assert title is not None
    assert pseudonym(clinic, a) in bytes.fromhex(title.group(1).decode()).decode("utf-16-be")
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode()
        assert pseudonym(clinic, a) in text and "not proof of cause" in text

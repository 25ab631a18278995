"""The clinic's labs page takes a barrier marker and shows its assay caveats under it;
the API takes the spellings labs use and refuses a unit of the wrong kind."""

from __future__ import annotations

import html

from clinic_fixtures import Cast
from sqlalchemy import select

from gutaxis.app.db.models import LabResult


def test_the_lab_form_takes_zonulin_and_the_page_shows_its_caveats(cast: Cast) -> None:
    doc, pid = cast.clients["doc"], cast.patient_a
    page = doc.get(f"/clinic/patients/{pid}/labs")
    assert page.status_code == 200
    for analyte in ("zonulin", "lps", "lps_mass", "lbp", "scd14", "ifabp", "lm_ratio",
                    "tnf_alpha"):
        assert f'<option value="{analyte}">' in page.text
    csrf = doc.headers.pop("X-CSRF-Token")  # a browser form sends it as a field
    assert f'name="csrf_token" value="{csrf}"' in page.text
    done = doc.post(f"/clinic/patients/{pid}/labs", follow_redirects=False, data={
        "csrf_token": csrf, "time": "2024-03-01T08:00", "analyte": "zonulin",
        "value": "0.052", "unit": "ug/mL"})
    assert done.status_code == 303, done.text
    shown = html.unescape(doc.get(done.headers["location"]).text)
    assert "Zonulin (serum)" in shown and "52 ng/mL" in shown and "0.052 ug/mL" in shown
    assert "Assay caveats and intervals" in shown
    assert "does not detect pre-haptoglobin 2" in shown
    assert "[Ajamian et al. 2019, PLoS One 14:e0210728]" in shown
    with cast.clinic.state.db.read() as session:
        stored = session.execute(select(LabResult.analyte, LabResult.value,
                                        LabResult.unit)).all()
    assert [tuple(r) for r in stored] == [("zonulin", 52.0, "ng/mL")]


def test_the_api_takes_lab_spellings_and_refuses_endotoxin_units_for_lbp(cast: Cast) -> None:
    url = f"/api/v1/patients/{cast.patient_a}/labs"
    done = cast.clients["doc"].post(url, json={"time": "2024-03-01T08:00:00Z",
                                               "analyte": "L:M", "value": 0.03,
                                               "unit": "ratio"})
    assert done.status_code == 201, done.text
    assert (done.json()["analyte"], done.json()["unit"]) == ("lm_ratio", "{ratio}")
    bad = cast.clients["doc"].post(url, json={"time": "2024-03-01T08:00:00Z",
                                              "analyte": "LBP", "value": 1, "unit": "EU/mL"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith(
        "field 'unit': Lipopolysaccharide-binding protein: LBP is a protein measured by mass")


def test_the_patient_overview_and_report_list_the_caveats_under_latest_labs(
        cast: Cast) -> None:
    doc, pid = cast.clients["doc"], cast.patient_a
    url = f"/api/v1/patients/{pid}/labs"
    for analyte, value, unit in (("crp", 4.0, "mg/L"), ("zonulin", 41.0, "ng/mL")):
        assert doc.post(url, json={"time": "2024-03-01T08:00:00Z", "analyte": analyte,
                                   "value": value, "unit": unit}).status_code == 201
    overview = html.unescape(doc.get(f"/clinic/patients/{pid}").text)
    labs = overview[overview.index('id="labs"'):]
    assert "<li>zonulin: The widely used commercial 'zonulin' ELISA" in labs
    assert "<li>crp:" not in labs  # CRP carries no caveat
    report = html.unescape(doc.get(f"/api/v1/patients/{pid}/report.html").text)
    assert "<li>zonulin: Commercial 'zonulin' ELISAs detect proteins other than" in report

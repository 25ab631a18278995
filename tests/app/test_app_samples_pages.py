"""The samples and labs pages: panels rendered with their reference, forms that upload and
enter, errors shown with nothing stored, read-only views for the patient, denials."""

from __future__ import annotations

import re

from clinic_fixtures import Cast
from sqlalchemy import func, select

from gutaxis.app.db.models import LabResult, MicrobiomeSample

TABLE = b"feature_id\tstool_1\nASV001\t40\nASV003\t30\nASV004\t20\nASV005\t10\n"


def form_csrf(html: str, form_id: str) -> str:
    form = html[html.index(f'id="{form_id}"'):]
    match = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert match is not None
    return match.group(1)


def test_the_clinician_uploads_a_sample_in_the_page_and_sees_its_panel(cast: Cast) -> None:
    doc, pid = cast.clients["doc"], cast.patient_a
    page = doc.get(f"/clinic/patients/{pid}/samples")
    assert page.status_code == 200 and "Ada Alpha" in page.text
    csrf = form_csrf(page.text, "sample-form")
    doc.headers.pop("X-CSRF-Token")  # a browser form sends the token as a field
    bad = doc.post(f"/clinic/patients/{pid}/samples", data={"csrf_token": csrf,
                                                             "collected_at": "2024-03-01T08:00"},
                   files={"file": ("t.tsv", b"feature_id\tstool_1\nASV001\t-1\n"),
                          "taxonomy": ("", b""), "sample_times": ("", b"")})
    assert bad.status_code == 422 and "t.tsv, row 2, column &#39;stool_1&#39;" in bad.text
    assert "nothing was stored" in bad.text
    done = doc.post(f"/clinic/patients/{pid}/samples", data={"csrf_token": csrf,
                                                              "collected_at": "2024-03-01T08:00"},
                    files={"file": ("t.tsv", TABLE), "taxonomy": ("", b""),
                           "sample_times": ("", b"")}, follow_redirects=False)
    assert done.status_code == 303, done.text
    shown = doc.get(done.headers["location"])
    assert 'role="status"' in shown.text and "Saved: 1 sample added" in shown.text
    assert "Fibromyalgia-severity cohort, healthy controls (16S)" in shown.text
    assert "n = 51" in shown.text and 'class="pbar-dot"' in shown.text
    assert "Shannon diversity" in shown.text and "Butyrate producers" in shown.text
    with cast.clinic.state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(MicrobiomeSample)) == 1


def test_a_species_profile_panel_shows_the_hmp2_reference_and_dysbiosis(cast: Cast) -> None:
    doc, pid = cast.clients["doc"], cast.patient_b
    species = (b"sample_id\tFaecalibacterium prausnitzii\tEscherichia coli\n"
               b"stool_9\t0.6\t0.4\n")
    assert doc.post(f"/api/v1/patients/{pid}/samples", files={"file": ("sp.tsv", species)},
                    data={"collected_at": "2024-05-01T10:00:00Z"}).status_code == 201
    page = doc.get(f"/clinic/patients/{pid}/samples").text
    assert "HMP2 / IBDMDB, non-IBD participants" in page and "n = 426" in page
    assert "HMP2 dysbiosis score" in page and "from 27 people" in page
    assert "Ben Beta" in page and "Ada Alpha" not in page


def test_the_clinician_enters_a_lab_result_in_the_page(cast: Cast) -> None:
    doc, pid = cast.clients["doc"], cast.patient_a
    page = doc.get(f"/clinic/patients/{pid}/labs")
    assert page.status_code == 200
    assert '<option value="calprotectin">' in page.text
    csrf = form_csrf(page.text, "lab-form")
    doc.headers.pop("X-CSRF-Token")
    fields = {"csrf_token": csrf, "time": "2024-03-01T08:00", "analyte": "crp",
              "value": "0.4", "unit": "mg/dL"}
    bad = doc.post(f"/clinic/patients/{pid}/labs", data={**fields, "unit": "mm/h"})
    assert bad.status_code == 422 and "field &#39;unit&#39;" in bad.text
    assert 'value="0.4"' in bad.text  # the form keeps what was typed
    done = doc.post(f"/clinic/patients/{pid}/labs", data=fields, follow_redirects=False)
    assert done.status_code == 303
    upload = doc.post(f"/clinic/patients/{pid}/labs/upload", data={"csrf_token": csrf},
                      files={"file": ("l.csv", b"time,analyte,value,unit\n"
                                                b"2024-03-02T08:00:00Z,esr,9,mm/h\n")})
    assert upload.status_code == 200 and "Saved: 1 result added" in upload.text
    assert "4 mg/L" in upload.text and "0.4 mg/dL" in upload.text
    with cast.clinic.state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(LabResult)) == 2


def test_patients_see_their_own_read_only_and_others_are_denied(cast: Cast) -> None:
    pat = cast.clients["pat_a"]
    for url in ("/me/samples", "/me/labs"):
        page = pat.get(url)
        assert page.status_code == 200 and "<form id=" not in page.text
        assert "Ada Alpha" not in page.text  # the patient view shows no identity
    for who in ("pat_a", "res", "adm"):
        for part in ("samples", "labs"):
            denied = cast.clients[who].get(f"/clinic/patients/{cast.patient_a}/{part}")
            assert denied.status_code == 403 and "<h1>Access denied</h1>" in denied.text
    assert cast.clients["doc"].get("/me/samples").status_code == 403

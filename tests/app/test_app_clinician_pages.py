"""The clinician's pages to their contract (contracts.md): the list with flags and its
legend, a new patient with an invitation link, the patient page (timeline chart,
interventions form, panels, labs), starting and stopping from the page, evaluation and
report pages; other roles see "Access denied"."""

from __future__ import annotations

import datetime as dt
import re

from clinic_fixtures import Cast
from sqlalchemy import select

from gutaxis.app.db.models import Intervention, LabResult, MicrobiomeSample, Upload
from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.app.diary.service import save_day
from gutaxis.data.interventions import INTERVENTION_TYPES

TODAY = dt.datetime.now(dt.UTC).date()
PANEL = {"reference": {"name": "Flemish Gut Flora Project", "n": 1106, "source": "FGFP",
                       "method": "rarefied 10,000 reads"},
         "metrics": [{"name": "shannon", "label": "Shannon diversity", "value": 3.91,
                      "unit": "nats", "percentile": 62.5, "interpretation": "typical",
                      "note": None},
                     {"name": "butyrate", "label": "Butyrate producers", "value": 0.081,
                      "unit": "fraction", "percentile": None, "interpretation": "not rated",
                      "note": "no reference for this method"}],
         "notes": ["percentiles against healthy adults"], "computed_with": "gutaxis 1.2"}


def form(cast: Cast, **fields: str) -> dict[str, str]:
    return {"csrf_token": cast.clients["doc"].headers["X-CSRF-Token"], **fields}


def test_the_list_links_names_shows_flags_and_states_the_rules(cast: Cast) -> None:
    with cast.clinic.state.db.write() as session:
        save_day(session, cast.patient_a, TODAY, DiaryDay(pain=3))
    page = cast.clients["doc"].get("/clinic/patients")
    assert page.status_code == 200
    html = page.text
    assert f'<a href="/clinic/patients/{cast.patient_a}">Ada Alpha</a>' in html
    assert f'<a href="/clinic/patients/{cast.patient_b}">Ben Beta</a>' in html
    assert '<span class="flag warn"' in html and ">diary gaps</span>" in html
    assert 'href="/clinic/patients/new">New patient</a>' in html
    for words in ("pain rising / pain falling", "fewer than 4 diary days",
                  "fewer than 7 diary days in the last 14"):
        assert words in html
    denied = cast.clients["pat_a"].get("/clinic/patients")
    assert denied.status_code == 403 and "<h1>Access denied</h1>" in denied.text


def test_a_new_patient_from_the_form_gets_an_invitation_link(cast: Cast) -> None:
    doc = cast.clients["doc"]
    page = doc.get("/clinic/patients/new").text
    for name in ("full_name", "date_of_birth", "email", "phone", "medical_record_number",
                 "timezone"):
        assert f'name="{name}"' in page
    made = doc.post("/clinic/patients/new", data=form(
        cast, full_name="Cleo Gamma", date_of_birth="1990-03-04", email="", phone="",
        medical_record_number="M-1", timezone="Europe/Vienna"))
    assert made.status_code == 201
    link = re.search(r'value="(https://testserver/invite/[^"]+)"', made.text)
    assert link is not None and "Cleo Gamma" in made.text
    bad = doc.post("/clinic/patients/new", data=form(cast, full_name="X", timezone="Nowhere"))
    assert bad.status_code == 422 and "timezone" in bad.text
    no_token = doc.post("/clinic/patients/new", data={"full_name": "Y"},
                        headers={"X-CSRF-Token": ""})
    assert no_token.status_code == 403


def test_the_patient_page_has_the_contracted_parts(cast: Cast) -> None:
    a = cast.patient_a
    with cast.clinic.state.db.write() as session:
        save_day(session, a, TODAY - dt.timedelta(days=2), DiaryDay(pain=6,
                                                                    gi_symptoms={"bloating": 3}))
        upload = Upload(kind="microbiome", filename="s.tsv", content=b"x", sha256="0" * 64)
        session.add(upload)
        session.flush()
        session.add(MicrobiomeSample(
            patient_id=a, sample_label="S-01", upload_id=upload.id, value_kind="counts",
            collected_at=dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC),
            profile={"f": 1}, panel=PANEL))
        session.add(LabResult(patient_id=a, time=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                              analyte="crp", value=2.0, unit="mg/L", reported_value=20.0,
                              reported_unit="mg/dL"))
    html = cast.clients["doc"].get(f"/clinic/patients/{a}").text
    assert "<h1>Ada Alpha</h1>" in html
    assert '<svg class="chart"' in html and 'aria-label="Pain and scores over time"' in html
    assert '<section class="card" id="interventions">' in html
    assert 'id="intervention-form"' in html and ">Start intervention</button>" in html
    options = re.findall(r'<option value="([a-z_]+)">', html)
    assert tuple(options) == INTERVENTION_TYPES
    for name in ("product", "dose", "dose_unit", "notes"):
        assert f'name="{name}"' in html
    assert 'name="start" type="date"' in html
    for href in ("report", "samples", "labs"):
        assert f'href="/clinic/patients/{a}/{href}"' in html
    assert "Flemish Gut Flora Project, n = 1106, FGFP, rarefied 10,000 reads" in html
    assert 'aria-label="percentile 62"' in html and '<rect width="62.5"' in html
    assert "no reference for this method" in html and "Computed with gutaxis 1.2" in html
    assert "GI symptom total over time" in html
    assert "<td>crp</td><td>2 mg/L</td><td>20 mg/dL</td>" in html
    assert "has an account" in html and "Invitation link</button>" not in html
    assert cast.clients["pat_a"].get(f"/clinic/patients/{a}").status_code == 403


def test_an_invitation_from_the_patient_page(cast: Cast) -> None:
    pid = cast.clinic.add_patient("Eve Epsilon")
    doc = cast.clients["doc"]
    assert "Invitation link</button>" in doc.get(f"/clinic/patients/{pid}").text
    made = doc.post(f"/clinic/patients/{pid}/invitation", data=form(cast))
    assert made.status_code == 201
    assert re.search(r'value="https://testserver/invite/[^"]+"', made.text)


def test_start_and_stop_an_intervention_from_the_page(cast: Cast) -> None:
    a, doc = cast.patient_a, cast.clients["doc"]
    started = doc.post(f"/clinic/patients/{a}/interventions", data=form(
        cast, type="probiotic", product="Bifidobacterium longum 35624", dose="1e9",
        dose_unit="CFU/day", start=str(TODAY - dt.timedelta(days=3)), notes=""),
        follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == f"/clinic/patients/{a}#interventions"
    with cast.clinic.state.db.read() as session:
        row = session.scalars(select(Intervention)).one()
    assert (row.type, row.dose, row.dose_unit, row.notes) == ("probiotic", 1e9, "CFU/day", None)
    page = doc.get(f"/clinic/patients/{a}").text
    assert f'/clinic/patients/{a}/interventions/{row.id}/evaluation">Evaluation</a>' in page
    assert ">Stop</button>" in page and f'name="stop" value="{TODAY}"' in page
    bad = doc.post(f"/clinic/patients/{a}/interventions/{row.id}/stop",
                   data=form(cast, stop=str(TODAY - dt.timedelta(days=9))))
    assert bad.status_code == 422 and "stops before it starts" in bad.text
    stopped = doc.post(f"/clinic/patients/{a}/interventions/{row.id}/stop",
                       data=form(cast, stop=str(TODAY)), follow_redirects=False)
    assert stopped.status_code == 303
    with cast.clinic.state.db.read() as session:
        assert session.scalars(select(Intervention.stop)).one() == TODAY
    assert ">Stop</button>" not in doc.get(f"/clinic/patients/{a}").text
    unknown = doc.post(f"/clinic/patients/{a}/interventions", data=form(
        cast, type="surgery", product="x", start=str(TODAY)))
    assert unknown.status_code == 422 and "unknown intervention type" in unknown.text


def test_the_evaluation_page_says_too_few_days_without_numbers(cast: Cast) -> None:
    a, doc = cast.patient_a, cast.clients["doc"]
    iid = doc.post(f"/api/v1/patients/{a}/interventions",
                   json={"type": "diet", "product": "low FODMAP",
                         "start": str(TODAY)}).json()["id"]
    page = doc.get(f"/clinic/patients/{a}/interventions/{iid}/evaluation")
    assert page.status_code == 200
    assert "too few diary days to evaluate" in page.text
    assert "95% interval" not in page.text
    assert "is not proof of cause" in page.text

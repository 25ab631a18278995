"""The clinician's API on both databases: patients with identity, invitations,
interventions (start, stop, who may read them), the timeline and its window."""

from __future__ import annotations

import datetime as dt

from clinic_fixtures import Cast
from sqlalchemy import select

from gutaxis.app.db.models import (
    AuditEvent,
    Invitation,
    LabResult,
    MicrobiomeSample,
    QuestionnaireResponse,
    Upload,
)
from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.app.diary.service import save_day

TODAY = dt.datetime.now(dt.UTC).date()


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def actions(cast: Cast, resource: str) -> list[tuple[str | None, str, str]]:
    with cast.clinic.state.db.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.resource == resource)
                               .order_by(AuditEvent.id)).all()
        return [(e.username, e.action, e.outcome) for e in rows]


def test_a_clinician_creates_a_patient_and_reads_the_identity(cast: Cast) -> None:
    doc = cast.clients["doc"]
    made = doc.post("/api/v1/patients", json={
        "full_name": "  Cleo Gamma ", "date_of_birth": "1990-03-04", "email": "c@example.org",
        "medical_record_number": "MRN-77", "timezone": "Europe/Berlin"})
    assert made.status_code == 201
    body = made.json()
    assert body["full_name"] == "Cleo Gamma" and body["pseudonym"].startswith("P-")
    assert body["date_of_birth"] == "1990-03-04" and body["timezone"] == "Europe/Berlin"
    assert body["has_account"] is False
    again = doc.get(f"/api/v1/patients/{body['id']}").json()
    assert again == body
    assert ("doc", "create", "allowed") in actions(cast, "patient")
    refused = doc.post("/api/v1/patients", json={"full_name": "X", "timezone": "Mars/Base"})
    assert refused.status_code == 422 and "timezone" in refused.json()["detail"]
    assert doc.post("/api/v1/patients", json={"full_name": ""}).status_code == 422


def test_patients_reach_only_their_own_record(cast: Cast) -> None:
    a, b = cast.patient_a, cast.patient_b
    own = cast.clients["pat_a"].get(f"/api/v1/patients/{a}")
    assert own.status_code == 200 and own.json()["full_name"] == "Ada Alpha"
    assert own.json()["has_account"] is True
    assert cast.clients["pat_a"].get(f"/api/v1/patients/{b}").status_code == 403
    for role in ("res", "adm"):
        assert cast.clients[role].get(f"/api/v1/patients/{a}").status_code == 403
    for missing in (999999, 2**31, 10**20, 0, -1):  # beyond a 32-bit id: no such row
        assert cast.clients["doc"].get(f"/api/v1/patients/{missing}").status_code == 404
    assert cast.clients["pat_a"].get(f"/api/v1/patients/{10**20}").status_code == 403
    assert cast.clients["pat_a"].post("/api/v1/patients",
                                      json={"full_name": "Z"}).status_code == 403


def test_an_invitation_is_an_absolute_one_time_link(cast: Cast) -> None:
    doc = cast.clients["doc"]
    pid = cast.clinic.add_patient("Dan Delta")
    made = doc.post(f"/api/v1/patients/{pid}/invitations")
    assert made.status_code == 201
    link = made.json()["link"]
    assert link.startswith("https://testserver/invite/") and len(link) > 40
    with cast.clinic.state.db.read() as session:
        stored = session.scalars(select(Invitation.token_hash)
                                 .where(Invitation.patient_id == pid)).all()
    assert len(stored) == 1 and link.rsplit("/", 1)[1] not in stored[0]
    has_account = doc.post(f"/api/v1/patients/{cast.patient_a}/invitations")
    assert has_account.status_code == 422 and "already has an account" in \
        has_account.json()["detail"]
    assert actions(cast, "invitation") == [("doc", "create", "allowed"),
                                           ("doc", "create", "refused")]
    assert cast.clients["pat_a"].post(
        f"/api/v1/patients/{cast.patient_a}/invitations").status_code == 403


def test_interventions_start_stop_and_who_reads_them(cast: Cast) -> None:
    doc, a = cast.clients["doc"], cast.patient_a
    url = f"/api/v1/patients/{a}/interventions"
    made = doc.post(url, json={"type": "Stress management", "product": "MBSR course",
                               "start": str(ago(10))})
    assert made.status_code == 201 and made.json()["type"] == "stress_management"
    probiotic = doc.post(url, json={"type": "probiotic", "product": "L. rhamnosus GG",
                                    "dose": 1e10, "dose_unit": "CFU/day",
                                    "start": str(ago(3))}).json()
    iid = probiotic["id"]
    for bad, field in [({"type": "surgery"}, "type"), ({"stop": str(ago(20))}, "stop"),
                       ({"dose": 5}, "dose_unit"), ({"start": "0202-05-01"}, "start")]:
        body = {"type": "diet", "product": "low FODMAP", "start": str(ago(5)), **bad}
        refused = doc.post(url, json=body)
        assert refused.status_code == 422 and refused.json()["field"] == field, bad
    backwards = doc.patch(f"{url}/{iid}", json={"stop": str(ago(4))})
    assert backwards.status_code == 422 and backwards.json()["field"] == "stop"
    stopped = doc.patch(f"{url}/{iid}", json={"stop": str(TODAY)})
    assert stopped.status_code == 200 and stopped.json()["stop"] == str(TODAY)
    for missing in (999999, 10**20):
        assert doc.patch(f"{url}/{missing}", json={"stop": str(TODAY)}).status_code == 404
    other = f"/api/v1/patients/{cast.patient_b}/interventions/{iid}"
    assert doc.patch(other, json={"stop": str(TODAY)}).status_code == 404
    listed = cast.clients["pat_a"].get(url)
    assert listed.status_code == 200
    assert [(r["type"], r["product"]) for r in listed.json()] == [
        ("stress_management", "MBSR course"), ("probiotic", "L. rhamnosus GG")]
    assert cast.clients["pat_b"].get(url).status_code == 403
    assert cast.clients["res"].get(url).status_code == 403
    assert cast.clients["pat_a"].post(url, json={"type": "diet", "product": "x",
                                                 "start": str(TODAY)}).status_code == 403
    assert cast.clients["pat_a"].patch(f"{url}/{iid}", json={"stop": None}).status_code == 403
    assert ("doc", "update", "allowed") in actions(cast, "intervention")


def test_the_timeline_holds_every_kind_of_event_in_its_window(cast: Cast) -> None:
    clinic, a = cast.clinic, cast.patient_a
    with clinic.state.db.write() as session:
        save_day(session, a, ago(100), DiaryDay(pain=9))  # outside the default window
        save_day(session, a, ago(5), DiaryDay(pain=6, gi_symptoms={"bloating": 4,
                                                                   "nausea": 2}))
        save_day(session, a, ago(4), DiaryDay(pain=5))
        session.add(QuestionnaireResponse(patient_id=a, instrument="phq9@1", time=at(ago(3)),
                                          answers={}, scores={"total": {"value": 12,
                                                                        "band": "moderate"}}))
        session.add(LabResult(patient_id=a, time=at(ago(2)), analyte="crp", value=3.5,
                              unit="mg/L", reported_value=3.5, reported_unit="mg/L"))
        upload = Upload(kind="microbiome", filename="s.tsv", content=b"x", sha256="0" * 64)
        session.add(upload)
        session.flush()
        session.add(MicrobiomeSample(patient_id=a, sample_label="S1", collected_at=at(ago(1)),
                                     upload_id=upload.id, value_kind="counts",
                                     profile={"f1": 10}))
    doc = cast.clients["doc"]
    doc.post(f"/api/v1/patients/{a}/interventions",
             json={"type": "diet", "product": "low FODMAP", "start": str(ago(200)),
                   "stop": str(ago(95))})  # ended before the window
    doc.post(f"/api/v1/patients/{a}/interventions",
             json={"type": "probiotic", "product": "LGG", "start": str(ago(4))})
    body = doc.get(f"/api/v1/patients/{a}/timeline").json()
    assert body["since"] == str(ago(89)) and body["until"] == str(TODAY)
    assert body["diary"] == [{"day": str(ago(5)), "pain": 6, "gi_total": 6.0},
                             {"day": str(ago(4)), "pain": 5, "gi_total": None}]
    assert [(s["instrument"], s["score"], s["value"], s["band"]) for s in body["scores"]] == [
        ("phq9@1", "total", 12.0, "moderate")]
    assert [(p["type"], p["start"], p["stop"]) for p in body["interventions"]] == [
        ("probiotic", str(ago(4)), None)]
    assert [(lab["analyte"], lab["value"], lab["unit"]) for lab in body["labs"]] == [
        ("crp", 3.5, "mg/L")]
    assert [s["label"] for s in body["samples"]] == ["S1"]
    wide = doc.get(f"/api/v1/patients/{a}/timeline",
                   params={"since": str(ago(300)), "until": str(ago(50))}).json()
    assert [d["pain"] for d in wide["diary"]] == [9]
    assert [p["product"] for p in wide["interventions"]] == ["low FODMAP"]
    backwards = doc.get(f"/api/v1/patients/{a}/timeline",
                        params={"since": str(TODAY), "until": str(ago(1))})
    assert backwards.status_code == 422 and backwards.json()["field"] == "since"
    for params, field in [({"until": "0001-01-01"}, "until"), ({"until": "9999-12-31"}, "until"),
                          ({"since": "0001-01-01"}, "since")]:
        extreme = doc.get(f"/api/v1/patients/{a}/timeline", params=params)
        assert extreme.status_code == 422 and extreme.json()["field"] == field, params
    assert cast.clients["pat_a"].get(f"/api/v1/patients/{a}/timeline").status_code == 200
    assert cast.clients["pat_b"].get(f"/api/v1/patients/{a}/timeline").status_code == 403
    assert cast.clients["res"].get(f"/api/v1/patients/{a}/timeline").status_code == 403
    assert ("doc", "read", "allowed") in actions(cast, "timeline")

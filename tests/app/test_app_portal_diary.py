"""The portal's diary page on both databases: the contract's form, a plain-form round trip
(page -> API -> page again), errors naming the field, CSRF, patients only."""

from __future__ import annotations

import datetime as dt

from clinic_fixtures import Cast
from portal_html import parse
from sqlalchemy import select

from gutaxis.app.db.models import AuditEvent
from gutaxis.app.diary.schemas import GI_SYMPTOMS, PAIN_SITES

TODAY = dt.datetime.now(dt.UTC).date()  # the cast's patients live in UTC
DAY = TODAY - dt.timedelta(days=3)

FORM = {"day": DAY.isoformat(), "pain": "6", "pain_sites": ["neck", "lower_back", "abdomen"],
        "bristol": "2", "gi_bloating": "4", "gi_urgency": "0", "fibre_servings": "2.5",
        "fermented_servings": "1", "ultra_processed_servings": "3", "added_sugar_g": "40",
        "exercise_minutes": "30", "sleep_hours": "6.5", "probiotic_taken": "yes",
        "stress": "7", "sleep_quality": "3", "notes": "long day"}


def _post(cast: Cast, user: str, fields: dict[str, object]):  # type: ignore[no-untyped-def]
    client = cast.clients[user]
    return client.post("/me/diary", data={"csrf_token": client.headers["X-CSRF-Token"],
                                           **fields})


def test_diary_form_has_the_contract_fields(cast: Cast) -> None:
    response = cast.clients["pat_a"].get("/me/diary")
    assert response.status_code == 200
    page = parse(response.text)
    controls = page.form("diary-form")
    by_name: dict[str, list[dict[str, str]]] = {}
    for control in controls:
        by_name.setdefault(control.attrs.get("name", ""), []).append(control.attrs)
    assert by_name["day"] == [{**by_name["day"][0], "type": "date", "value": TODAY.isoformat()}]
    assert [(c["type"], c["value"]) for c in by_name["pain"]] == [
        ("radio", str(n)) for n in range(11)]
    assert sorted(c["value"] for c in by_name["pain_sites"]) == sorted(PAIN_SITES)
    assert [c["value"] for c in by_name["bristol"]] == [str(n) for n in range(1, 8)]
    for symptom in GI_SYMPTOMS:
        (gi,) = by_name[f"gi_{symptom}"]
        assert (gi["type"], gi["min"], gi["max"]) == ("number", "0", "10")
    for name in ("fibre_servings", "fermented_servings", "ultra_processed_servings",
                 "added_sugar_g", "exercise_minutes", "sleep_hours", "stress",
                 "sleep_quality"):
        assert by_name[name][0]["type"] == "number", name
    assert [c["value"] for c in by_name["probiotic_taken"]] == ["yes", "no"]
    assert [c.tag for c in controls if c.attrs.get("name") == "notes"] == ["textarea"]
    assert [c.text for c in controls if c.tag == "button"] == ["Save today's diary"]
    # each pain radio sits in the .scale with its number as label
    assert page.find(_tag="div", **{"class": "scale", "role": "radiogroup"}) == [
        " ".join(str(n) for n in range(11))]


def test_diary_form_round_trip_saves_audits_and_prefills(cast: Cast) -> None:
    response = _post(cast, "pat_a", FORM)
    assert response.status_code == 200, response.text
    (status,) = parse(response.text).find(role="status")
    assert "Saved" in status
    stored = cast.clients["doc"].get(
        f"/api/v1/patients/{cast.patient_a}/diary/{DAY}").json()
    assert {k: stored[k] for k in ("pain", "pain_sites", "bristol", "gi_symptoms",
                                   "fibre_servings", "fermented_servings",
                                   "ultra_processed_servings", "added_sugar_g",
                                   "exercise_minutes", "sleep_hours", "probiotic_taken",
                                   "stress", "sleep_quality", "notes")} == {
        "pain": 6, "pain_sites": ["neck", "lower_back", "abdomen"], "bristol": 2,
        "gi_symptoms": {"bloating": 4, "urgency": 0}, "fibre_servings": 2.5,
        "fermented_servings": 1.0, "ultra_processed_servings": 3.0, "added_sugar_g": 40.0,
        "exercise_minutes": 30.0, "sleep_hours": 6.5, "probiotic_taken": True, "stress": 7,
        "sleep_quality": 3, "notes": "long day"}
    with cast.clinic.state.db.read() as session:
        writes = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "write", AuditEvent.resource == "diary")).all()
    assert [(e.username, e.patient_id, e.detail) for e in writes] == [
        ("pat_a", cast.patient_a, str(DAY))]
    again = parse(cast.clients["pat_a"].get(f"/me/diary?day={DAY}").text)
    checked = {(c.attrs["name"], c.attrs["value"]) for c in again.form("diary-form")
               if "checked" in c.attrs}
    assert checked == {("pain", "6"), ("bristol", "2"), ("probiotic_taken", "yes"),
                       ("pain_sites", "neck"), ("pain_sites", "lower_back"),
                       ("pain_sites", "abdomen")}
    values = {c.attrs["name"]: c.attrs.get("value") for c in again.form("diary-form")
              if c.attrs.get("type") == "number" and c.attrs.get("value")}
    assert values == {"gi_bloating": "4", "gi_urgency": "0", "fibre_servings": "2.5",
                      "fermented_servings": "1", "ultra_processed_servings": "3",
                      "added_sugar_g": "40", "exercise_minutes": "30", "sleep_hours": "6.5",
                      "stress": "7", "sleep_quality": "3"}
    # saving the same day again replaces it
    assert _post(cast, "pat_a", {"day": DAY.isoformat(), "pain": "2"}).status_code == 200
    days = cast.clients["pat_a"].get(f"/api/v1/patients/{cast.patient_a}/diary").json()
    assert [(d["day"], d["pain"], d["pain_sites"]) for d in days] == [(str(DAY), 2, [])]


def test_invalid_diary_names_the_field_keeps_the_answers_and_stores_nothing(
        cast: Cast) -> None:
    future = (TODAY + dt.timedelta(days=5)).isoformat()
    cases = [({**FORM, "pain": "11"}, "pain"), ({**FORM, "gi_nausea": "12"}, "gi_nausea"),
             ({**FORM, "sleep_hours": "30"}, "sleep_hours"),
             ({**FORM, "pain_sites": ["elbow"]}, "pain_sites"),
             ({k: v for k, v in FORM.items() if k != "pain"}, "pain"),
             ({**FORM, "day": future}, "day"), ({**FORM, "day": "yesterday"}, "day"),
             ({**FORM, "day": "0001-01-01"}, "day")]
    for fields, field in cases:
        response = _post(cast, "pat_a", fields)
        assert response.status_code == 422, field
        (alert,) = parse(response.text).find(role="alert")
        assert f"'{field}'" in alert and alert.startswith("Not saved"), (field, alert)
    kept = parse(_post(cast, "pat_a", {**FORM, "stress": "15"}).text).form("diary-form")
    assert {c.attrs["name"]: c.attrs.get("value") for c in kept
            if c.attrs.get("name") in ("stress", "fibre_servings")} == {
        "stress": "15", "fibre_servings": "2.5"}
    assert cast.clients["pat_a"].get(
        f"/api/v1/patients/{cast.patient_a}/diary").json() == []
    for day in ("0001-01-01", future, "2026-02-30"):
        assert cast.clients["pat_a"].get(f"/me/diary?day={day}").status_code == 422, day


def test_diary_page_needs_the_csrf_token(cast: Cast) -> None:
    client = cast.clients["pat_a"]
    token = client.headers.pop("X-CSRF-Token")
    assert client.post("/me/diary", data=FORM).status_code == 403
    assert client.post("/me/diary", data={**FORM, "csrf_token": "x" * 43}).status_code == 403
    assert client.post("/me/diary", data={**FORM, "csrf_token": token}).status_code == 200


def test_diary_page_is_for_patients_only_and_shows_each_their_own_day(cast: Cast) -> None:
    for user in ("doc", "res", "adm"):
        response = cast.clients[user].get("/me/diary")
        assert response.status_code == 403
        assert parse(response.text).find(_tag="h1") == ["Access denied"]
    assert _post(cast, "pat_a", FORM).status_code == 200
    page_b = parse(cast.clients["pat_b"].get(f"/me/diary?day={DAY}").text)
    assert not [c for c in page_b.form("diary-form") if "checked" in c.attrs]
    assert "long day" not in cast.clients["pat_b"].get(f"/me/diary?day={DAY}").text

"""Questionnaires in the portal on both databases: forms built from the registry, scores
equal to the engine's (the CLI's path and the record's path) and to the manual's rule
computed by hand, schedules with due and overdue reminders, each patient's own results."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction

import pandas as pd
import pytest
from clinic_fixtures import Cast, Clinic
from portal_html import parse
from sqlalchemy import select

from gutaxis.app.db.models import QuestionnaireResponse
from gutaxis.app.questionnaires.forms import fields_of, range_text
from gutaxis.instruments.base import Choice, Item
from gutaxis.instruments.record import record_from_answers, score_record
from gutaxis.instruments.registry import get_instrument, list_instruments

TODAY = dt.datetime.now(dt.UTC).date()
#: PSS-10 answers; items 4, 5, 7 and 8 are reversed (4 - x) by the manual.
PSS = {"pss1": 3, "pss2": 1, "pss3": 4, "pss4": 1, "pss5": 0, "pss6": 2, "pss7": 3,
       "pss8": 4, "pss9": 2, "pss10": 1}
#: By hand: 3 + 1 + 4 + (4-1) + (4-0) + 2 + (4-3) + (4-4) + 2 + 1 = 21.
PSS_TOTAL = 21
PEG = {"p_average_pain": 6, "e_enjoyment_of_life": 5, "g_general_activity": 8}


def _record_path_scores(key: str, answers: dict[str, object]) -> dict[str, float]:
    """The engine's other door: the longitudinal record scored by ``score_record``."""
    record = record_from_answers(
        administrations=pd.DataFrame({"administration_id": ["a"], "subject": ["p"],
                                      "time": ["2026-12-01T08:00Z"], "instrument": [key]}),
        responses=pd.DataFrame({"administration_id": ["a"] * len(answers),
                                "item": list(answers), "answer": list(answers.values())}))
    scores = score_record(record).scores
    return dict(zip(scores["score"], scores["value"].astype(float), strict=True))


def _stored(cast: Cast) -> list[QuestionnaireResponse]:
    with cast.clinic.state.db.read() as session:
        return list(session.scalars(select(QuestionnaireResponse)
                                    .order_by(QuestionnaireResponse.id)))


def _form_post(cast: Cast, user: str, instrument: str, answers: dict[str, object]):  # type: ignore[no-untyped-def]
    client = cast.clients[user]
    return client.post(f"/me/questionnaires/{instrument}", follow_redirects=False,
                       data={"csrf_token": client.headers["X-CSRF-Token"],
                             **{k: str(v) for k, v in answers.items()}})


def test_pss10_through_the_form_is_scored_as_the_manual_and_the_engine_say(
        cast: Cast) -> None:
    response = _form_post(cast, "pat_a", "pss-10", PSS)
    assert response.status_code == 303
    result = cast.clients["pat_a"].get(response.headers["location"])
    assert result.status_code == 200
    page = parse(result.text)
    assert page.find(_tag="td", **{"class": "score-value"}) == [str(PSS_TOTAL)]
    assert any("Saved" in text for text in page.find(role="status"))
    (row,) = _stored(cast)
    engine = get_instrument("pss-10").score(PSS)  # what `gutaxis score` computes
    assert row.instrument == "pss-10@1988" and row.patient_id == cast.patient_a
    assert row.scores["total"]["value"] == engine.values["total"] == PSS_TOTAL
    assert _record_path_scores("pss-10", PSS) == {"total": PSS_TOTAL}
    assert row.answers == {k: str(v) for k, v in PSS.items()}
    # one item left empty: the manual's local rule prorates the sum by 10/9
    partial = {**PSS, "pss10": ""}
    assert _form_post(cast, "pat_a", "pss-10", partial).status_code == 303
    prorated = _stored(cast)[-1].scores["total"]
    assert prorated["exact"] == str(Fraction(PSS_TOTAL - 1) * Fraction(10, 9)) == "200/9"
    assert prorated["missing_rule_applied"] is True
    assert prorated["value"] == pytest.approx(200 / 9, abs=1e-12)


def test_peg_through_the_api_equals_the_engine_and_the_hand_mean(cast: Cast) -> None:
    url = f"/api/v1/patients/{cast.patient_a}/questionnaires"
    response = cast.clients["pat_a"].post(url, json={"instrument": "peg", "answers": PEG})
    assert response.status_code == 201, response.text
    body = response.json()
    hand = Fraction(6 + 5 + 8, 3)  # PEG = (P + E + G) / 3
    assert body["instrument"] == "peg@2009"
    assert body["scores"]["peg"]["exact"] == str(hand) == "19/3"
    assert body["scores"]["peg"]["value"] == get_instrument("peg").score(PEG).values["peg"]
    assert body["scores"]["peg"]["value"] == pytest.approx(
        _record_path_scores("peg", PEG)["peg"], abs=0)
    # a clinician enters a paper form for the patient, at a given time
    when = "2026-11-20T09:30:00+01:00"
    missing = cast.clients["doc"].post(url, json={
        "instrument": "peg@2009", "answers": {**PEG, "g_general_activity": None},
        "time": when}).json()
    assert missing["scores"] == {} and missing["missing_items"] == ["g_general_activity"]
    assert missing["notes"] == ["PEG needs all 3 items: no score"]
    listed = cast.clients["pat_a"].get(url).json()
    assert [r["time"][:16] for r in listed] == ["2026-11-20T08:30", body["time"][:16]]


def test_invalid_answers_name_the_item_and_store_nothing(cast: Cast) -> None:
    page = _form_post(cast, "pat_a", "pss-10", {**PSS, "pss3": 7})
    assert page.status_code == 422
    (alert,) = parse(page.text).find(role="alert")
    assert "pss3" in alert and "7" in alert
    kept = {c.attrs["name"]: c.attrs["value"] for c in parse(page.text).form(
        "questionnaire-form") if "checked" in c.attrs}
    assert kept == {k: str(v) for k, v in PSS.items() if k != "pss3"}
    url = f"/api/v1/patients/{cast.patient_a}/questionnaires"
    client = cast.clients["pat_a"]
    for body, field in (({"instrument": "pss-10", "answers": {"pss11": 1}}, "pss11"),
                        ({"instrument": "nope", "answers": {}}, "instrument"),
                        ({"instrument": "nrs", "answers": {"pain": 11}}, "pain"),
                        ({"instrument": "nrs", "answers": {"pain": 3},
                          "time": "2026-11-20T09:30:00"}, "time"),
                        ({"instrument": "nrs", "answers": {"pain": 3},
                          "time": "0001-01-01T00:00:00+01:00"}, "time"),
                        ({"instrument": "nrs", "answers": {"pain": 3},
                          "time": "2999-01-01T00:00:00Z"}, "time")):
        response = client.post(url, json=body)
        assert response.status_code == 422 and response.json()["field"] == field, body
    assert _stored(cast) == []


def test_forms_follow_the_registry_and_say_when_wording_is_licensed(cast: Cast) -> None:
    client = cast.clients["pat_a"]
    licensed = parse(client.get("/me/questionnaires/pss-10").text)
    assert any("licensed" in note for note in licensed.find(_tag="p", **{"class": "note"}))
    assert licensed.find(_tag="span", **{"class": "item-id"}) == list(
        get_instrument("pss-10").item_ids)
    radios = [c.attrs for c in licensed.form("questionnaire-form")
              if c.attrs.get("name") == "pss1"]
    assert [r["value"] for r in radios] == ["0", "1", "2", "3", "4"]
    open_form = parse(client.get("/me/questionnaires/nrs").text)
    assert not open_form.find(_tag="p", **{"class": "note"})
    nrs = get_instrument("nrs")
    assert open_form.find(_tag="legend") == [nrs.items[0].text]
    # every kind of item: yes/no (ACR 2016), clock times and text (PSQI), numbers
    acr = parse(client.get("/me/questionnaires/acr-fm@2016").text).form("questionnaire-form")
    assert [c.attrs["value"] for c in acr if c.attrs.get("name") == "neck"] == ["true", "false"]
    psqi = {c.attrs.get("name"): c.attrs.get("type") for c in parse(
        client.get("/me/questionnaires/psqi").text).form("questionnaire-form")}
    assert (psqi["q1_bedtime"], psqi["q2_latency_min"], psqi["q5j_other_reason"]) == (
        "time", "number", "text")
    diet = {c.attrs.get("name"): c.attrs for c in parse(
        client.get("/me/questionnaires/gut-diet").text).form("questionnaire-form")}
    assert (diet["fibre_g_per_day"]["min"], diet["fibre_g_per_day"]["max"]) == ("0", "200")
    # answers of every kind are stored as the record's canonical text
    psqi_answers = {"q1_bedtime": "23:30", "q3_rise_time": "7:05", "q4_sleep_hours": "6.50",
                    "q5j_other_reason": "noise", "q6_sleep_quality": "2"}
    assert _form_post(cast, "pat_a", "psqi", psqi_answers).status_code == 303
    assert _form_post(cast, "pat_a", "acr-fm@2016", {"neck": "true", "chest": "false",
                                                     "fatigue": "2"}).status_code == 303
    psqi_row, acr_row = _stored(cast)
    assert psqi_row.answers == {"q1_bedtime": "23:30", "q3_rise_time": "07:05",
                                "q4_sleep_hours": "6.5", "q5j_other_reason": "noise",
                                "q6_sleep_quality": "2"}
    assert acr_row.answers == {"neck": "true", "chest": "false", "fatigue": "2"}
    instruments = client.get("/api/v1/instruments").json()
    assert [i["key"] for i in instruments] == [i.key for i in list_instruments()]
    for shown in instruments:
        if not shown["wording_may_ship"]:
            assert all(item["text"] is None for item in shown["items"]), shown["key"]


def test_a_choice_item_is_drawn_as_its_labelled_choices(sqlite_clinic: Clinic) -> None:
    choice = Item("diet_type", "usual diet", "choice", choices=(
        Choice("omni", "Omnivore"), Choice("veg", "Vegetarian")), text="Your usual diet")
    instrument = replace(get_instrument("nrs"), items=(choice,))
    (field,) = fields_of(instrument, {"diet_type": "veg"})
    assert (field.widget, field.options, field.worded) == (
        "choice", (("omni", "Omnivore"), ("veg", "Vegetarian")), True)
    template = sqlite_clinic.state.templates.get_template("portal_questionnaire.html")
    html = template.render(actor=None, reminders=[], instrument=instrument,
                           fields=[field], range_text=range_text, error=None,
                           error_field=None, worded=True, unworded=False)
    radios = [(c.attrs["name"], c.attrs["value"], "checked" in c.attrs)
              for c in parse(html).form("questionnaire-form") if c.attrs.get("type") == "radio"]
    assert radios == [("diet_type", "omni", False), ("diet_type", "veg", True)]
    assert "Omnivore" in html and "Your usual diet" in html


def test_schedules_give_due_and_overdue_reminders(cast: Cast) -> None:
    a, doc, pat = cast.patient_a, cast.clients["doc"], cast.clients["pat_a"]
    url = f"/api/v1/patients/{a}/questionnaires/schedules"
    plans = [("pss-10", 14, TODAY - dt.timedelta(days=5)), ("nrs", 7, TODAY),
             ("peg", 7, TODAY - dt.timedelta(days=1)), ("odi", 30, TODAY + dt.timedelta(days=3))]
    for instrument, every, first in plans:
        response = doc.post(url, json={"instrument": instrument, "every_days": every,
                                       "first_due": first.isoformat()})
        assert response.status_code == 201, response.text
    assert pat.post(url, json={"instrument": "nrs", "every_days": 1,
                               "first_due": TODAY.isoformat()}).status_code == 403
    # due 5 days ago > 2 days' grace: overdue by 5; due today; due yesterday (in grace)
    expected = [("pss-10@1988", True, 5, "overdue by 5 days"),
                ("peg@2009", False, 0, f"due since {(TODAY - dt.timedelta(days=1)).day} "
                 f"{TODAY - dt.timedelta(days=1):%b}"),
                ("nrs@11", False, 0, "due today")]
    me = pat.get("/api/v1/me").json()
    assert me["patient_id"] == a and me["pseudonym"].startswith("P-")
    assert [(r["instrument"], r["is_overdue"], r["days_overdue"], r["label"])
            for r in me["reminders"]] == expected
    assert doc.get(f"/api/v1/patients/{a}/questionnaires/due").json() == me["reminders"]
    banner = parse(pat.get("/me/diary").text).find(_tag="section", **{"class": "card reminders"})
    assert len(banner) == 1 and "Perceived Stress Scale" in banner[0]
    assert "overdue by 5 days" in banner[0]
    # answering PSS-10 moves it to its next date (first_due + 14 days); stopping NRS ends it
    assert _form_post(cast, "pat_a", "pss-10", PSS).status_code == 303
    (nrs,) = [s for s in doc.get(url).json() if s["instrument"] == "nrs@11"]
    stopped = doc.patch(f"{url}/{nrs['id']}", json={"active": False})
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    assert [r["instrument"] for r in pat.get("/api/v1/me").json()["reminders"]] == ["peg@2009"]
    schedules = {s["instrument"]: s for s in pat.get(url).json()}
    assert schedules["pss-10@1988"]["due_on"] == str(TODAY + dt.timedelta(days=9))
    assert schedules["odi@2.1a"]["is_due"] is False
    assert doc.patch(f"{url}/999", json={"active": False}).status_code == 404
    # scheduling an instrument again replaces its schedule (and re-activates it)
    again = doc.post(url, json={"instrument": "nrs@11", "every_days": 3,
                                "first_due": TODAY.isoformat()}).json()
    assert (again["id"], again["every_days"], again["active"]) == (nrs["id"], 3, True)
    page = parse(pat.get("/me/questionnaires").text)
    assert any("Oswestry" in li for li in page.find(_tag="li"))


def test_patient_b_never_sees_patient_a_s_questionnaires(cast: Cast) -> None:
    a = cast.patient_a
    location = _form_post(cast, "pat_a", "pss-10", PSS).headers["location"]
    assert cast.clients["pat_a"].get(location).status_code == 200
    denied = cast.clients["pat_b"].get(location)
    assert denied.status_code == 403
    assert parse(denied.text).find(_tag="h1") == ["Access denied"]
    assert cast.clients["pat_b"].get("/me/questionnaires/results/987654").status_code == 404
    for path in ("questionnaires", "questionnaires/schedules", "questionnaires/due"):
        assert cast.clients["pat_b"].get(f"/api/v1/patients/{a}/{path}").status_code == 403
    assert cast.clients["pat_b"].post(f"/api/v1/patients/{a}/questionnaires", json={
        "instrument": "nrs", "answers": {"pain": 3}}).status_code == 403
    own = cast.clients["pat_b"].get("/me/questionnaires")
    assert "No questionnaire answered yet" in own.text and "results/" not in own.text
    assert cast.clients["pat_b"].get("/api/v1/me").json()["patient_id"] == cast.patient_b
    for user in ("doc", "res", "adm"):
        assert cast.clients[user].get("/api/v1/me").status_code == 403
        assert cast.clients[user].get("/me/questionnaires").status_code == 403
    for user in ("res", "adm"):
        assert cast.clients[user].get(f"/api/v1/patients/{a}/questionnaires").status_code \
            == 403
    assert len(_stored(cast)) == 1

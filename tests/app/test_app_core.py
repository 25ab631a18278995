"""The app's core on both databases: start-up, login, sessions, CSRF, rate limit, roles,
the diary and its audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from clinic_fixtures import PASSWORD, Cast, Clinic
from sqlalchemy import select

from gutaxis.app.db.models import AuditEvent, AuthSession
from gutaxis.app.deps import SESSION_COOKIE

DAY = "2026-11-30"


def _events(clinic: Clinic, **where: object) -> list[AuditEvent]:
    with clinic.state.db.read() as session:
        query = select(AuditEvent)
        for key, value in where.items():
            query = query.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def test_health_names_the_database_and_schema(clinic: Clinic) -> None:
    body = clinic.client().get("/api/v1/health").json()
    assert body == {"status": "ok", "version": body["version"], "database": clinic.backend,
                    "revision": "0001"}


def test_login_sets_a_secure_httponly_cookie_and_keeps_only_the_token_hash(
        clinic: Clinic) -> None:
    clinic.add_user("doc", "clinician")
    client = clinic.client()
    response = client.post("/api/v1/auth/login", json={"username": "doc", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(SESSION_COOKIE + "=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    token = client.cookies[SESSION_COOKIE]
    with clinic.state.db.read() as session:
        stored = session.scalars(select(AuthSession.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64
    assert client.get("/api/v1/auth/me").json()["role"] == "clinician"


def test_wrong_password_and_unknown_user_get_the_same_answer(clinic: Clinic) -> None:
    clinic.add_user("doc", "clinician")
    client = clinic.client()
    wrong = client.post("/api/v1/auth/login", json={"username": "doc", "password": "nope" * 3})
    unknown = client.post("/api/v1/auth/login", json={"username": "who", "password": "nope" * 3})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong username or password"
    denied = _events(clinic, action="login", outcome="denied")
    assert [e.username for e in denied] == ["doc", "who"]


def test_login_is_rate_limited_per_account(sqlite_clinic: Clinic) -> None:
    clinic = sqlite_clinic
    clinic.add_user("doc", "clinician")
    client = clinic.client()
    limit = clinic.settings.login_attempts
    codes = [client.post("/api/v1/auth/login",
                         json={"username": "doc", "password": "wrong" * 3}).status_code
             for _ in range(limit)]
    assert codes == [401] * limit
    blocked = client.post("/api/v1/auth/login", json={"username": "doc", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_cookie_changes_need_the_csrf_token_bearer_ones_do_not(cast: Cast) -> None:
    clinic, a = cast.clinic, cast.patient_a
    client = clinic.login("pat_a")
    token = client.headers.pop("X-CSRF-Token")
    url = f"/api/v1/patients/{a}/diary/{DAY}"
    assert client.put(url, json={"pain": 4}).status_code == 403
    assert client.put(url, json={"pain": 4}, headers={"X-CSRF-Token": "x" * 43}).status_code \
        == 403
    assert client.put(url, json={"pain": 4}, headers={"X-CSRF-Token": token}).status_code == 200
    assert clinic.bearer("pat_a").put(url, json={"pain": 5}).status_code == 200


def test_logout_ends_the_session(cast: Cast) -> None:
    client = cast.clients["doc"]
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_stolen_cookie_is_not_a_bearer_token(cast: Cast) -> None:
    cookie = cast.clients["doc"].cookies[SESSION_COOKIE]
    thief = cast.clinic.client()
    thief.headers["Authorization"] = f"Bearer {cookie}"
    assert thief.get("/api/v1/auth/me").status_code == 401


def test_idle_session_expires(sqlite_clinic: Clinic) -> None:
    clinic = sqlite_clinic
    clinic.add_user("doc", "clinician")
    client = clinic.login("doc")
    with clinic.state.db.write() as session:
        for row in session.scalars(select(AuthSession)):
            row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_diary_day_round_trips_and_is_replaced_not_duplicated(cast: Cast) -> None:
    client, a = cast.clients["pat_a"], cast.patient_a
    entry = {"pain": 6, "pain_sites": ["lower_back", "neck"], "bristol": 4,
             "gi_symptoms": {"bloating": 3}, "fibre_servings": 2.5, "fermented_servings": 1,
             "ultra_processed_servings": 2, "added_sugar_g": 30, "probiotic_taken": True,
             "exercise_minutes": 20, "stress": 5, "sleep_hours": 6.5, "sleep_quality": 6}
    first = client.put(f"/api/v1/patients/{a}/diary/{DAY}", json=entry)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["pain_sites"] == ["neck", "lower_back"]  # body-map order
    assert {k: body[k] for k in entry if k != "pain_sites"} == {
        k: v for k, v in entry.items() if k != "pain_sites"}
    again = client.put(f"/api/v1/patients/{a}/diary/{DAY}", json={"pain": 2})
    assert again.status_code == 200
    days = client.get(f"/api/v1/patients/{a}/diary").json()
    assert [(d["day"], d["pain"], d["bristol"]) for d in days] == [(DAY, 2, None)]


@pytest.mark.parametrize(("body", "field"), [
    ({"pain": 11}, "pain"), ({"pain": 3, "bristol": 0}, "bristol"),
    ({"pain": 3, "pain_sites": ["tail"]}, "pain_sites"), ({}, "pain"),
    ({"pain": 3, "gi_symptoms": {"bloating": 12}}, "gi_symptoms"),
    ({"pain": 3, "mood": 5}, "mood")])
def test_bad_diary_input_is_a_422_naming_the_field_and_nothing_is_stored(
        cast: Cast, body: dict[str, object], field: str) -> None:
    client, a = cast.clients["pat_a"], cast.patient_a
    response = client.put(f"/api/v1/patients/{a}/diary/{DAY}", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert client.get(f"/api/v1/patients/{a}/diary").json() == []


def test_a_future_day_is_refused(cast: Cast) -> None:
    a = cast.patient_a
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    response = cast.clients["pat_a"].put(f"/api/v1/patients/{a}/diary/{future}",
                                         json={"pain": 1})
    assert response.status_code == 422 and "future" in response.json()["detail"]


def test_patient_a_never_reaches_patient_b_and_the_attempt_is_audited(cast: Cast) -> None:
    b = cast.patient_b
    client = cast.clients["pat_a"]
    assert client.put(f"/api/v1/patients/{b}/diary/{DAY}", json={"pain": 1}).status_code == 403
    assert client.get(f"/api/v1/patients/{b}/diary").status_code == 403
    # a missing patient looks the same as someone else's: ids cannot be probed
    assert client.get("/api/v1/patients/999999/diary").status_code == 403
    denied = _events(cast.clinic, outcome="denied", resource="diary")
    assert {e.patient_id for e in denied} == {b, 999999}
    assert all(e.username == "pat_a" for e in denied)


def test_researchers_and_admins_do_not_read_diaries(cast: Cast) -> None:
    for who in ("res", "adm"):
        assert cast.clients[who].get(f"/api/v1/patients/{cast.patient_a}/diary").status_code \
            == 403


def test_every_diary_read_and_write_is_audited(cast: Cast) -> None:
    a = cast.patient_a
    cast.clients["pat_a"].put(f"/api/v1/patients/{a}/diary/{DAY}", json={"pain": 3})
    cast.clients["doc"].get(f"/api/v1/patients/{a}/diary")
    events = [(e.username, e.action, e.resource, e.patient_id, e.outcome)
              for e in _events(cast.clinic, resource="diary")]
    assert events == [("pat_a", "write", "diary", a, "allowed"),
                      ("doc", "read", "diary", a, "allowed")]


def test_unauthenticated_api_is_401_and_pages_redirect_to_login(clinic: Clinic) -> None:
    client = clinic.client()
    assert client.get("/api/v1/patients/1/diary").status_code == 401
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_login_page_form_logs_in_with_its_csrf_cookie(clinic: Clinic) -> None:
    clinic.add_user("doc", "clinician")
    client = clinic.client()
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    forged = clinic.client().post("/login", data={"username": "doc", "password": PASSWORD,
                                                  "csrf_token": token},
                                  follow_redirects=False)
    assert forged.status_code == 400  # no matching cookie: a cross-site form post
    done = client.post("/login", data={"username": "doc", "password": PASSWORD,
                                       "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/clinic/patients"


def test_pages_carry_security_headers(clinic: Clinic) -> None:
    headers = clinic.client().get("/login").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"


def test_a_patient_id_beyond_the_database_integer_is_a_404_not_a_500(cast: Cast) -> None:
    response = cast.clients["doc"].get(f"/api/v1/patients/{2**63}/diary")
    assert response.status_code == 404


def test_an_input_error_with_a_numpy_row_is_a_422(sqlite_clinic: Clinic) -> None:
    import numpy as np
    from fastapi import APIRouter

    from gutaxis.errors import InputError

    router = APIRouter()

    @router.get("/api/v1/test-numpy-row")
    def bad() -> None:
        raise InputError("bad value", source="x.tsv", row=np.int64(7), column="pain")

    sqlite_clinic.app.include_router(router)
    response = sqlite_clinic.client().get("/api/v1/test-numpy-row")
    assert response.status_code == 422
    assert response.json()["row"] == 7 and "x.tsv, row 7" in response.json()["detail"]


def test_a_refused_page_of_a_patient_names_that_patient_in_the_audit_trail(cast: Cast) -> None:
    b = cast.patient_b
    page = cast.clients["pat_a"].get(f"/clinic/patients/{b}")
    assert page.status_code == 403 and "Access denied" in page.text
    denied = _events(cast.clinic, outcome="denied", username="pat_a")
    assert [e.patient_id for e in denied] == [b]

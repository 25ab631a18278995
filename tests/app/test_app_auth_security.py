"""Security properties on both databases: Argon2id hashes (and their upgrade on login),
session and CSRF cookie flags, the login rate limit per account and per address, the secret
key (made once, mode 0600, never logged or sent), and CSRF on every form of this part."""

from __future__ import annotations

import logging
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from clinic_fixtures import BACKENDS, PASSWORD, Cast, Clinic, make_clinic
from fastapi.testclient import TestClient
from sqlalchemy import select

from gutaxis.app import create_app
from gutaxis.app.admin import pages as admin_pages
from gutaxis.app.auth import account_pages
from gutaxis.app.auth.invitations import create_invitation
from gutaxis.app.db.models import AuditEvent, User
from gutaxis.app.deps import SESSION_COOKIE

NEW = "another long passphrase"


def _id(clinic: Clinic, username: str) -> int:
    with clinic.state.db.read() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


def _hashes(clinic: Clinic) -> dict[str, str]:
    with clinic.state.db.read() as session:
        rows = session.execute(select(User.username, User.password_hash)).all()
    return {username: stored for username, stored in rows}


def test_passwords_are_stored_as_argon2id_hashes_only(cast: Cast) -> None:
    clinic = cast.clinic
    made = cast.clients["adm"].post("/api/v1/users", json={"username": "nurse",
                                                          "role": "clinician"})
    temporary = made.json()["temporary_password"]
    assert cast.clients["doc"].post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": NEW}).status_code == 200
    hashes = _hashes(clinic)
    assert sorted(hashes) == ["adm", "doc", "nurse", "pat_a", "pat_b", "res"]
    cost = f"$argon2id$v=19$m={clinic.settings.argon2_memory_kib},t=" \
           f"{clinic.settings.argon2_time_cost},p=1$"
    for stored in hashes.values():
        assert stored.startswith(cost)
        assert PASSWORD not in stored and NEW not in stored and temporary not in stored
    assert len(set(hashes.values())) == len(hashes)  # salted: equal passwords differ
    with clinic.state.db.read() as session:
        details = " ".join(e.detail or "" for e in session.scalars(select(AuditEvent)))
    assert PASSWORD not in details and NEW not in details and temporary not in details


def test_a_login_rehashes_when_the_cost_changes(clinic: Clinic) -> None:
    clinic.add_user("doc", "clinician")
    before = _hashes(clinic)["doc"]
    assert clinic.client().post("/api/v1/auth/login", json={
        "username": "doc", "password": PASSWORD}).status_code == 200
    assert _hashes(clinic)["doc"] == before  # same cost: left alone
    dearer = clinic.settings.model_copy(update={"argon2_time_cost": 2,
                                                "argon2_memory_kib": 16})
    app = create_app(dearer)
    try:
        client = TestClient(app, base_url="https://testserver")
        assert client.post("/api/v1/auth/login", json={
            "username": "doc", "password": PASSWORD}).status_code == 200
    finally:
        app.state.gutaxis.db.dispose()
    after = _hashes(clinic)["doc"]
    assert after.startswith("$argon2id$v=19$m=16,t=2,p=1$") and after != before
    assert clinic.state.passwords.verify(after, PASSWORD)  # the old cost still verifies it


def _cookie(response_headers: list[tuple[str, str]], name: str) -> str:
    found = [v for k, v in response_headers if k == "set-cookie" and v.startswith(name + "=")]
    assert len(found) == 1, response_headers
    return found[0].lower()


def test_session_and_form_cookies_carry_their_flags(clinic: Clinic) -> None:
    clinic.add_user("doc", "clinician")
    client = clinic.client()
    form = client.get("/login")
    login_csrf = _cookie(form.headers.multi_items(), "gutaxis_login_csrf")
    for flag in ("httponly", "secure", "samesite=strict", "path=/login"):
        assert flag in login_csrf
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    done = client.post("/login", data={"username": "doc", "password": PASSWORD,
                                       "csrf_token": token.group(1)}, follow_redirects=False)
    session_cookie = _cookie(done.headers.multi_items(), SESSION_COOKIE)
    max_age = int(clinic.settings.session_hours * 3600)
    for flag in ("httponly", "secure", "samesite=lax", "path=/", f"max-age={max_age}"):
        assert flag in session_cookie
    patient = clinic.add_patient("Ada Alpha")
    with clinic.state.db.write() as session:
        invite = create_invitation(session, clinic.state, patient, _id(clinic, "doc"))
    page = clinic.client().get(f"/invite/{invite}")
    invite_csrf = _cookie(page.headers.multi_items(), "gutaxis_invite_csrf")
    for flag in ("httponly", "secure", "samesite=strict", "path=/invite"):
        assert flag in invite_csrf
    accepted = clinic.client().post(f"/api/v1/invitations/{invite}/accept",
                                    json={"username": "ada", "password": NEW})
    for flag in ("httponly", "secure", "samesite=lax", "path=/"):
        assert flag in _cookie(accepted.headers.multi_items(), SESSION_COOKIE)


@pytest.fixture(params=BACKENDS)
def strict_clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    """The app with 2 failed logins allowed per account (8 per address)."""
    made = make_clinic(request.param, tmp_path, request, login_attempts=2)
    yield made
    made.state.db.dispose()


def _from(clinic: Clinic, address: str) -> TestClient:
    return TestClient(clinic.app, base_url="https://testserver", client=(address, 40000))


def _try(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/v1/auth/login",
                       json={"username": username, "password": password}).status_code


def test_login_limit_per_account_holds_from_any_address(strict_clinic: Clinic) -> None:
    clinic = strict_clinic
    clinic.add_user("doc", "clinician")
    assert [_try(_from(clinic, f"10.0.0.{i}"), "doc", "wrong password!") for i in (1, 2)
            ] == [401, 401]
    assert _try(_from(clinic, "10.0.0.3"), "doc", PASSWORD) == 429  # right, but blocked
    clinic.add_user("nurse", "clinician")
    assert _try(_from(clinic, "10.0.0.1"), "nurse", PASSWORD) == 200  # other account


def test_login_limit_per_address_is_four_times_the_account_limit(strict_clinic: Clinic) -> None:
    clinic = strict_clinic
    clinic.add_user("doc", "clinician")
    attacker = _from(clinic, "203.0.113.7")
    per_address = 4 * clinic.settings.login_attempts
    codes = [_try(attacker, f"guess{i}", "wrong password!") for i in range(per_address)]
    assert codes == [401] * per_address  # one failure per account: no account limit hit
    assert _try(attacker, "doc", PASSWORD) == 429
    assert _try(attacker, "someone", "wrong password!") == 429
    assert _try(_from(clinic, "198.51.100.2"), "doc", PASSWORD) == 200
    with clinic.state.db.read() as session:
        limited = session.scalars(select(AuditEvent.username).where(
            AuditEvent.detail == "rate limited")).all()
    assert sorted(limited) == ["doc", "someone"]


def test_the_secret_key_is_made_once_private_and_never_shown(
        clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("GUTAXIS_SECRET_KEY", raising=False)
    data_dir = tmp_path / "fresh"
    settings = clinic.settings.model_copy(update={  # the same database, a fresh data folder
        "secret_key": None, "data_dir": data_dir,
        "database_url": clinic.settings.resolved_database_url()})
    caplog.set_level(logging.DEBUG)
    key = settings.resolved_secret_key()
    path = data_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) >= 48
    assert path.read_text() == key and settings.resolved_secret_key() == key
    assert key not in repr(settings) and key not in str(settings.model_dump())
    clinic.add_user("adm", "admin")
    app = create_app(settings)
    try:
        assert app.state.gutaxis.secret == key
        client = TestClient(app, base_url="https://testserver")
        bodies = [client.get("/api/v1/openapi.json"), client.get("/login"),
                  client.get("/api/v1/health"),
                  client.post("/api/v1/auth/login", json={"username": "adm",
                                                          "password": "wrong one!"}),
                  client.post("/api/v1/auth/login", json={"username": "adm",
                                                          "password": PASSWORD})]
        client.headers["X-CSRF-Token"] = bodies[-1].json()["csrf_token"]
        bodies += [client.get("/admin"), client.get("/account"), client.get("/admin/audit"),
                   client.get("/api/v1/audit"), client.get("/api/v1/audit/export.csv"),
                   client.post("/api/v1/auth/totp/setup"), client.get("/nowhere"),
                   client.post("/api/v1/users", json={"username": "", "role": "x"})]
    finally:
        app.state.gutaxis.db.dispose()
    for response in bodies:
        assert key not in response.text
        assert all(key not in value for _, value in response.headers.multi_items())
    assert key not in caplog.text


# every form of the auth part, with the fields it needs apart from csrf_token
FORMS = {
    "/admin/users": {"username": "forged", "role": "admin"},
    "/admin/users/{doc}": {"action": "deactivate"},
    "/account/password": {"current_password": PASSWORD, "new_password": NEW,
                          "new_password_again": NEW},
    "/account/totp/setup": {},
    "/account/totp/enable": {"code": "123456"},
    "/account/totp/disable": {"password": PASSWORD, "code": "123456"},
}


def test_every_form_of_this_part_is_listed_here() -> None:
    routes = [*admin_pages.router.routes, *account_pages.router.routes]
    posted = {getattr(route, "path", "").replace("{user_id}", "{doc}") for route in routes
              if "POST" in getattr(route, "methods", ())}
    assert posted == set(FORMS)


def test_every_form_refuses_a_missing_or_wrong_csrf_token(cast: Cast) -> None:
    clinic, client = cast.clinic, cast.clients["adm"]
    client.headers.pop("X-CSRF-Token")
    with clinic.state.db.read() as session:
        doc = session.scalar(select(User.id).where(User.username == "doc"))
    before = _hashes(clinic)
    for path, fields in FORMS.items():
        url = path.format(doc=doc)
        for token in (None, "x" * 43):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            response = client.post(url, data=data)
            assert response.status_code == 403, (url, token, response.text)
    assert _hashes(clinic) == before
    with clinic.state.db.read() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    assert "forged" not in users and users["doc"].is_active
    assert users["adm"].totp_secret is None


def test_hostile_input_is_refused_as_4xx_never_a_server_error(cast: Cast) -> None:
    clinic, adm = cast.clinic, cast.clients["adm"]
    anonymous = clinic.client()
    nul = "doc\x00"
    assert anonymous.post("/api/v1/auth/login", json={"username": nul, "password": PASSWORD}
                          ).status_code == 422
    form = anonymous.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    page = anonymous.post("/login", data={"username": nul, "password": PASSWORD,
                                          "csrf_token": token.group(1)})
    assert page.status_code == 401  # refused like any wrong login, and recorded
    with clinic.state.db.read() as session:
        assert "doc\ufffd" in session.scalars(select(AuditEvent.username)).all()
    for params in ({"user": nul}, {"action": "\x00"}, {"patient_id": 2**40},
                   {"offset": 2**40}, {"since": "0001-01-01T00:00:00+05:00"},
                   {"until": "9999-12-31T23:59:59-05:00"}):
        assert adm.get("/api/v1/audit", params=params).status_code == 422, params
    assert adm.get("/admin/audit", params={"user": nul}).status_code == 422
    assert adm.get("/admin/audit", params={"since": "0001-01-01T00:00+01:00"}
                   ).status_code == 422
    assert adm.get("/admin/audit", params={"patient_id": str(2**40)}).status_code == 422
    assert adm.patch(f"/api/v1/users/{2**40}", json={"is_active": False}).status_code == 422
    assert adm.post("/api/v1/users", json={"username": nul, "role": "admin"}
                    ).status_code == 422
    patient = clinic.add_patient("Cy Gamma")
    with clinic.state.db.write() as session:
        invite = create_invitation(session, clinic.state, patient, _id(clinic, "doc"))
    assert anonymous.post(f"/api/v1/invitations/{invite}/accept", json={
        "username": nul, "password": NEW}).status_code == 422
    setup = cast.clients["doc"].post("/api/v1/auth/totp/setup").json()
    assert cast.clients["doc"].post("/api/v1/auth/totp/enable", json={
        "code": "\u0661\u0662\u0663\u0664\u0665\u0666"}).status_code == 422  # Arabic digits
    cast.clients["doc"].post("/api/v1/auth/totp/enable", json={
        "code": pyotp.TOTP(setup["secret"]).now()})
    assert anonymous.post("/api/v1/auth/login", json={
        "username": "doc", "password": PASSWORD,
        "totp": "\u0661\u0662\u0663\u0664\u0665\u0666"}).status_code == 401

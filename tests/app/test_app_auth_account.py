"""Own account on both databases: password change (ends the other sessions, counts wrong
passwords against the login limit) and the whole TOTP flow with pyotp codes."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
from clinic_fixtures import PASSWORD, Cast, Clinic
from sqlalchemy import select

from gutaxis.app.db.models import User

NEW = "a brand new passphrase here"


def _login(clinic: Clinic, username: str, password: str, totp: str | None = None) -> int:
    body = {"username": username, "password": password}
    if totp is not None:
        body["totp"] = totp
    return clinic.client().post("/api/v1/auth/login", json=body).status_code


def test_password_change_keeps_this_session_and_ends_the_others(cast: Cast) -> None:
    clinic = cast.clinic
    here, other, script = cast.clients["doc"], clinic.login("doc"), clinic.bearer("doc")
    changed = here.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                       "new_password": NEW})
    assert changed.status_code == 200 and changed.json() == {"other_sessions_ended": 2}
    assert here.get("/api/v1/auth/me").status_code == 200
    assert other.get("/api/v1/auth/me").status_code == 401
    assert script.get("/api/v1/auth/me").status_code == 401
    assert _login(clinic, "doc", PASSWORD) == 401 and _login(clinic, "doc", NEW) == 200


def test_password_change_refusals_name_the_field(cast: Cast) -> None:
    client = cast.clients["pat_a"]
    wrong = client.post("/api/v1/auth/password", json={"current_password": "not it at all",
                                                       "new_password": NEW})
    assert wrong.status_code == 422 and wrong.json()["field"] == "current_password"
    short = client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                       "new_password": "short"})
    assert short.status_code == 422 and short.json()["field"] == "new_password"
    same = client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                      "new_password": PASSWORD})
    assert same.status_code == 422 and same.json()["field"] == "new_password"
    assert client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                      "new_password": NEW},
                       headers={"X-CSRF-Token": ""}).status_code == 403


def test_guessing_the_current_password_hits_the_login_limit(cast: Cast) -> None:
    clinic, client = cast.clinic, cast.clients["pat_a"]
    limit = clinic.settings.login_attempts
    codes = [client.post("/api/v1/auth/password", json={
        "current_password": f"guess number {i}", "new_password": NEW}).status_code
        for i in range(limit)]
    assert codes == [422] * limit
    blocked = client.post("/api/v1/auth/password", json={"current_password": PASSWORD,
                                                         "new_password": NEW})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert _login(clinic, "pat_a", PASSWORD) == 429  # the same account limit


def test_totp_setup_enable_login_and_disable_with_pyotp_codes(cast: Cast) -> None:
    clinic, client = cast.clinic, cast.clients["doc"]
    setup = client.post("/api/v1/auth/totp/setup")
    assert setup.status_code == 200
    secret, uri = setup.json()["secret"], setup.json()["otpauth_uri"]
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert unquote(parsed.path).endswith(":doc")
    assert parse_qs(parsed.query)["secret"] == [secret] and len(secret) == 32
    assert _login(clinic, "doc", PASSWORD) == 200  # set up, not yet on
    totp = pyotp.TOTP(secret)
    wrong = client.post("/api/v1/auth/totp/enable", json={"code": _other_code(totp)})
    assert wrong.status_code == 422 and wrong.json()["field"] == "code"
    assert client.post("/api/v1/auth/totp/enable", json={"code": totp.now()}).json() == {
        "totp_enabled": True}
    refused = clinic.client().post("/api/v1/auth/login",
                                   json={"username": "doc", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["needs_totp"] is True
    assert _login(clinic, "doc", PASSWORD, _other_code(totp)) == 401
    assert _login(clinic, "doc", PASSWORD, totp.now()) == 200
    again = client.post("/api/v1/auth/totp/setup")
    assert again.status_code == 422  # a new secret only after turning it off
    no_password = client.post("/api/v1/auth/totp/disable",
                              json={"password": "not my password", "code": totp.now()})
    assert no_password.status_code == 422 and no_password.json()["field"] == "password"
    no_code = client.post("/api/v1/auth/totp/disable",
                          json={"password": PASSWORD, "code": _other_code(totp)})
    assert no_code.status_code == 422 and no_code.json()["field"] == "code"
    off = client.post("/api/v1/auth/totp/disable", json={"password": PASSWORD,
                                                         "code": totp.now()})
    assert off.status_code == 200 and off.json() == {"totp_enabled": False}
    with clinic.state.db.read() as session:
        user = session.scalar(select(User).where(User.username == "doc"))
        assert user is not None and user.totp_secret is None and not user.totp_enabled


def _other_code(totp: pyotp.TOTP) -> str:
    """A code that is valid in none of the windows the server accepts (now, +-30 s)."""
    now = dt.datetime.now(dt.UTC)
    valid = {totp.at(now + dt.timedelta(seconds=s)) for s in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in valid)


def test_totp_is_for_staff_only_and_enable_needs_a_setup(cast: Cast) -> None:
    patient = cast.clients["pat_a"]
    assert patient.post("/api/v1/auth/totp/setup").status_code == 403
    assert patient.post("/api/v1/auth/totp/enable", json={"code": "123456"}
                        ).status_code == 403
    early = cast.clients["res"].post("/api/v1/auth/totp/enable", json={"code": "123456"})
    assert early.status_code == 422 and "set up" in early.json()["detail"]


def test_account_page_sets_up_totp_and_changes_the_password_with_its_forms(
        cast: Cast) -> None:
    clinic, client = cast.clinic, cast.clients["adm"]
    csrf = client.headers.pop("X-CSRF-Token")
    page = client.get("/account")
    assert page.status_code == 200 and "<h1>My account</h1>" in page.text
    assert "Set up two-factor codes" in page.text
    setup = client.post("/account/totp/setup", data={"csrf_token": csrf})
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text)
    assert setup.status_code == 200 and found is not None
    assert "otpauth://totp/" in setup.text
    totp = pyotp.TOTP(found.group(1))
    enabled = client.post("/account/totp/enable", data={"csrf_token": csrf,
                                                        "code": totp.now()})
    assert enabled.status_code == 200 and "Two-factor codes are on" in enabled.text
    assert _login(clinic, "adm", PASSWORD, totp.now()) == 200
    mismatch = client.post("/account/password", data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW,
        "new_password_again": NEW + "x"})
    assert mismatch.status_code == 422 and "differ" in mismatch.text
    changed = client.post("/account/password", data={
        "csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW,
        "new_password_again": NEW})
    assert changed.status_code == 200 and "Password changed" in changed.text
    disabled = client.post("/account/totp/disable", data={
        "csrf_token": csrf, "password": NEW, "code": totp.now()})
    assert disabled.status_code == 200 and "Two-factor codes are off." in disabled.text


def test_patients_see_the_password_form_but_no_totp(cast: Cast) -> None:
    client = cast.clients["pat_a"]
    page = client.get("/account")
    assert page.status_code == 200 and 'id="password-form"' in page.text
    assert "Two-factor" not in page.text
    refused = client.post("/account/totp/setup")
    assert refused.status_code == 403 and "<h1>Access denied</h1>" in refused.text

"""Patient invitations on both databases: the status API, accepting once, expiry, unknown
links, password rules, taken usernames, and the /invite page that logs the patient in."""

from __future__ import annotations

import datetime as dt
import re

from clinic_fixtures import PASSWORD, Clinic
from sqlalchemy import select, update

from gutaxis.app.auth.invitations import create_invitation
from gutaxis.app.db.models import AuditEvent, Invitation, User
from gutaxis.app.deps import SESSION_COOKIE

NEW = "my own long passphrase"


def _invite(clinic: Clinic, name: str = "Ada Alpha") -> tuple[int, str]:
    clinic.add_user("doc", "clinician")
    patient = clinic.add_patient(name, email="ada@example.org")
    with clinic.state.db.write() as session:
        doc = session.scalar(select(User.id).where(User.username == "doc"))
        assert doc is not None
        return patient, create_invitation(session, clinic.state, patient, doc)


def test_status_says_valid_and_names_only_the_clinic(clinic: Clinic) -> None:
    _, token = _invite(clinic)
    body = clinic.client().get(f"/api/v1/invitations/{token}").json()
    assert body["valid"] is True and body["clinic_name"] == clinic.settings.clinic_name
    assert set(body) == {"valid", "clinic_name", "expires_at"}
    expires = dt.datetime.fromisoformat(body["expires_at"])
    left = expires - dt.datetime.now(dt.UTC)
    days = clinic.settings.invitation_days
    assert dt.timedelta(days=days) - dt.timedelta(minutes=1) < left <= dt.timedelta(days=days)
    text = clinic.client().get(f"/api/v1/invitations/{token}").text
    assert "Ada" not in text and "example.org" not in text
    unknown = clinic.client().get("/api/v1/invitations/not-a-real-token").json()
    assert unknown == {"valid": False, "clinic_name": clinic.settings.clinic_name,
                       "expires_at": None}


def test_accepting_creates_the_patient_account_logs_in_and_works_once(clinic: Clinic) -> None:
    patient, token = _invite(clinic)
    client = clinic.client()
    accepted = client.post(f"/api/v1/invitations/{token}/accept",
                           json={"username": "ada", "password": NEW})
    assert accepted.status_code == 201
    assert accepted.json()["role"] == "patient" and accepted.json()["patient_id"] == patient
    assert SESSION_COOKIE in client.cookies
    assert client.get("/api/v1/auth/me").json()["patient_id"] == patient
    again = clinic.client().post(f"/api/v1/invitations/{token}/accept",
                                 json={"username": "ada2", "password": NEW})
    assert again.status_code == 422 and again.json()["field"] == "token"
    assert clinic.client().get(f"/api/v1/invitations/{token}").json()["valid"] is False
    with clinic.state.db.read() as session:
        assert session.scalar(select(User.username).where(User.patient_id == patient)) == "ada"
        event = session.scalar(select(AuditEvent).where(AuditEvent.resource == "account"))
    assert event is not None and event.patient_id == patient and event.username == "ada"


def test_an_expired_link_is_refused(clinic: Clinic) -> None:
    _, token = _invite(clinic)
    with clinic.state.db.write() as session:
        session.execute(update(Invitation).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert clinic.client().get(f"/api/v1/invitations/{token}").json()["valid"] is False
    refused = clinic.client().post(f"/api/v1/invitations/{token}/accept",
                                   json={"username": "ada", "password": NEW})
    assert refused.status_code == 422 and refused.json()["field"] == "token"
    page = clinic.client().get(f"/invite/{token}")
    assert page.status_code == 404 and "This link does not work" in page.text


def test_unknown_token_password_rules_and_taken_usernames(clinic: Clinic) -> None:
    _, token = _invite(clinic)
    client = clinic.client()
    unknown = client.post("/api/v1/invitations/nope/accept",
                          json={"username": "ada", "password": NEW})
    assert unknown.status_code == 422 and unknown.json()["field"] == "token"
    short = client.post(f"/api/v1/invitations/{token}/accept",
                        json={"username": "ada", "password": "short"})
    assert short.status_code == 422 and short.json()["field"] == "password"
    same = client.post(f"/api/v1/invitations/{token}/accept",
                       json={"username": "adalovelace", "password": "AdaLovelace"})
    assert same.status_code == 422 and same.json()["field"] == "password"
    taken = client.post(f"/api/v1/invitations/{token}/accept",
                        json={"username": "doc", "password": NEW})
    assert taken.status_code == 422 and taken.json()["field"] == "username"
    # none of the refusals spent the link
    assert client.post(f"/api/v1/invitations/{token}/accept",
                       json={"username": "ada", "password": NEW}).status_code == 201


def test_a_second_invitation_of_a_patient_with_an_account_is_refused(clinic: Clinic) -> None:
    patient, first = _invite(clinic)
    with clinic.state.db.write() as session:
        doc = session.scalar(select(User.id).where(User.username == "doc"))
        assert doc is not None
        second = create_invitation(session, clinic.state, patient, doc)
    assert clinic.client().post(f"/api/v1/invitations/{first}/accept",
                                json={"username": "ada", "password": NEW}).status_code == 201
    late = clinic.client().post(f"/api/v1/invitations/{second}/accept",
                                json={"username": "ada_again", "password": NEW})
    assert late.status_code == 422 and "already has an account" in late.json()["detail"]


def test_invite_page_logs_the_patient_in_and_redirects_to_the_diary(clinic: Clinic) -> None:
    patient, token = _invite(clinic)
    client = clinic.client()
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and 'id="invite-form"' in page.text
    assert "Ada" not in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    differ = client.post(f"/invite/{token}", data={
        "username": "ada", "password": NEW, "password_again": NEW + "!",
        "csrf_token": csrf.group(1)})
    assert differ.status_code == 422 and "differ" in differ.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', differ.text)
    assert csrf is not None
    done = client.post(f"/invite/{token}", data={
        "username": "ada", "password": NEW, "password_again": NEW,
        "csrf_token": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/me/diary"
    assert client.get("/api/v1/auth/me").json()["patient_id"] == patient
    assert clinic.client().get(f"/invite/{token}").status_code == 404


def test_invite_form_needs_its_csrf_cookie(clinic: Clinic) -> None:
    patient, token = _invite(clinic)
    stranger = clinic.client()  # never loaded the form: no cookie
    forged = stranger.post(f"/invite/{token}", data={
        "username": "mallory", "password": PASSWORD, "password_again": PASSWORD,
        "csrf_token": "x" * 43}, follow_redirects=False)
    assert forged.status_code == 400 and "expired" in forged.text
    with clinic.state.db.read() as session:
        assert session.scalar(select(User.id).where(User.patient_id == patient)) is None

"""The RBAC matrix: every endpoint the app serves (API and pages) x every role, on both
databases.

``MATRIX`` states, independently of the code, who may call each endpoint. The test walks the
app's own route table, so an endpoint added without a row here fails the suite, and for each
endpoint and role sends a request (with an empty or minimal body: the role check comes before
body validation) and checks the answer's class:

- anonymous: 401 from the API and a redirect to the login page from pages, everywhere but
  the public endpoints;
- a role not admitted: 403;
- an admitted role: anything but 401/403 (200, 201, 204, 404 or 422 for the minimal body);
- ``own``: patients are admitted on their own patient id and get 403 on another's
  (and on an id that does not exist, so ids cannot be probed); clinicians on any.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from clinic_fixtures import Cast
from fastapi.routing import APIRoute

PUBLIC = "public"
ANY = "authenticated"
OWN = "own"  # patient on own record + clinician
STAFF_ROLES = ("clinician", "researcher", "admin")

#: (METHOD, path) -> who is admitted: PUBLIC, ANY, OWN, or a tuple of roles.
MATRIX: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/health"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY,
    ("GET", "/api/v1/auth/me"): ANY,
    ("PUT", "/api/v1/patients/{patient_id}/diary/{day}"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/diary"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/diary/{day}"): OWN,
    # questionnaires and the portal (part portal)
    ("GET", "/api/v1/instruments"): ANY,
    ("GET", "/api/v1/me"): ("patient",),
    ("GET", "/api/v1/patients/{patient_id}/questionnaires"): OWN,
    ("POST", "/api/v1/patients/{patient_id}/questionnaires"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/questionnaires/due"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/questionnaires/schedules"): OWN,
    ("POST", "/api/v1/patients/{patient_id}/questionnaires/schedules"): ("clinician",),
    ("PATCH", "/api/v1/patients/{patient_id}/questionnaires/schedules/{schedule_id}"):
        ("clinician",),
    ("GET", "/me/diary"): ("patient",),
    ("POST", "/me/diary"): ("patient",),
    ("GET", "/me/questionnaires"): ("patient",),
    ("GET", "/me/questionnaires/results/{response_id}"): ("patient",),
    ("GET", "/me/questionnaires/{instrument}"): ("patient",),
    ("POST", "/me/questionnaires/{instrument}"): ("patient",),
    ("GET", "/me/trends"): ("patient",),
    # exports, FHIR, analyses (part research)
    ("GET", "/api/v1/patients/{patient_id}/fhir"): OWN,
    ("GET", "/api/v1/cohort/fhir"): ("clinician", "researcher"),
    ("GET", "/api/v1/cohort/export.zip"): ("clinician", "researcher"),
    ("GET", "/api/v1/analyses"): ("clinician", "researcher"),
    ("POST", "/api/v1/analyses"): ("clinician", "researcher"),
    ("GET", "/api/v1/analyses/{analysis_id}"): ("clinician", "researcher"),
    ("GET", "/api/v1/analyses/{analysis_id}/report"): ("clinician", "researcher"),
    ("GET", "/research"): ("clinician", "researcher"),
    ("POST", "/research/analyses"): ("clinician", "researcher"),
    # microbiome samples and labs (part samples)
    ("POST", "/api/v1/patients/{patient_id}/samples"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}/samples"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/samples/{sample_id}/panel"): OWN,
    ("POST", "/api/v1/patients/{patient_id}/labs"): ("clinician",),
    ("POST", "/api/v1/patients/{patient_id}/labs/upload"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}/labs"): OWN,
    ("GET", "/clinic/patients/{patient_id}/samples"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/samples"): ("clinician",),
    ("GET", "/clinic/patients/{patient_id}/labs"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/labs"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/labs/upload"): ("clinician",),
    ("GET", "/me/samples"): ("patient",),
    ("GET", "/me/labs"): ("patient",),
    # patients, timeline, interventions, evaluation, report (part clinician)
    ("GET", "/api/v1/patients"): ("clinician",),
    ("POST", "/api/v1/patients"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}"): OWN,
    ("POST", "/api/v1/patients/{patient_id}/invitations"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}/interventions"): OWN,
    ("POST", "/api/v1/patients/{patient_id}/interventions"): ("clinician",),
    ("PATCH", "/api/v1/patients/{patient_id}/interventions/{intervention_id}"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}/interventions/{intervention_id}/evaluation"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/timeline"): OWN,
    ("GET", "/api/v1/patients/{patient_id}/report.html"): ("clinician",),
    ("GET", "/api/v1/patients/{patient_id}/report.pdf"): ("clinician",),
    ("GET", "/clinic/patients"): ("clinician",),
    ("GET", "/clinic/patients/new"): ("clinician",),
    ("POST", "/clinic/patients/new"): ("clinician",),
    ("GET", "/clinic/patients/{patient_id}"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/invitation"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/interventions"): ("clinician",),
    ("POST", "/clinic/patients/{patient_id}/interventions/{intervention_id}/stop"): ("clinician",),
    ("GET", "/clinic/patients/{patient_id}/interventions/{intervention_id}/evaluation"):
        ("clinician",),
    ("GET", "/clinic/patients/{patient_id}/report"): ("clinician",),
    # accounts, own account, invitations, audit trail (part auth)
    ("GET", "/api/v1/users"): ("admin",),
    ("POST", "/api/v1/users"): ("admin",),
    ("PATCH", "/api/v1/users/{user_id}"): ("admin",),
    ("GET", "/api/v1/audit"): ("admin",),
    ("GET", "/api/v1/audit/export.csv"): ("admin",),
    ("POST", "/api/v1/auth/password"): ANY,
    ("POST", "/api/v1/auth/totp/setup"): STAFF_ROLES,
    ("POST", "/api/v1/auth/totp/enable"): STAFF_ROLES,
    ("POST", "/api/v1/auth/totp/disable"): STAFF_ROLES,
    ("GET", "/api/v1/invitations/{token}"): PUBLIC,
    ("POST", "/api/v1/invitations/{token}/accept"): PUBLIC,
    ("GET", "/admin"): ("admin",),
    ("POST", "/admin/users"): ("admin",),
    ("POST", "/admin/users/{user_id}"): ("admin",),
    ("GET", "/admin/audit"): ("admin",),
    ("GET", "/account"): ANY,
    ("POST", "/account/password"): ANY,
    ("POST", "/account/totp/setup"): STAFF_ROLES,
    ("POST", "/account/totp/enable"): STAFF_ROLES,
    ("POST", "/account/totp/disable"): STAFF_ROLES,
    ("GET", "/invite/{token}"): PUBLIC,
    ("POST", "/invite/{token}"): PUBLIC,
    # pages
    ("GET", "/"): PUBLIC,  # sends each role to its home, anonymous to /login
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ANY,
}

#: valid bodies for endpoints whose patient check comes after body validation (so that a
#: refused patient sees 403, not 422)
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/api/v1/patients/{patient_id}/diary/{day}"): {"pain": 1},
    ("POST", "/api/v1/patients/{patient_id}/questionnaires"): {"instrument": "nrs",
                                                               "answers": {"pain": 1}},
}

ROLES = {"pat_a": "patient", "doc": "clinician", "res": "researcher", "adm": "admin"}
_PARAM = re.compile(r"\{([a-z_]+)\}")
#: values of path parameters other than patient_id (ids that need not exist)
_VALUES = {"day": "2026-11-30", "token": "no-such-token", "user_id": "1", "job_id": "1",
           "intervention_id": "1", "sample_id": "1", "analysis_id": "1", "iid": "1",
           "sid": "1", "id": "1"}


def _api_routes(app: Any) -> list[tuple[str, str]]:
    """Every operation (API and page) of every router the app mounts (gutaxis.app.routers)."""
    from gutaxis.app.routers import all_routers

    return sorted({(method, route.path) for router in all_routers() for route in router.routes
                   if isinstance(route, APIRoute) for method in route.methods
                   if method != "HEAD"})


def _url(path: str, patient_id: int) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(patient_id) if name == "patient_id" else _VALUES.get(name, "1")

    return _PARAM.sub(value, path)


def test_every_api_endpoint_has_a_row_in_the_matrix(cast: Cast) -> None:
    served = set(_api_routes(cast.clinic.app))
    assert served - set(MATRIX) == set(), "endpoints without an RBAC expectation"
    assert set(MATRIX) - served == set(), "matrix rows for endpoints the app does not serve"


#: identifying data of the cast's patients (clinic_fixtures.cast), never shown to researchers
IDENTIFYING = (b"Ada Alpha", b"Ben Beta", b"ada@example.org", b"1980-01-02", b"1975-05-06")
_researcher_leaks: list[str] = []


def _call(client: Any, method: str, path: str, url: str) -> int:
    kwargs: dict[str, Any] = {"follow_redirects": False}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = BODIES.get((method, path), {})
    response = client.request(method, url, **kwargs)
    if client.headers.get("X-Test-Role") == "researcher":
        _researcher_leaks.extend(f"{method} {path} shows {word.decode()!r}"
                                 for word in IDENTIFYING if word in response.content)
    return int(response.status_code)


def test_rbac_matrix(cast: Cast) -> None:
    """Every endpoint x every role (and anonymous): admitted or refused as the matrix says."""
    app = cast.clinic.app
    wrong: list[str] = []
    _researcher_leaks.clear()
    cast.clients["res"].headers["X-Test-Role"] = "researcher"
    anonymous = cast.clinic.client()
    for method, path in _api_routes(app):
        rule = MATRIX[(method, path)]
        own_url = _url(path, cast.patient_a)
        other_url = _url(path, cast.patient_b)
        if rule is not PUBLIC:
            status = _call(anonymous, method, path, own_url)
            expected = 401 if path.startswith("/api/") else 303  # pages: to the login page
            if status != expected:
                wrong.append(f"anonymous {method} {path}: {status}, expected {expected}")
        for user, role in ROLES.items():
            if path in ("/api/v1/auth/logout", "/logout"):
                continue  # would end the session the rest of the walk needs
            client = cast.clients[user]
            status = _call(client, method, path, own_url)
            admitted = (rule in (PUBLIC, ANY) or (rule == OWN and role in ("patient",
                                                                             "clinician"))
                        or (isinstance(rule, tuple) and role in rule))
            if admitted and status in (401, 403):
                wrong.append(f"{role} {method} {path}: {status}, expected admitted")
            if not admitted and status != 403:
                wrong.append(f"{role} {method} {path}: {status}, expected 403")
            if rule == OWN and role == "patient":
                status = _call(client, method, path, other_url)
                if status != 403:
                    wrong.append(f"patient A on patient B {method} {path}: {status}")
                status = _call(client, method, path, _url(path, 987654))
                if status != 403:
                    wrong.append(f"patient A on a missing patient {method} {path}: {status}")
    assert not wrong, "\n".join(wrong)
    assert not _researcher_leaks, "\n".join(_researcher_leaks)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_roles_exist_in_the_cast(cast: Cast, role: str) -> None:
    assert role in ROLES.values()

"""schemathesis against the app's own OpenAPI (``/api/v1/openapi.json``), on SQLite and on
PostgreSQL: every operation the app serves, called as a clinician, a patient, a researcher
and an admin (bearer tokens), with data that fits the schema and data that does not. No
answer may be a 5xx, and every answer must match the schema (documented status code, content
type and body).

The operations are read from the schema when the test runs, so endpoints added later are
tested too. Examples per operation are bounded (``EXAMPLES`` each for fitting and unfitting
data, per role); under ``CI=true`` the repository's hypothesis ``ci`` profile draws the same
examples on every run. Path parameters named ``patient_id`` are the caller's own patient
(patient A for the staff) in half of the fitting examples, so the handlers behind the
access check are reached, not only the 403/404 answers. A failure lists every operation that
failed with its check, the request and the answer, after all operations have run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from clinic_fixtures import BACKENDS, PASSWORD, Cast, Clinic, make_clinic
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gutaxis.app.auth.service import log_in

EXAMPLES = 8
#: Seconds of calls per operation and role; past them the remaining examples are drawn but
#: not sent (an operation that renders a PDF must not eat the suite's time).
OPERATION_SECONDS = 4.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
#: Operations that end the caller's session: each of their examples gets a token of its own.
ENDS_SESSION = {("POST", "/api/v1/auth/logout")}


class Caller:
    """A user of the app and how to get them a bearer token."""

    def __init__(self, clinic: Clinic, username: str, patient_id: int) -> None:
        self.clinic, self.username, self.patient_id = clinic, username, patient_id
        self.token = self.new_token()

    def new_token(self) -> str:
        opened = log_in(self.clinic.state, self.username, PASSWORD, address="schema-test",
                        kind="bearer")
        return opened.token


@pytest.fixture(scope="module", params=BACKENDS)
def schema_clinic(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """One app per database for the whole module (a clinic per operation would cost more
    than the calls): patients A and B, patient A's account and one account per staff role."""
    made = make_clinic(request.param, tmp_path_factory.mktemp("schema"), request)
    a = made.add_patient("Ada Alpha")
    made.add_patient("Ben Beta")
    made.add_user("doc", "clinician")
    made.add_user("pat_a", "patient", patient_id=a)
    made.add_user("res", "researcher")
    made.add_user("adm", "admin")
    for staff in ("doc", "res", "adm"):
        made.users[staff]["patient_id"] = a  # the patient the clinician's examples look at
    yield made
    made.state.db.dispose()


def operation_strategy(operation: Any, patient_id: int) -> st.SearchStrategy[Any]:
    """Fitting examples (half of them on ``patient_id`` where the path names a patient)
    and unfitting ones."""
    fitting = operation.as_strategy(GenerationMode.POSITIVE)
    names = {parameter.name for parameter in operation.iter_parameters()
             if parameter.location == "path"}
    if "patient_id" in names:
        fitting = st.one_of(fitting, operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters={"patient_id": patient_id}))
    return st.one_of(fitting, operation.as_strategy(GenerationMode.NEGATIVE))


def run_operation(operation: Any, caller: Caller) -> str | None:
    """Run ``operation``'s examples as ``caller``; the first failure, described, or None."""
    label = f"{operation.method.upper()} {operation.path}"
    ends_session = (operation.method.upper(), operation.path) in ENDS_SESSION
    stop_at = time.monotonic() + OPERATION_SECONDS

    @settings(max_examples=2 * EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation_strategy(operation, caller.patient_id))
    def examples(case: Any) -> None:
        if time.monotonic() > stop_at:
            return
        token = caller.new_token() if ends_session else caller.token
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    try:
        examples()
    except (Exception, BaseExceptionGroup) as exc:  # a check failed or the call raised
        return f"{label} as {caller.username}: {type(exc).__name__}: {exc}"
    return None


@pytest.mark.parametrize("username", ["doc", "pat_a", "res", "adm"])
def test_every_operation_answers_within_its_schema_and_never_5xx(
        schema_clinic: Clinic, username: str) -> None:
    clinic = schema_clinic
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", clinic.app)
    caller = Caller(clinic, username, clinic.users[username]["patient_id"])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, "the schema lost its operations"
    started = time.monotonic()
    failures = [failure for operation in operations
                if (failure := run_operation(operation, caller)) is not None]
    elapsed = time.monotonic() - started
    assert not failures, (f"{len(failures)} of {len(operations)} operations failed "
                          f"({elapsed:.0f} s):\n\n" + "\n\n".join(failures))


def test_the_schema_is_served_and_lists_the_diary(schema_clinic: Clinic) -> None:
    """The schema the test above reads is the one served at /api/v1/openapi.json."""
    served = schema_clinic.client().get("/api/v1/openapi.json")
    assert served.status_code == 200
    paths = served.json()["paths"]
    assert "put" in paths["/api/v1/patients/{patient_id}/diary/{day}"]
    assert Path("/api/v1/health").as_posix() in paths


def test_a_patient_id_beyond_the_database_integer_is_refused_not_a_500(cast: Cast) -> None:
    """Found by schemathesis: PostgreSQL refused to compare such an id (a 500). A clinician
    gets 404, a patient 403 (access is checked before existence)."""
    for who, status in (("doc", 404), ("pat_a", 403)):
        for path in (f"/api/v1/patients/{2**31}/diary", f"/api/v1/patients/{10**17}/diary"):
            assert cast.clients[who].get(path).status_code == status, (who, path)
    assert cast.clients["doc"].get(f"/api/v1/patients/{2**31 - 1}/diary").status_code == 404


def test_diary_timestamps_carry_their_utc_offset(cast: Cast) -> None:
    """Found by schemathesis: on SQLite ``updated_at`` was sent without an offset, which an
    OpenAPI date-time does not allow."""
    url = f"/api/v1/patients/{cast.patient_a}/diary/2026-11-30"
    written = cast.clients["pat_a"].put(url, json={"pain": 3}).json()["updated_at"]
    read = cast.clients["doc"].get(url).json()["updated_at"]
    for value in (written, read):
        assert dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(0), value


def test_the_documented_422_body_is_the_one_sent(sqlite_clinic: Clinic) -> None:
    clinic = sqlite_clinic
    schema = clinic.client().get("/api/v1/openapi.json").json()
    documented = schema["components"]["schemas"]["HTTPValidationError"]
    body = clinic.client().post("/api/v1/auth/token", json={"username": ""}).json()
    assert set(documented["required"]) <= set(body) <= set(documented["properties"])
    assert isinstance(body["detail"], str) and "username" in body["detail"]
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "400" in login and "422" in login

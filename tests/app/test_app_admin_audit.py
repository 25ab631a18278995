"""The audit trail for admins on both databases: search filters, paging, the streamed CSV
export (itself audited) and the /admin/audit page."""

from __future__ import annotations

import csv
import datetime as dt
import io

from clinic_fixtures import Cast
from sqlalchemy import delete

from gutaxis.app.audit.service import CSV_COLUMNS, csv_cell
from gutaxis.app.db.models import AuditEvent

DAY = "2026-11-30"


def _trail(cast: Cast) -> None:
    """A known trail: pat_a writes and reads a day, pat_b is refused A's diary."""
    with cast.clinic.state.db.write() as session:
        session.execute(delete(AuditEvent))  # the cast's logins are not part of it
    a = cast.patient_a
    assert cast.clients["pat_a"].put(f"/api/v1/patients/{a}/diary/{DAY}",
                                     json={"pain": 3}).status_code == 200
    assert cast.clients["pat_a"].get(f"/api/v1/patients/{a}/diary").status_code == 200
    assert cast.clients["pat_b"].get(f"/api/v1/patients/{a}/diary").status_code == 403


def test_search_filters_by_user_patient_action_and_outcome(cast: Cast) -> None:
    _trail(cast)
    client, a = cast.clients["adm"], cast.patient_a
    everything = client.get("/api/v1/audit").json()
    assert [(e["username"], e["action"], e["outcome"]) for e in everything] == [
        ("pat_b", "get", "denied"), ("pat_a", "read", "allowed"),
        ("pat_a", "write", "allowed")]
    assert all(e["patient_id"] == a and e["resource"] == "diary" for e in everything)
    assert [e["action"] for e in client.get("/api/v1/audit", params={"user": "pat_a"}
                                            ).json()] == ["read", "write"]
    denied = client.get("/api/v1/audit", params={"outcome": "denied"}).json()
    assert [e["username"] for e in denied] == ["pat_b"]
    assert client.get("/api/v1/audit", params={"patient_id": cast.patient_b}).json() == []
    writes = client.get("/api/v1/audit", params={"action": "write", "resource": "diary",
                                                 "patient_id": a}).json()
    assert len(writes) == 1 and writes[0]["detail"] == DAY
    page = client.get("/api/v1/audit", params={"limit": 1, "offset": 1}).json()
    assert [e["id"] for e in page] == [everything[1]["id"]]


def test_search_by_time_window(cast: Cast) -> None:
    _trail(cast)
    client = cast.clients["adm"]
    times = [dt.datetime.fromisoformat(e["at"]) for e in client.get("/api/v1/audit").json()]
    first = min(times).replace(tzinfo=dt.UTC) if min(times).tzinfo is None else min(times)
    later = (first + dt.timedelta(hours=1)).isoformat()
    assert len(client.get("/api/v1/audit", params={"since": later}).json()) == 0
    assert len(client.get("/api/v1/audit", params={"until": later}).json()) == 3
    earlier = (first - dt.timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    assert len(client.get("/api/v1/audit", params={"since": earlier}).json()) == 3
    assert len(client.get("/api/v1/audit", params={"until": earlier}).json()) == 0


def test_bad_filters_are_422_naming_the_field(cast: Cast) -> None:
    client = cast.clients["adm"]
    for params, field in (({"since": "yesterday"}, "since"), ({"outcome": "maybe"}, "outcome"),
                          ({"limit": 0}, "limit"), ({"patient_id": "x"}, "patient_id")):
        response = client.get("/api/v1/audit", params=params)
        assert response.status_code == 422 and field in response.json()["field"]


def test_csv_export_has_a_header_the_filtered_rows_and_is_itself_audited(cast: Cast) -> None:
    _trail(cast)
    client = cast.clients["adm"]
    response = client.get("/api/v1/audit/export.csv", params={"user": "pat_a"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["username"], r["action"], r["patient_id"]) for r in body] == [
        ("pat_a", "read", str(cast.patient_a)), ("pat_a", "write", str(cast.patient_a))]
    exports = client.get("/api/v1/audit", params={"action": "export"}).json()
    assert len(exports) == 1 and exports[0]["username"] == "adm"
    assert exports[0]["resource"] == "audit" and exports[0]["detail"] == "user=pat_a"


def test_csv_export_streams_every_matching_row_across_batches(cast: Cast) -> None:
    with cast.clinic.state.db.write() as session:
        session.execute(delete(AuditEvent))
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        session.add_all(AuditEvent(at=start + dt.timedelta(minutes=i), username=f"u{i}",
                                   action="read", resource="diary", patient_id=i % 3,
                                   outcome="allowed") for i in range(1234))
    response = cast.clients["adm"].get("/api/v1/audit/export.csv",
                                       params={"resource": "diary"})
    rows = list(csv.reader(io.StringIO(response.text)))[1:]
    assert len(rows) == 1234  # three batches of 500, 500, 234
    assert [r[3] for r in rows[:2]] == ["u1233", "u1232"] and rows[-1][3] == "u0"
    ids = [int(r[0]) for r in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 1234
    only = cast.clients["adm"].get("/api/v1/audit/export.csv", params={
        "resource": "diary", "patient_id": 1, "until": "2026-01-01T00:10:00Z"})
    assert len(list(csv.reader(io.StringIO(only.text)))) == 1 + 3  # minutes 1, 4, 7


def test_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    assert csv_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert [csv_cell(v) for v in ("+1", "-1", "@a", "plain", None, 7)] == [
        "'+1", "'-1", "'@a", "plain", "", "7"]
    assert csv_cell(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05+00:00"


def test_clinicians_and_others_cannot_search_or_export(cast: Cast) -> None:
    for name in ("pat_a", "doc", "res"):
        assert cast.clients[name].get("/api/v1/audit").status_code == 403
        assert cast.clients[name].get("/api/v1/audit/export.csv").status_code == 403
    assert cast.clinic.client().get("/api/v1/audit/export.csv").status_code == 401


def test_audit_page_filters_and_links_the_export_with_the_same_filters(cast: Cast) -> None:
    _trail(cast)
    client = cast.clients["adm"]
    page = client.get("/admin/audit", params={"user": "pat_b", "outcome": "denied",
                                              "since": "2020-01-01T00:00", "action": ""})
    assert page.status_code == 200 and "<h1>Audit trail</h1>" in page.text
    assert page.text.count("<tr>") == 2  # the header row and pat_b's refusal
    assert "Export CSV" in page.text
    link = ('href="/api/v1/audit/export.csv?user=pat_b&amp;outcome=denied&amp;'
            'since=2020-01-01T00%3A00%3A00%2B00%3A00"')
    assert link in page.text
    export = client.get("/api/v1/audit/export.csv?user=pat_b&outcome=denied"
                        "&since=2020-01-01T00%3A00%3A00%2B00%3A00")
    assert len(list(csv.reader(io.StringIO(export.text)))) == 2
    bad = client.get("/admin/audit", params={"patient_id": "abc"})
    assert bad.status_code == 422 and "patient_id" in bad.text

"""Lab results through the API on SQLite and PostgreSQL: one entered by hand, a CSV
upload (refused whole, naming row and column, when one row is wrong), who may write and
read."""

from __future__ import annotations

from clinic_fixtures import Cast
from sqlalchemy import func, select

from gutaxis.app.db.models import LabResult, Upload

CSV = (b"time,analyte,value,unit\n"
       b"2024-03-01T08:00:00,crp,0.8,mg/dL\n"
       b"2024-03-02T08:00:00Z,esr,15,mm/h\n"
       b"2024-03-03T08:00:00Z,calprotectin,120,mg/kg\n")


def counts(cast: Cast) -> tuple[int, int]:
    with cast.clinic.state.db.read() as session:
        return (session.scalar(select(func.count()).select_from(LabResult)) or 0,
                session.scalar(select(func.count()).select_from(Upload)) or 0)


def test_one_result_entered_by_hand_is_converted(cast: Cast) -> None:
    url = f"/api/v1/patients/{cast.patient_a}/labs"
    response = cast.clients["doc"].post(url, json={
        "time": "2024-03-01T08:00:00+01:00", "analyte": "C-reactive protein", "value": 1.5,
        "unit": "mg/dL"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["analyte"], body["value"], body["unit"]) == ("crp", 15.0, "mg/L")
    assert (body["reported_value"], body["reported_unit"]) == (1.5, "mg/dL")
    assert body["time"].startswith("2024-03-01T07:00:00")
    bad = cast.clients["doc"].post(url, json={"time": "2024-03-01T08:00:00Z",
                                              "analyte": "crp", "value": 1, "unit": "mm/h"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("field 'unit': C-reactive protein: cannot convert")
    assert counts(cast) == (1, 0)


def test_a_csv_upload_is_stored_with_its_file(cast: Cast) -> None:
    clinic = cast.clinic
    berlin = clinic.add_patient("Clara Berlin", timezone="Europe/Berlin")
    url = f"/api/v1/patients/{berlin}/labs"
    response = cast.clients["doc"].post(url + "/upload", files={"file": ("labs.csv", CSV)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert [r["value"] for r in body["results"]] == [8.0, 15.0, 120.0]
    assert [r["unit"] for r in body["results"]] == ["mg/L", "mm/h", "ug/g"]
    # 08:00 in Berlin in March (CET, UTC+1) is 07:00 UTC
    assert body["results"][0]["time"].startswith("2024-03-01T07:00:00")
    listed = cast.clients["doc"].get(url).json()
    assert [r["analyte"] for r in listed] == ["crp", "esr", "calprotectin"]
    with clinic.state.db.read() as session:
        upload = session.get(Upload, body["upload_id"])
        assert upload is not None and upload.content == CSV and upload.kind == "labs"


def test_a_bad_row_refuses_the_whole_file(cast: Cast) -> None:
    url = f"/api/v1/patients/{cast.patient_a}/labs/upload"
    bad = CSV + b"2024-03-04T08:00:00Z,crp,lots,mg/L\n"
    response = cast.clients["doc"].post(url, files={"file": ("lab-export.csv", bad)})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("lab-export.csv, row 5, field 'value': lab value is not")
    assert body["row"] == 5 and body["source"] == "lab-export.csv"
    naive = cast.clients["doc"].post(url, files={"file": ("l.csv", b"time,analyte,value\n")})
    assert naive.status_code == 422 and "missing column(s): unit" in naive.json()["detail"]
    two = CSV.replace(b"time,", b"subject,time,").replace(b"\n2024-03-0", b"\nP-A,2024-03-0")
    two = two.rsplit(b"P-A", 1)[0] + b"P-B" + two.rsplit(b"P-A", 1)[1]
    mixed = cast.clients["doc"].post(url, files={"file": ("l.csv", two)})
    assert mixed.status_code == 422
    assert mixed.json()["detail"].startswith("l.csv, row 4, column 'subject'")
    assert counts(cast) == (0, 0)


def test_who_may_write_and_read_labs(cast: Cast) -> None:
    a = cast.patient_a
    url = f"/api/v1/patients/{a}/labs"
    one = {"time": "2024-03-01T08:00:00Z", "analyte": "il6", "value": 2.5, "unit": "pg/mL"}
    for who in ("pat_a", "pat_b", "res", "adm"):
        assert cast.clients[who].post(url, json=one).status_code == 403
        assert cast.clients[who].post(url + "/upload",
                                      files={"file": ("l.csv", CSV)}).status_code == 403
    assert counts(cast) == (0, 0)
    assert cast.clients["doc"].post(url, json=one).status_code == 201
    for who, code in (("pat_a", 200), ("doc", 200), ("pat_b", 403), ("res", 403),
                      ("adm", 403)):
        assert cast.clients[who].get(url).status_code == code, who
    assert cast.clients["pat_a"].get(url).json()[0]["value"] == 2.5
    assert cast.clients["doc"].get(f"/api/v1/patients/{cast.patient_b}/labs").json() == []
    assert cast.clients["doc"].get("/api/v1/patients/9999/labs").status_code == 404

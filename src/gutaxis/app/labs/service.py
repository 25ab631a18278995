"""Validate lab results (the engine's lab reader and unit conversion), store and list them.

Validation happens before any transaction (:func:`results_from_csv`,
:func:`result_from_fields`), so a refused file leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import LabResult, Upload
from gutaxis.app.samples.reading import plain_error
from gutaxis.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: The largest lab CSV accepted (bytes); a bigger one is answered with 413.
MAX_LAB_CSV_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LabFile:
    """A validated lab CSV: its bytes and the results it holds."""

    filename: str
    content: bytes
    sha256: str
    results: pd.DataFrame


def results_from_csv(filename: str, content: bytes, *, timezone: str) -> LabFile:
    """Read a lab CSV as :func:`gutaxis.io.labs.read_lab_csv` does (times without an
    offset in the patient's ``timezone``); one subject per file at most."""
    from gutaxis.io.labs import parse_lab_csv

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", source=filename, row=line,
                         found=f"byte {content[exc.start]:#x}",
                         expected="a UTF-8 CSV file") from None
    header = text.split("\n", 1)[0]
    sep = "\t" if "\t" in header and "," not in header else ","
    try:
        results = parse_lab_csv(io.StringIO(text), source=filename, timezone=timezone, sep=sep)
    except InputError as exc:
        raise plain_error(exc) from None
    subjects = results["subject"].astype(str)
    named = subjects[subjects != ""]
    if named.nunique() > 1:
        first = named.iloc[0]
        i = int((subjects != first).to_numpy().nonzero()[0][0])
        raise InputError("a lab file for one patient names several subjects", source=filename,
                         row=i + 2, column="subject", found=subjects.iloc[i],
                         expected=f"{first!r} on every row (one patient per file)")
    return LabFile(filename=filename, content=content,
                   sha256=hashlib.sha256(content).hexdigest(), results=results)


def result_from_fields(time: str, analyte: str, value: str, unit: str, *,
                       timezone: str) -> pd.DataFrame:
    """One result entered by hand, validated like a CSV row (errors name the field)."""
    import pandas as pd

    from gutaxis.io.labs import lab_table

    frame = pd.DataFrame({"time": [time], "analyte": [analyte], "value": [value],
                          "unit": [unit]})
    try:
        return lab_table(frame, source=None, rows=[1], timezone=timezone)
    except InputError as exc:
        raise type(exc)(exc.message, field=exc.column or exc.field, found=exc.found,
                        expected=exc.expected) from None


def store_results(session: Session, patient_id: int, results: pd.DataFrame, *,
                  upload: LabFile | None, entered_by: int) -> list[LabResult]:
    """Write the results (and the file they came in, if any)."""
    upload_id = None
    if upload is not None:
        row = Upload(kind="labs", filename=upload.filename, content=upload.content,
                     sha256=upload.sha256, uploaded_by=entered_by,
                     summary={"n_results": len(results),
                              "analytes": sorted(set(results["analyte"]))})
        session.add(row)
        session.flush()
        upload_id = row.id
    rows = [LabResult(patient_id=patient_id, time=time.to_pydatetime(), analyte=str(analyte),
                      value=float(value), unit=str(unit), reported_value=float(reported),
                      reported_unit=str(reported_unit), upload_id=upload_id)
            for time, analyte, value, unit, reported, reported_unit in zip(
                results["time"], results["analyte"], results["value"], results["unit"],
                results["reported_value"], results["reported_unit"], strict=True)]
    session.add_all(rows)
    session.flush()
    return rows


def patient_results(session: Session, patient_id: int) -> list[LabResult]:
    """The patient's lab results, oldest first."""
    return list(session.scalars(select(LabResult).where(LabResult.patient_id == patient_id)
                                .order_by(LabResult.time, LabResult.id)).all())

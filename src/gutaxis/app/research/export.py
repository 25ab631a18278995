"""The de-identified cohort export: a ZIP of tidy TSV files with a README.

Files (tab-separated, UTF-8, a header line, empty cell = missing, times ISO 8601 UTC):
``patients.tsv``, ``diary.tsv``, ``questionnaires.tsv``, ``labs.tsv``,
``interventions.tsv``, ``samples.tsv``, ``profile.tsv`` (long: one row per sample and
feature with a non-zero value), ``taxonomy.tsv`` and ``README.txt``. The export is
de-identified for every role (see :mod:`gutaxis.app.research.deid`).
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import PatientIdentity
from gutaxis.app.research.deid import SHIFT_NOTE
from gutaxis.app.research.record import (
    DIARY_VALUES,
    DIARY_WINDOW_DAYS,
    MATCH_TOLERANCE,
    ClinicRecord,
)
from gutaxis.version import package_version

if TYPE_CHECKING:
    import pandas as pd

#: Files of the export, in the order they are written.
FILES: tuple[str, ...] = ("README.txt", "patients.tsv", "diary.tsv", "questionnaires.tsv",
                          "labs.tsv", "interventions.tsv", "samples.tsv", "profile.tsv",
                          "taxonomy.tsv")
_CHUNK = 64 * 1024

README = """gutaxis clinic: de-identified cohort export
gutaxis {version}; exported {exported} (UTC); {n_patients} patients, {n_samples} samples.

De-identification: subjects are the clinic's pseudonyms (P-XXXXXX); no names, dates of
birth, e-mail addresses, phone numbers, record numbers or free-text notes are included;
patients.tsv gives the year of birth only.
Dates: {shift}.

Files (tab-separated; empty cell = missing; times ISO 8601 in UTC):
patients.tsv        subject, birth_year
diary.tsv           one row per diary day: subject, day (shifted), pain_sites (';'-separated),
                    {diary}
                    (0-10 scales; servings per day; added sugar in g; exercise in minutes;
                    sleep in hours; probiotic_taken 1/0)
questionnaires.tsv  one row per score: administration_id, subject, time, instrument
                    (id@version), score, value, band, scoring_version
                    (scored by the gutaxis instrument registry from the answers)
labs.tsv            lab_id, subject, time, analyte, value, unit (canonical), reported_value,
                    reported_unit (as the lab reported it)
interventions.tsv   intervention_id, subject, type, product, dose, dose_unit, start, stop
                    (stop empty while ongoing)
samples.tsv         one row per microbiome sample: sample_id, subject, time; <diary value>
                    _mean_14d = mean over the {window} calendar days ending on the
                    collection day; questionnaire scores (instrument_score) and lab
                    analytes: the last value at or before the sample within {tolerance};
                    intervention_active 1/0
profile.tsv         long format: sample_id, feature_id, value (non-zero values only;
                    kind: {kind})
taxonomy.tsv        feature_id and its ranks (kingdom ... species)
"""


def export_zip(record: ClinicRecord, session: Session) -> IO[bytes]:
    """The export as a ZIP in a spooled temporary file (in memory up to 8 MiB), at 0."""
    import pandas as pd

    m = record.measurements
    tables: dict[str, pd.DataFrame] = {}
    years = {pid: row for pid, row in session.execute(
        select(PatientIdentity.patient_id, PatientIdentity.date_of_birth)
        .where(PatientIdentity.patient_id.in_(list(record.subjects))))}
    tables["patients.tsv"] = pd.DataFrame({
        "subject": list(record.subjects.values()),
        "birth_year": [_year(years.get(p)) for p in record.subjects]},
        columns=["subject", "birth_year"]).astype({"birth_year": "Int64"})
    diary = record.diary.copy()
    diary["day"] = diary["day"].map(lambda d: d.isoformat())
    tables["diary.tsv"] = diary
    scores = m.score_table()
    scores = scores[scores["administration_id"].str.startswith("q").to_numpy()]
    tables["questionnaires.tsv"] = _with_text(
        scores[["administration_id", "subject", "time", "instrument", "score", "value",
                "band", "scoring_version"]], "time")
    tables["labs.tsv"] = _with_text(m.labs, "time")
    tables["interventions.tsv"] = _with_text(m.interventions, "start", "stop")
    tables["samples.tsv"] = record.sample_metadata.reset_index()
    kind = "none"
    if record.profile is not None:
        kind = record.profile.kind
        cells = record.profile.values.tocoo()
        tables["profile.tsv"] = pd.DataFrame({
            "sample_id": record.profile.sample_ids[cells.row].astype(str),
            "feature_id": record.profile.feature_ids[cells.col].astype(str),
            "value": cells.data}).sort_values(["sample_id", "feature_id"], kind="stable")
        taxonomy = record.profile.taxonomy
        if taxonomy is not None:
            tables["taxonomy.tsv"] = taxonomy.reset_index().rename(
                columns={taxonomy.index.name or "index": "feature_id"})
    else:
        tables["profile.tsv"] = pd.DataFrame(columns=["sample_id", "feature_id", "value"])
    tables.setdefault("taxonomy.tsv", pd.DataFrame(columns=["feature_id"]))
    readme = README.format(
        version=package_version(),
        exported=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        n_patients=len(record.subjects), n_samples=len(record.sample_metadata),
        shift=SHIFT_NOTE if record.deidentified else "as recorded (not shifted)",
        diary=", ".join(DIARY_VALUES), window=DIARY_WINDOW_DAYS,
        tolerance=MATCH_TOLERANCE.replace("D", " days"), kind=kind)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        for name in FILES[1:]:
            archive.writestr(name, _tsv(tables[name]))
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _year(day: dt.date | None) -> int | None:
    return day.year if day is not None else None


def _with_text(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    from gutaxis.data.timestamps import format_times

    out = frame.copy()
    for column in columns:
        out[column] = format_times(frame[column]).to_numpy()
    return out


def _tsv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", index=False, na_rep="", lineterminator="\n")
    return buffer.getvalue()


def chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """Read ``handle`` in 64 KiB pieces, then close it (a streamed response body)."""
    try:
        while piece := handle.read(_CHUNK):
            yield piece
    finally:
        handle.close()

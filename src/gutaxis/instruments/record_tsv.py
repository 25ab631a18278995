"""The longitudinal record as one tidy long TSV, and questionnaire answers from a wide CSV.

The record file has one row per fact and these columns (empty where they do not apply):

==================== =================================================================
column               meaning by ``kind``
==================== =================================================================
kind                 ``administration``, ``response``, ``score``, ``lab``,
                     ``intervention`` or ``sample``
record_id            administration id (administration, response, score), lab id,
                     intervention id or sample id
subject              the subject
time                 ISO 8601 instant with UTC offset; the start of an intervention
end                  the stop of an intervention (empty while ongoing)
instrument           registry key ``id@version`` (administration, response, score)
name                 item id, score name, analyte id or intervention type
value                answer (response), score, lab value in the canonical unit, dose
unit                 score unit, canonical lab unit, dose unit
label                band of a score, product or strain of an intervention
reported_value       lab value as reported
reported_unit        lab unit as reported (UCUM code)
scoring_version      gutaxis scoring-rule version of a score
missing_rule_applied ``true`` when a missing-item rule was used for a score
==================== =================================================================

Times are written in UTC (``2024-03-01T07:30:00+00:00``) and numbers with the shortest
text that reads back to the same double, so ``read_record(write_record(m))`` returns
the same record.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.data.measurement_tables import (
    check_one_administration_per_time,
    generated_ids,
)
from gutaxis.data.measurements import Measurements
from gutaxis.data.timestamps import format_times, parse_times
from gutaxis.errors import InputError
from gutaxis.instruments.record import instrument_keys, record_from_answers, score_record
from gutaxis.instruments.registry import get_instrument
from gutaxis.io._files import PathLike, atomic_path, existing_file, open_text

RECORD_COLUMNS: tuple[str, ...] = (
    "kind", "record_id", "subject", "time", "end", "instrument", "name", "value", "unit",
    "label", "reported_value", "reported_unit", "scoring_version", "missing_rule_applied")
KINDS: tuple[str, ...] = ("administration", "response", "score", "lab", "intervention",
                          "sample")
_REQUIRED = ("kind", "record_id", "subject", "time")


def record_frame(measurements: Measurements) -> pd.DataFrame:
    """The record as the tidy long table written by :func:`write_record` (all text)."""
    m = measurements
    admins = m.administrations.set_index("administration_id")
    parts = [
        _part("administration", record_id=m.administrations["administration_id"],
              subject=m.administrations["subject"], time=m.administrations["time"],
              instrument=m.administrations["instrument"]),
    ]
    if len(m.responses):
        of = admins.loc[m.responses["administration_id"]]
        parts.append(_part("response", record_id=m.responses["administration_id"],
                           subject=of["subject"], time=of["time"],
                           instrument=of["instrument"], name=m.responses["item"],
                           value=m.responses["answer"]))
    if len(m.scores):
        of = admins.loc[m.scores["administration_id"]]
        parts.append(_part("score", record_id=m.scores["administration_id"],
                           subject=of["subject"], time=of["time"], instrument=of["instrument"],
                           name=m.scores["score"], value=_numbers(m.scores["value"]),
                           unit=_score_units(of["instrument"], m.scores["score"]),
                           label=m.scores["band"],
                           scoring_version=m.scores["scoring_version"],
                           missing_rule_applied=m.scores["missing_rule_applied"].map(
                               {True: "true", False: "false"})))
    if len(m.labs):
        parts.append(_part("lab", record_id=m.labs["lab_id"], subject=m.labs["subject"],
                           time=m.labs["time"], name=m.labs["analyte"],
                           value=_numbers(m.labs["value"]), unit=m.labs["unit"],
                           reported_value=_numbers(m.labs["reported_value"]),
                           reported_unit=m.labs["reported_unit"]))
    if len(m.interventions):
        iv = m.interventions
        parts.append(_part("intervention", record_id=iv["intervention_id"],
                           subject=iv["subject"], time=iv["start"], end=iv["stop"],
                           name=iv["type"], value=_numbers(iv["dose"]), unit=iv["dose_unit"],
                           label=iv["product"]))
    if len(m.samples):
        parts.append(_part("sample", record_id=m.samples["sample_id"],
                           subject=m.samples["subject"], time=m.samples["time"]))
    return pd.concat(parts, ignore_index=True)[list(RECORD_COLUMNS)]


def write_record(measurements: Measurements, path: PathLike) -> Path:
    """Write the record as a tidy long TSV (atomically: no partial file on error).

    Parameters
    ----------
    measurements
        The record.
    path
        Where to write the TSV (``.gz`` compresses).
    """
    frame = record_frame(measurements)
    target = Path(path)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    return target


def read_record(path: PathLike, *, timezone: str | None = None) -> Measurements:
    """Read a record TSV written by :func:`write_record` (or by hand, same columns).

    Parameters
    ----------
    path
        The TSV (optionally gzipped).
    timezone
        IANA timezone for times written without a UTC offset; without it such a time
        is an error naming its line.

    Raises
    ------
    InputError
        Unknown kind, instrument, item, analyte or unit; a time without a timezone;
        conflicting administration details; each naming the line and column.
    """
    file = existing_file(path)
    source = str(file)
    frame, lines = read_text_table(file, sep="\t")
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InputError("record file lacks a column", source=source, row=1,
                         column=missing[0], found=", ".join(frame.columns),
                         expected="columns " + ", ".join(RECORD_COLUMNS))
    for column in RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame["source_row"] = lines
    kind = frame["kind"].str.strip().str.lower()
    unknown = ~kind.isin(KINDS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError("unknown record kind", source=source, row=int(frame["source_row"][i]),
                         column="kind", found=frame["kind"].iloc[i],
                         expected="one of " + ", ".join(KINDS))
    part = {k: frame[(kind == k).to_numpy()].reset_index(drop=True) for k in KINDS}
    for name in ("time", "end"):
        for k in KINDS:
            if name in part[k]:
                part[k][name] = part[k][name].replace("", None)
    return record_from_answers(
        administrations=_administrations(part, source=source, timezone=timezone),
        responses=part["response"].rename(columns={"record_id": "administration_id",
                                                   "name": "item", "value": "answer"})[
            ["administration_id", "item", "answer", "source_row"]],
        scores=_blank_to_none(part["score"]).rename(columns={
            "record_id": "administration_id", "name": "score", "label": "band"})[
            ["administration_id", "score", "value", "band", "scoring_version",
             "missing_rule_applied", "source_row"]],
        labs=_localised(part["lab"], ("time",), source, timezone).rename(
            columns={"record_id": "lab_id", "name": "analyte"})[
            ["lab_id", "subject", "time", "analyte", "reported_value", "reported_unit",
             "source_row"]],
        interventions=_localised(part["intervention"], ("time", "end"), source,
                                 timezone).rename(columns={
            "record_id": "intervention_id", "name": "type", "value": "dose",
            "unit": "dose_unit", "label": "product", "time": "start", "end": "stop"})[
            ["intervention_id", "subject", "type", "product", "dose", "dose_unit", "start",
             "stop", "source_row"]],
        samples=_localised(part["sample"], ("time",), source, timezone).rename(
            columns={"record_id": "sample_id"})[["sample_id", "subject", "time",
                                                 "source_row"]],
        source=source,
    )


def read_responses_wide(path: PathLike, *, instrument: str | None = None,
                        subject_column: str = "subject_id", time_column: str = "administered_at",
                        id_column: str | None = None, timezone: str | None = None,
                        score: bool = True) -> Measurements:
    """Questionnaire answers from a CSV/TSV with one row per administration.

    Parameters
    ----------
    path
        The file: columns for the subject, the time, optionally the instrument and an
        administration id, and one column per item id.
    instrument
        The instrument of every row; without it the file needs an ``instrument`` column.
    subject_column, time_column, id_column
        Names of those columns (``id_column`` None: ids are generated).
    timezone
        IANA timezone of times written without a UTC offset.
    score
        Score every administration with the registry (default).

    Raises
    ------
    InputError
        A column that is no item of the row's instrument (when answered), an answer out
        of range, an unknown instrument, a time without a timezone, two rows for one
        subject and instrument at the same time (without ``id_column``): with line and column.
    """
    file = existing_file(path)
    source = str(file)
    frame, rows = read_text_table(file, sep=None)
    frame.columns = [str(c).strip() for c in frame.columns]
    meta = [subject_column, time_column] + ([id_column] if id_column else [])
    if instrument is None:
        meta.append("instrument")
    for column in meta:
        if column not in frame.columns:
            raise InputError("column not found", source=source, row=1, column=column,
                             found=", ".join(frame.columns), expected=f"a {column!r} column")
    names = (pd.Series([instrument] * len(frame), dtype=object) if instrument is not None
             else frame["instrument"].str.strip())
    keys = instrument_keys(names, rows, source=source)
    time = parse_times(frame[time_column], source=source, rows=rows, column=time_column,
                       timezone=timezone)
    subject = frame[subject_column].str.strip()
    if id_column:
        ids = frame[id_column].str.strip()
    else:
        check_one_administration_per_time(subject, keys, time, rows, source=source,
                                          column=time_column)
        ids = generated_ids([subject, keys, time])
    admins = pd.DataFrame({"administration_id": ids, "subject": subject, "time": time,
                           "instrument": keys, "source_row": rows})
    items = [c for c in frame.columns if c not in meta]
    responses = answers_long(frame[items], ids, rows)
    record = record_from_answers(administrations=admins, responses=responses, source=source)
    return score_record(record) if score else record


def answers_long(wide: pd.DataFrame, ids: pd.Series, rows: np.ndarray) -> pd.DataFrame:
    """Answer text in a wide table (one column per item, one row per administration) as
    response rows ``administration_id, source_row, item, answer``; blank answers dropped."""
    long = wide.assign(administration_id=ids.to_numpy(), source_row=rows).melt(
        id_vars=["administration_id", "source_row"], var_name="item", value_name="answer")
    filled = long["answer"].astype(str).str.strip() != ""  # astype: an empty melt is float
    return long[filled]


def read_text_table(file: Path, *, sep: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """All cells of a CSV/TSV as strings (empty, never NaN), and the line of each row.

    ``sep`` None: tab if the header has at least as many tabs as commas. Rows with no
    cell filled (blank lines included) are dropped; the line numbers (header = 1) count
    them, so that errors name the line a person sees. Not UTF-8 is an InputError.
    """
    try:
        with open_text(file) as handle:
            if sep is None:
                head = handle.readline()
                handle.seek(0)
                sep = "\t" if head.count("\t") >= head.count(",") else ","
            frame = pd.read_csv(handle, sep=sep, dtype=str, keep_default_na=False,
                                na_values=[], skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise InputError("no header line", source=str(file),
                         expected="a header line and data") from None
    except pd.errors.ParserError as exc:
        raise InputError("not a delimited table", source=str(file), found=str(exc),
                         expected="the same number of cells on every line") from None
    filled = (frame != "").any(axis=1).to_numpy()
    lines = np.flatnonzero(filled) + 2
    return frame[filled].reset_index(drop=True), lines


def _part(kind: str, **columns: pd.Series) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    out: dict[str, object] = {"kind": [kind] * n}
    for name, values in columns.items():
        series = pd.Series(values).reset_index(drop=True)
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = format_times(series)
        out[name] = series.astype(object).where(series.notna(), "").astype(str).to_numpy()
    frame = pd.DataFrame(out)
    for column in RECORD_COLUMNS:
        if column not in frame:
            frame[column] = ""
    return frame


def _numbers(values: pd.Series) -> pd.Series:
    """Shortest round-trip text of floats; NaN -> empty."""
    array = values.to_numpy(dtype=np.float64)
    text = np.array([repr(float(v)) if v == v else "" for v in array], dtype=object)
    return pd.Series(text, index=values.index)


def _score_units(instruments: pd.Series, scores: pd.Series) -> pd.Series:
    units = {(k, s): get_instrument(k).score_spec(s).unit
             for k, s in set(zip(instruments, scores, strict=True))}
    return pd.Series([units[(k, s)] for k, s in zip(instruments, scores, strict=True)],
                     index=scores.index, dtype=object)


def _blank_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.replace("", None)


def _localised(frame: pd.DataFrame, columns: tuple[str, ...], source: str,
               timezone: str | None) -> pd.DataFrame:
    """Parse time columns here (with the caller's timezone) so that line numbers and the
    timezone reach the error messages."""
    out = frame.copy()
    rows = frame["source_row"].to_numpy()
    for column in columns:
        out[column] = parse_times(frame[column], source=source, rows=rows, column=column,
                                  timezone=timezone, required=column == "time")
    return out


def _administrations(part: dict[str, pd.DataFrame], *, source: str,
                     timezone: str | None) -> pd.DataFrame:
    """One row per administration from administration, response and score rows; rows
    of one administration must agree on subject, time and instrument."""
    rows = pd.concat([part[k] for k in ("administration", "response", "score")],
                     ignore_index=True)[["record_id", "subject", "time", "instrument",
                                         "source_row"]]
    if not len(rows):
        return rows.rename(columns={"record_id": "administration_id"})
    rows = _localised(rows, ("time",), source, timezone)
    line = rows["source_row"].to_numpy()
    rows["instrument"] = instrument_keys(rows["instrument"].str.strip(), line, source=source)
    unique = rows.drop_duplicates(["record_id", "subject", "time", "instrument"])
    clash = unique["record_id"].duplicated()
    if clash.any():
        bad = unique[clash.to_numpy()].iloc[0]
        first = unique[unique["record_id"] == bad["record_id"]].iloc[0]
        raise InputError("rows of one administration disagree", source=source,
                         row=int(bad["source_row"]), column="record_id",
                         found=f"{bad['record_id']}: {bad['subject']} {bad['time']} "
                               f"{bad['instrument']} vs line {first['source_row']}: "
                               f"{first['subject']} {first['time']} {first['instrument']}",
                         expected="the same subject, time and instrument on every row")
    return unique.rename(columns={"record_id": "administration_id"})

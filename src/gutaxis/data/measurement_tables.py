"""Validation of the tables of :class:`~gutaxis.data.measurements.Measurements`.

Each ``validate_*`` function takes a table as a caller gave it (strings or datetimes,
optional generated columns, an optional ``source_row`` column naming the row of the file
it came from) and returns it with fixed columns and dtypes, sorted canonically, or
raises :class:`~gutaxis.errors.InputError` naming the row and the field at fault.
These checks are structural (columns, ids, times, units, links between tables): the
record knows nothing of questionnaires. Instrument names, items, answers and score names
are checked against the registry by :mod:`gutaxis.instruments.record`, above this layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gutaxis.data.interventions import (
    INTERVENTION_COLUMNS,
    check_intervention_periods,
    normalise_intervention_types,
)
from gutaxis.data.labs import normalise_labs
from gutaxis.data.timestamps import TIME_DTYPE, format_times, parse_times
from gutaxis.errors import InputError

ADMINISTRATION_COLUMNS = ("administration_id", "subject", "time", "instrument")
RESPONSE_COLUMNS = ("administration_id", "item", "answer")
SCORE_COLUMNS = ("administration_id", "score", "value", "band", "scoring_version",
                 "missing_rule_applied")
LAB_COLUMNS = ("lab_id", "subject", "time", "analyte", "value", "unit", "reported_value",
               "reported_unit")
SAMPLE_COLUMNS = ("sample_id", "subject", "time")


def empty_table(columns: tuple[str, ...]) -> pd.DataFrame:
    """A table with these columns and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def source_rows(frame: pd.DataFrame) -> np.ndarray:
    if "source_row" in frame.columns:
        return frame["source_row"].to_numpy()
    return np.arange(1, len(frame) + 1)


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], *, table: str,
                    source: str | None) -> None:
    """Refuse a table that lacks a required column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{table} table lacks a column", source=source, column=missing[0],
                         found=", ".join(map(str, frame.columns)) or "(no columns)",
                         expected=", ".join(columns))


def check_unique(ids: pd.Series, rows: np.ndarray, *, what: str, source: str | None) -> None:
    """Refuse duplicated ids, naming the second occurrence."""
    dupes = ids.duplicated().to_numpy()
    if dupes.any():
        i = int(np.flatnonzero(dupes)[0])
        raise InputError(f"duplicate {what}", source=source, row=rows[i], field=what,
                         found=ids.iloc[i], expected=f"each {what} once")


def check_one_administration_per_time(subject: pd.Series, instrument: pd.Series,
                                      time: pd.Series, rows: np.ndarray, *,
                                      source: str | None, column: str = "time") -> None:
    """Refuse two administrations of one instrument to one subject at the same instant.

    ``time`` is timezone-aware: ``09:30+01:00`` and ``08:30Z`` are the same instant. Rows
    without a time are not compared. The error names the repeat's row and the first one.
    """
    key = pd.DataFrame({"subject": subject.to_numpy(dtype=object),
                        "instrument": instrument.to_numpy(dtype=object),
                        "time": pd.Series(time).dt.tz_convert("UTC").to_numpy()})
    timed = np.flatnonzero(key["time"].notna().to_numpy())
    repeat = key.iloc[timed].duplicated().to_numpy()
    if not repeat.any():
        return
    i = int(timed[int(np.argmax(repeat))])
    same = (key.iloc[timed] == key.iloc[i]).all(axis=1).to_numpy()
    first = int(timed[int(np.argmax(same))])
    subject_i, instrument_i = str(key["subject"].iloc[i]), str(key["instrument"].iloc[i])
    when = format_times(key["time"].iloc[[i]]).iloc[0]
    raise InputError(f"a second administration of the same instrument for the same subject "
                     f"at the same time (the first is on row {rows[first]})", source=source,
                     row=rows[i], column=column,
                     found=f"subject {subject_i}, {instrument_i} at {when}",
                     expected="one administration per subject, instrument and time (correct "
                     "the time of one, or remove the repeat)")


def text_column(frame: pd.DataFrame, column: str, rows: np.ndarray, *, source: str | None,
                required: bool = True) -> pd.Series:
    """A column as stripped strings; a missing value is an error when required."""
    values = frame[column].astype("string").str.strip().reset_index(drop=True)
    if required:
        empty = (values.isna() | (values == "")).to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InputError(f"{column} is missing", source=source, row=rows[i], field=column,
                             expected=f"a {column}")
    return values.fillna("").astype(object)


def generated_ids(parts: list[pd.Series]) -> pd.Series:
    """Deterministic ids ``a/b/2024-03-01T07:30:00+00:00`` from aligned columns."""
    text = [p if not pd.api.types.is_datetime64_any_dtype(p) else format_times(p)
            for p in parts]
    out = text[0].astype(str)
    for part in text[1:]:
        out = out + "/" + part.astype(str).to_numpy()
    return out


def validate_labs(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    if len(frame) == 0:
        return empty_table(LAB_COLUMNS).astype({"time": TIME_DTYPE, "value": float,
                                           "reported_value": float})
    table = frame.reset_index(drop=True)
    if "reported_value" not in table.columns and "value" in table.columns:
        table = table.rename(columns={"value": "reported_value", "unit": "reported_unit"})
    require_columns(table, ("subject", "time", "analyte", "reported_value", "reported_unit"),
                    table="labs", source=source)
    rows = source_rows(table)
    subject = text_column(table, "subject", rows, source=source)
    time = parse_times(table["time"], source=source, rows=rows)
    labs = normalise_labs(table["analyte"], table["reported_value"], table["reported_unit"],
                          source=source, rows=rows)
    if "lab_id" in table.columns:
        lab_id = text_column(table, "lab_id", rows, source=source)
    else:
        lab_id = generated_ids([subject, labs["analyte"], time])
    out = pd.DataFrame({"lab_id": lab_id, "subject": subject, "time": time, **labs})
    check_unique(out["lab_id"], rows, what="lab_id", source=source)
    return out.sort_values(["subject", "time", "lab_id"], kind="stable").reset_index(drop=True)


def validate_interventions(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    if len(frame) == 0:
        return empty_table(INTERVENTION_COLUMNS).astype({"dose": float, "start": TIME_DTYPE,
                                                    "stop": TIME_DTYPE})
    table = frame.reset_index(drop=True)
    require_columns(table, ("subject", "type", "start"), table="interventions", source=source)
    rows = source_rows(table)
    subject = text_column(table, "subject", rows, source=source)
    kind = normalise_intervention_types(table["type"], source=source, rows=rows)
    start = parse_times(table["start"], source=source, rows=rows, column="start")
    stop = (parse_times(table["stop"], source=source, rows=rows, column="stop", required=False)
            if "stop" in table.columns else pd.Series(pd.NaT, index=table.index, dtype=TIME_DTYPE))
    check_intervention_periods(start, stop, source=source, rows=rows)
    product = (text_column(table, "product", rows, source=source, required=False)
               if "product" in table.columns else pd.Series([""] * len(table), dtype=object))
    dose = (pd.to_numeric(table["dose"], errors="coerce") if "dose" in table.columns
            else pd.Series(np.nan, index=table.index))
    if "dose" in table.columns:
        given = table["dose"].astype("string").str.strip().fillna("") != ""
        bad = (given & dose.isna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError("dose is not a number", source=source, row=rows[i], field="dose",
                             found=table["dose"].iloc[i],
                             expected="a number (its unit goes in dose_unit)")
    dose_unit = (text_column(table, "dose_unit", rows, source=source, required=False)
                 if "dose_unit" in table.columns else pd.Series([""] * len(table), dtype=object))
    dose_unit = dose_unit.where(dose.notna().to_numpy(), "")  # a unit without a dose says nothing
    kinds = pd.Series(kind, dtype=object)
    ids = (text_column(table, "intervention_id", rows, source=source)
           if "intervention_id" in table.columns
           else generated_ids([subject, kinds, start]))
    out = pd.DataFrame({"intervention_id": ids, "subject": subject, "type": kinds,
                        "product": product, "dose": dose.astype(float).to_numpy(),
                        "dose_unit": dose_unit, "start": start, "stop": stop})
    check_unique(out["intervention_id"], rows, what="intervention_id", source=source)
    return out.sort_values(["subject", "start", "intervention_id"],
                           kind="stable").reset_index(drop=True)


def validate_samples(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    if len(frame) == 0:
        return empty_table(SAMPLE_COLUMNS).astype({"time": TIME_DTYPE})
    table = frame.reset_index(drop=True)
    require_columns(table, SAMPLE_COLUMNS, table="samples", source=source)
    rows = source_rows(table)
    out = pd.DataFrame({
        "sample_id": text_column(table, "sample_id", rows, source=source),
        "subject": text_column(table, "subject", rows, source=source),
        "time": parse_times(table["time"], source=source, rows=rows),
    })
    check_unique(out["sample_id"], rows, what="sample_id", source=source)
    return out.sort_values(["subject", "time", "sample_id"], kind="stable").reset_index(drop=True)


def validate_administrations(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """Administrations with UTC times and unique ids (instrument names as given)."""
    if len(frame) == 0:
        return empty_table(ADMINISTRATION_COLUMNS).astype({"time": TIME_DTYPE})
    table = frame.reset_index(drop=True)
    require_columns(table, ("subject", "time", "instrument"), table="administrations",
                    source=source)
    rows = source_rows(table)
    subject = text_column(table, "subject", rows, source=source)
    time = parse_times(table["time"], source=source, rows=rows)
    instrument = text_column(table, "instrument", rows, source=source)
    if "administration_id" in table.columns:
        ids = text_column(table, "administration_id", rows, source=source)
    else:
        check_one_administration_per_time(subject, instrument, time, rows, source=source)
        ids = generated_ids([subject, instrument, time])
    out = pd.DataFrame({"administration_id": ids, "subject": subject, "time": time,
                        "instrument": instrument})
    check_unique(out["administration_id"], rows, what="administration_id", source=source)
    return out.sort_values(["subject", "time", "administration_id"],
                           kind="stable").reset_index(drop=True)


def validate_responses(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                       source: str | None) -> pd.DataFrame:
    """Answers as text, linked to existing administrations; unanswered rows dropped.

    Every (administration, item) pair appears once and the administration must exist.
    Answers are kept as plain text in the given order (whether they are valid for the
    item is the registry's question: :func:`gutaxis.instruments.record.record_from_answers`).
    """
    if len(frame) == 0:
        return empty_table(RESPONSE_COLUMNS)
    table = frame.reset_index(drop=True)
    require_columns(table, RESPONSE_COLUMNS, table="responses", source=source)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    item = text_column(table, "item", rows, source=source)
    administration_field(admin, administrations, "instrument", rows, source=source)
    answer = table["answer"].map(plain_answer).astype(object)
    out = pd.DataFrame({"administration_id": admin, "item": item, "answer": answer})
    check_unique(out["administration_id"] + " / " + out["item"], rows,
                 what="administration_id / item", source=source)
    out = out[out["answer"].notna().to_numpy()]
    return out.sort_values("administration_id", kind="stable").reset_index(drop=True)


def plain_answer(value: object) -> str | None:
    """An answer cell as text; missing and blank cells are ``None`` (unanswered)."""
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None


def validate_scores(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                    source: str | None) -> pd.DataFrame:
    """Scores with numeric values, linked to existing administrations."""
    if len(frame) == 0:
        return empty_table(SCORE_COLUMNS).astype({"value": float, "missing_rule_applied": bool})
    table = frame.reset_index(drop=True)
    require_columns(table, ("administration_id", "score", "value"), table="scores",
                    source=source)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    score = text_column(table, "score", rows, source=source)
    administration_field(admin, administrations, "instrument", rows, source=source)
    value = pd.to_numeric(table["value"], errors="coerce").astype(float)
    bad = value.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("score value is not a number", source=source, row=rows[i],
                         field="value", found=table["value"].iloc[i], expected="a number")
    band = (table["band"].astype("string").str.strip().mask(lambda b: b == "").astype(object)
            if "band" in table.columns else pd.Series([None] * len(table), dtype=object))
    version = (text_column(table, "scoring_version", rows, source=source, required=False)
               if "scoring_version" in table.columns else pd.Series([""] * len(table)))
    rule = (_booleans(table["missing_rule_applied"], rows, source=source)
            if "missing_rule_applied" in table.columns else np.zeros(len(table), dtype=bool))
    out = pd.DataFrame({"administration_id": admin, "score": score,
                        "value": value.to_numpy(), "band": band.where(band.notna(), None),
                        "scoring_version": version.astype(object),
                        "missing_rule_applied": rule})
    check_unique(out["administration_id"] + " / " + out["score"], rows,
                 what="administration_id / score", source=source)
    return out.sort_values(["administration_id", "score"], kind="stable").reset_index(drop=True)


def answers_by_administration(responses: pd.DataFrame,
                               ) -> dict[str, tuple[tuple[str, str], ...]]:
    """Administration id -> its (item, answer) pairs, in the table's order."""
    ids = responses["administration_id"].to_numpy(dtype=object)
    if not len(ids):
        return {}
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    items = responses["item"].to_numpy(dtype=object)[order]
    texts = responses["answer"].to_numpy(dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    return {ids[a]: tuple(zip(items[a:b], texts[a:b], strict=True))
            for a, b in zip(starts, ends, strict=True)}


def administration_field(admin: pd.Series, administrations: pd.DataFrame, column: str,
                          rows: np.ndarray, *, source: str | None) -> pd.Series:
    """The ``column`` of each row's administration; an unknown administration is an error."""
    lookup = administrations.set_index("administration_id")[column]
    values = admin.map(lookup)
    unknown = values.isna().to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError("no such administration", source=source, row=rows[i],
                         field="administration_id", found=admin.iloc[i],
                         expected="the id of an administration in the record")
    return values.astype(object)


def _booleans(values: pd.Series, rows: np.ndarray, *, source: str | None) -> np.ndarray:
    text = values.astype("string").str.strip().str.lower().fillna("false")
    truth = text.isin(["true", "1", "yes"]).to_numpy()
    known = (truth | text.isin(["false", "0", "no", ""]).to_numpy())
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise InputError("not true/false", source=source, row=rows[i],
                         field="missing_rule_applied", found=values.iloc[i],
                         expected="true or false")
    return truth

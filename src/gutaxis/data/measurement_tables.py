"""Validation of the tables of :class:`~gutaxis.data.measurements.Measurements`.

Each ``validate_*`` function takes a table as a caller gave it (strings or datetimes,
optional generated columns, an optional ``source_row`` column naming the row of the file
it came from) and returns it with fixed columns and dtypes, sorted canonically, or
raises :class:`~gutaxis.errors.InputError` naming the row and the field at fault.
Answers are validated by the instrument registry, once per distinct (item, answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from gutaxis.instruments.base import RawAnswer

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


def answer_text(value: object, *, kind: str) -> str | None:
    """The canonical text of a parsed answer (``None`` stays ``None``).

    Exact decimals stay exact (13/2 -> ``6.5``); times in minutes become ``HH:MM`` or
    ``HH:MM:SS``; booleans ``true``/``false``.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        if kind == "time":
            seconds = int(value * 60)
            hours, rest = divmod(seconds, 3600)
            minutes, secs = divmod(rest, 60)
            return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")
        return fraction_text(value)
    return str(value)


def fraction_text(value: Fraction) -> str:
    """Shortest exact decimal text of a fraction; ``repr(float)`` if none exists.

    A fraction ``n / (2^a 5^b)`` is ``n 10^k / (2^a 5^b)`` with ``k = max(a, b)`` digits
    after the point: integer arithmetic, exact at any length.
    """
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return repr(float(value))
    places = max(twos, fives)
    digits = str(abs(value.numerator) * 10**places // value.denominator).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")


def validate_administrations(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """Administrations with registry keys, UTC times and unique ids."""
    if len(frame) == 0:
        return empty_table(ADMINISTRATION_COLUMNS).astype({"time": TIME_DTYPE})
    table = frame.reset_index(drop=True)
    require_columns(table, ("subject", "time", "instrument"), table="administrations",
                    source=source)
    rows = source_rows(table)
    subject = text_column(table, "subject", rows, source=source)
    time = parse_times(table["time"], source=source, rows=rows)
    instrument = instrument_keys(text_column(table, "instrument", rows, source=source), rows,
                                 source=source)
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


def instrument_keys(names: pd.Series, rows: np.ndarray, *, source: str | None) -> pd.Series:
    """Registry keys (``id@version``) of instrument names; unknown names are an error."""
    from gutaxis.instruments import get_instrument

    keys: dict[str, str] = {}
    values = names.to_numpy(dtype=object)
    for name in pd.unique(values):
        try:
            keys[name] = get_instrument(str(name)).key
        except InputError as exc:
            row = rows[int(np.argmax(values == name))]
            raise InputError(exc.message, source=source, row=row, field="instrument",
                             found=name, expected=exc.expected) from None
    return names.map(keys).astype(object)


def validate_responses(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                       source: str | None) -> pd.DataFrame:
    """Answers checked against their instrument's items; unanswered rows dropped.

    Every (administration, item) pair appears once; the administration must exist; the
    item must belong to its instrument; the answer must be valid for the item (checked
    once per distinct answer by :meth:`gutaxis.instruments.Item.parse`) and is stored
    as its canonical text.
    """
    if len(frame) == 0:
        return empty_table(RESPONSE_COLUMNS)
    from gutaxis.instruments import get_instrument

    table = frame.reset_index(drop=True)
    require_columns(table, RESPONSE_COLUMNS, table="responses", source=source)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    item = text_column(table, "item", rows, source=source)
    instrument = _administration_field(admin, administrations, "instrument", rows,
                                       source=source)
    raw = table["answer"].to_numpy(dtype=object)
    answer = np.full(len(table), None, dtype=object)
    groups = pd.DataFrame({"i": instrument, "q": item}).groupby(["i", "q"], sort=False).indices
    for pair, index in groups.items():
        key, item_id = str(pair[0]), str(pair[1])  # type: ignore[index]
        try:
            definition = get_instrument(key).item(item_id)
        except InputError as exc:
            raise InputError(exc.message, source=source, row=rows[index[0]], field=item_id,
                             found=item_id, expected=exc.expected) from None
        codes, uniques = pd.factorize(raw[index])      # NaN/None -> code -1: unanswered
        texts = np.full(len(uniques) + 1, None, dtype=object)
        for j, value in enumerate(uniques):
            first = index[int(np.argmax(codes == j))]
            parsed = definition.parse(_cell(value), source=source, row=rows[first])
            texts[j] = answer_text(parsed, kind=definition.kind)
        answer[index] = texts[codes]
    out = pd.DataFrame({"administration_id": admin, "item": item, "answer": answer})
    check_unique(out["administration_id"] + " / " + out["item"], rows,
                 what="administration_id / item", source=source)
    out = out[out["answer"].notna().to_numpy()]
    order = _item_order(out, administrations)
    return out.assign(_o=order).sort_values(["administration_id", "_o"], kind="stable").drop(
        columns="_o").reset_index(drop=True)


def validate_scores(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                    source: str | None) -> pd.DataFrame:
    """Scores whose names belong to their administration's instrument."""
    if len(frame) == 0:
        return empty_table(SCORE_COLUMNS).astype({"value": float, "missing_rule_applied": bool})
    from gutaxis.instruments import get_instrument

    table = frame.reset_index(drop=True)
    require_columns(table, ("administration_id", "score", "value"), table="scores",
                    source=source)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    score = text_column(table, "score", rows, source=source)
    instrument = _administration_field(admin, administrations, "instrument", rows,
                                       source=source)
    for key, name in pd.unique(pd.Series(list(zip(instrument, score, strict=True)))):
        try:
            get_instrument(key).score_spec(name)
        except InputError as exc:
            row = rows[int(np.argmax(((instrument == key) & (score == name)).to_numpy()))]
            raise InputError(exc.message, source=source, row=row, field="score", found=name,
                             expected=exc.expected) from None
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


def score_administrations(administrations: pd.DataFrame, responses: pd.DataFrame, *,
                          bands: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """Score every administration with its instrument; scores that cannot be computed
    (too many missing items) are left out.

    Administrations with the same instrument and the same answers share one scoring
    call (a diary of 0-10 ratings needs at most 11).
    """
    from gutaxis.instruments import get_instrument

    answers = answers_by_administration(responses)
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[object, ...]]] = {}
    records: list[tuple[object, ...]] = []
    for admin, key in zip(administrations["administration_id"],
                          administrations["instrument"], strict=True):
        given = answers.get(admin, ())
        found = cache.get((key, given))
        if found is None:
            result = get_instrument(key).score(dict(given), bands=(bands or {}).get(key))
            found = [(name, value, result.bands.get(name), result.scoring_version,
                      result.missing_rule_applied)
                     for name, value in result.values.items() if value is not None]
            cache[(key, given)] = found
        records.extend((admin, *row) for row in found)
    frame = pd.DataFrame.from_records(records, columns=list(SCORE_COLUMNS))
    return validate_scores(frame, administrations, source=None)


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


def _administration_field(admin: pd.Series, administrations: pd.DataFrame, column: str,
                          rows: np.ndarray, *, source: str | None) -> pd.Series:
    lookup = administrations.set_index("administration_id")[column]
    values = admin.map(lookup)
    unknown = values.isna().to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise InputError("no such administration", source=source, row=rows[i],
                         field="administration_id", found=admin.iloc[i],
                         expected="the id of an administration in the record")
    return values.astype(object)


def _item_order(responses: pd.DataFrame, administrations: pd.DataFrame) -> np.ndarray:
    """Position of each response's item in its instrument (the manual's order)."""
    from gutaxis.instruments import get_instrument

    keys = responses["administration_id"].map(
        administrations.set_index("administration_id")["instrument"])
    position: dict[tuple[str, str], int] = {}
    for key in pd.unique(keys.to_numpy(dtype=object)):
        for i, item_id in enumerate(get_instrument(key).item_ids):
            position[(key, item_id)] = i
    return np.array([position[(k, q)] for k, q in zip(keys, responses["item"], strict=True)],
                    dtype=np.int64)


def _cell(value: object) -> RawAnswer:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float | int | str | bool | Fraction):
        return value
    return str(value)


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

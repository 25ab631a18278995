"""The instrument rules applied to the longitudinal record.

:class:`~gutaxis.data.Measurements` is plain data: it checks structure (columns, ids,
times, units, links) and knows nothing of questionnaires. This module, above it, checks
the questionnaire tables against the registry and scores them into the record:

- :func:`record_from_answers` builds a record whose instrument names are registry keys
  (``nrs`` -> ``nrs@11``), whose answers are valid for their items and stored as
  canonical text (``7.0`` -> ``7``, ``yes`` -> ``true``), in the manual's item order, and
  whose score names belong to their instrument; errors name the row and the field;
- :func:`score_record` computes every administration's scores.

The readers of questionnaire formats (record TSV, response CSV, REDCap, FHIR) call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from gutaxis.data.measurement_tables import (
    RESPONSE_COLUMNS,
    SCORE_COLUMNS,
    administration_field,
    answers_by_administration,
    require_columns,
    source_rows,
    text_column,
    validate_responses,
    validate_scores,
)
from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError
from gutaxis.instruments.base import RawAnswer
from gutaxis.instruments.registry import get_instrument

_NO_TABLE = pd.DataFrame()


def record_from_answers(*, administrations: pd.DataFrame = _NO_TABLE,
                        responses: pd.DataFrame = _NO_TABLE, scores: pd.DataFrame = _NO_TABLE,
                        labs: pd.DataFrame = _NO_TABLE, interventions: pd.DataFrame = _NO_TABLE,
                        samples: pd.DataFrame = _NO_TABLE,
                        source: str | None = None) -> Measurements:
    """A :class:`Measurements` record with its questionnaire tables checked by the registry.

    Takes the same tables as :class:`Measurements` (any may be omitted).

    Raises
    ------
    InputError
        An unknown instrument, an item that is not one of its instrument's, an answer
        the item does not allow, a score name the instrument does not compute; and
        every structural error :class:`Measurements` refuses. Each names the row
        (``source_row`` when given) and the field.

    Examples
    --------
    >>> import pandas as pd
    >>> m = record_from_answers(
    ...     administrations=pd.DataFrame({"administration_id": ["a"], "subject": ["p1"],
    ...         "time": ["2024-03-01T08:00Z"], "instrument": ["NRS"]}),
    ...     responses=pd.DataFrame({"administration_id": ["a"], "item": ["pain"],
    ...                             "answer": [7.0]}))
    >>> m.administrations["instrument"].tolist(), m.responses["answer"].tolist()
    (['nrs@11'], ['7'])
    """
    record = Measurements(administrations=_registry_keys(administrations, source=source),
                          labs=labs, interventions=interventions, samples=samples,
                          source=source)
    admins = record.administrations
    answers = validate_responses(_canonical_answers(responses, admins, source=source), admins,
                                 source=source)
    answers = answers.assign(_o=_item_order(answers, admins)).sort_values(
        ["administration_id", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)
    return record.with_validated_tables(
        responses=answers,
        scores=validate_scores(_checked_score_names(scores, admins, source=source), admins,
                               source=source))


def score_record(record: Measurements, *,
                 bands: Mapping[str, Mapping[str, str]] | None = None) -> Measurements:
    """The record with its scores recomputed from its responses by the registry.

    Parameters
    ----------
    record
        A record built by :func:`record_from_answers` (instrument names are registry keys).
    bands
        Instrument key -> {score name -> band set name} for alternative bands.

    Notes
    -----
    Scores that cannot be computed (too many missing items) are left out.
    Administrations with the same instrument and the same answers share one scoring
    call (a diary of 0-10 ratings needs at most 11).
    """
    answers = answers_by_administration(record.responses)
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[object, ...]]] = {}
    rows: list[tuple[object, ...]] = []
    admins = record.administrations
    for admin, key in zip(admins["administration_id"], admins["instrument"], strict=True):
        given = answers.get(admin, ())
        found = cache.get((key, given))
        if found is None:
            result = get_instrument(key).score(dict(given), bands=(bands or {}).get(key))
            found = [(name, value, result.bands.get(name), result.scoring_version,
                      result.missing_rule_applied)
                     for name, value in result.values.items() if value is not None]
            cache[(key, given)] = found
        rows.extend((admin, *row) for row in found)
    frame = pd.DataFrame.from_records(rows, columns=list(SCORE_COLUMNS))
    return record.with_validated_tables(scores=validate_scores(frame, admins, source=None))


def instrument_keys(names: pd.Series, rows: np.ndarray, *, source: str | None) -> pd.Series:
    """Registry keys (``id@version``) of instrument names; unknown names are an error."""
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


def _registry_keys(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """Administrations with instrument names replaced by registry keys."""
    if len(frame) == 0 or "instrument" not in frame.columns:
        return frame  # Measurements names what is missing
    table = frame.reset_index(drop=True)
    rows = source_rows(table)
    names = text_column(table, "instrument", rows, source=source)
    return table.assign(instrument=instrument_keys(names, rows, source=source).to_numpy())


def _canonical_answers(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                       source: str | None) -> pd.DataFrame:
    """Responses with each answer parsed by its item (once per distinct answer) and
    written as canonical text; an unknown item or an invalid answer names its row."""
    if len(frame) == 0:
        return frame
    table = frame.reset_index(drop=True)
    require_columns(table, RESPONSE_COLUMNS, table="responses", source=source)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    item = text_column(table, "item", rows, source=source)
    instrument = administration_field(admin, administrations, "instrument", rows,
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
    return table.assign(administration_id=admin.to_numpy(), item=item.to_numpy(),
                        answer=answer)


def _checked_score_names(frame: pd.DataFrame, administrations: pd.DataFrame, *,
                         source: str | None) -> pd.DataFrame:
    """Refuse a score name that its administration's instrument does not compute."""
    if len(frame) == 0 or not {"administration_id", "score"} <= set(frame.columns):
        return frame  # Measurements names what is missing
    table = frame.reset_index(drop=True)
    rows = source_rows(table)
    admin = text_column(table, "administration_id", rows, source=source)
    score = text_column(table, "score", rows, source=source)
    instrument = administration_field(admin, administrations, "instrument", rows,
                                      source=source)
    for key, name in pd.unique(pd.Series(list(zip(instrument, score, strict=True)))):
        try:
            get_instrument(key).score_spec(name)
        except InputError as exc:
            row = rows[int(np.argmax(((instrument == key) & (score == name)).to_numpy()))]
            raise InputError(exc.message, source=source, row=row, field="score", found=name,
                             expected=exc.expected) from None
    return frame


def _item_order(responses: pd.DataFrame, administrations: pd.DataFrame) -> np.ndarray:
    """Position of each response's item in its instrument (the manual's order)."""
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


__all__ = ["answer_text", "fraction_text", "instrument_keys", "record_from_answers",
           "score_record"]

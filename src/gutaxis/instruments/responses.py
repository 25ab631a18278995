"""Questionnaire responses from CSV: one row per administration, one column per item.

The file has a header row. ``subject_id`` is required; ``administered_at`` is optional and,
when filled, must be an ISO 8601 timestamp with a timezone (``2024-03-01T09:30:00+01:00``
or ``...Z``). Every other column must be an item id of the instrument (see
:func:`response_template`); item columns may be left out, which makes those items
unanswered in every row. An empty cell is an unanswered item.

Problems with the file itself (unreadable, not UTF-8, no header, unknown or duplicated
columns, no ``subject_id``, two rows for one subject at the same ``administered_at``) raise
:class:`~gutaxis.errors.InputError`. Problems within a row (out-of-range answer, bad
timestamp, missing subject) become :class:`RowError` records and the other rows are still
read. Row numbers count the header as row 1, as a spreadsheet
shows them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gutaxis.errors import InputError, InstrumentError
from gutaxis.instruments.base import Answer, Instrument, Score
from gutaxis.instruments.registry import get_instrument
from gutaxis.io._files import existing_file, read_text

if TYPE_CHECKING:
    import pandas as pd

SUBJECT = "subject_id"
ADMINISTERED = "administered_at"
META_COLUMNS = (SUBJECT, ADMINISTERED)


@dataclass(frozen=True)
class ResponseRow:
    """One valid administration read from a file.

    Attributes
    ----------
    row
        Row number in the file (header = 1).
    subject_id
        The subject's identifier.
    administered_at
        When the questionnaire was answered (timezone-aware), or None if not given.
    answers
        Item id -> validated answer (None where unanswered), for every item.
    """

    row: int
    subject_id: str
    administered_at: datetime | None
    answers: dict[str, Answer]


@dataclass(frozen=True)
class RowError:
    """Why one row of a response file could not be read or scored."""

    row: int
    field: str | None
    reason: str
    found: str | None
    expected: str | None
    message: str

    @classmethod
    def from_error(cls, exc: InputError, *, row: int, source: str) -> RowError:
        """Wrap an :class:`InputError` raised while reading or scoring a row."""
        located = InputError(exc.message, source=source, row=row, field=exc.field,
                             column=exc.column, found=exc.found, expected=exc.expected)
        return cls(row=row, field=exc.field or exc.column, reason=exc.message,
                   found=None if exc.found is None else str(exc.found),
                   expected=exc.expected, message=str(located))


@dataclass(frozen=True)
class ResponseFile:
    """The readable rows and the row errors of one response file."""

    source: str
    instrument: Instrument
    rows: tuple[ResponseRow, ...]
    errors: tuple[RowError, ...]
    absent_items: tuple[str, ...]


@dataclass(frozen=True)
class ScoredRow:
    """A response row together with its :class:`Score`."""

    row: int
    subject_id: str
    administered_at: datetime | None
    score: Score


def response_template(instrument: Instrument | str) -> list[str]:
    """Column names of a response file: ``subject_id, administered_at`` then the item ids
    in the manual's order."""
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    return [*META_COLUMNS, *inst.item_ids]


def parse_timestamp(text: str, *, field: str = ADMINISTERED) -> datetime:
    """An ISO 8601 timestamp with timezone.

    Raises
    ------
    InstrumentError
        Not ISO 8601, or a date/time without a timezone.

    Examples
    --------
    >>> parse_timestamp("2024-03-01T09:30:00Z").isoformat()
    '2024-03-01T09:30:00+00:00'
    """
    expected = "an ISO 8601 timestamp with timezone, e.g. 2024-03-01T09:30:00+01:00"
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InstrumentError("not an ISO 8601 timestamp", field=field, found=text,
                              expected=expected) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InstrumentError("timestamp has no timezone", field=field, found=text,
                              expected=expected)
    return moment


def read_responses(path: str | Path, instrument: Instrument | str) -> ResponseFile:
    """Read a CSV of responses to ``instrument``.

    Parameters
    ----------
    path
        The CSV file (UTF-8, optionally with a byte-order mark).
    instrument
        The instrument or its key (``"odi"``, ``"odi@2.1a"``).

    Returns
    -------
    ResponseFile
        Valid rows (answers validated) and one :class:`RowError` per invalid row.

    Raises
    ------
    InputError
        The file cannot be read, its header is not a valid response header, or two valid
        rows are administrations to the same subject at the same time.
    """
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    source = str(path)
    text = read_text(existing_file(Path(path)))
    records = _records(text, source)
    first = next(records, None)
    if first is None:
        raise InputError("file is empty", source=source,
                         expected="a header row: " + ",".join(response_template(inst)))
    columns = _check_header([c.strip() for c in first[1]], inst, source)
    rows: list[ResponseRow] = []
    errors: list[RowError] = []
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        try:
            rows.append(_parse_row(record, columns, inst, number))
        except InputError as exc:
            errors.append(RowError.from_error(exc, row=number, source=source))
    _check_one_administration_per_time(rows, inst, source)
    absent = tuple(i for i in inst.item_ids if i not in columns)
    return ResponseFile(source=source, instrument=inst, rows=tuple(rows),
                        errors=tuple(errors), absent_items=absent)


def score_responses(responses: ResponseFile, *, bands: Mapping[str, str] | None = None
                    ) -> tuple[list[ScoredRow], list[RowError]]:
    """Score every valid row; rows whose scoring fails become :class:`RowError` records.

    Returns ``(scored rows, all row errors)`` with the errors in row order, those from
    reading included.
    """
    scored: list[ScoredRow] = []
    errors = list(responses.errors)
    for row in responses.rows:
        try:
            score = responses.instrument.score_parsed(row.answers, bands=bands)
        except InputError as exc:
            errors.append(RowError.from_error(exc, row=row.row, source=responses.source))
            continue
        scored.append(ScoredRow(row.row, row.subject_id, row.administered_at, score))
    errors.sort(key=lambda e: e.row)
    return scored, errors


def _check_one_administration_per_time(rows: list[ResponseRow], inst: Instrument,
                                       source: str) -> None:
    """The check ``import-responses`` makes, on the rows read: one administration per
    subject and time (rows without ``administered_at`` are not compared)."""
    import numpy as np
    import pandas as pd

    from gutaxis.data.measurement_tables import check_one_administration_per_time

    check_one_administration_per_time(
        pd.Series([r.subject_id for r in rows], dtype=object),
        pd.Series([inst.key] * len(rows), dtype=object),
        pd.Series([r.administered_at for r in rows], dtype="datetime64[ns, UTC]"),
        np.array([r.row for r in rows]), source=source, column=ADMINISTERED)


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for record in reader:
            number += 1
            yield number, record
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file: {exc}", source=source,
                         row=number + 1) from None


def _check_header(header: list[str], inst: Instrument, source: str) -> list[str]:
    known = set(META_COLUMNS) | set(inst.item_ids)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputError("duplicated column", source=source, row=1, column=name,
                             expected="each column once")
        seen.add(name)
        if name not in known:
            raise InstrumentError(f"unknown column for {inst.key}", source=source, row=1,
                                  column=name, expected="subject_id, administered_at or "
                                  "an item id: " + ", ".join(inst.item_ids))
    if SUBJECT not in seen:
        raise InputError("no subject_id column", source=source, row=1, found=header,
                         expected="a header starting " + ",".join(META_COLUMNS))
    return header


def _parse_row(record: list[str], columns: list[str], inst: Instrument,
               number: int) -> ResponseRow:
    if len(record) != len(columns):
        raise InputError("wrong number of cells", found=len(record),
                         expected=f"{len(columns)} cells, as in the header")
    cells = dict(zip(columns, record, strict=True))
    subject = cells.get(SUBJECT, "").strip()
    if not subject:
        raise InputError("subject_id is empty", field=SUBJECT, expected="an identifier")
    stamp = cells.get(ADMINISTERED, "").strip()
    moment = parse_timestamp(stamp) if stamp else None
    raw = {name: value for name, value in cells.items() if name not in META_COLUMNS}
    answers = inst.parse(raw)
    return ResponseRow(row=number, subject_id=subject, administered_at=moment,
                       answers=answers)


def score_frame(frame: pd.DataFrame, instrument: Instrument | str, *,
                bands: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Score every row of a wide table of answers (one column per item).

    Parameters
    ----------
    frame
        One row per administration; columns named by item id are read, other columns
        (subject, time, ...) are ignored. Missing values (None, NaN, NA, "") are
        unanswered items.
    instrument
        The instrument or its key.
    bands
        Score name -> alternative band set.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``frame``: one float column per score (NaN when not computable),
        ``<score>_band``, ``band_sets`` (``score=set;...``), ``missing_items``,
        ``missing_rule_applied`` and ``notes``.

    Raises
    ------
    InstrumentError
        No item column, or an invalid answer (the error names the row label and item).

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"p_average_pain": [6, 3], "e_enjoyment_of_life": [5, 4],
    ...                         "g_general_activity": [7, None]}, index=["a", "b"])
    >>> score_frame(answers, "peg")["peg"].tolist()
    [6.0, nan]
    """
    import pandas as pd

    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    items = [c for c in frame.columns if c in inst.item_ids]
    if not items:
        raise InstrumentError(f"no column is an item of {inst.key}", field="columns",
                              found=list(frame.columns)[:10],
                              expected="item ids: " + ", ".join(inst.item_ids))
    answers = frame[items].astype(object)
    answers = answers.where(answers.notna(), None)
    records = []
    for label, row in zip(frame.index, answers.to_dict("records"), strict=True):
        try:
            parsed = inst.parse({str(k): v for k, v in row.items()})
        except InputError as exc:
            raise InstrumentError(exc.message, source="DataFrame", row=str(label),
                                  field=exc.field, found=exc.found,
                                  expected=exc.expected) from None
        score = inst.score_parsed(parsed, bands=bands)
        record: dict[str, object] = {}
        for name, value in score.values.items():
            record[name] = math.nan if value is None else value
            record[f"{name}_band"] = score.bands.get(name)
        record.update(band_sets=band_sets_text(score),
                      missing_items=";".join(score.missing_items),
                      missing_rule_applied=score.missing_rule_applied,
                      notes="; ".join(score.notes))
        records.append(record)
    return pd.DataFrame.from_records(records, index=frame.index,
                                     columns=score_columns(inst)[5:])


ERROR_COLUMNS = ("row", "field", "found", "reason", "expected")


def score_columns(instrument: Instrument) -> list[str]:
    """Columns of a scores table: row, subject, time, instrument, then each score and
    its band, the band sets used (``score=set;...``), then the missing-item record."""
    columns = ["row", SUBJECT, ADMINISTERED, "instrument", "scoring_version"]
    for spec in instrument.scores:
        columns += [spec.name, f"{spec.name}_band"]
    return [*columns, "band_sets", "missing_items", "missing_rule_applied", "notes"]


def score_record(scored: ScoredRow) -> dict[str, str]:
    """One scored row as text cells keyed by :func:`score_columns` (empty = missing)."""
    score = scored.score
    record = {"row": str(scored.row), SUBJECT: scored.subject_id,
              ADMINISTERED: ("" if scored.administered_at is None
                             else scored.administered_at.isoformat()),
              "instrument": score.instrument, "scoring_version": score.scoring_version}
    for name, value in score.values.items():
        record[name] = format_value(value)
        record[f"{name}_band"] = score.bands.get(name) or ""
    record["band_sets"] = band_sets_text(score)
    record["missing_items"] = ";".join(score.missing_items)
    record["missing_rule_applied"] = "true" if score.missing_rule_applied else "false"
    record["notes"] = "; ".join(score.notes)
    return record


def band_sets_text(score: Score) -> str:
    """The band sets a score used, as ``score=set;...`` (scores without bands left out)."""
    return ";".join(f"{name}={used}" for name, used in score.band_sets.items()
                    if used is not None)


def error_record(error: RowError) -> dict[str, str]:
    """One row error as text cells keyed by :data:`ERROR_COLUMNS`."""
    return {"row": str(error.row), "field": error.field or "", "found": error.found or "",
            "reason": error.reason, "expected": error.expected or ""}


def format_value(value: float | None, *, decimals: int = 6) -> str:
    """A score as text: empty when missing, integers without a decimal point, otherwise
    rounded to ``decimals`` places with trailing zeros dropped (35.555556)."""
    if value is None:
        return ""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")

"""Import a REDCap "raw" CSV export (longitudinal, repeating instruments) into the record.

A REDCap export is one wide table: the record id in the first column, then
``redcap_event_name`` (longitudinal projects), ``redcap_repeat_instrument`` and
``redcap_repeat_instance`` (repeating instruments), then every field, and a
``<form>_complete`` status per form. Rows of a repeating form carry its name in
``redcap_repeat_instrument``; fields of non-repeating forms sit on the row whose
``redcap_repeat_instrument`` is empty (one per record and event).

A :class:`RedcapMapping` says which REDCap form holds which gutaxis instrument (and
which field its items and its date are in), and which forms hold labs, interventions
and sample links. Without one, forms are matched by name: a form whose name is a
registry instrument id (``nrs``, ``bpi_sf`` for ``bpi-sf``) is read with its fields
named ``<form>_<item id>`` (or the bare item id) and its time in ``<form>_date``,
``<form>_datetime``, ``<form>_time`` or the survey's ``<form>_timestamp`` (where
REDCap's ``[not completed]`` counts as no time).

REDCap stores local wall-clock times, so ``timezone`` must name where they were taken.
A date field used for an administration that is empty on its row is taken from the
same record and event's non-repeating row (REDCap's visit date).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gutaxis.data.measurements import Measurements
from gutaxis.data.timestamps import parse_times
from gutaxis.errors import InputError, preview
from gutaxis.instruments.record import record_from_answers, score_record
from gutaxis.instruments.record_tsv import answers_long, read_text_table
from gutaxis.instruments.registry import get_instrument
from gutaxis.io._files import PathLike, existing_file, read_text

if TYPE_CHECKING:
    from gutaxis.instruments.base import Instrument

EVENT = "redcap_event_name"
REPEAT_FORM = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
#: Field-name endings of a form's own bookkeeping fields, never items.
_FORM_META = ("complete", "date", "datetime", "time", "timestamp")
#: What REDCap writes in a survey's ``<form>_timestamp`` before it is completed.
_NOT_COMPLETED = "[not completed]"
#: Target tables a form may fill besides questionnaires, with their required columns.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "labs": ("time", "analyte", "reported_value", "reported_unit"),
    "interventions": ("type", "start"),
    "samples": ("sample_id", "time"),
}


@dataclass(frozen=True, kw_only=True)
class RedcapForm:
    """A REDCap form holding one gutaxis instrument.

    Parameters
    ----------
    form
        The REDCap form (instrument) name.
    instrument
        The gutaxis instrument (``nrs``, ``odi@2.1a``).
    time_field
        The field holding the administration's date or time.
    items
        REDCap field -> item id. Default: every field named ``<form>_<item id>`` or
        ``<item id>`` for the instrument's items.
    """

    form: str
    instrument: str
    time_field: str
    items: Mapping[str, str] | None = None


@dataclass(frozen=True, kw_only=True)
class RedcapTable:
    """A REDCap form holding labs, interventions or sample links.

    Parameters
    ----------
    form
        The REDCap form name.
    table
        ``labs``, ``interventions`` or ``samples``.
    fields
        Record column (``analyte``, ``reported_value``, ``time``, ``start``, ...) ->
        REDCap field holding it.
    constants
        Record column -> a value for every row (e.g. ``{"reported_unit": "mg/L"}`` when
        the form has no unit field).
    """

    form: str
    table: str
    fields: Mapping[str, str]
    constants: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RedcapMapping:
    """How a REDCap project's forms map onto the record.

    Attributes
    ----------
    forms
        How each REDCap form maps onto an instrument's items.
    tables
        How each REDCap form maps onto a record table (labs, interventions, ...).
    """

    forms: tuple[RedcapForm, ...] = ()
    tables: tuple[RedcapTable, ...] = ()

    @classmethod
    def from_json(cls, path: PathLike) -> RedcapMapping:
        """Read ``{"forms": [{"form": ..., "instrument": ..., "time_field": ...,
        "items": {...}}], "tables": [{"form": ..., "table": ..., "fields": {...},
        "constants": {...}}]}``.

        Parameters
        ----------
        path
            The mapping file (JSON).
        """
        file = existing_file(path)
        try:
            data = json.loads(read_text(file))
            return cls(forms=tuple(RedcapForm(**f) for f in data.get("forms", [])),
                       tables=tuple(RedcapTable(**t) for t in data.get("tables", [])))
        except (json.JSONDecodeError, TypeError, AttributeError, RecursionError) as exc:
            raise InputError("not a REDCap mapping", source=str(file), found=str(exc),
                             expected='JSON {"forms": [...], "tables": [...]}') from None


def read_redcap(path: PathLike, *, timezone: str | None = None,
                mapping: RedcapMapping | None = None, score: bool = True) -> Measurements:
    """Read a REDCap raw CSV export into a :class:`Measurements` record.

    Parameters
    ----------
    path
        The export (CSV, raw values, not labels).
    timezone
        IANA timezone of the project's dates and times (REDCap stores none). Required
        as soon as a date is read.
    mapping
        Which forms hold what; default: forms named after registry instruments.
    score
        Score every administration with the registry.

    Raises
    ------
    InputError
        Unknown instrument or item, answers out of range, missing or offset-less dates,
        lab units that cannot be converted: each naming the line and the field.
    """
    file = existing_file(path)
    source = str(file)
    frame, lines = read_text_table(file, sep=",")
    frame.columns = [str(c).strip() for c in frame.columns]
    _require_export_header(list(frame.columns), source, mapped=mapping is not None)
    export = _Export(frame, lines, source=source, timezone=timezone)
    chosen = mapping if mapping is not None else infer_mapping(frame.columns)
    if not chosen.forms and not chosen.tables:
        raise InputError(
            "nothing to import: no form of the export is a registry instrument",
            source=source, row=1, found="forms " + preview(_forms(frame.columns)),
            expected="a form named after an instrument with a '<form>_date' field "
                     "(e.g. nrs, nrs_date, nrs_complete), or a mapping file (--mapping)")
    admins: list[pd.DataFrame] = []
    responses: list[pd.DataFrame] = []
    for form in chosen.forms:
        a, r = export.questionnaire(form)
        admins.append(a)
        responses.append(r)
    tables: dict[str, list[pd.DataFrame]] = {k: [] for k in TABLE_COLUMNS}
    for spec in chosen.tables:
        tables[spec.table].append(export.table(spec))
    record = record_from_answers(
        administrations=_concat(admins), responses=_concat(responses),
        labs=_concat(tables["labs"]), interventions=_concat(tables["interventions"]),
        samples=_concat(tables["samples"]), source=source)
    return score_record(record) if score else record


def _require_export_header(columns: list[str], source: str, *, mapped: bool) -> None:
    """Refuse a CSV that is not a REDCap raw export.

    REDCap writes the project's record id field first (``record_id`` unless renamed),
    then ``redcap_event_name`` / ``redcap_repeat_instrument`` / ``redcap_repeat_instance``
    in longitudinal or repeating projects, then each instrument's fields closed by its
    ``<form>_complete`` status column. With a mapping (a report export may leave the
    status columns out) only the first column is checked.
    """
    if len(columns) < 2:
        raise InputError("not a REDCap export", source=source, row=1,
                         found=", ".join(columns),
                         expected="a record id column followed by fields")
    first = columns[0]
    if first.startswith("redcap_") or first.endswith("_complete") or first == "":
        raise InputError("not a REDCap export: the first column is not the record id field",
                         source=source, row=1, column=first,
                         expected="the project's record id field (e.g. record_id) first, "
                                  "as REDCap exports it")
    if not mapped and not _forms(columns):
        raise InputError(
            "not a REDCap export: no instrument status ('<form>_complete') column",
            source=source, row=1, found=preview(columns),
            expected="a REDCap raw CSV export, where each instrument's fields end with a "
                     "'<form>_complete' column")


def _forms(columns: pd.Index | list[str]) -> list[str]:
    """The instruments (forms) of an export, from their ``<form>_complete`` columns."""
    return [str(c)[: -len("_complete")] for c in columns
            if str(c).endswith("_complete") and len(str(c)) > len("_complete")]


def infer_mapping(columns: pd.Index | list[str]) -> RedcapMapping:
    """Forms named after registry instruments, found by their ``<form>_complete`` column."""
    names = [str(c) for c in columns]
    forms = []
    for column in names:
        if not column.endswith("_complete"):
            continue
        form = column[: -len("_complete")]
        try:
            instrument = get_instrument(form.replace("_", "-"))
        except InputError:
            try:
                instrument = get_instrument(form)
            except InputError:
                continue
        time_field = next((f"{form}_{s}" for s in ("date", "datetime", "time", "timestamp")
                           if f"{form}_{s}" in names), None)
        if time_field is None:
            continue
        forms.append(RedcapForm(form=form, instrument=instrument.key, time_field=time_field))
    return RedcapMapping(forms=tuple(forms))


class _Export:
    """The export with its structure decoded: record, event, repeat form and instance."""

    def __init__(self, frame: pd.DataFrame, lines: np.ndarray, *, source: str,
                 timezone: str | None) -> None:
        self.frame = frame
        self.source = source
        self.timezone = timezone
        self.record_field = str(frame.columns[0])
        self.lines = lines
        self.record = frame[self.record_field].str.strip()
        self.event = frame[EVENT] if EVENT in frame else pd.Series("", index=frame.index)
        self.repeat = (frame[REPEAT_FORM].str.strip() if REPEAT_FORM in frame
                       else pd.Series("", index=frame.index))
        self.instance = (frame[REPEAT_INSTANCE].str.strip() if REPEAT_INSTANCE in frame
                         else pd.Series("", index=frame.index))

    def _field(self, name: str, *, form: str) -> pd.Series:
        if name not in self.frame.columns:
            raise InputError(f"field of form {form!r} not in the export", source=self.source,
                             row=1, column=name, expected="a column of the export")
        return self.frame[name].str.strip()

    def _rows(self, form: str, fields: list[str]) -> np.ndarray:
        """Rows holding data of ``form``: its repeat rows, and non-repeating rows with at
        least one of ``fields`` filled (a form may repeat in some events only)."""
        mine = (self.repeat == form).to_numpy()
        if not fields:
            return mine
        filled = (self.frame[fields] != "").any(axis=1).to_numpy()
        return mine | ((self.repeat == "").to_numpy() & filled)

    def _times(self, name: str, rows: np.ndarray, *, form: str,
               required: bool = True) -> pd.Series:
        """The time field on each row, else the record and event's non-repeating row,
        parsed in the project's timezone."""
        values = self._field(name, form=form).replace(_NOT_COMPLETED, "")
        base = (self.repeat == "").to_numpy() & (values != "").to_numpy()
        lookup = pd.Series(values[base].to_numpy(),
                           index=pd.MultiIndex.from_arrays([self.record[base],
                                                            self.event[base]]))
        lookup = lookup[~lookup.index.duplicated()]
        keys = pd.MultiIndex.from_arrays([self.record[rows], self.event[rows]])
        fallback = pd.Series(lookup.reindex(keys).to_numpy(), index=values[rows].index)
        own = values[rows]
        out = own.where(own != "", fallback).fillna("")
        empty = (out == "").to_numpy()
        if required and empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise InputError("date is missing", source=self.source,
                             row=int(self.lines[rows][i]), column=name,
                             expected=f"a date for this {form!r} entry (on its row or on the "
                                      "event's non-repeating row)")
        return parse_times(out.where(~empty, None), source=self.source,
                           rows=self.lines[rows], column=name, timezone=self.timezone,
                           required=required)

    def _ids(self, rows: np.ndarray, form: str) -> pd.Series:
        """``redcap/<record>[/<event>]/<form>[/<instance>]``: stable across exports."""
        parts = zip(self.record[rows], self.event[rows], self.instance[rows], strict=True)
        ids = ["/".join(p for p in ("redcap", record, event, form, instance) if p)
               for record, event, instance in parts]
        return pd.Series(ids, index=self.record[rows].index, dtype=object)

    def questionnaire(self, form: RedcapForm) -> tuple[pd.DataFrame, pd.DataFrame]:
        try:
            instrument = get_instrument(form.instrument)
        except InputError as exc:
            raise InputError(exc.message, source=self.source, field="instrument",
                             found=form.instrument, expected=exc.expected) from None
        items = dict(form.items) if form.items is not None else self._item_fields(form,
                                                                                  instrument)
        if not items:
            raise InputError(f"form {form.form!r} has no item field in the export",
                             source=self.source, row=1,
                             expected=f"{instrument.key} item columns such as " + ", ".join(
                                 f"{form.form}_{item}" for item in instrument.item_ids[:3]))
        for column in items:
            self._field(column, form=form.form)
        unknown = [f for f, item in items.items() if item not in instrument.item_ids]
        if unknown:
            raise InputError(f"field maps to no item of {instrument.key}", source=self.source,
                             row=1, column=unknown[0], found=items[unknown[0]],
                             expected="one of " + ", ".join(instrument.item_ids))
        rows = self._rows(form.form, list(items))
        time = self._times(form.time_field, rows, form=form.form)
        ids = self._ids(rows, form.form)
        admins = pd.DataFrame({"administration_id": ids, "subject": self.record[rows],
                               "time": time.to_numpy(), "instrument": instrument.key,
                               "source_row": self.lines[rows]})
        wide = self.frame.loc[rows, list(items)].rename(columns=items)
        return admins, answers_long(wide, ids, self.lines[rows])

    def _item_fields(self, form: RedcapForm, instrument: Instrument) -> dict[str, str]:
        """``<form>_<item>`` or ``<item>`` columns; any other ``<form>_`` column except the
        time fields (``_date``, ``_datetime``, ``_time``, ``_timestamp``) and the status
        is an unknown item."""
        item_ids = instrument.item_ids
        prefix = f"{form.form}_"
        skip = {form.time_field, *(prefix + s for s in _FORM_META)}
        out: dict[str, str] = {}
        for column in map(str, self.frame.columns):
            if column in skip:
                continue
            if column.startswith(prefix):
                out[column] = column[len(prefix):]
            elif column in item_ids:
                out[column] = column
        return out

    def table(self, spec: RedcapTable) -> pd.DataFrame:
        if spec.table not in TABLE_COLUMNS:
            raise InputError("unknown record table", source=self.source, field="table",
                             found=spec.table,
                             expected="one of " + ", ".join(TABLE_COLUMNS))
        fields = dict(spec.fields)
        missing = [c for c in TABLE_COLUMNS[spec.table]
                   if c not in fields and c not in spec.constants]
        if missing:
            raise InputError(f"mapping of form {spec.form!r} lacks a column",
                             source=self.source, field=missing[0],
                             expected="a REDCap field or a constant for it")
        time_columns = [c for c in ("time", "start", "stop") if c in fields]
        data_fields = [f for c, f in fields.items() if c not in time_columns]
        for name in fields.values():
            self._field(name, form=spec.form)
        rows = self._rows(spec.form, data_fields)
        out = pd.DataFrame({"subject": self.record[rows], "source_row": self.lines[rows]})
        for column, name in fields.items():
            if column in ("time", "start", "stop"):
                out[column] = self._times(name, rows, form=spec.form,
                                          required=column != "stop").set_axis(out.index)
            else:
                out[column] = self.frame.loc[rows, name].str.strip().to_numpy()
        for column, value in spec.constants.items():
            out[column] = value
        if spec.table == "labs" and "lab_id" not in out:
            out["lab_id"] = self._ids(rows, spec.form).to_numpy()
        if spec.table == "interventions" and "intervention_id" not in out:
            out["intervention_id"] = self._ids(rows, spec.form).to_numpy()
        return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = ["RedcapForm", "RedcapMapping", "RedcapTable", "infer_mapping", "read_redcap"]

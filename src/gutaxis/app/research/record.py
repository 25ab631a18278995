"""The bridge from the clinic's tables to the engine: one implementation for the exports,
the FHIR Bundles and the analysis jobs.

:func:`load_record` reads patients' diaries, questionnaire answers, labs, interventions
and microbiome samples and gives a :class:`ClinicRecord`:

* ``measurements``: a :class:`gutaxis.data.Measurements` whose subjects are the
  pseudonyms. Each diary day becomes two administrations at noon of that day in the
  patient's timezone (before any shift): ``nrs@11`` (item ``pain``) and, when
  recorded, ``bristol@1997`` (item ``stool_type``). Questionnaires are scored again
  from their answers by the engine (:func:`gutaxis.instruments.record.score_record`);
  labs are converted from the reported value and unit by the engine; ids are
  ``diary-<id>-nrs``, ``q<id>``, ``L<id>``, ``I<id>`` and ``S<id>`` (database ids, not
  labels a lab may have chosen).
* ``diary``: one row per diary day (tidy; the free-text notes are never included).
* ``profile``: the samples x features :class:`gutaxis.data.ProfileTable` (counts, or
  relative abundances when any sample holds relative values) with its taxonomy.
* ``sample_metadata``: one row per sample (index ``sample_id``): ``subject``, ``time``,
  the mean of each diary value over the 14 calendar days ending on the collection day
  (``pain_mean_14d`` ...), each questionnaire score and lab analyte at the sample as
  :meth:`gutaxis.data.Measurements.at_samples` matches it (last value at or before the
  sample within 30 days; columns ``nrs_pain``, ``crp`` ...), and
  ``intervention_active`` (1 inside any intervention period, else 0).

With ``secret`` given, the record is de-identified (:mod:`gutaxis.app.research.deid`):
every time and day of a patient is shifted by the patient's secret offset, and answers
to free-text questionnaire items (e.g. BPI's treatments) are left out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import (
    DiaryEntry,
    Intervention,
    LabResult,
    MicrobiomeSample,
    Patient,
    QuestionnaireResponse,
)
from gutaxis.app.diary.schemas import GI_SYMPTOMS
from gutaxis.app.research.deid import date_offset_days, shift_date, shift_time
from gutaxis.errors import GutaxisError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from gutaxis.data import Measurements, ProfileTable

#: Numeric diary columns (``probiotic_taken`` as 0/1), in the order of the exports.
DIARY_VALUES: tuple[str, ...] = (
    "pain", "bristol", *(f"gi_{s}" for s in GI_SYMPTOMS), "fibre_servings",
    "fermented_servings", "ultra_processed_servings", "added_sugar_g", "probiotic_taken",
    "exercise_minutes", "stress", "sleep_hours", "sleep_quality")
#: Columns of :attr:`ClinicRecord.diary`.
DIARY_COLUMNS: tuple[str, ...] = ("subject", "day", "pain_sites", *DIARY_VALUES)
#: Days of diary averaged before each sample (ending on the collection day).
DIARY_WINDOW_DAYS = 14
#: Largest gap between a sample and the score or lab value matched to it.
MATCH_TOLERANCE = "30D"
_DIARY_HOUR = 12


@dataclass(frozen=True, eq=False)
class ClinicRecord:
    """Patients' data in the engine's types (see the module docstring)."""

    subjects: dict[int, str]
    measurements: Measurements
    diary: pd.DataFrame
    profile: ProfileTable | None
    sample_metadata: pd.DataFrame
    offsets: dict[str, int] = field(default_factory=dict)

    @property
    def deidentified(self) -> bool:
        return bool(self.offsets)


@dataclass(frozen=True)
class _SampleLinks:
    """The samples of the record as :class:`gutaxis.data.measurements.SampleLinks`."""

    sample_ids: np.ndarray
    metadata: pd.DataFrame
    subject_column: str | None = "subject"
    time_column: str | None = None
    source: str | None = "clinic database"

    def subjects(self) -> pd.Series:
        return self.metadata["subject"]


def load_record(session: Session, patient_ids: Sequence[int] | None = None, *,
                secret: str | None = None) -> ClinicRecord:
    """The record of ``patient_ids`` (every patient when ``None``); de-identified (dates
    shifted per patient) when ``secret`` is given."""
    query = select(Patient).order_by(Patient.id)
    if patient_ids is not None:
        query = query.where(Patient.id.in_(list(patient_ids)))
    patients = list(session.scalars(query))
    subjects = {p.id: p.pseudonym for p in patients}
    offsets = ({p.pseudonym: date_offset_days(secret, p.pseudonym) for p in patients}
               if secret is not None else {})
    shift = {p.id: offsets.get(p.pseudonym, 0) for p in patients}
    zones = {p.id: ZoneInfo(p.timezone or "UTC") for p in patients}
    ids = list(subjects)
    entries = _rows(session, DiaryEntry, ids)
    diary = _diary_rows(entries, subjects, shift)
    administrations, responses = _administrations(session, entries, ids, subjects, shift,
                                                  zones, free_text=secret is None)
    measurements = _measurements(session, ids, subjects, shift, administrations, responses)
    profile = _profile(session, ids)
    metadata = _sample_metadata(measurements, diary, zones_by_subject={
        subjects[i]: zones[i] for i in ids})
    return ClinicRecord(subjects=subjects, measurements=measurements, diary=diary,
                        profile=profile, sample_metadata=metadata, offsets=offsets)


# ----------------------------------------------------------------------- tables
def _rows(session: Session, model: Any, ids: list[int]) -> list[Any]:
    """The rows of ``model``'s table for these patients, by id (plain rows, not ORM
    objects: ten times faster to load; same attribute names)."""
    table = model.__table__
    return list(session.execute(select(*table.c).where(table.c.patient_id.in_(ids))
                                .order_by(table.c.id)))


def _diary_rows(entries: list[Any], subjects: dict[int, str],
                shift: dict[int, int]) -> pd.DataFrame:
    import pandas as pd

    rows: list[dict[str, Any]] = []
    for e in sorted(entries, key=lambda e: (e.patient_id, e.day)):
        gi = e.gi_symptoms or {}
        rows.append({
            "subject": subjects[e.patient_id], "day": shift_date(e.day, shift[e.patient_id]),
            "pain_sites": ";".join(sorted(e.pain_sites or [])), "pain": e.pain,
            "bristol": e.bristol, **{f"gi_{s}": gi.get(s) for s in GI_SYMPTOMS},
            "fibre_servings": e.fibre_servings, "fermented_servings": e.fermented_servings,
            "ultra_processed_servings": e.ultra_processed_servings,
            "added_sugar_g": e.added_sugar_g,
            "probiotic_taken": None if e.probiotic_taken is None else int(e.probiotic_taken),
            "exercise_minutes": e.exercise_minutes, "stress": e.stress,
            "sleep_hours": e.sleep_hours, "sleep_quality": e.sleep_quality})
    frame = pd.DataFrame(rows, columns=list(DIARY_COLUMNS))
    values = frame[list(DIARY_VALUES)].apply(pd.to_numeric, errors="coerce")
    return frame.assign(**{c: values[c].astype(float) for c in DIARY_VALUES})


def _diary_time(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Noon of ``day`` in the patient's timezone, in UTC."""
    local = dt.datetime.combine(day, dt.time(_DIARY_HOUR), tzinfo=zone)
    return local.astimezone(dt.UTC)


def _administrations(session: Session, entries: list[Any], ids: list[int],
                     subjects: dict[int, str],
                     shift: dict[int, int], zones: dict[int, ZoneInfo], *, free_text: bool
                     ) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, Any]]]:
    """Administrations and answers; without ``free_text``, answers to free-text items
    (which may name people or places) are left out."""
    from gutaxis.instruments.registry import get_instrument

    text_items: dict[str, set[str]] = {}

    def kept(instrument: str, item: str) -> bool:
        if free_text:
            return True
        if instrument not in text_items:
            try:
                text_items[instrument] = {i.id for i in get_instrument(instrument).items
                                          if i.kind == "text"}
            except GutaxisError:  # unknown here: the record refuses it with its message
                text_items[instrument] = set()
        return item not in text_items[instrument]

    admins: list[tuple[str, str, str, str]] = []
    answers: list[tuple[str, str, Any]] = []
    for e in entries:
        at = shift_time(_diary_time(e.day, zones[e.patient_id]), shift[e.patient_id])
        subject = subjects[e.patient_id]
        admins.append((f"diary-{e.id}-nrs", subject, at.isoformat(), "nrs@11"))
        answers.append((f"diary-{e.id}-nrs", "pain", int(e.pain)))
        if e.bristol is not None:
            admins.append((f"diary-{e.id}-bristol", subject, at.isoformat(), "bristol@1997"))
            answers.append((f"diary-{e.id}-bristol", "stool_type", int(e.bristol)))
    for r in _rows(session, QuestionnaireResponse, ids):
        key = f"q{r.id}"
        at = shift_time(r.time, shift[r.patient_id])
        admins.append((key, subjects[r.patient_id], at.isoformat(), r.instrument))
        answers.extend((key, item, value) for item, value in (r.answers or {}).items()
                       if value is not None and kept(r.instrument, item))
    return admins, answers


def _measurements(session: Session, ids: list[int], subjects: dict[int, str],
                  shift: dict[int, int], admins: list[tuple[str, str, str, str]],
                  answers: list[tuple[str, str, Any]]) -> Measurements:
    import pandas as pd

    from gutaxis.data.interventions import INTERVENTION_COLUMNS
    from gutaxis.data.measurement_tables import (
        ADMINISTRATION_COLUMNS,
        RESPONSE_COLUMNS,
        SAMPLE_COLUMNS,
    )
    from gutaxis.instruments.record import record_from_answers, score_record

    labs = [{"lab_id": f"L{r.id}", "subject": subjects[r.patient_id],
             "time": shift_time(r.time, shift[r.patient_id]).isoformat(),
             "analyte": r.analyte, "reported_value": r.reported_value,
             "reported_unit": r.reported_unit}
            for r in session.scalars(select(LabResult).where(LabResult.patient_id.in_(ids))
                                     .order_by(LabResult.id))]
    interventions = [
        {"intervention_id": f"I{r.id}", "subject": subjects[r.patient_id], "type": r.type,
         "product": r.product or "", "dose": float("nan") if r.dose is None else r.dose,
         "dose_unit": r.dose_unit or "",
         "start": _midnight(shift_date(r.start, shift[r.patient_id])),
         "stop": None if r.stop is None else _midnight(shift_date(r.stop, shift[r.patient_id]))}
        for r in session.scalars(select(Intervention).where(Intervention.patient_id.in_(ids))
                                 .order_by(Intervention.id))]
    samples = [(f"S{s.id}", subjects[s.patient_id],
                shift_time(s.collected_at, shift[s.patient_id]).isoformat())
               for s in session.scalars(select(MicrobiomeSample)
                                        .where(MicrobiomeSample.patient_id.in_(ids))
                                        .order_by(MicrobiomeSample.id))]
    record = record_from_answers(
        administrations=pd.DataFrame(admins, columns=list(ADMINISTRATION_COLUMNS)),
        responses=pd.DataFrame(answers, columns=list(RESPONSE_COLUMNS)),
        labs=pd.DataFrame(labs) if labs else pd.DataFrame(),
        interventions=(pd.DataFrame(interventions, columns=list(INTERVENTION_COLUMNS))
                       if interventions else pd.DataFrame()),
        samples=pd.DataFrame(samples, columns=list(SAMPLE_COLUMNS)) if samples
        else pd.DataFrame(),
        source="clinic database")
    return score_record(record)


def _midnight(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC).isoformat()


def _profile(session: Session, ids: list[int]) -> ProfileTable | None:
    import pandas as pd

    from gutaxis.data import ProfileTable

    rows = list(session.scalars(select(MicrobiomeSample)
                                .where(MicrobiomeSample.patient_id.in_(ids))
                                .order_by(MicrobiomeSample.id)))
    if not rows:
        return None
    relative = any(r.value_kind != "counts" for r in rows)
    values: dict[str, dict[str, float]] = {}
    lineages: dict[str, Any] = {}
    for r in rows:
        profile = {str(k): float(v) for k, v in (r.profile or {}).items()}
        total = sum(profile.values())
        if relative and r.value_kind == "counts" and total > 0:
            profile = {k: v / total for k, v in profile.items()}
        values[f"S{r.id}"] = profile
        for feature, lineage in (r.taxonomy or {}).items():
            lineages.setdefault(str(feature), lineage)
    frame = pd.DataFrame.from_dict(values, orient="index").fillna(0.0)
    frame = frame.reindex(columns=sorted(frame.columns))
    taxonomy = _taxonomy(lineages, list(frame.columns)) if lineages else None
    return ProfileTable.from_dataframe(frame, kind="relative" if relative else "counts",
                                       taxonomy=taxonomy)


def _taxonomy(lineages: dict[str, Any], features: list[str]) -> pd.DataFrame:
    """Rank columns from stored lineages: strings (``k__…; p__…``), lists (ranks in
    order) or mappings (rank -> name)."""
    import pandas as pd

    from gutaxis.data.profile import RANKS
    from gutaxis.io.lineages import parse_lineages

    def text(lineage: Any) -> str | None:
        if isinstance(lineage, dict):
            lineage = [lineage.get(rank) for rank in RANKS]
        if isinstance(lineage, list):
            parts = [f"{rank[0]}__{name}" for rank, name in zip(RANKS, lineage, strict=False)
                     if name]
            return "; ".join(parts) or None
        return str(lineage) if lineage else None

    series = pd.Series([text(lineages.get(f)) for f in features], index=features, dtype=object)
    return parse_lineages(series)


# ------------------------------------------------------------- sample metadata
def _column_name(variable: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", variable).strip("_").lower()


def _sample_metadata(m: Measurements, diary: pd.DataFrame, *,
                     zones_by_subject: dict[str, ZoneInfo]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    from gutaxis.data.timestamps import format_times

    samples = m.samples
    index = pd.Index(samples["sample_id"].astype(str), name="sample_id")
    meta = pd.DataFrame({"subject": samples["subject"].astype(str).to_numpy(),
                         "time": format_times(samples["time"]).to_numpy()}, index=index)
    if not len(samples):
        return meta
    days = [t.astimezone(zones_by_subject.get(s, ZoneInfo("UTC"))).date()
            for s, t in zip(samples["subject"], samples["time"].dt.to_pydatetime(),
                            strict=True)]
    window = dt.timedelta(days=DIARY_WINDOW_DAYS - 1)
    by_subject = {s: g for s, g in diary.groupby("subject")} if len(diary) else {}
    means = np.full((len(meta), len(DIARY_VALUES)), np.nan)
    for i, (subject, day) in enumerate(zip(meta["subject"], days, strict=True)):
        rows = by_subject.get(subject)
        if rows is not None:
            inside = (rows["day"] >= day - window) & (rows["day"] <= day)
            means[i] = rows.loc[inside, list(DIARY_VALUES)].mean(skipna=True).to_numpy()
    meta = meta.assign(**{f"{c}_mean_14d": means[:, j] for j, c in enumerate(DIARY_VALUES)})
    links = _SampleLinks(sample_ids=index.to_numpy(), metadata=meta)
    for variable in m.variables():
        is_lab = variable in set(m.labs["analyte"].astype(str))
        matched = (m.at_samples(links, lab=variable, how="last-before",
                                tolerance=MATCH_TOLERANCE) if is_lab else
                   m.at_samples(links, variable, how="last-before",
                                tolerance=MATCH_TOLERANCE))
        meta[_column_name(variable)] = matched.to_numpy()
    active = m.interventions_at_samples(links)["active"]
    meta["intervention_active"] = active.astype(int).to_numpy()
    return meta

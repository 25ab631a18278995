"""Store an uploaded microbiome table as samples of a patient, with each sample's panel;
list a patient's samples.

:func:`prepare_upload` does all the reading, validating and computing outside any
database transaction (an error leaves nothing behind); :func:`store_upload` only writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import MicrobiomeSample, Upload
from gutaxis.app.samples.reading import NamedBytes, plain_error, read_upload
from gutaxis.errors import InputError, preview

if TYPE_CHECKING:
    from gutaxis.data.profile import ProfileTable

#: The largest upload accepted (bytes); a bigger file is answered with 413.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SAMPLE_TIMES_COLUMNS = ("sample_id", "collected_at")


@dataclass
class PreparedSample:
    """One sample ready to store."""

    label: str
    collected_at: dt.datetime
    profile: dict[str, float]
    taxonomy: dict[str, str]
    panel: dict[str, Any]


@dataclass
class PreparedUpload:
    """A validated upload and its samples."""

    filename: str
    content: bytes
    sha256: str
    value_kind: str
    summary: dict[str, Any]
    samples: list[PreparedSample] = field(default_factory=list)


def prepare_upload(table_file: NamedBytes, *, taxonomy_file: NamedBytes | None,
                   collected_at: str | None, sample_times: NamedBytes | None,
                   timezone: str) -> PreparedUpload:
    """Read, validate and compute everything an upload stores (raises InputError)."""
    try:
        return _prepare(table_file, taxonomy_file=taxonomy_file, collected_at=collected_at,
                        sample_times=sample_times, timezone=timezone)
    except InputError as exc:
        raise plain_error(exc) from None


def _prepare(table_file: NamedBytes, *, taxonomy_file: NamedBytes | None,
             collected_at: str | None, sample_times: NamedBytes | None,
             timezone: str) -> PreparedUpload:
    import numpy as np

    from gutaxis.app.samples.metrics import dysbiosis_against, sample_metrics
    from gutaxis.app.samples.panel import build_panel
    from gutaxis.app.samples.references import reference_for, reference_profiles

    table = read_upload(table_file, taxonomy_file)
    if table.kind not in ("counts", "relative"):
        raise InputError("a microbiome sample must hold read counts or relative abundances",
                         source=table_file.filename, found=table.kind,
                         expected="counts or relative abundances")
    times = sample_collection_times(list(table.sample_ids), collected_at=collected_at,
                                    sample_times=sample_times, timezone=timezone)
    reference = reference_for(table.kind)
    metrics = sample_metrics(table, depth=reference.rarefied_depth)
    totals = table.sample_totals()
    overlap = None
    profiles = reference_profiles(reference.key)
    if profiles is not None:
        metrics["dysbiosis_score"] = dysbiosis_against(table, profiles).to_numpy()
        shared = np.isin(table.feature_ids, profiles.feature_ids).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            overlap = (table.values @ shared) / totals
    lineages = _lineages(table)
    has_taxonomy = table.taxonomy is not None
    prepared = PreparedUpload(
        filename=table_file.filename, content=table_file.content,
        sha256=hashlib.sha256(table_file.content).hexdigest(), value_kind=table.kind,
        summary={"n_samples": int(table.n_samples), "n_features": int(table.n_features),
                 "value_kind": table.kind, "reference": reference.key,
                 "taxonomy_file": None if taxonomy_file is None else taxonomy_file.filename,
                 "taxonomy_sha256": None if taxonomy_file is None
                 else hashlib.sha256(taxonomy_file.content).hexdigest()})
    values = table.values
    for i, label in enumerate(table.sample_ids):
        lo, hi = values.indptr[i], values.indptr[i + 1]
        features = [str(table.feature_ids[j]) for j in values.indices[lo:hi]]
        row = metrics.iloc[i]
        panel = build_panel({name: float(row[name]) for name in metrics.columns
                             if name not in ("rarefied", "notes")},
                            rarefied=bool(row["rarefied"]), depth=float(totals[i]),
                            nan_notes=str(row["notes"]), value_kind=table.kind,
                            reference=reference, has_taxonomy=has_taxonomy,
                            reference_overlap=None if overlap is None else float(overlap[i]))
        prepared.samples.append(PreparedSample(
            label=str(label), collected_at=times[str(label)],
            profile=dict(zip(features, map(float, values.data[lo:hi]), strict=True)),
            taxonomy={f: lineages[f] for f in features if f in lineages}, panel=panel))
    return prepared


def _lineages(table: ProfileTable) -> dict[str, str]:
    """Feature id -> ``"Bacteria; Firmicutes; ..."`` (the ranks assigned), if known."""
    from gutaxis.data.profile import RANKS

    if table.taxonomy is None:
        return {}
    ranks = [r for r in RANKS if r in table.taxonomy.columns]
    out: dict[str, str] = {}
    for feature, row in zip(table.taxonomy.index, table.taxonomy[ranks].itertuples(
            index=False), strict=True):
        names = [str(v) for v in row if isinstance(v, str) and v.strip()]
        if names:
            out[str(feature)] = "; ".join(names)
    return out


def sample_collection_times(sample_ids: list[str], *, collected_at: str | None,
                            sample_times: NamedBytes | None, timezone: str
                            ) -> dict[str, dt.datetime]:
    """When each sample was collected: ``collected_at`` for a one-sample table, or the
    ``sample_times`` TSV (columns ``sample_id``, ``collected_at``) for any table. Times
    without a UTC offset are read in the patient's ``timezone``."""

    from gutaxis.data.timestamps import parse_times

    if (collected_at is None) == (sample_times is None):
        raise InputError("give either collected_at (one sample) or a sample_times file",
                         field="collected_at" if collected_at is None else "sample_times",
                         expected="exactly one of collected_at, sample_times")
    if collected_at is not None:
        if len(sample_ids) != 1:
            raise InputError(f"the table holds {len(sample_ids)} samples; collected_at "
                             "dates one", field="collected_at",
                             found=preview(sample_ids), expected="a sample_times file "
                             "(sample_id, collected_at) for a table of several samples")
        try:
            when = parse_times([collected_at], source=None, column="collected_at",
                               timezone=timezone)
        except InputError as exc:
            raise InputError(exc.message, field="collected_at", found=exc.found,
                             expected=exc.expected) from None
        return {sample_ids[0]: when.iloc[0].to_pydatetime()}
    assert sample_times is not None
    frame = _sample_times_frame(sample_times)
    rows = list(range(2, len(frame) + 2))
    when = parse_times(frame["collected_at"], source=sample_times.filename,
                       column="collected_at", rows=rows, timezone=timezone)
    ids = frame["sample_id"].str.strip()
    duplicated = ids.duplicated()
    if duplicated.any():
        i = int(duplicated.to_numpy().argmax())
        raise InputError("sample id given twice", source=sample_times.filename, row=rows[i],
                         column="sample_id", found=ids.iloc[i], expected="one row per sample")
    times = dict(zip(ids, (t.to_pydatetime() for t in when), strict=True))
    missing = [s for s in sample_ids if s not in times]
    if missing:
        raise InputError(f"{len(missing)} sample(s) of the table have no collection time",
                         source=sample_times.filename, column="sample_id",
                         found=preview(missing), expected="a row for every sample of the table")
    return {s: times[s] for s in sample_ids}


def _sample_times_frame(sample_times: NamedBytes) -> Any:
    from gutaxis.io._csv import read_string_table

    try:
        text = sample_times.content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", source=sample_times.filename,
                         found=f"byte {sample_times.content[exc.start]:#x}",
                         expected="a UTF-8 TSV file") from None
    frame = read_string_table(io.StringIO(text), source=sample_times.filename, sep="\t")
    frame.columns = [str(c).strip() for c in frame.columns]
    absent = [c for c in SAMPLE_TIMES_COLUMNS if c not in frame.columns]
    if absent:
        raise InputError("missing column(s): " + ", ".join(absent),
                         source=sample_times.filename, row=1, found=", ".join(frame.columns),
                         expected="a tab-separated header with sample_id and collected_at")
    return frame


def store_upload(session: Session, patient_id: int, prepared: PreparedUpload, *,
                 uploaded_by: int) -> tuple[Upload, list[MicrobiomeSample]]:
    """Write the upload and its samples (a label the patient already has is refused:
    call :func:`existing_labels` first, outside the transaction's error path)."""
    upload = Upload(kind="microbiome", filename=prepared.filename, content=prepared.content,
                    sha256=prepared.sha256, uploaded_by=uploaded_by, summary=prepared.summary)
    session.add(upload)
    session.flush()
    rows = [MicrobiomeSample(patient_id=patient_id, sample_label=s.label,
                             collected_at=s.collected_at, upload_id=upload.id,
                             value_kind=prepared.value_kind, profile=s.profile,
                             taxonomy=s.taxonomy, panel=s.panel)
            for s in prepared.samples]
    session.add_all(rows)
    session.flush()
    return upload, rows


def existing_labels(session: Session, patient_id: int, labels: list[str]) -> list[str]:
    """Which of ``labels`` the patient already has a sample of."""
    found = session.scalars(select(MicrobiomeSample.sample_label).where(
        MicrobiomeSample.patient_id == patient_id,
        MicrobiomeSample.sample_label.in_(labels))).all()
    return sorted(found)


def duplicate_labels_error(labels: list[str], filename: str) -> InputError:
    return InputError(f"{len(labels)} sample(s) of this table are already stored for the "
                      "patient", source=filename, found=preview(labels),
                      expected="new sample ids (each sample is stored once)")


def patient_samples(session: Session, patient_id: int) -> list[MicrobiomeSample]:
    """The patient's samples, oldest first."""
    return list(session.scalars(select(MicrobiomeSample).where(
        MicrobiomeSample.patient_id == patient_id).order_by(
        MicrobiomeSample.collected_at, MicrobiomeSample.id)).all())

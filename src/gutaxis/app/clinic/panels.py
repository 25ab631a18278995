"""Gut-health panels (``MicrobiomeSample.panel``, computed by the samples part) and the
latest labs, read for display. A panel is rendered as it is stored: its reference named,
each metric with value, unit, percentile (as a bar) and interpretation, and its notes."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.db.models import LabResult, MicrobiomeSample
from gutaxis.data.labs import ANALYTES

#: How many samples and lab rows the patient page reads at most.
SAMPLES_SHOWN = 6
LAB_ROWS_READ = 500


@dataclass(frozen=True)
class MetricRow:
    """One metric of a panel, ready for the table (percentile in 0-100 or ``None``)."""

    label: str
    value: str
    unit: str
    percentile: float | None
    interpretation: str
    note: str | None


@dataclass(frozen=True)
class PanelView:
    """A sample's panel: reference, metric rows, notes (empty rows when not computed)."""

    sample_id: int
    sample_label: str
    collected_at: dt.datetime
    reference: str | None
    rows: tuple[MetricRow, ...]
    notes: tuple[str, ...]
    computed_with: str | None


def panel_view(sample_id: int, label: str, collected_at: dt.datetime,
               panel: dict[str, Any] | None) -> PanelView:
    """The stored panel JSON as a table (missing or malformed parts are left out)."""
    panel = panel if isinstance(panel, dict) else {}
    ref = panel.get("reference") if isinstance(panel.get("reference"), dict) else None
    reference = None
    if ref:
        bits = [str(ref.get("name") or "unnamed reference")]
        if ref.get("n") is not None:
            bits.append(f"n = {ref['n']}")
        bits += [str(ref[k]) for k in ("source", "method") if ref.get(k)]
        reference = ", ".join(bits)
    rows = []
    for metric in panel.get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        value = metric.get("value")
        shown = f"{value:.3g}" if isinstance(value, int | float) and math.isfinite(value) \
            else "—"
        pct = metric.get("percentile")
        percentile = float(min(max(pct, 0.0), 100.0)) if isinstance(pct, int | float) \
            and math.isfinite(pct) else None
        rows.append(MetricRow(label=str(metric.get("label") or metric.get("name") or ""),
                              value=shown, unit=str(metric.get("unit") or ""),
                              percentile=percentile,
                              interpretation=str(metric.get("interpretation") or ""),
                              note=str(metric["note"]) if metric.get("note") else None))
    notes = tuple(str(n) for n in panel.get("notes") or [] if n)
    return PanelView(sample_id=sample_id, sample_label=label, collected_at=collected_at,
                     reference=reference, rows=tuple(rows), notes=notes,
                     computed_with=str(panel["computed_with"]) if panel.get("computed_with")
                     else None)


def latest_panels(session: Session, patient_id: int) -> list[PanelView]:
    """The panels of the patient's latest samples, newest first."""
    rows = session.execute(
        select(MicrobiomeSample.id, MicrobiomeSample.sample_label,
               MicrobiomeSample.collected_at, MicrobiomeSample.panel)
        .where(MicrobiomeSample.patient_id == patient_id)
        .order_by(MicrobiomeSample.collected_at.desc()).limit(SAMPLES_SHOWN)).all()
    return [panel_view(i, s, t, p) for i, s, t, p in rows]


@dataclass(frozen=True)
class LabView:
    analyte: str
    value: float
    unit: str
    time: dt.datetime
    reported: str
    notes: tuple[str, ...] = ()  # assay caveats and sourced intervals, for the reader


def latest_labs(session: Session, patient_id: int) -> list[LabView]:
    """The latest result of each analyte, by analyte."""
    seen: dict[str, LabView] = {}
    for analyte, value, unit, time, rv, ru in session.execute(
            select(LabResult.analyte, LabResult.value, LabResult.unit, LabResult.time,
                   LabResult.reported_value, LabResult.reported_unit)
            .where(LabResult.patient_id == patient_id)
            .order_by(LabResult.time.desc()).limit(LAB_ROWS_READ)):
        if analyte not in seen:
            known = ANALYTES.get(analyte)
            seen[analyte] = LabView(analyte, value, unit, time, f"{rv:g} {ru}",
                                    tuple(known.notes()) if known else ())
    return [seen[k] for k in sorted(seen)]

"""What the samples API answers (the panel's schema is the clinic's contract)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict

from gutaxis.app.timestamps import UtcDatetime

#: A database id in a URL: a positive 32-bit integer (PostgreSQL's ``integer``), so an
#: id no row can have is a 422, never an overflow inside the database driver.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class PanelReference(BaseModel):
    """The reference cohort a panel's percentiles are taken in."""

    name: str
    n: int
    source: str
    method: str


class PanelMetric(BaseModel):
    """One metric of the panel (``value`` and ``percentile`` are null where undefined)."""

    name: str
    label: str
    value: float | None
    unit: str
    percentile: float | None
    interpretation: str
    note: str | None


class Panel(BaseModel):
    """The gut-health panel of one sample."""

    reference: PanelReference
    metrics: list[PanelMetric]
    notes: list[str]
    computed_with: str


class SampleOut(BaseModel):
    """A stored microbiome sample (without its profile)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    sample_label: str
    collected_at: UtcDatetime
    upload_id: int
    value_kind: str
    n_features: int
    panel: Panel


class UploadOut(BaseModel):
    """A stored upload and the samples it added."""

    upload_id: int
    filename: str
    sha256: str
    samples: list[SampleOut]

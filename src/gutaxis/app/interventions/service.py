"""Start, stop and list interventions (checked before anything is written)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from gutaxis.app.access import MAX_ID
from gutaxis.app.db.models import Intervention
from gutaxis.app.interventions.schemas import InterventionIn
from gutaxis.data.interventions import canonical_intervention_type
from gutaxis.errors import InputError


def checked(body: InterventionIn) -> InterventionIn:
    """``body`` with its type in canonical spelling; an unknown type, a stop before the
    start or a dose without unit is an :class:`~gutaxis.errors.InputError`."""
    kind = canonical_intervention_type(body.type)
    check_stop(body.start, body.stop)
    if body.dose is not None and not (body.dose_unit or "").strip():
        raise InputError("a dose needs its unit", field="dose_unit", found=body.dose_unit,
                         expected="a unit such as CFU/day, g/day or min/week")
    return body.model_copy(update={"type": kind, "product": body.product.strip(),
                                   "dose_unit": (body.dose_unit or "").strip() or None})


def check_stop(start: dt.date, stop: dt.date | None) -> None:
    if stop is not None and stop < start:
        raise InputError("intervention stops before it starts", field="stop",
                         found=f"start {start}, stop {stop}", expected="stop on or after start")


def start(session: Session, patient_id: int, body: InterventionIn,
          created_by: int) -> Intervention:
    """Store a checked intervention (:func:`checked`)."""
    row = Intervention(patient_id=patient_id, created_by=created_by, **body.model_dump())
    session.add(row)
    session.flush()
    return row


def one(session: Session, patient_id: int, intervention_id: int) -> Intervention:
    """The patient's intervention (404 when it is not theirs or absent)."""
    row = session.get(Intervention, intervention_id) if 0 < intervention_id <= MAX_ID else None
    if row is None or row.patient_id != patient_id:
        raise HTTPException(status_code=404, detail=f"no intervention {intervention_id} of "
                            f"patient {patient_id}")
    return row


def of_patient(session: Session, patient_id: int) -> Sequence[Intervention]:
    """The patient's interventions, by start."""
    return session.scalars(select(Intervention).where(Intervention.patient_id == patient_id)
                           .order_by(Intervention.start, Intervention.id)).all()


def is_running(row: Intervention, today: dt.date) -> bool:
    return row.start <= today and (row.stop is None or row.stop >= today)

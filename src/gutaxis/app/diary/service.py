"""Write (upsert) and read diary days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gutaxis.app.db.models import DiaryEntry
from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.errors import InputError

#: How far ahead of the server's UTC date a diary day may be (the patient's own day
#: starts up to 14 hours earlier east of UTC).
_AHEAD = dt.timedelta(days=1)


def save_day(session: Session, patient_id: int, day: dt.date, entry: DiaryDay) -> DiaryEntry:
    """Store ``entry`` as the patient's diary for ``day``, replacing an earlier one.

    One statement (INSERT ... ON CONFLICT DO UPDATE), so two saves of the same day never
    both insert.
    """
    if day > dt.datetime.now(dt.UTC).date() + _AHEAD:
        raise InputError("a diary day cannot be in the future", field="day", found=str(day),
                         expected="today or earlier")
    now = dt.datetime.now(dt.UTC)
    values = {**entry.model_dump(), "patient_id": patient_id, "day": day, "updated_at": now}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DiaryEntry).values(created_at=now, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["patient_id", "day"],
        set_={k: v for k, v in values.items() if k not in ("patient_id", "day")})
    stored = session.scalars(statement.returning(DiaryEntry),
                             execution_options={"populate_existing": True}).one()
    return stored


def days(session: Session, patient_id: int, *, since: dt.date | None = None,
         until: dt.date | None = None) -> Sequence[DiaryEntry]:
    """The patient's diary days from ``since`` to ``until`` (inclusive), oldest first."""
    query = select(DiaryEntry).where(DiaryEntry.patient_id == patient_id)
    if since is not None:
        query = query.where(DiaryEntry.day >= since)
    if until is not None:
        query = query.where(DiaryEntry.day <= until)
    return session.scalars(query.order_by(DiaryEntry.day)).all()


def one_day(session: Session, patient_id: int, day: dt.date) -> DiaryEntry | None:
    return session.scalar(select(DiaryEntry).where(DiaryEntry.patient_id == patient_id,
                                                   DiaryEntry.day == day))

"""When a scheduled questionnaire is due: the one rule the portal's reminders and the
clinician's overdue flag share.

A schedule asks for the instrument every ``every_days`` days from ``first_due``. It is due
from the first scheduled date after the last answer (or from ``first_due`` when never
answered), and overdue once ``GRACE_DAYS`` have passed since it fell due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

GRACE_DAYS = 2


@dataclass(frozen=True)
class Due:
    instrument: str
    due_on: dt.date
    is_due: bool
    is_overdue: bool
    days_overdue: int


def next_due(first_due: dt.date, every_days: int, last_answered: dt.date | None) -> dt.date:
    """The first scheduled date after ``last_answered`` (``first_due`` when never answered).

    >>> next_due(dt.date(2026, 1, 1), 7, None)
    datetime.date(2026, 1, 1)
    >>> next_due(dt.date(2026, 1, 1), 7, dt.date(2026, 1, 3))
    datetime.date(2026, 1, 8)
    >>> next_due(dt.date(2026, 1, 1), 7, dt.date(2026, 1, 8))
    datetime.date(2026, 1, 15)
    """
    if every_days < 1:
        raise ValueError("every_days must be at least 1")
    if last_answered is None or last_answered < first_due:
        return first_due
    periods = (last_answered - first_due).days // every_days + 1
    return first_due + dt.timedelta(days=periods * every_days)


def due_status(instrument: str, first_due: dt.date, every_days: int,
               last_answered: dt.date | None, today: dt.date) -> Due:
    """Is the schedule due today, and how many days overdue (0 within the grace period)?

    >>> status = due_status("phq9@1", dt.date(2026, 1, 1), 14, None, dt.date(2026, 1, 5))
    >>> status.is_overdue, status.days_overdue
    (True, 4)
    """
    due_on = next_due(first_due, every_days, last_answered)
    late = (today - due_on).days
    return Due(instrument=instrument, due_on=due_on, is_due=late >= 0,
               is_overdue=late > GRACE_DAYS, days_overdue=max(late, 0) if late > GRACE_DAYS
               else 0)

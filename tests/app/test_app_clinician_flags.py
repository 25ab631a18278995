"""The patient-list flags: each rule on hand-made data (pure functions), then the list
as the API gives it."""

from __future__ import annotations

import datetime as dt

from clinic_fixtures import Cast

from gutaxis.app.db.models import Intervention, QuestionnaireSchedule
from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.app.diary.service import save_day
from gutaxis.app.patients.flags import adherence, overdue, pain_trend, patient_today, running

TODAY = dt.date(2026, 6, 30)


def days_ago(n: int, today: dt.date = TODAY) -> dt.date:
    return today - dt.timedelta(days=n)


def weeks(recent: list[float], before: list[float]) -> dict[dt.date, float]:
    """Pain on days 0, 1, ... ago (this week) and 7, 8, ... ago (the week before)."""
    out = {days_ago(i): v for i, v in enumerate(recent)}
    out.update({days_ago(7 + i): v for i, v in enumerate(before)})
    return out


def test_pain_rising_at_one_point_and_falling_at_minus_one() -> None:
    rising = pain_trend(weeks([5, 5, 5, 5], [4, 4, 4, 4]), TODAY)
    assert rising is not None and rising.label == "pain rising" and rising.level == "bad"
    assert "+1.0" in rising.detail
    falling = pain_trend(weeks([3, 3, 4, 4, 2], [5, 5, 4, 4]), TODAY)  # 3.2 vs 4.5
    assert falling is not None and falling.label == "pain falling"
    assert pain_trend(weeks([5, 5, 5, 4.7], [4, 4, 4, 4]), TODAY) is None  # +0.925


def test_pain_trend_needs_four_days_in_each_week() -> None:
    assert pain_trend(weeks([9, 9, 9], [1, 1, 1, 1, 1, 1, 1]), TODAY) is None
    assert pain_trend(weeks([9, 9, 9, 9, 9, 9, 9], [1, 1, 1]), TODAY) is None
    # days 14+ ago and future days do not count as "the week before"
    far = weeks([9, 9, 9, 9], [1, 1, 1])
    far[days_ago(14)] = 1
    far[TODAY + dt.timedelta(days=1)] = 1
    assert pain_trend(far, TODAY) is None


def test_diary_gaps_below_seven_days_in_fourteen() -> None:
    six = [days_ago(i) for i in (0, 2, 4, 6, 8, 13)]
    flag = adherence([*six, days_ago(14), days_ago(30)], TODAY)
    assert flag is not None and flag.label == "diary gaps" and flag.detail.startswith("6 ")
    assert adherence([*six, days_ago(10)], TODAY) is None


def test_overdue_follows_the_schedule_rule() -> None:
    schedules = [("phq9@1", days_ago(10), 14), ("bpi@1", days_ago(2), 14),
                 ("gsrs@1", days_ago(20), 7)]
    answered = {"gsrs@1": days_ago(5)}
    flags = overdue(schedules, answered, TODAY)
    # phq9: never answered, due 10 days ago -> overdue; bpi: 2 days late, within grace;
    # gsrs: due 20, 13, 6 days ago, answered 5 days ago: next due tomorrow
    assert [f.label for f in flags] == ["phq9@1 overdue"]
    assert "10 days ago" in flags[0].detail


def test_running_interventions_started_and_not_stopped_before_today() -> None:
    rows = [("probiotic", "LGG", days_ago(5), None), ("diet", "low FODMAP", days_ago(20),
                                                      days_ago(1)),
            ("exercise", "walking", days_ago(3), TODAY),
            ("stress_management", "MBSR", TODAY + dt.timedelta(days=2), None)]
    assert [f.label for f in running(rows, TODAY)] == ["on probiotic: LGG",
                                                        "on exercise: walking"]


def test_today_is_the_patients_date() -> None:
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)
    assert patient_today("Asia/Tokyo", late) == dt.date(2026, 7, 1)
    assert patient_today("America/New_York", late) == dt.date(2026, 6, 30)


def test_the_list_carries_each_patients_flags(cast: Cast) -> None:
    clinic, a, b = cast.clinic, cast.patient_a, cast.patient_b
    today = dt.datetime.now(dt.UTC).date()
    with clinic.state.db.write() as session:
        for i in range(14):  # A: 8 pain last week, 3 the week before: rising, no gaps
            save_day(session, a, days_ago(i, today), DiaryDay(pain=8 if i < 7 else 3))
        save_day(session, b, today, DiaryDay(pain=2))  # B: one day: gaps, no trend
        session.add(QuestionnaireSchedule(patient_id=b, instrument="phq9@1", every_days=14,
                                          first_due=days_ago(10, today)))
        session.add(Intervention(patient_id=b, type="probiotic", product="LGG",
                                 start=days_ago(3, today)))
    rows = cast.clients["doc"].get("/api/v1/patients").json()
    by_name = {r["full_name"]: r for r in rows}
    assert list(by_name) == ["Ada Alpha", "Ben Beta"]
    assert [f["label"] for f in by_name["Ada Alpha"]["flags"]] == ["pain rising"]
    assert by_name["Ada Alpha"]["last_diary_day"] == str(today)
    assert [f["label"] for f in by_name["Ben Beta"]["flags"]] == [
        "diary gaps", "phq9@1 overdue", "on probiotic: LGG"]
    for role in ("pat_a", "res", "adm"):
        assert cast.clients[role].get("/api/v1/patients").status_code == 403

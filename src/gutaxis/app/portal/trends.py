"""The charts of "my trends": diary series over the last 30 or 90 days, questionnaire
scores over time, the patient's interventions shaded. Captions describe the data only;
they never say that one thing changed another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gutaxis.app.db.models import DiaryEntry, Intervention, QuestionnaireResponse
from gutaxis.app.web.charts import Chart, Line, Period

#: The spans the page offers, in days.
SPANS = (30, 90)
#: The rolling mean of pain covers this many days (the day and the 6 before it) ...
WINDOW = 7
#: ... and is shown only where at least this many of those days have an entry.
MIN_IN_WINDOW = 4


@dataclass(frozen=True)
class Trend:
    """One chart with its plain-language caption."""

    key: str
    chart: Chart
    caption: str


def rolling_mean(days: Sequence[dt.date], values: Sequence[float | None], *,
                 window: int = WINDOW, min_count: int = MIN_IN_WINDOW
                 ) -> list[float | None]:
    """For each of ``days``: the mean of the values recorded on the ``window`` calendar
    days ending that day, or None when fewer than ``min_count`` of them have a value.

    >>> d = [dt.date(2026, 1, i) for i in range(1, 6)]
    >>> rolling_mean(d, [1, 2, 3, None, 6], window=3, min_count=2)
    [None, 1.5, 2.0, 2.5, 4.5]
    """
    known = {day: float(v) for day, v in zip(days, values, strict=True) if v is not None}
    out: list[float | None] = []
    for day in days:
        inside = [known[d] for d in (day - dt.timedelta(days=k) for k in range(window))
                  if d in known]
        out.append(sum(inside) / len(inside) if len(inside) >= min_count else None)
    return out


def periods(interventions: Sequence[Intervention]) -> list[Period]:
    """The interventions as shaded periods (label: type and product)."""
    return [Period(label=f"{i.type.replace('_', ' ')}: {i.product}", start=i.start, stop=i.stop)
            for i in sorted(interventions, key=lambda i: i.start)]


def _series(entries: Sequence[DiaryEntry], days: Sequence[dt.date],
            value: Callable[[DiaryEntry], float | None]) -> list[float | None]:
    by_day = {e.day: e for e in entries}
    return [value(by_day[d]) if d in by_day else None for d in days]


def _gi_total(entry: DiaryEntry) -> float | None:
    ratings = [v for v in (entry.gi_symptoms or {}).values() if isinstance(v, int | float)]
    return float(sum(ratings)) if ratings else None


def _summary(values: Sequence[float | None], unit: str = "") -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "Nothing recorded in this period."
    unit = f" {unit}" if unit else ""
    average = sum(known) / len(known)
    return (f"Recorded on {len(known)} of {len(values)} days; average {_fmt(average)}"
            f"{unit}, lowest {_fmt(min(known))}, highest {_fmt(max(known))}.")


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def diary_trends(entries: Sequence[DiaryEntry], interventions: Sequence[Intervention], *,
                 end: dt.date, span: int) -> list[Trend]:
    """The diary charts over the ``span`` days ending on ``end``."""
    start = end - dt.timedelta(days=span - 1)
    days = [start + dt.timedelta(days=k) for k in range(span)]
    shaded = periods([i for i in interventions if (i.stop is None or i.stop >= start)
                      and i.start <= end])

    def chart(lines: tuple[Line, ...], title: str, y_label: str, y_min: float | None = 0,
              y_max: float | None = None) -> Chart:
        return Chart(lines=lines, title=title, y_label=y_label, y_min=y_min, y_max=y_max,
                     periods=shaded, start=start, end=end)

    pain = _series(entries, days, lambda e: float(e.pain))
    mean = rolling_mean(days, pain)
    gi = _series(entries, days, _gi_total)
    bristol = _series(entries, days, lambda e: e.bristol)
    fibre = _series(entries, days, lambda e: e.fibre_servings)
    fermented = _series(entries, days, lambda e: e.fermented_servings)
    processed = _series(entries, days, lambda e: e.ultra_processed_servings)
    sleep = _series(entries, days, lambda e: e.sleep_hours)
    quality = _series(entries, days, lambda e: e.sleep_quality)
    stress = _series(entries, days, lambda e: e.stress)
    return [
        Trend("pain", chart((Line("pain (0-10)", days, pain),
                             Line(f"{WINDOW}-day average", days, mean, "#c05a2b")),
                            "Pain each day", "0-10", 0, 10),
              f"Your pain rating (0 none, 10 worst) on each day you wrote the diary, and its "
              f"average over the {WINDOW} days up to each day (drawn where at least "
              f"{MIN_IN_WINDOW} of those days have an entry). " + _summary(pain)),
        Trend("gi", chart((Line("gut symptoms, total", days, gi),), "Gut symptoms", "sum"),
              "The sum of the gut symptoms you rated each day (each 0-10; symptoms left "
              "empty are not counted). " + _summary(gi)),
        Trend("bristol", chart((Line("Bristol type", days, bristol),),
                               "Stool form (Bristol type)", "type", 1, 7),
              "Bristol stool type 1 (hard lumps) to 7 (watery); types 3-4 are the usual "
              "middle of the scale. " + _summary(bristol)),
        Trend("food", chart((Line("fibre-rich", days, fibre),
                             Line("fermented", days, fermented),
                             Line("ultra-processed", days, processed)),
                            "Food servings", "servings"),
              "Servings per day as you entered them. Fibre-rich: " + _summary(fibre)
              + " Fermented: " + _summary(fermented) + " Ultra-processed: "
              + _summary(processed)),
        Trend("sleep", chart((Line("sleep (hours)", days, sleep),), "Sleep", "hours"),
              "Hours of sleep the night before. " + _summary(sleep, "hours")),
        Trend("stress", chart((Line("stress (0-10)", days, stress),
                               Line("sleep quality (0-10)", days, quality)),
                              "Stress and sleep quality", "0-10", 0, 10),
              "Stress (0 none, 10 extreme): " + _summary(stress) + " Sleep quality "
              "(0 very poor, 10 excellent): " + _summary(quality)),
    ]


def score_trends(responses: Sequence[QuestionnaireResponse],
                 names: dict[str, str], interventions: Sequence[Intervention], *,
                 local_day: Callable[[dt.datetime], dt.date], end: dt.date,
                 span: int) -> list[Trend]:
    """One chart per questionnaire answered in the ``span`` days ending on ``end``: each
    of its scores over time."""
    start = end - dt.timedelta(days=span - 1)
    shaded = periods([i for i in interventions if (i.stop is None or i.stop >= start)
                      and i.start <= end])
    by_instrument: dict[str, list[QuestionnaireResponse]] = {}
    for row in responses:
        by_instrument.setdefault(row.instrument, []).append(row)
    trends = []
    for key, rows in sorted(by_instrument.items()):
        days = [local_day(r.time) for r in rows]
        scores = sorted({name for r in rows for name in r.scores})
        lines = tuple(Line(name, days, [_score(r, name) for r in rows]) for name in scores)
        latest = rows[-1]
        last = "; ".join(f"{name} {_fmt(float(s['value']))}" + (f" ({s['band']})"
                                                               if s.get("band") else "")
                         for name, s in latest.scores.items())
        trends.append(Trend(
            f"score-{key}", Chart(lines=lines, title=names.get(key, key), y_label="score",
                                  periods=shaded, start=start, end=end),
            f"{names.get(key, key)}: answered {len(rows)} time{'s' if len(rows) != 1 else ''} "
            f"in this period; latest ({local_day(latest.time):%-d %b}): {last or 'no score'}."))
    return trends


def _score(row: QuestionnaireResponse, name: str) -> float | None:
    entry = row.scores.get(name)
    return None if not entry or entry.get("value") is None else float(entry["value"])

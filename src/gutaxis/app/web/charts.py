"""Time charts as inline SVG: lines over days, shaded periods (interventions), markers
(labs, microbiome samples). Drawn on the server, so a page needs no script library and a
chart reads the same in the browser, the HTML report and its PDF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

PALETTE = ("#1f6f8b", "#c05a2b", "#6a4c93", "#2e7d32", "#8a6d00", "#b3261e")


@dataclass(frozen=True)
class Line:
    label: str
    days: Sequence[dt.date]
    values: Sequence[float | None]  # None leaves a gap
    color: str | None = None


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    stop: dt.date | None  # None: ongoing (to the chart's end)


@dataclass(frozen=True)
class Marker:
    label: str
    day: dt.date
    kind: str = "lab"  # lab | sample | questionnaire


@dataclass(frozen=True)
class Chart:
    lines: Sequence[Line]
    title: str = ""
    y_label: str = ""
    y_min: float | None = None
    y_max: float | None = None
    periods: Sequence[Period] = field(default_factory=tuple)
    markers: Sequence[Marker] = field(default_factory=tuple)
    start: dt.date | None = None
    end: dt.date | None = None


_W, _H, _L, _R, _T, _B = 720, 260, 44, 12, 26, 40


def svg_chart(chart: Chart) -> Markup:
    """The chart as an ``<svg>`` element (accessible: a title and a description)."""
    days = [d for line in chart.lines for d in line.days]
    days += [p.start for p in chart.periods] + [m.day for m in chart.markers]
    start = chart.start or (min(days) if days else dt.date.today())
    end = chart.end or (max(days) if days else start)
    if end <= start:
        end = start + dt.timedelta(days=1)
    values = [v for line in chart.lines for v in line.values if v is not None]
    lo = chart.y_min if chart.y_min is not None else (min(values) if values else 0.0)
    hi = chart.y_max if chart.y_max is not None else (max(values) if values else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    span = (end - start).days

    def x(day: dt.date) -> float:
        return _L + (_W - _L - _R) * (day - start).days / span

    def y(value: float) -> float:
        return _T + (_H - _T - _B) * (1 - (value - lo) / (hi - lo))

    parts = [f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="{escape(chart.title or "chart")}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(chart.title)}</title>"]
    for i, period in enumerate(chart.periods):
        x0 = x(max(period.start, start))
        # an intervention that started on the chart's last day still shows as a band
        x1 = max(x(min(period.stop or end, end)), x0 + 6)
        color = PALETTE[(i + 3) % len(PALETTE)]
        parts.append(f'<rect class="period" x="{x0:.1f}" y="{_T}" width="{x1 - x0:.1f}" '
                     f'height="{_H - _T - _B}" fill="{color}" '
                     f'fill-opacity="0.12"><title>{escape(period.label)}: {period.start}'
                     f' to {period.stop or "ongoing"}</title></rect>')
        near_right = x0 > _W - _R - 160  # label inside the plot, to the left of the band
        parts.append(f'<text x="{(x1 - 3 if near_right else x0 + 3):.1f}" y="{_T + 12 + 13 * i}" '
                     f'font-size="11" fill="#444" text-anchor="{"end" if near_right else "start"}">'
                     f"{escape(period.label[:40])}</text>")
    for tick in _ticks(lo, hi):
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     'stroke="#e3e6ec"/>')
        parts.append(f'<text x="{_L - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
                     f'text-anchor="end" fill="#5b6475">{tick:g}</text>')
    for day in _day_ticks(start, end):
        anchor = "end" if x(day) > _W - _R - 20 else "middle"  # the last date stays whole
        parts.append(f'<text x="{x(day):.1f}" y="{_H - _B + 16}" font-size="11" '
                     f'text-anchor="{anchor}" fill="#5b6475">{day:%d %b}</text>')
    for i, line in enumerate(chart.lines):
        color = line.color or PALETTE[i % len(PALETTE)]
        for segment in _segments(line):
            points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in segment)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                         'stroke-width="2"/>')
            for d, v in segment:
                parts.append(f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.6" fill="{color}">'
                             f"<title>{escape(line.label)} {d}: {v:g}</title></circle>")
    for marker in chart.markers:
        shape = "#6a4c93" if marker.kind == "sample" else "#8a6d00"
        mx = x(marker.day)
        parts.append(f'<path class="marker {marker.kind}" d="M{mx:.1f},{_H - _B - 2} l-5,-9 h10 z"'
                     f' fill="{shape}"><title>{escape(marker.label)} ({marker.day})</title></path>')
    legend_x = _L
    if chart.y_label:  # the axis name first, then the lines' legend, on the top row
        parts.append(f'<text x="4" y="12" font-size="11" fill="#5b6475">'
                     f"{escape(chart.y_label)}</text>")
        legend_x = max(_L, 12 + 6 * len(chart.y_label))
    for i, line in enumerate(chart.lines):
        color = line.color or PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="6" width="12" height="4" fill="{color}"/>'
                     f'<text x="{legend_x + 16}" y="12" font-size="11">{escape(line.label)}</text>')
        legend_x += 24 + 7 * len(line.label)
    parts.append("</svg>")
    return Markup("".join(parts))


def _segments(line: Line) -> list[list[tuple[dt.date, float]]]:
    segments: list[list[tuple[dt.date, float]]] = [[]]
    for day, value in sorted(zip(line.days, line.values, strict=True), key=lambda p: p[0]):
        if value is None:
            if segments[-1]:
                segments.append([])
        else:
            segments[-1].append((day, float(value)))
    return [s for s in segments if s]


def _ticks(lo: float, hi: float) -> list[float]:
    raw = (hi - lo) / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw)
    first = step * -(-lo // step)
    return [first + i * step for i in range(int((hi - first) // step) + 1)]


def _day_ticks(start: dt.date, end: dt.date) -> list[dt.date]:
    """About seven dates from ``start``, and ``end`` itself unless one falls close to it."""
    span = (end - start).days
    step = max(1, span // 6)
    days = [start + dt.timedelta(days=d) for d in range(0, span + 1, step)]
    if (end - days[-1]).days * 2 > step:
        days.append(end)
    return days

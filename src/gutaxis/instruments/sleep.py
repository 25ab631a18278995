"""Sleep: the Pittsburgh Sleep Quality Index (PSQI; Buysse 1989).

Notes
-----
Seven components, each 0-3, sum to the global score 0-21 (> 5 = poor sleep):

* C1 subjective quality = item 6.
* C2 latency: item 2 minutes binned (<= 15 -> 0, <= 30 -> 1, <= 60 -> 2, > 60 -> 3) plus
  item 5a; the sum 0 / 1-2 / 3-4 / 5-6 maps to 0 / 1 / 2 / 3.
* C3 duration (item 4 hours), convention ``psqi-c3-v1``: h > 7 -> 0, 6 <= h <= 7 -> 1,
  5 <= h < 6 -> 2, h < 5 -> 3.
* C4 efficiency = item 4 / time in bed x 100, time in bed = (item 3 - item 1) mod 24 h,
  capped at 100 %; convention ``psqi-c4-v1``: >= 85 -> 0, >= 75 -> 1, >= 65 -> 2, else 3.
* C5 disturbances: sum of items 5b-5j, 0 / 1-9 / 10-18 / 19-27 -> 0 / 1 / 2 / 3.
* C6 medication = item 7.  C7 daytime dysfunction: items 8 + 9, 0 / 1-2 / 3-4 / 5-6.

References
----------
.. [1] Buysse DJ, Reynolds CF, Monk TH, Berman SR, Kupfer DJ. The Pittsburgh Sleep
   Quality Index: a new instrument for psychiatric practice and research. Psychiatry Res
   1989;28:193-213.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from gutaxis.instruments.base import (
    Answer,
    Computed,
    Instrument,
    Item,
    ScoreSpec,
    bands,
    numbers,
)
from gutaxis.instruments.registry import register

PSQI_DISTURBANCES = ("q5b_wake_night", "q5c_bathroom", "q5d_breathing", "q5e_cough_snore",
                     "q5f_too_cold", "q5g_too_hot", "q5h_bad_dreams", "q5i_pain",
                     "q5j_other")
PSQI_BANDS = bands("buysse-1989", "Buysse 1989: global > 5 = poor sleeper",
                   ("good", 0, 5, "[]"), ("poor", 5, 21, "(]"))
_MINUTES_PER_DAY = 1440


def _bin_sum(total: Fraction) -> Fraction:
    """0 -> 0, 1-2 -> 1, 3-4 -> 2, 5-6 -> 3 (C2 and C7)."""
    return Fraction(0) if total == 0 else Fraction(min(3, (int(total) + 1) // 2))


def latency_points(minutes: Fraction) -> int:
    """Item 2 minutes -> 0-3 (edges > 15, > 30, > 60)."""
    return sum(minutes > edge for edge in (15, 30, 60))


def duration_component(hours: Fraction) -> int:
    """C3 under convention psqi-c3-v1: > 7 -> 0, [6, 7] -> 1, [5, 6) -> 2, < 5 -> 3."""
    if hours > 7:
        return 0
    if hours >= 6:
        return 1
    return 2 if hours >= 5 else 3


def efficiency_component(percent: Fraction) -> int:
    """C4 under convention psqi-c4-v1: >= 85 -> 0, >= 75 -> 1, >= 65 -> 2, else 3."""
    return sum(percent < edge for edge in (85, 75, 65))


def _efficiency(answers: Mapping[str, Answer], notes: list[str]) -> Fraction | None:
    bed, rise, hours = numbers(answers, ("q1_bedtime", "q3_rise_time", "q4_sleep_hours"))
    if bed is None or rise is None or hours is None:
        return None
    in_bed = (rise - bed) % _MINUTES_PER_DAY
    if in_bed == 0:
        notes.append("C4: bedtime equals rise time, time in bed undefined: no score")
        return None
    percent = hours * 60 / in_bed * 100
    if percent > 100:
        notes.append(f"C4: efficiency {float(percent):.1f} % > 100 % capped at 100 %")
        percent = Fraction(100)
    return percent


def score_psqi(answers: Mapping[str, Answer]) -> Computed:
    """The seven PSQI components and the global score."""
    out = Computed({})
    c = out.values
    q6, q7, q8, q9, q5a, latency, hours = numbers(
        answers, ("q6_sleep_quality", "q7_medication", "q8_staying_awake",
                  "q9_enthusiasm", "q5a_latency_30min", "q2_latency_min", "q4_sleep_hours"))
    c["c1_quality"] = q6
    c["c2_latency"] = (None if latency is None or q5a is None
                       else _bin_sum(latency_points(latency) + q5a))
    c["c3_duration"] = None if hours is None else Fraction(duration_component(hours))
    efficiency = _efficiency(answers, out.notes)
    c["c4_efficiency"] = None if efficiency is None else Fraction(
        efficiency_component(efficiency))
    disturbances = numbers(answers, PSQI_DISTURBANCES)
    if disturbances[-1] is None and not answers.get("q5j_other_reason"):
        disturbances[-1] = Fraction(0)
        out.missing_rule_applied = True
        out.notes.append("q5j_other unanswered and no other reason given: scored 0")
    c["c5_disturbances"] = (None if any(d is None for d in disturbances) else Fraction(
        min(3, -(-int(sum(d for d in disturbances if d is not None)) // 9))))
    c["c6_medication"] = q7
    c["c7_daytime"] = None if q8 is None or q9 is None else _bin_sum(q8 + q9)
    parts = list(c.values())
    missing = [name for name, value in c.items() if value is None]
    if missing:
        c["global"] = None
        out.notes.append("components not computable: " + ", ".join(missing)
                         + ": no global score")
    else:
        c["global"] = sum((p for p in parts if p is not None), Fraction(0))
    return out


def _component(item_id: str, topic: str) -> Item:
    return Item(item_id, topic, "integer", 0, 3)


PSQI = register(Instrument(
    id="psqi", version="1989", name="Pittsburgh Sleep Quality Index",
    items=(Item("q1_bedtime", "usual bedtime", "time"),
           Item("q2_latency_min", "minutes to fall asleep", "number", 0, 1440, unit="min"),
           Item("q3_rise_time", "usual getting-up time", "time"),
           Item("q4_sleep_hours", "hours of actual sleep per night", "number", 0, 24,
                unit="h"),
           _component("q5a_latency_30min", "trouble: cannot sleep within 30 minutes"),
           *(_component(item_id, "trouble: " + item_id[4:].replace("_", " "))
             for item_id in PSQI_DISTURBANCES),
           Item("q5j_other_reason", "other reason for trouble sleeping", "text",
                scored=False),
           _component("q6_sleep_quality", "overall sleep quality"),
           _component("q7_medication", "medicine to help sleep"),
           _component("q8_staying_awake", "trouble staying awake in daytime"),
           _component("q9_enthusiasm", "problem keeping up enthusiasm")),
    scores=(*(ScoreSpec(name, 0, 3) for name in
              ("c1_quality", "c2_latency", "c3_duration", "c4_efficiency",
               "c5_disturbances", "c6_medication", "c7_daytime")),
            ScoreSpec("global", 0, 21, bands=PSQI_BANDS, description="sum of C1-C7")),
    missing_rule="A component with a missing item is not computed and then the global "
                 "score is undefined (no published rule). Item 5j scored 0 when unanswered "
                 "and no other reason is given (recorded).",
    citation="Buysse DJ et al. Psychiatry Res 1989;28:193-213.",
    licence="(c) University of Pittsburgh 1989: free reprint only for non-commercial "
            "research and education, no changes without permission. Wording not shipped.",
    wording_may_ship=False, scorer=score_psqi, scoring_version="psqi-c3-v1+psqi-c4-v1",
    conventions=("psqi-c3-v1: h > 7 -> 0, 6 <= h <= 7 -> 1, 5 <= h < 6 -> 2, h < 5 -> 3 "
                 "(exactly 7 h scores 1, exactly 6 h scores 1).",
                 "psqi-c4-v1: efficiency >= 85 -> 0, >= 75 -> 1, >= 65 -> 2, else 3; "
                 "efficiency above 100 % capped at 100 %.",
                 "C2 latency edges > 15, > 30, > 60 minutes.",
                 "Time in bed crosses midnight modulo 24 h; equal times -> C4 undefined."),
))

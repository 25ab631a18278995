"""Physical activity: the International Physical Activity Questionnaire, short form (IPAQ-SF).

Notes
-----
Inputs are days (0-7) and minutes per day for vigorous, moderate and walking activity
in the last 7 days. The data-processing rules are applied in the protocol's order:

1. a missing days or minutes answer excludes the case (except minutes left blank after
   "0 days", the form's skip pattern, which mean 0);
2. if vigorous + moderate + walking minutes per day (untruncated) exceed 960 the case is
   excluded (exactly 960 is kept);
3. a bout under 10 minutes per day is recoded to 0 minutes and 0 days;
4. minutes per day above 180 are truncated to 180.

MET-minutes per week with weights walking 3.3, moderate 4.0, vigorous 8.0:

.. math:: \\text{MET}_k = w_k \\cdot \\text{min}_k \\cdot \\text{days}_k, \\qquad
          \\text{total} = \\text{MET}_\\text{walk} + \\text{MET}_\\text{mod}
          + \\text{MET}_\\text{vig}

Category (after truncation; combined days = walking + moderate + vigorous days, which may
exceed 7): *high* if vigorous on >= 3 days with total >= 1500, or combined days >= 7 with
total >= 3000; else *moderate* if vigorous >= 3 days of >= 20 min, or >= 5 days of
moderate and/or walking of >= 30 min/day, or combined days >= 5 with total >= 600; else
*low*. Weights are exact fractions (3.3 = 33/10), so 3.3 x 10 x 6 is exactly 198.

References
----------
.. [1] IPAQ Research Committee. Guidelines for data processing and analysis of the
   International Physical Activity Questionnaire (IPAQ), short and long forms. 2005.
.. [2] Craig CL et al. International physical activity questionnaire: 12-country
   reliability and validity. Med Sci Sports Exerc 2003;35:1381-1395.
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
)
from gutaxis.instruments.registry import register

#: Intensity -> MET weight (exact).
IPAQ_MET = {"vigorous": Fraction(8), "moderate": Fraction(4), "walking": Fraction(33, 10)}
IPAQ_MAX_MIN_PER_DAY = 960
IPAQ_TRUNCATE_MIN = 180
IPAQ_MIN_BOUT = 10

IPAQ_CATEGORIES = bands("ipaq-2005", "IPAQ scoring protocol 2005 categories (1/2/3)",
                        ("low", 1, 1, "[]"), ("moderate", 2, 2, "[]"), ("high", 3, 3, "[]"))


def _activity(answers: Mapping[str, Answer], intensity: str, notes: list[str]
              ) -> tuple[Fraction, Fraction] | None:
    days = answers.get(f"{intensity}_days")
    minutes = answers.get(f"{intensity}_min_per_day")
    if not isinstance(days, Fraction):
        return None
    if not isinstance(minutes, Fraction):
        if days != 0:
            return None
        notes.append(f"{intensity}: 0 days, minutes not asked (skip pattern) -> 0")
        minutes = Fraction(0)
    return days, minutes


def ipaq_category(days: Mapping[str, Fraction], minutes: Mapping[str, Fraction],
                  total: Fraction) -> int:
    """IPAQ category 1 (low), 2 (moderate) or 3 (high) from cleaned, truncated inputs."""
    combined = sum(days.values(), Fraction(0))
    if (days["vigorous"] >= 3 and total >= 1500) or (combined >= 7 and total >= 3000):
        return 3
    mod_walk_days = sum((days[k] for k in ("moderate", "walking") if minutes[k] >= 30),
                        Fraction(0))
    if ((days["vigorous"] >= 3 and minutes["vigorous"] >= 20) or mod_walk_days >= 5
            or (combined >= 5 and total >= 600)):
        return 2
    return 1


def score_ipaq(answers: Mapping[str, Answer]) -> Computed:
    """IPAQ-SF MET-minutes per week and category, with the protocol's cleaning rules."""
    names = ("walking_met", "moderate_met", "vigorous_met", "total_met", "category")
    notes: list[str] = []
    raw: dict[str, tuple[Fraction, Fraction]] = {}
    for intensity in IPAQ_MET:
        pair = _activity(answers, intensity, notes)
        if pair is None:
            return Computed(dict.fromkeys(names), notes=[
                f"{intensity}: days or minutes missing: case excluded (IPAQ rule)"])
        raw[intensity] = pair
    per_day = sum((m for d, m in raw.values()), Fraction(0))
    if per_day > IPAQ_MAX_MIN_PER_DAY:
        return Computed(dict.fromkeys(names), notes=[
            f"minutes per day sum to {float(per_day):g} > {IPAQ_MAX_MIN_PER_DAY}: case "
            "excluded (IPAQ rule)"])
    days: dict[str, Fraction] = {}
    minutes: dict[str, Fraction] = {}
    for intensity, (d, m) in raw.items():
        if m < IPAQ_MIN_BOUT:
            if m > 0:
                notes.append(f"{intensity}: {float(m):g} min/day < {IPAQ_MIN_BOUT}: recoded "
                             "to 0 min and 0 days")
            d, m = Fraction(0), Fraction(0)
        elif m > IPAQ_TRUNCATE_MIN:
            notes.append(f"{intensity}: {float(m):g} min/day truncated to "
                         f"{IPAQ_TRUNCATE_MIN}")
            m = Fraction(IPAQ_TRUNCATE_MIN)
        days[intensity], minutes[intensity] = d, m
    met = {k: IPAQ_MET[k] * minutes[k] * days[k] for k in IPAQ_MET}
    total = sum(met.values(), Fraction(0))
    values: dict[str, Fraction | float | None] = {f"{k}_met": v for k, v in met.items()}
    values["total_met"] = total
    values["category"] = Fraction(ipaq_category(days, minutes, total))
    out = Computed(values, notes=notes)
    out.missing_rule_applied = any("skip pattern" in n for n in notes)
    return out


def _pair(intensity: str) -> tuple[Item, Item]:
    return (Item(f"{intensity}_days", f"days of {intensity} activity, last 7 days",
                 "integer", 0, 7, unit="d/wk"),
            Item(f"{intensity}_min_per_day", f"minutes per day of {intensity} activity",
                 "number", 0, 1440, unit="min/d"))


IPAQ_SF = register(Instrument(
    id="ipaq-sf", version="2005", name="International Physical Activity Questionnaire, short",
    items=(*_pair("vigorous"), *_pair("moderate"), *_pair("walking"),
           Item("sitting_min_per_day", "minutes per day sitting, weekdays", "number", 0, 1440,
                unit="min/d", scored=False)),
    scores=(ScoreSpec("walking_met", 0, 4158, unit="MET-min/wk", description="3.3 x min x days"),
            ScoreSpec("moderate_met", 0, 5040, unit="MET-min/wk", description="4 x min x days"),
            ScoreSpec("vigorous_met", 0, 10080, unit="MET-min/wk",
                      description="8 x min x days"),
            ScoreSpec("total_met", 0, 19278, unit="MET-min/wk",
                      description="walking + moderate + vigorous"),
            ScoreSpec("category", 1, 3, bands=IPAQ_CATEGORIES,
                      description="1 low, 2 moderate, 3 high")),
    missing_rule="A missing days or minutes answer excludes the case (protocol); minutes "
                 "left blank after '0 days' are the form's skip pattern and count as 0 "
                 "(recorded).",
    citation="IPAQ Research Committee. Guidelines for data processing and analysis of the "
             "IPAQ, short and long forms, 2005.",
    licence="Described as freely available (IPAQ group); current terms not retrieved. "
            "Wording not shipped (topics only).",
    wording_may_ship=False, scorer=score_ipaq,
    conventions=("Combined days = walking + moderate + vigorous days (may exceed 7), as in "
                 "the protocol's truncation example.",
                 "The 960-minute exclusion uses the untruncated per-day sum and is applied "
                 "before the 10-minute recode and the 180-minute truncation.",
                 "'>= 5 days of moderate and/or walking of >= 30 min/day' counts the days of "
                 "each of moderate and walking whose minutes are >= 30.",
                 "Days outside 0-7 are rejected as invalid answers."),
))

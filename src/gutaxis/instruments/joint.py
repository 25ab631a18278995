"""Joint and back function: WOMAC 3.1 (Likert) and the Oswestry Disability Index 2.1a.

Notes
-----
WOMAC LK3.1: 24 items scored 0-4, no reversed items.

* pain = sum of items P1-P5 (0-20), stiffness = S1 + S2 (0-8), function = F1-F17 (0-68),
  total = pain + stiffness + function (0-96).
* Missing items, per subscale with :math:`k` items and :math:`a` answered:
  :math:`\\text{score} = \\frac{k}{a} \\sum \\text{answered}` (mean substitution), allowed
  while function misses at most 3 items (Whitehouse 2004), pain at most 1 and stiffness
  at most 1 (user-guide rules as commonly quoted; unverified, see ``conventions``).

ODI 2.1a: 10 sections scored 0-5.
:math:`\\text{ODI} = \\frac{\\sum \\text{answered}}{5 \\, n_\\text{answered}} \\times 100`;
an unanswered or not-applicable section lowers the denominator by 5.

References
----------
.. [1] Bellamy N. WOMAC Osteoarthritis Index User Guide (licensed; womac.com).
.. [2] Whitehouse SL et al. J Bone Joint Surg Br 2004;86-B(Suppl IV):469.
.. [3] Fairbank JC, Pynsent PB. The Oswestry Disability Index. Spine 2000;25:2940-2952.
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
    answered,
    bands,
    numbers,
    sum_or_none,
)
from gutaxis.instruments.registry import register

_WOMAC_PAIN = ("walking", "stairs", "in bed at night", "sitting or lying",
               "standing upright")
_WOMAC_STIFFNESS = ("after first waking", "later in the day")
_WOMAC_FUNCTION = ("descending stairs", "ascending stairs", "rising from sitting",
                   "standing", "bending to floor", "walking on flat", "getting in/out of car",
                   "going shopping", "putting on socks", "rising from bed", "taking off socks",
                   "lying in bed", "getting in/out of bath", "sitting", "getting on/off toilet",
                   "heavy domestic duties", "light domestic duties")

#: (score name, item-id prefix, topics, most missing items allowed)
WOMAC_SUBSCALES: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    ("pain", "p", _WOMAC_PAIN, 1),
    ("stiffness", "s", _WOMAC_STIFFNESS, 1),
    ("function", "f", _WOMAC_FUNCTION, 3),
)


def _womac_ids(prefix: str, topics: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, len(topics) + 1))


def prorated_sum(values: list[Fraction | None], *, max_missing: int
                 ) -> tuple[Fraction | None, int]:
    """Sum of ``values`` with missing answers replaced by the mean of the answered ones.

    Returns ``(sum, n_missing)``; the sum is None when more than ``max_missing`` values
    are missing. With ``a`` of ``k`` answered the result is ``k / a * sum(answered)``.
    """
    done = answered(values)
    missing = len(values) - len(done)
    if missing > max_missing or not done:
        return None, missing
    return sum(done, Fraction(0)) * len(values) / len(done), missing


def score_womac(answers: Mapping[str, Answer]) -> Computed:
    """WOMAC LK3.1 subscale sums with mean substitution, and the total."""
    out = Computed({})
    for name, prefix, topics, max_missing in WOMAC_SUBSCALES:
        value, missing = prorated_sum(numbers(answers, _womac_ids(prefix, topics)),
                                      max_missing=max_missing)
        out.values[name] = value
        if value is None:
            out.notes.append(f"{name}: {missing} of {len(topics)} items missing "
                             f"(at most {max_missing} allowed): no score")
        elif missing:
            out.missing_rule_applied = True
            out.notes.append(f"{name}: {missing} missing item(s) replaced by the mean of the "
                             "answered items")
    parts = [out.values[name] for name, *_ in WOMAC_SUBSCALES]
    out.values["total"] = sum_or_none(parts)
    return out


WOMAC = register(Instrument(
    id="womac", version="3.1", name="WOMAC Osteoarthritis Index, Likert LK3.1",
    items=tuple(Item(item_id, f"{name}: {topic}", "integer", 0, 4)
                for name, prefix, topics, _ in WOMAC_SUBSCALES
                for item_id, topic in zip(_womac_ids(prefix, topics), topics, strict=True)),
    scores=(ScoreSpec("pain", 0, 20, description="sum of P1-P5"),
            ScoreSpec("stiffness", 0, 8, description="sum of S1-S2"),
            ScoreSpec("function", 0, 68, description="sum of F1-F17"),
            ScoreSpec("total", 0, 96, description="pain + stiffness + function")),
    missing_rule="Mean substitution within a subscale: function invalid with 4 or more of 17 "
                 "missing (Whitehouse 2004); pain invalid with 2 or more of 5 missing and "
                 "stiffness invalid with both missing (user-guide rules, unverified). Total "
                 "needs all three subscales.",
    citation="Bellamy N. WOMAC Osteoarthritis Index User Guide; Whitehouse SL et al. "
             "J Bone Joint Surg Br 2004;86-B(Suppl IV):469.",
    licence="Proprietary (Bellamy; womac.com): licence and fees for use; wording not shipped.",
    wording_may_ship=False, scorer=score_womac,
    conventions=("Pain (>= 2 missing -> invalid) and stiffness (2 missing -> invalid) rules "
                 "are the commonly quoted user-guide rules, not seen in a retrieved source.",
                 "No severity bands: the WOMAC has none.",
                 "Item topics follow the usual LK3.1 order; check against the licensed form."),
    references=("Copsey B et al. 2018 (PMC6373321): report total and subscales.",
                "Ghomrawi HMK et al. BMC Musculoskelet Disord 2011;12:109."),
))

ODI_SECTIONS = ("pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "sex_life", "social_life", "travelling")
#: Most sections that may be missing before the ODI is not reported (local convention).
ODI_MAX_MISSING = 2

ODI_BANDS = bands(
    "fairbank-2000", "Fairbank & Pynsent 2000 developers' bands 0-20/21-40/41-60/61-80/"
    "81-100 %, gaps closed half-open (<= 20, (20, 40], ...)",
    ("minimal disability", 0, 20, "[]"), ("moderate disability", 20, 40, "(]"),
    ("severe disability", 40, 60, "(]"), ("crippled", 60, 80, "(]"),
    ("bed-bound or exaggerating", 80, 100, "(]"),
)


def score_odi(answers: Mapping[str, Answer]) -> Computed:
    """ODI % = sum of answered sections / (5 x answered) x 100."""
    done = answered(numbers(answers, ODI_SECTIONS))
    missing = len(ODI_SECTIONS) - len(done)
    if not done or missing > ODI_MAX_MISSING:
        return Computed({"disability": None},
                        notes=[f"{missing} of 10 sections missing (at most {ODI_MAX_MISSING} "
                               "allowed): no score"])
    value = sum(done, Fraction(0)) / (5 * len(done)) * 100
    out = Computed({"disability": value})
    if missing:
        out.missing_rule_applied = True
        out.notes.append(f"{missing} section(s) unanswered or not applicable: denominator "
                         f"{5 * len(done)} instead of 50")
    return out


ODI = register(Instrument(
    id="odi", version="2.1a", name="Oswestry Disability Index",
    items=tuple(Item(section, section.replace("_", " "), "integer", 0, 5)
                for section in ODI_SECTIONS),
    scores=(ScoreSpec("disability", 0, 100, unit="%", bands=ODI_BANDS,
                      description="sum / (5 x sections answered) x 100"),),
    missing_rule="Each unanswered or not-applicable section lowers the denominator by 5 "
                 "(scoring sheet). More than 2 missing sections -> no score (local rule; "
                 "the sources give no limit).",
    citation="Fairbank JC, Pynsent PB. Spine 2000;25:2940-2952 (ODI version 2.1a).",
    licence="(c) Jeremy Fairbank, distributed by Mapi Research Trust: free for clinical and "
            "non-funded academic use, fees for funded, commercial and IT use. Wording not "
            "shipped (Roland & Fairbank 2000 'no permission' statement awaits legal review).",
    wording_may_ship=False, scorer=score_odi,
    conventions=(f"At most {ODI_MAX_MISSING} sections may be missing (local rule).",
                 "Bands applied as half-open intervals so non-integer scores (35.56 %) are "
                 "classified: <= 20, (20, 40], (40, 60], (60, 80], (80, 100].",
                 "Scores are exact (Fraction); 16/45 x 100 = 320/9 = 35.56 %, not the "
                 "sheet's truncated 35.5."),
    references=("MDC (90 %): 5 raw points = 10 percentage points (scoring sheet).",),
))

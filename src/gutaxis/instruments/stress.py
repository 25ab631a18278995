"""Perceived Stress Scale, 10 items (PSS-10; Cohen & Williamson 1988).

Notes
-----
Ten items scored 0-4. Items 4, 5, 7 and 8 (the positively worded ones) are reversed,
:math:`x \\mapsto 4 - x`; the total is the sum after reversal, 0-40:

.. math:: \\text{PSS} = \\sum_{i \\notin R} x_i + \\sum_{i \\in R} (4 - x_i),
          \\quad R = \\{4, 5, 7, 8\\}

Missing items (local rule, none is published): with exactly one item missing the total is
prorated, :math:`\\text{PSS} = \\frac{10}{9} \\sum_\\text{answered}` (after reversal); two
or more missing items leave no score.

The PSS is not diagnostic and has no official cut-offs (Cohen, via PhenX). The common
0-13 / 14-26 / 27-40 bands are offered only as a selectable, labelled secondary
convention; by default no band is reported.

References
----------
.. [1] Cohen S, Kamarck T, Mermelstein R. A global measure of perceived stress. J Health
   Soc Behav 1983;24:385-396.
.. [2] Cohen S, Williamson G. Perceived stress in a probability sample of the United
   States. In: Spacapan S, Oskamp S (eds). The Social Psychology of Health. 1988.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from gutaxis.instruments.base import Answer, Computed, Instrument, Item, ScoreSpec, bands
from gutaxis.instruments.registry import register

PSS10_TOPICS = ("upset by something unexpected", "unable to control important things",
                "nervous and stressed", "confident handling personal problems",
                "things going your way", "could not cope", "able to control irritations",
                "on top of things", "angered by things outside control",
                "difficulties piling up")
PSS10_ITEMS = tuple(f"pss{i}" for i in range(1, 11))
PSS10_REVERSED = ("pss4", "pss5", "pss7", "pss8")

PSS_CONVENTION_BANDS = bands(
    "secondary-0-13-26", "Secondary convention (not Cohen's; the PSS has no cut-offs): "
    "0-13 low, 14-26 moderate, 27-40 high",
    ("low", 0, 14, "[)"), ("moderate", 14, 27, "[)"), ("high", 27, 40, "[]"),
)


def score_pss10(answers: Mapping[str, Answer]) -> Computed:
    """PSS-10 total with items 4, 5, 7, 8 reversed; one missing item prorated."""
    scored: list[Fraction] = []
    for item_id in PSS10_ITEMS:
        value = answers.get(item_id)
        if isinstance(value, Fraction):
            scored.append(4 - value if item_id in PSS10_REVERSED else value)
    missing = len(PSS10_ITEMS) - len(scored)
    if missing > 1:
        return Computed({"total": None},
                        notes=[f"{missing} items missing (at most 1 allowed): no score"])
    total = sum(scored, Fraction(0)) * Fraction(len(PSS10_ITEMS), len(scored))
    out = Computed({"total": total})
    if missing:
        out.missing_rule_applied = True
        out.notes.append("1 item missing: total prorated as sum x 10/9 (local rule)")
    return out


PSS10 = register(Instrument(
    id="pss-10", version="1988", name="Perceived Stress Scale, 10 items",
    items=tuple(Item(item_id, f"last month: {topic}", "integer", 0, 4)
                for item_id, topic in zip(PSS10_ITEMS, PSS10_TOPICS, strict=True)),
    scores=(ScoreSpec("total", 0, 40, alternative_bands=(PSS_CONVENTION_BANDS,),
                      description="sum after reversing items 4, 5, 7, 8"),),
    reverse_items=PSS10_REVERSED,
    missing_rule="Local rule (none published): one missing item -> sum x 10/9; two or more "
                 "missing -> no score.",
    citation="Cohen S, Williamson G. 1988; Cohen lab PSS scoring page (CMU).",
    licence="No permission needed for non-profit academic research or education (Cohen lab, "
            "via PhenX 180801); commercial terms unverified. Wording not shipped.",
    wording_may_ship=False, scorer=score_pss10,
    conventions=("No default bands: the PSS is not diagnostic. The 0-13/14-26/27-40 "
                 "convention is selectable as 'secondary-0-13-26'.",
                 "One missing item is prorated (x 10/9); two or more -> no score.",
                 "Normative means (Cohen 1983 Harris poll): men 12.1 (SD 5.9), women 13.7 "
                 "(SD 6.6)."),
))

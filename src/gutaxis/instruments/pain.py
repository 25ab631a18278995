"""Pain intensity and interference: NRS-11, VAS, PEG-3 and the Brief Pain Inventory (SF).

Notes
-----
* NRS-11: one integer 0-10; the score is the answer. VAS: one distance 0-100 mm.
* PEG-3 (Krebs 2009): mean of average pain (P), interference with enjoyment of life (E)
  and with general activity (G), each 0-10: ``PEG = (P + E + G) / 3``.
* BPI-SF (Cleeland): severity = mean of worst, least, average and current pain (items
  3-6); interference = mean of the seven item-9 ratings, valid when at least 4 of the 7
  are answered (BPI User Guide, as quoted in LOINC 77565-0).

References
----------
.. [1] Krebs EE et al. Development and initial validation of the PEG, a three-item scale
   assessing pain intensity and interference. J Gen Intern Med 2009;24:733-738.
.. [2] Cleeland CS. The Brief Pain Inventory User Guide. 2009.
.. [3] Boonstra AM et al. Cut-off points for mild, moderate, and severe pain on the
   numeric rating scale for pain in patients with chronic musculoskeletal pain.
   Front Psychol 2016;7:1466.
.. [4] Boonstra AM et al. Cut-off points for mild, moderate, and severe pain on the
   visual analogue scale for pain in patients with chronic musculoskeletal pain.
   Pain 2014;155:2545-2550.
.. [5] Serlin RC et al. When is cancer pain mild, moderate or severe? Pain 1995;61:277-284.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from gutaxis.instruments.base import (
    Answer,
    Computed,
    Instrument,
    Item,
    Scorer,
    ScoreSpec,
    answered,
    bands,
    mean,
    numbers,
)
from gutaxis.instruments.registry import register

NRS_HL7_BANDS = bands(
    "hl7-snomed", "HL7 score catalogue (hl7.eu/scores/PAIN.htm), SNOMED-coded bands",
    ("none", 0, 0, "[]"), ("mild", 1, 3, "[]"), ("moderate", 4, 6, "[]"),
    ("severe", 7, 9, "[]"), ("excruciating", 10, 10, "[]"),
)
NRS_BOONSTRA_BANDS = bands(
    "boonstra-2016", "Boonstra 2016, chronic musculoskeletal pain (NRS)",
    ("mild", 0, 5, "[]"), ("moderate", 5, 7, "(]"), ("severe", 7, 10, "(]"),
)
SERLIN_BANDS = bands(
    "serlin-1995", "Serlin 1995 (worst cancer pain; interference-based); 0 = no pain",
    ("none", 0, 0, "[]"), ("mild", 0, 5, "()"), ("moderate", 5, 7, "[)"),
    ("severe", 7, 10, "[]"),
)
VAS_BOONSTRA_BANDS = bands(
    "boonstra-2014", "Boonstra 2014, chronic musculoskeletal pain (VAS, verbal descriptors); "
    "<= 34 mm mild, 35-74 mm moderate, >= 75 mm severe, gaps closed half-open",
    ("mild", 0, 35, "[)"), ("moderate", 35, 75, "[)"), ("severe", 75, 100, "[]"),
)
VAS_BOONSTRA_FUNCTION_BANDS = bands(
    "boonstra-2014-function", "Boonstra 2014, judged by interference with function: "
    "<= 34 mm mild, 35-64 mm moderate, >= 65 mm severe, gaps closed half-open",
    ("mild", 0, 35, "[)"), ("moderate", 35, 65, "[)"), ("severe", 65, 100, "[]"),
)
BPI_SEVERITY_BANDS = bands(
    "eppoc-half-open", "ePPOC/Serlin 0-4 / 5-6 / 7-10 applied to means as half-open "
    "intervals (mild < 5, moderate >= 5 and < 7, severe >= 7)",
    ("mild", 0, 5, "[)"), ("moderate", 5, 7, "[)"), ("severe", 7, 10, "[]"),
)


def _identity_scorer(item_id: str, score_name: str) -> Scorer:
    """A scorer whose single score is the answer to ``item_id``."""

    def scorer(answers: Mapping[str, Answer]) -> Computed:
        value = answers.get(item_id)
        if not isinstance(value, Fraction):
            return Computed({score_name: None}, notes=[f"{item_id} unanswered: no score"])
        return Computed({score_name: value})

    return scorer


NRS = register(Instrument(
    id="nrs", version="11", name="Pain Numeric Rating Scale (NRS-11, 0-10)",
    items=(Item("pain", "pain intensity, 0 no pain to 10 worst imaginable", "integer",
                0, 10, text="Pain intensity from 0 (no pain) to 10 (worst pain imaginable)"),),
    scores=(ScoreSpec("pain", 0, 10, loinc="72514-3", bands=NRS_HL7_BANDS,
                      alternative_bands=(NRS_BOONSTRA_BANDS, SERLIN_BANDS),
                      description="the answer itself"),),
    missing_rule="Single item: unanswered means no score.",
    citation="Generic 0-10 numeric rating scale (IMMPACT: Dworkin et al. J Pain 2008;9:105).",
    licence="Generic scale, no licence needed.", wording_may_ship=True,
    scorer=_identity_scorer("pain", "pain"),
    conventions=("Non-integer answers are rejected (NRS-11 is an 11-point integer scale).",),
    references=("Boonstra AM et al. Front Psychol 2016;7:1466.",
                "Serlin RC et al. Pain 1995;61:277."),
))

VAS = register(Instrument(
    id="vas", version="100mm", name="Pain Visual Analogue Scale (0-100 mm)",
    items=(Item("pain_mm", "distance from the 'no pain' anchor", "number", 0, 100, unit="mm",
                text="Distance in millimetres from 'no pain' to the mark on a 100 mm line"),),
    scores=(ScoreSpec("pain", 0, 100, unit="mm", loinc="38214-3", bands=VAS_BOONSTRA_BANDS,
                      alternative_bands=(VAS_BOONSTRA_FUNCTION_BANDS,),
                      description="the distance in mm"),),
    missing_rule="Single item: unanswered means no score.",
    citation="Generic 100 mm visual analogue scale.",
    licence="Generic scale, no licence needed.", wording_may_ship=True,
    scorer=_identity_scorer("pain_mm", "pain"),
    conventions=("A VAS recorded in cm must be converted to mm (x 10) before scoring.",
                 "Boonstra's cm cut-offs (<= 3.4, 3.5-7.4, >= 7.5) are applied in mm as "
                 "half-open intervals [0, 35), [35, 75), [75, 100]."),
    references=("Boonstra AM et al. Pain 2014;155:2545.",),
))

PEG_ITEMS = ("p_average_pain", "e_enjoyment_of_life", "g_general_activity")


def score_peg(answers: Mapping[str, Answer]) -> Computed:
    """PEG-3 = (P + E + G) / 3; all three items required (local rule)."""
    values = numbers(answers, PEG_ITEMS)
    if any(v is None for v in values):
        return Computed({"peg": None}, notes=["PEG needs all 3 items: no score"])
    return Computed({"peg": mean(answered(values))})


PEG = register(Instrument(
    id="peg", version="2009", name="PEG-3 pain intensity and interference scale",
    items=(Item("p_average_pain", "average pain, past week", "integer", 0, 10),
           Item("e_enjoyment_of_life", "interference with enjoyment of life, past week",
                "integer", 0, 10),
           Item("g_general_activity", "interference with general activity, past week",
                "integer", 0, 10)),
    scores=(ScoreSpec("peg", 0, 10, description="mean of P, E and G"),),
    missing_rule="All 3 items are required (local rule; no published rule was found).",
    citation="Krebs EE et al. J Gen Intern Med 2009;24:733-738.",
    licence="Not established; items are adapted from the copyrighted BPI (Cleeland). Item "
            "wording is not shipped.",
    wording_may_ship=False, scorer=score_peg,
    conventions=("No bands: the developers publish none; track change over time.",
                 "Any missing item -> no score."),
))

BPI_SEVERITY = ("q3_worst_pain", "q4_least_pain", "q5_average_pain", "q6_pain_now")
BPI_INTERFERENCE = ("q9a_general_activity", "q9b_mood", "q9c_walking_ability",
                    "q9d_normal_work", "q9e_relations_with_others", "q9f_sleep",
                    "q9g_enjoyment_of_life")


def score_bpi(answers: Mapping[str, Answer]) -> Computed:
    """BPI-SF severity (mean of items 3-6, all required) and interference (mean of the
    item-9 ratings answered, valid with at least 4 of 7)."""
    out = Computed({})
    severity = numbers(answers, BPI_SEVERITY)
    if any(v is None for v in severity):
        out.values["severity"] = None
        out.notes.append("severity needs all 4 items (3-6): no score")
    else:
        out.values["severity"] = mean(answered(severity))
    for name, item_id in (("worst_pain", "q3_worst_pain"), ("average_pain", "q5_average_pain")):
        value = answers.get(item_id)
        out.values[name] = value if isinstance(value, Fraction) else None
    done = answered(numbers(answers, BPI_INTERFERENCE))
    if len(done) < 4:
        out.values["interference"] = None
        out.notes.append(f"interference needs >= 4 of 7 items, {len(done)} answered: no score")
    else:
        out.values["interference"] = mean(done)
        if len(done) < 7:
            out.missing_rule_applied = True
            out.notes.append(f"interference: mean of the {len(done)} answered items "
                             "(BPI rule: >= 4 of 7)")
    return out


BPI = register(Instrument(
    id="bpi-sf", version="2009", name="Brief Pain Inventory, short form",
    items=(
        Item("q1_pain_today", "pain other than everyday kinds today", "boolean", scored=False),
        Item("q2_body_areas", "body diagram: painful areas", "text", scored=False),
        Item("q3_worst_pain", "worst pain, last 24 h", "integer", 0, 10),
        Item("q4_least_pain", "least pain, last 24 h", "integer", 0, 10),
        Item("q5_average_pain", "average pain", "integer", 0, 10),
        Item("q6_pain_now", "pain right now", "integer", 0, 10),
        Item("q7_treatments", "treatments or medications", "text", scored=False),
        Item("q8_relief_pct", "relief from treatments, last 24 h", "integer", 0, 100,
             unit="%", scored=False),
        *(Item(item_id, "interference: " + item_id[4:].replace("_", " "), "integer", 0, 10)
          for item_id in BPI_INTERFERENCE),
    ),
    scores=(
        ScoreSpec("severity", 0, 10, bands=BPI_SEVERITY_BANDS,
                  description="mean of items 3-6 (worst, least, average, now)"),
        ScoreSpec("interference", 0, 10, loinc="77565-0",
                  description="mean of items 9A-9G, valid with >= 4 answered"),
        ScoreSpec("worst_pain", 0, 10, bands=SERLIN_BANDS,
                  description="item 3 alone (the item Serlin's bands were derived for)"),
        ScoreSpec("average_pain", 0, 10,
                  description="item 5 alone (single-item primary outcome used in trials)"),
    ),
    missing_rule="Interference: mean of the answered item-9 ratings if at least 4 of 7 are "
                 "answered (BPI User Guide). Severity: all 4 items required (local rule; "
                 "the guide gives none).",
    citation="Cleeland CS. The Brief Pain Inventory User Guide, 2009.",
    licence="(c) Charles S. Cleeland 1991; use needs permission from MD Anderson, fees may "
            "apply; no modification or translation without consent. Wording not shipped.",
    wording_may_ship=False, scorer=score_bpi,
    conventions=("Severity bands applied to the 4-item mean as half-open intervals "
                 "(mild < 5, moderate [5, 7), severe >= 7).",
                 "Severity requires all 4 severity items.",
                 "No LOINC code is given for severity: 77564-3 is unverified."),
    references=("LOINC 77565-0 (Pain interference score [BPI Short Form]).",
                "Serlin RC et al. Pain 1995;61:277."),
))

"""Gut symptoms: the Gastrointestinal Symptom Rating Scale (GSRS) and the Bristol Stool
Form Scale, with a summary of a stool diary.

Notes
-----
GSRS: 15 items. Each syndrome score is the mean of its items; the total is the mean of
all 15. Syndromes (item numbers in form order; mapping unverified against the licensed AZ
manual):

* reflux = 2, 3; abdominal pain = 1, 4, 5; indigestion = 6, 7, 8, 9;
* diarrhoea = 11, 12, 14; constipation = 10, 13, 15.

Two versions are registered because their scales must never be mixed: the 1988
interview (clinician rating 0-3) and the self-administered 7-point version (1-7).

Bristol: a stool type 1-7; types 1-2 suggest constipation, 3-4 are normal, 5 tends
toward diarrhoea and 6-7 indicate diarrhoea.

References
----------
.. [1] Svedlund J, Sjödin I, Dotevall G. GSRS: a clinical rating scale for
   gastrointestinal symptoms in patients with irritable bowel syndrome and peptic ulcer
   disease. Dig Dis Sci 1988;33:129-134.
.. [2] Revicki DA et al. Reliability and validity of the Gastrointestinal Symptom Rating
   Scale in patients with gastroesophageal reflux disease. Qual Life Res 1998;7:75-83.
.. [3] Lewis SJ, Heaton KW. Stool form scale as a useful guide to intestinal transit
   time. Scand J Gastroenterol 1997;32:920-924.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from gutaxis.errors import InstrumentError
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

GSRS_TOPICS = ("abdominal pain", "heartburn", "acid regurgitation", "hunger pains",
               "nausea and vomiting", "borborygmus", "abdominal distension", "eructation",
               "increased flatus", "decreased passage of stools",
               "increased passage of stools", "loose stools", "hard stools",
               "urgent need for defecation", "feeling of incomplete evacuation")
GSRS_ITEMS = tuple(f"gsrs{i}" for i in range(1, 16))
#: Syndrome -> item numbers (1-based, form order).
GSRS_SYNDROMES: dict[str, tuple[int, ...]] = {
    "reflux": (2, 3),
    "abdominal_pain": (1, 4, 5),
    "indigestion": (6, 7, 8, 9),
    "diarrhoea": (11, 12, 14),
    "constipation": (10, 13, 15),
}


def _gsrs_scorer() -> Scorer:
    def scorer(answers: Mapping[str, Answer]) -> Computed:
        out = Computed({})
        for name, numbers_1based in (*GSRS_SYNDROMES.items(),
                                     ("total", tuple(range(1, 16)))):
            ids = tuple(GSRS_ITEMS[i - 1] for i in numbers_1based)
            values = numbers(answers, ids)
            if any(v is None for v in values):
                out.values[name] = None
                out.notes.append(f"{name}: an item is missing (all required): no score")
            else:
                out.values[name] = mean(answered(values))
        return out

    return scorer


def _gsrs(version: str, low: int, high: int, mode: str) -> Instrument:
    return Instrument(
        id="gsrs", version=version,
        name=f"Gastrointestinal Symptom Rating Scale ({mode}, {low}-{high})",
        items=tuple(Item(item_id, topic, "integer", low, high)
                    for item_id, topic in zip(GSRS_ITEMS, GSRS_TOPICS, strict=True)),
        scores=(*(ScoreSpec(name, low, high, description="mean of items "
                            + ", ".join(map(str, nums)))
                  for name, nums in GSRS_SYNDROMES.items()),
                ScoreSpec("total", low, high, description="mean of all 15 items")),
        missing_rule="Local rule (the licensed manual's rule is not public): every item of a "
                     "syndrome is required for its score, all 15 for the total.",
        citation=("Svedlund J et al. Dig Dis Sci 1988;33:129-134." if low == 0 else
                  "Revicki DA et al. Qual Life Res 1998;7:75-83; Svedlund 1988."),
        licence="AstraZeneca PRO instrument: signed licence needed (free for academic "
                "non-commercial use, fees for industry); no modification; scoring manual "
                "only with a licence. Wording not shipped.",
        wording_may_ship=False, scorer=_gsrs_scorer(),
        conventions=("Item-to-syndrome mapping is the commonly used one, unverified against "
                     "the AZ manual.",
                     "Scores are means (not sums) of the items.",
                     "No bands: higher means worse."),
    )


GSRS_INTERVIEW = register(_gsrs("1988-interview", 0, 3, "clinician interview"))
GSRS_SELF = register(_gsrs("self-7", 1, 7, "self-administered"))

BRISTOL_TYPES = ("separate hard lumps", "lumpy sausage", "sausage with cracks",
                 "smooth soft sausage or snake", "soft blobs with clear edges",
                 "fluffy ragged pieces, mushy", "watery, no solids")
BRISTOL_BANDS = bands(
    "lewis-heaton", "Types 1-2 constipation, 3-4 normal, 5 toward diarrhoea, 6-7 diarrhoea",
    ("constipation", 1, 2, "[]"), ("normal", 3, 4, "[]"), ("toward diarrhoea", 5, 5, "[]"),
    ("diarrhoea", 6, 7, "[]"),
)


def score_bristol(answers: Mapping[str, Answer]) -> Computed:
    """The stool type itself."""
    value = answers.get("stool_type")
    if not isinstance(value, Fraction):
        return Computed({"type": None}, notes=["stool type unanswered: no score"])
    return Computed({"type": value})


BRISTOL = register(Instrument(
    id="bristol", version="1997", name="Bristol Stool Form Scale",
    items=(Item("stool_type", "stool form type 1-7", "integer", 1, 7,
                text="Stool form: " + "; ".join(f"{i} {t}" for i, t in
                                                enumerate(BRISTOL_TYPES, start=1))),),
    scores=(ScoreSpec("type", 1, 7, bands=BRISTOL_BANDS, description="the type itself"),),
    missing_rule="Single item: unanswered means no score.",
    citation="Lewis SJ, Heaton KW. Scand J Gastroenterol 1997;32:920-924.",
    licence="Type descriptors are from the journal article and may ship; the illustrated "
            "chart has third-party copyright (draw your own images).",
    wording_may_ship=True, scorer=score_bristol,
    conventions=("SNOMED CT 443172007 'Bristol stool form score'; no LOINC term found.",),
))


@dataclass(frozen=True)
class StoolDiarySummary:
    """Summary of the stools recorded in one period (e.g. one day).

    Attributes
    ----------
    n
        Number of stools.
    modes
        The most frequent type(s), ascending (ties are all listed).
    share_hard
        Share of stools of type 1-2 (0-1).
    share_loose
        Share of stools of type 6-7 (0-1).
    """

    n: int
    modes: tuple[int, ...]
    share_hard: Fraction
    share_loose: Fraction


def summarise_stool_diary(types: Iterable[int]) -> StoolDiarySummary:
    """Mode, share of hard (1-2) and loose (6-7) stools, and count for a set of stools.

    A design suggestion of the gutaxis notes, not a published score.

    Examples
    --------
    >>> s = summarise_stool_diary([4, 6, 6, 7])
    >>> s.n, s.modes, float(s.share_loose), float(s.share_hard)
    (4, (6,), 0.75, 0.0)
    """
    values = list(types)
    for position, value in enumerate(values, start=1):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
            raise InstrumentError("not a Bristol stool type", field="stool_type",
                                  row=position, found=value, expected="an integer 1-7")
    if not values:
        raise InstrumentError("no stools to summarise", field="stool_type", found=values,
                              expected="at least one stool type")
    counts = Counter(values)
    top = max(counts.values())
    return StoolDiarySummary(
        n=len(values),
        modes=tuple(sorted(t for t, c in counts.items() if c == top)),
        share_hard=Fraction(sum(1 for v in values if v <= 2), len(values)),
        share_loose=Fraction(sum(1 for v in values if v >= 6), len(values)),
    )

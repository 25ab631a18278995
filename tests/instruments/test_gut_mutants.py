"""GSRS (both versions), the Bristol Stool Form Scale and the stool-diary summary, written
to kill mutmut mutants of ``instruments/gut.py`` (re-measure with
``python scripts/mutation.py gutaxis.instruments.gut``).

References (notes §9, ``docs/research/instruments.md``): the 15 GSRS symptoms in item
order; syndromes reflux = 2, 3; abdominal pain = 1, 4, 5; indigestion = 6-9; diarrhoea =
11, 12, 14; constipation = 10, 13, 15; each score the mean of its items, the total the
mean of all 15; the 1988 interview scored 0-3 (Svedlund 1988), the self-administered
version 1-7 (Revicki 1998). Bristol types 1-7 (Lewis & Heaton 1997): 1-2 hard, 6-7 loose.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.gut import summarise_stool_diary

#: Notes §9: the 15 symptoms in item order 1-15.
GSRS_SYMPTOMS = ("abdominal pain", "heartburn", "acid regurgitation", "hunger pains",
                 "nausea and vomiting", "borborygmus", "abdominal distension", "eructation",
                 "increased flatus", "decreased passage of stools",
                 "increased passage of stools", "loose stools", "hard stools",
                 "urgent need for defecation", "feeling of incomplete evacuation")
SYNDROMES = {"reflux": (2, 3), "abdominal_pain": (1, 4, 5), "indigestion": (6, 7, 8, 9),
             "diarrhoea": (11, 12, 14), "constipation": (10, 13, 15)}
VERSIONS = {
    "1988-interview": (0, 3, "clinician interview",
                       "Svedlund J et al. Dig Dis Sci 1988;33:129-134."),
    "self-7": (1, 7, "self-administered",
               "Revicki DA et al. Qual Life Res 1998;7:75-83; Svedlund 1988."),
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_gsrs_items_scores_and_texts_as_registered(version):
    low, high, mode, citation = VERSIONS[version]
    gsrs = get_instrument(f"gsrs@{version}")
    assert (gsrs.id, gsrs.version) == ("gsrs", version)
    assert gsrs.name == f"Gastrointestinal Symptom Rating Scale ({mode}, {low}-{high})"
    assert [(i.id, i.topic, i.kind, i.minimum, i.maximum, i.text, i.unit, i.choices)
            for i in gsrs.items] == [(f"gsrs{n}", topic, "integer", low, high, None, None,
                                      None)
                                     for n, topic in enumerate(GSRS_SYMPTOMS, start=1)]
    assert [(s.name, s.minimum, s.maximum, s.bands, s.alternative_bands, s.description)
            for s in gsrs.scores] == [
        *((name, low, high, None, (), "mean of items " + ", ".join(map(str, numbers)))
          for name, numbers in SYNDROMES.items()),
        ("total", low, high, None, (), "mean of all 15 items")]
    assert gsrs.citation == citation
    assert gsrs.wording_may_ship is False
    assert gsrs.missing_rule == ("Local rule (the licensed manual's rule is not public): "
                                 "every item of a syndrome is required for its score, all "
                                 "15 for the total.")
    assert gsrs.licence == (
        "AstraZeneca PRO instrument: signed licence needed (free for academic "
        "non-commercial use, fees for industry); no modification; scoring manual only with "
        "a licence. Wording not shipped.")
    assert gsrs.conventions == (
        "Item-to-syndrome mapping is the commonly used one, unverified against the AZ "
        "manual.", "Scores are means (not sums) of the items.",
        "No bands: higher means worse.")


def test_gsrs_each_syndrome_is_the_mean_of_its_own_items():
    # item n answered n mod 4 (0-3 interview scale): means by hand from the notes' mapping
    answers = {f"gsrs{n}": n % 4 for n in range(1, 16)}
    score = get_instrument("gsrs@1988-interview").score(answers)
    assert score.exact == {
        "reflux": Fraction(2 + 3, 2),                   # items 2, 3
        "abdominal_pain": Fraction(1 + 0 + 1, 3),       # items 1, 4, 5
        "indigestion": Fraction(2 + 3 + 0 + 1, 4),      # items 6, 7, 8, 9
        "diarrhoea": Fraction(3 + 0 + 2, 3),            # items 11, 12, 14
        "constipation": Fraction(2 + 1 + 3, 3),         # items 10, 13, 15
        "total": Fraction(1 + 2 + 3 + 0 + 1 + 2 + 3 + 0 + 1 + 2 + 3 + 0 + 1 + 2 + 3, 15),
    }
    assert score.notes == ()


def test_gsrs_a_missing_item_removes_its_syndrome_and_the_total_with_notes():
    answers: dict[str, int | None] = {f"gsrs{n}": 4 for n in range(1, 16)}
    answers["gsrs15"] = None                            # constipation item
    score = get_instrument("gsrs@self-7").score(answers)
    assert score.values["constipation"] is None and score.values["total"] is None
    assert score.exact["diarrhoea"] == 4 and score.exact["reflux"] == 4
    assert score.notes == ("constipation: an item is missing (all required): no score",
                           "total: an item is missing (all required): no score")


def test_bristol_type_is_the_answer_and_unanswered_is_no_score():
    bristol = get_instrument("bristol")
    scored = bristol.score({"stool_type": 6})
    assert scored.values == {"type": 6} and scored.notes == ()
    assert scored.bands["type"] == "diarrhoea"          # Lewis & Heaton: 6-7
    missing = bristol.score({"stool_type": None})
    assert missing.values == {"type": None}
    assert missing.notes == ("stool type unanswered: no score",)


def test_stool_diary_summary_by_hand():
    summary = summarise_stool_diary([1, 2, 3, 3, 6, 6, 7, 2])
    assert summary.n == 8
    assert summary.modes == (2, 3, 6)                   # each twice
    assert summary.share_hard == Fraction(3, 8)         # 1, 2, 2
    assert summary.share_loose == Fraction(3, 8)        # 6, 6, 7


def test_stool_diary_edges_of_hard_and_loose():
    summary = summarise_stool_diary([2, 3, 5, 6])
    assert summary.share_hard == Fraction(1, 4) and summary.share_loose == Fraction(1, 4)
    assert summary.modes == (2, 3, 5, 6)
    assert summarise_stool_diary([1, 7]).share_hard == Fraction(1, 2)
    assert summarise_stool_diary([1, 7]).share_loose == Fraction(1, 2)


def test_stool_types_1_and_7_are_accepted():
    assert summarise_stool_diary([1]).modes == (1,)
    assert summarise_stool_diary([7]).modes == (7,)


@pytest.mark.parametrize(("types", "row", "found"), [
    ([3, 0], 2, 0), ([8], 1, 8), ([4, 4, True], 3, True), ([2.0], 1, 2.0), (["5"], 1, "5"),
])
def test_stool_diary_refuses_a_non_type_naming_its_row(types, row, found):
    with pytest.raises(InstrumentError) as caught:
        summarise_stool_diary(types)
    error = caught.value
    assert (error.message, error.field, error.row, error.found, error.expected) == (
        "not a Bristol stool type", "stool_type", row, found, "an integer 1-7")


def test_stool_diary_refuses_an_empty_diary():
    with pytest.raises(InstrumentError) as caught:
        summarise_stool_diary([])
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        "no stools to summarise", "stool_type", [], "at least one stool type")

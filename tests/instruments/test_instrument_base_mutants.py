"""The answer parsing, band and error contracts of ``instruments/base.py``, written to
kill mutmut mutants (re-measure with ``python scripts/mutation.py``).

Expected values follow the documented contracts: an :class:`InstrumentError` names the
item (field), the answer found and the allowed answers, plus the file and row when the
caller gives them; the ODI scoring sheet's example for :meth:`Score.as_dict`.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.base import Choice, Item


def _error(call) -> InstrumentError:
    with pytest.raises(InstrumentError) as caught:
        call()
    return caught.value


def test_a_bad_answer_in_a_file_names_the_file_row_item_answer_and_allowed_answers():
    item = Item("q1", "pain now", "integer", 0, 10)
    error = _error(lambda: item.parse("eleven", source="answers.csv", row=4))
    assert (error.message, error.source, error.row, error.field, error.found,
            error.expected) == ("answer is not a number", "answers.csv", 4, "q1", "eleven",
                                "an integer from 0 to 10")


def test_a_bad_answer_with_only_a_row_still_names_the_row():
    error = _error(lambda: Item("q1", "pain", "integer", 0, 10).parse(12, row=7))
    assert (error.message, error.source, error.row, error.field, error.found) == (
        "answer above the allowed range", None, 7, "q1", 12)


def test_a_bad_answer_with_only_a_file_names_the_file():
    error = _error(lambda: Item("q1", "pain", "integer", 0, 10).parse(-1, source="a.csv"))
    assert (error.message, error.source, error.row) == (
        "answer below the allowed range", "a.csv", None)


@pytest.mark.parametrize(("item", "raw", "message"), [
    (Item("c", "colour", "choice", choices=(Choice("red", "red"), Choice("blue", "blue"))),
     "green", "answer is not one of the allowed choices"),
    (Item("n", "count", "integer", 0, 10), "2.5", "answer must be a whole number"),
    (Item("n", "count", "integer", 0, 10), -1, "answer below the allowed range"),
    (Item("n", "count", "integer", 0, 10), 11, "answer above the allowed range"),
])
def test_each_parse_refusal_says_why(item, raw, message):
    error = _error(lambda: item.parse(raw))
    assert (error.message, error.field, error.found, error.expected) == (
        message, item.id, raw, item.allowed)


def test_the_range_ends_are_allowed():
    item = Item("n", "count", "integer", 0, 10)
    assert item.parse(0) == 0 and item.parse(10) == 10
    assert Item("x", "dose", "number", 0.5, 2.5).parse("0.5") == Fraction(1, 2)


def test_a_text_answer_is_kept_stripped():
    assert Item("t", "notes", "text").parse("  knee and hip  ") == "knee and hip"


def test_an_unknown_band_set_lists_the_known_ones():
    spec = get_instrument("acr-fm@2016").score_spec("fs")
    error = _error(lambda: spec.band_set("tertiles"))
    assert (error.message, error.field, error.found, error.expected) == (
        "unknown band set", "fs", "tertiles", "one of wolfe-2015, salaffi-2020")


def test_odi_example_as_dict():
    # ODI scoring sheet: nine sections answered, 16/45 = 35.56 %, moderate disability.
    sections = ["pain_intensity", "personal_care", "lifting", "walking", "sitting",
                "standing", "sleeping", "social_life", "travelling"]
    score = get_instrument("odi@2.1a").score(dict(zip(sections, [2] * 7 + [1, 1], strict=True)))
    assert score.as_dict() == {
        "instrument": "odi@2.1a", "scoring_version": score.scoring_version,
        "values": {"disability": pytest.approx(320 / 9)},
        "bands": {"disability": "moderate disability"},
        "band_sets": {"disability": score.band_sets["disability"]},
        "exact": {"disability": "320/9"},
        "missing_items": ["sex_life"], "missing_rule_applied": True,
        "notes": ["1 section(s) unanswered or not applicable: denominator 45 instead of 50"],
    }

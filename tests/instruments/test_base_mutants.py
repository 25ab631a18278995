"""``Instrument.item``, ``Instrument.with_wording`` and ``bands`` of ``instruments/base.py``,
written to kill mutmut mutants (re-measure with
``python scripts/mutation.py gutaxis.instruments.base``).

Expected values follow the documented contracts: an unknown item id is an
:class:`InstrumentError` naming the instrument, the id and the known ids;
``with_wording`` replaces the wording of the items it is given and nothing else;
``bands`` reads ``"[)"`` as a band holding its lower end point and not its upper one (the
usual interval notation), and refuses any other ``ends`` text.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments.base import (
    Band,
    Computed,
    Instrument,
    Item,
    Score,
    ScoreSpec,
    bands,
    numbers,
)


def _no_scores(answers: object) -> Computed:
    return Computed(values={})


def _form() -> Instrument:
    return Instrument(
        id="form", version="1", name="A test form",
        items=(Item("q1", "mood", "integer", 0, 4, text="How is your mood?"),
               Item("q2", "sleep", "integer", 0, 4, text="How did you sleep?"),
               Item("q3", "pain", "integer", 0, 10)),
        scores=(ScoreSpec("total", 0, 18),), missing_rule="none", citation="none",
        licence="none", wording_may_ship=True, scorer=_no_scores,
    )


def test_item_finds_each_item_by_its_id():
    form = _form()
    assert [form.item(item_id).topic for item_id in ("q1", "q2", "q3")] == [
        "mood", "sleep", "pain"]


def test_an_unknown_item_names_the_instrument_the_id_and_the_known_ids():
    with pytest.raises(InstrumentError) as caught:
        _form().item("q9")
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        "unknown item for form@1", "q9", None, "one of q1, q2, q3")


def test_with_wording_replaces_only_the_items_given():
    local = _form().with_wording({"q2": "Site wording for sleep", "q3": "Site pain"})
    assert [item.text for item in local.items] == [
        "How is your mood?", "Site wording for sleep", "Site pain"]
    assert [item.id for item in local.items] == ["q1", "q2", "q3"]
    assert (local.key, local.name) == ("form@1", "A test form")


def test_with_wording_for_an_unknown_item_is_refused_naming_it():
    with pytest.raises(InstrumentError) as caught:
        _form().with_wording({"q1": "fine", "q7": "no such item"})
    error = caught.value
    assert (error.message, error.field, error.expected) == (
        "unknown item for form@1", "q7", "one of q1, q2, q3")


@pytest.mark.parametrize(("ends", "lower_closed", "upper_closed"), [
    ("[]", True, True), ("[)", True, False), ("(]", False, True), ("()", False, False),
])
def test_bands_read_interval_notation(ends, lower_closed, upper_closed):
    built = bands("scale", "a manual", ("mid", 2, "4.5", ends))
    assert (built.name, built.source) == ("scale", "a manual")
    assert built.bands == (Band("mid", Fraction(2), Fraction(9, 2), lower_closed,
                                upper_closed),)
    # the end points belong to the band exactly when the bracket is closed
    assert (built.classify(Fraction(2)) == "mid") is lower_closed
    assert (built.classify(Fraction(9, 2)) == "mid") is upper_closed
    assert built.classify(3) == "mid"


def test_bands_convert_bounds_through_their_decimal_text_and_allow_open_ends():
    built = bands("das", "a paper", ("low", None, 2.6, "(]"), ("high", 2.6, None, "()"))
    assert [(b.lower, b.upper) for b in built.bands] == [
        (None, Fraction(13, 5)), (Fraction(13, 5), None)]
    assert [built.classify(v) for v in (-100, Fraction(13, 5), Fraction(27, 10))] == [
        "low", "low", "high"]


@pytest.mark.parametrize("ends", ["[[", "]", "", "[ ]", "<>"])
def test_bands_refuse_other_ends_text(ends):
    with pytest.raises(ValueError) as caught:
        bands("scale", "a manual", ("mid", 0, 1, "[]"), ("bad", 1, 2, ends))
    assert str(caught.value) == f"band ends must be one of [] [) (] (), got {ends!r}"


@pytest.mark.parametrize(("item", "allowed"), [
    (Item("x", "dose", "number", 0.5, 2.5), "a number from 0.5 to 2.5"),
    (Item("n", "count", "integer", 0.0, 10.0), "an integer from 0 to 10"),
])
def test_allowed_answers_print_whole_bounds_without_a_decimal_point(item, allowed):
    assert item.allowed == allowed


@pytest.mark.parametrize("raw", [2, -1, Fraction(2), Fraction(1, 2)])
def test_a_boolean_item_refuses_other_numbers(raw):
    with pytest.raises(InstrumentError) as caught:
        Item("b", "flag", "boolean").parse(raw)
    assert (caught.value.message, caught.value.found) == ("answer is not yes/no", raw)


def test_clock_times_count_seconds_as_fractions_of_a_minute():
    item = Item("bed", "bedtime", "time")
    # 07:30:30 is 7 * 60 + 30 minutes and 30 seconds after midnight
    assert item.parse("07:30:30") == Fraction(901, 2)
    assert item.parse("23:59:59") == Fraction(23 * 60 + 59) + Fraction(59, 60)
    with pytest.raises(InstrumentError) as caught:
        item.parse("24:00")
    assert (caught.value.message, caught.value.found) == ("answer is not a clock time",
                                                          "24:00")


def test_an_unknown_score_names_the_instrument_the_name_and_the_known_scores():
    form = Instrument(
        id="form", version="1", name="A test form", items=(Item("q1", "mood", "integer", 0, 4),),
        scores=(ScoreSpec("total", 0, 4), ScoreSpec("mood", 0, 4)), missing_rule="none",
        citation="none", licence="none", wording_may_ship=True, scorer=_no_scores)
    assert form.score_spec("mood").name == "mood"
    with pytest.raises(InstrumentError) as caught:
        form.score_spec("sleep")
    error = caught.value
    assert (error.message, error.field, error.found, error.expected) == (
        "unknown score for form@1", "sleep", None, "one of total, mood")


@pytest.mark.parametrize(("raw", "expected"), [(0.0, False), (1.0, True)])
def test_a_boolean_item_reads_float_zero_and_one(raw, expected):
    assert Item("b", "flag", "boolean").parse(raw) is expected


@pytest.mark.parametrize("raw", [0.5, 2.0, -1.0])
def test_a_boolean_item_refuses_other_floats(raw):
    with pytest.raises(InstrumentError) as caught:
        Item("b", "flag", "boolean").parse(raw)
    assert (caught.value.message, caught.value.found) == ("answer is not yes/no", raw)


@pytest.mark.parametrize("kind", ["number", "integer"])
def test_a_yes_no_answer_to_a_numeric_item_is_refused_saying_so(kind):
    with pytest.raises(InstrumentError) as caught:
        Item("n", "count", kind, 0, 10).parse(True)
    assert (caught.value.message, caught.value.found) == ("answer is yes/no, not a number", True)


def test_numbers_reads_only_numeric_answers():
    answers = {"a": Fraction(3, 2), "b": True, "c": "knee", "d": None}
    assert numbers(answers, ("a", "b", "c", "d", "e")) == [Fraction(3, 2), None, None, None,
                                                          None]


def test_an_unscored_value_stays_none_in_the_dict_form():
    score = Score(instrument="form@1", scoring_version="1", values={"total": None},
                  bands={"total": None}, missing_items=("q1",), missing_rule_applied=False,
                  notes=(), exact={"total": None, "mood": Fraction(1, 3)})
    assert score.as_dict()["exact"] == {"total": None, "mood": "1/3"}


@pytest.mark.parametrize(("raw", "message"), [
    (float("-inf"), "answer is not a finite number"),
    (float("inf"), "answer is not a finite number"),
    ("3/4", "answer is not a decimal number"),
    ("three", "answer is not a number"),
])
def test_a_numeric_item_says_why_it_refuses_an_answer(raw, message):
    with pytest.raises(InstrumentError) as caught:
        Item("x", "dose", "number").parse(raw)
    assert caught.value.message == message


def test_an_unhashable_answer_is_refused_naming_it():
    with pytest.raises(InstrumentError) as caught:
        Item("n", "count", "integer", 0, 10).parse([3])  # type: ignore[arg-type]
    assert (caught.value.message, caught.value.found) == ("answer is not a number", [3])


def test_an_unknown_answered_item_names_the_file_row_id_and_known_items():
    with pytest.raises(InstrumentError) as caught:
        _form().parse({"q1": 2, "q9": 1}, source="a.csv", row=3)
    error = caught.value
    assert (error.message, error.source, error.row, error.field, error.expected) == (
        "unknown item for form@1", "a.csv", 3, "q9", "one of q1, q2, q3")


def test_a_bad_answer_among_the_responses_names_the_file_and_row():
    with pytest.raises(InstrumentError) as caught:
        _form().parse({"q1": 2, "q3": 11}, source="a.csv", row=3)
    error = caught.value
    assert (error.message, error.source, error.row, error.field, error.found) == (
        "answer above the allowed range", "a.csv", 3, "q3", 11)


def test_a_score_without_band_sets_says_none_are_defined():
    with pytest.raises(InstrumentError) as caught:
        ScoreSpec("total", 0, 18).band_set("wolfe-2015")
    assert (caught.value.message, caught.value.expected) == (
        "unknown band set", "one of (none defined)")


# Tolerance: a value within ``tolerance`` of an end point (the distance equal to it
# included) counts as on that end point, so an open end excludes it and a closed end
# includes it, from either side.
_TOL = Fraction(1, 10)


@pytest.mark.parametrize(("value", "inside"), [
    (Fraction(21, 10), False), (Fraction(19, 10), False),   # on the open lower end 2
    (Fraction(49, 10), False), (Fraction(51, 10), False),   # on the open upper end 5
    (Fraction(22, 10), True), (Fraction(48, 10), True),
])
def test_an_open_band_excludes_values_within_tolerance_of_its_ends(value, inside):
    band = Band("mid", Fraction(2), Fraction(5), lower_closed=False, upper_closed=False)
    assert band.contains(value, tolerance=_TOL) is inside


def test_a_float_score_within_its_tolerance_of_a_cut_off_is_banded_as_on_it():
    # 3.2 + 1e-12 is on the cut-off 3.2 within the tolerance 1e-9: "low" includes 3.2
    cut = bands("eular", "test", ("low", 0, 3.2, "[]"), ("high", 3.2, None, "(]"))
    form = Instrument(
        id="form", version="1", name="A test form", items=(Item("q1", "mood", "integer", 0, 4),),
        scores=(ScoreSpec("s", 0, 10, bands=cut, tolerance=Fraction(1, 10**9)),),
        missing_rule="none", citation="none", licence="none", wording_may_ship=True,
        scorer=lambda answers: Computed(values={"s": 3.2 + 1e-12}))
    assert form.score({"q1": 1}).bands == {"s": "low"}

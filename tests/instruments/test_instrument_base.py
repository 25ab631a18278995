"""The instrument contract: item parsing, bands, the registry and the Score record."""

from __future__ import annotations

from fractions import Fraction

import pytest

from gutaxis.errors import InstrumentError
from gutaxis.instruments import get_instrument, list_instruments
from gutaxis.instruments.base import Choice, Item, bands
from gutaxis.instruments.registry import register

# ---------------------------------------------------------------- item parsing


def test_integer_item_accepts_integral_text_and_numbers() -> None:
    item = Item("q", "topic", "integer", 0, 10)
    assert item.parse("7") == 7
    assert item.parse(" 7 ") == 7
    assert item.parse(7) == 7
    assert item.parse(7.0) == 7
    assert item.parse("7.0") == 7


@pytest.mark.parametrize("blank", [None, "", "   ", float("nan")])
def test_blank_answers_are_unanswered(blank: object) -> None:
    assert Item("q", "topic", "integer", 0, 10).parse(blank) is None  # type: ignore[arg-type]


def test_out_of_range_error_names_item_value_and_range() -> None:
    with pytest.raises(InstrumentError) as info:
        Item("q3_worst_pain", "worst", "integer", 0, 10).parse("11", source="f.csv", row=4)
    err = info.value
    assert err.field == "q3_worst_pain"
    assert err.found == "11"
    assert err.expected == "an integer from 0 to 10"
    assert "f.csv, row 4, field 'q3_worst_pain'" in str(err)


def test_unhashable_answer_error_names_source_and_row() -> None:
    with pytest.raises(InstrumentError, match=r"f.csv, row 4, field 'q': answer is not a number"):
        Item("q", "topic", "integer", 0, 10).parse([3], source="f.csv", row=4)  # type: ignore[arg-type]


def test_nrs_rejects_half_points() -> None:
    # validation vector from the notes: 4.5 on NRS-11 -> reject (integer scale)
    with pytest.raises(InstrumentError, match="whole number"):
        get_instrument("nrs").score({"pain": 4.5})


@pytest.mark.parametrize("bad", ["abc", "1/2", "inf", True])
def test_non_numbers_are_rejected(bad: object) -> None:
    with pytest.raises(InstrumentError):
        Item("x", "t", "number", 0, 100).parse(bad)  # type: ignore[arg-type]


def test_number_parsing_is_exact_decimal() -> None:
    assert Item("x", "t", "number").parse(3.3) == Fraction(33, 10)
    assert Item("x", "t", "number").parse("0.1") == Fraction(1, 10)


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("No", False), ("1", True),
                                               ("0", False), (True, True), (0, False)])
def test_boolean_item(raw: object, expected: bool) -> None:
    assert Item("b", "t", "boolean").parse(raw) is expected  # type: ignore[arg-type]


def test_boolean_item_rejects_other_text() -> None:
    with pytest.raises(InstrumentError, match="yes/no"):
        Item("b", "t", "boolean").parse("maybe")


def test_time_item_gives_minutes_after_midnight() -> None:
    item = Item("t", "t", "time")
    assert item.parse("23:00") == 23 * 60
    assert item.parse("7:05") == 7 * 60 + 5
    with pytest.raises(InstrumentError, match="clock time"):
        item.parse("24:00")


def test_choice_item() -> None:
    item = Item("c", "t", "choice", choices=(Choice("a", "A"), Choice("b", "B")))
    assert item.parse("b") == "b"
    with pytest.raises(InstrumentError, match="choices"):
        item.parse("c")


# ---------------------------------------------------------------- bands


def test_half_open_bands_classify_gaps_and_edges() -> None:
    odi_like = bands("t", "test", ("low", 0, 20, "[]"), ("mid", 20, 40, "(]"))
    assert odi_like.classify(Fraction(20)) == "low"
    assert odi_like.classify(Fraction(2001, 100)) == "mid"
    assert odi_like.classify(Fraction(41)) is None


def test_band_tolerance_puts_float_noise_on_the_cut_off() -> None:
    das = get_instrument("das28-esr").score_spec("das28_esr4").bands
    assert das is not None
    tol = Fraction(1, 10**9)
    assert das.classify(3.2000000000000006, tolerance=tol) == "low"
    assert das.classify(3.2000001, tolerance=tol) == "moderate"


def test_unknown_band_set_lists_the_known_ones() -> None:
    with pytest.raises(InstrumentError, match="fairbank-2000"):
        get_instrument("odi").score({"pain_intensity": 1}, bands={"disability": "nope"})


# ---------------------------------------------------------------- registry


def test_get_instrument_latest_and_pinned_version() -> None:
    assert get_instrument("acr-fm").key == "acr-fm@2016"
    assert get_instrument("acr-fm@2011").version == "2011"
    assert get_instrument("ODI@2.1A").key == "odi@2.1a"


def test_unknown_instrument_lists_known_ids() -> None:
    with pytest.raises(InstrumentError) as info:
        get_instrument("sf36")
    assert "odi" in str(info.value) and "pss-10" in str(info.value)


def test_unknown_version_lists_known_versions() -> None:
    with pytest.raises(InstrumentError, match=r"odi@2\.1a"):
        get_instrument("odi@9")


def test_registering_a_duplicate_key_fails() -> None:
    with pytest.raises(InstrumentError, match="already registered"):
        register(get_instrument("odi"))


def test_every_instrument_is_declared_completely() -> None:
    keys = [i.key for i in list_instruments()]
    assert len(keys) == len(set(keys)) >= 20
    for inst in list_instruments():
        ids = inst.item_ids
        assert len(ids) == len(set(ids)), inst.key
        assert inst.scores and inst.citation and inst.licence and inst.missing_rule
        assert set(inst.reverse_items) <= set(ids)
        for item in inst.items:
            if not inst.wording_may_ship:
                assert item.text is None, f"{inst.key}: {item.id} ships licensed wording"
            if item.kind in ("integer", "number") and item.minimum is not None \
                    and item.maximum is not None:
                assert item.minimum < item.maximum


# ---------------------------------------------------------------- score record


def test_unknown_item_id_is_an_error_naming_it() -> None:
    with pytest.raises(InstrumentError) as info:
        get_instrument("peg").score({"p_average_pain": 3, "pain_avg": 4})
    assert info.value.field == "pain_avg"
    assert "p_average_pain" in str(info.value)


def test_score_records_instrument_version_missing_items_and_band_set() -> None:
    score = get_instrument("bpi-sf").score({
        "q3_worst_pain": 7, "q4_least_pain": 2, "q5_average_pain": 5, "q6_pain_now": 4,
        "q9a_general_activity": 6, "q9b_mood": 5, "q9c_walking_ability": 7, "q9f_sleep": 8,
    })
    assert score.instrument == "bpi-sf@2009"
    assert score.missing_items == ("q9d_normal_work", "q9e_relations_with_others",
                                   "q9g_enjoyment_of_life")
    assert score.missing_rule_applied
    assert score.band_sets["severity"] == "eppoc-half-open"
    assert score.exact["interference"] == Fraction(13, 2)


def test_score_as_dict_is_json_ready() -> None:
    import json

    score = get_instrument("odi").score({"pain_intensity": 2, "personal_care": 2,
                                         "lifting": 2, "walking": 2, "sitting": 2,
                                         "standing": 2, "sleeping": 2, "social_life": 1,
                                         "travelling": 1})
    data = json.loads(json.dumps(score.as_dict()))
    assert data["exact"]["disability"] == "320/9"
    assert data["missing_items"] == ["sex_life"] and data["missing_rule_applied"] is True


def test_memoised_parsing_keeps_equal_hashing_types_apart() -> None:
    item = Item("q", "topic", "integer", 0, 10)
    assert item.parse(1) == 1
    with pytest.raises(InstrumentError, match="yes/no"):
        item.parse(True)
    flag = Item("b", "topic", "boolean")
    assert flag.parse(1) is True and flag.parse(True) is True


def test_with_wording_loads_site_text_without_touching_the_registry() -> None:
    odi = get_instrument("odi")
    local = odi.with_wording({"pain_intensity": "site wording"})
    assert local.item("pain_intensity").text == "site wording"
    assert odi.item("pain_intensity").text is None
    assert local.score({"pain_intensity": 3}).values == odi.score({"pain_intensity": 3}).values
    with pytest.raises(InstrumentError, match="unknown item"):
        odi.with_wording({"q99": "x"})


@pytest.mark.parametrize(("change", "match"), [
    ({"id": "My Scale"}, "malformed"),
    ({"items": (Item("a", "t", "integer", 0, 3), Item("a", "t", "integer", 0, 3))},
     "repeated item id"),
    ({"reverse_items": ("zz",)}, "reversed items"),
    ({"items": (Item("a", "t", "integer", 5, 3),)}, "minimum above maximum"),
])
def test_register_rejects_malformed_declarations(change: dict[str, object],
                                                 match: str) -> None:
    from dataclasses import replace

    fields: dict[str, object] = {"id": "site-scale", "version": "1", **change}
    plugin = replace(get_instrument("nrs"), **fields)  # type: ignore[arg-type]
    with pytest.raises(InstrumentError, match=match):
        register(plugin)


def test_a_version_registered_before_any_lookup_stays_the_latest() -> None:
    """In a fresh process (the registry not yet loaded), a site's NRS registered first is
    still the default after the built-in families load."""
    import subprocess
    import sys

    code = """
from gutaxis.instruments.base import Computed, Instrument, Item, ScoreSpec
from gutaxis.instruments.registry import get_instrument, register
register(Instrument(id="nrs", version="99", name="site NRS",
                    items=(Item("pain", "pain", "integer", 0, 10),),
                    scores=(ScoreSpec("pain", 0, 10),), missing_rule="none",
                    citation="site", licence="site", wording_may_ship=True,
                    scorer=lambda a: Computed({"pain": a["pain"]})))
print(get_instrument("nrs").key, get_instrument("nrs@11").key)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["nrs@99", "nrs@11"]

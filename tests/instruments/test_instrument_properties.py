"""Property tests over every registered instrument: scores stay in their declared range,
raising a non-reversed item never lowers a score, reversed items work the other way, and
mean substitution reproduces a constant answer pattern exactly."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gutaxis.instruments import get_instrument, list_instruments
from gutaxis.instruments.base import Instrument, Item

KEYS = [i.key for i in list_instruments()]
#: Instruments whose every score rises (or stays) when any integer item rises.
MONOTONE = ["nrs@11", "peg@2009", "bpi-sf@2009", "womac@3.1", "odi@2.1a", "fiqr@2009",
            "acr-fm@2016", "cdai@2005", "sdai@2003", "das28-esr@1995", "das28-crp@1995",
            "gsrs@self-7", "gsrs@1988-interview"]


def answer_strategy(item: Item) -> st.SearchStrategy[Any]:
    """Valid answers for one item (open upper bounds capped at 200)."""
    low = 0 if item.minimum is None else item.minimum
    high = 200 if item.maximum is None else item.maximum
    if item.kind == "integer":
        return st.integers(math.ceil(low), math.floor(high))
    if item.kind == "number":
        return st.integers(int(low * 10), int(high * 10)).map(lambda v: Fraction(v, 10))
    if item.kind == "boolean":
        return st.booleans()
    if item.kind == "time":
        return st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23),
                         st.integers(0, 59))
    return st.none()


def full_answers(instrument: Instrument) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({item.id: answer_strategy(item) for item in instrument.items})


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_scores_stay_in_their_declared_range(key: str, data: st.DataObject) -> None:
    instrument = get_instrument(key)
    score = instrument.score(data.draw(full_answers(instrument)))
    for spec in instrument.scores:
        value = score.values[spec.name]
        if value is not None:
            assert spec.minimum - 1e-9 <= value <= spec.maximum + 1e-9, (spec.name, value)


@pytest.mark.parametrize("key", MONOTONE)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_raising_a_non_reversed_item_never_lowers_a_score(key: str,
                                                          data: st.DataObject) -> None:
    instrument = get_instrument(key)
    answers = data.draw(full_answers(instrument))
    raisable = [item for item in instrument.items if item.kind == "integer" and item.scored
                and answers[item.id] < (item.maximum if item.maximum is not None else 200)]
    assume(raisable)
    item = data.draw(st.sampled_from(raisable))
    before = instrument.score(answers)
    after = instrument.score({**answers, item.id: answers[item.id] + 1})
    for name, value in before.values.items():
        if value is not None and after.values[name] is not None:
            assert after.values[name] >= value - 1e-12, (item.id, name)


@settings(max_examples=100, deadline=None)
@given(answers=st.lists(st.integers(0, 3), min_size=10, max_size=10),
       index=st.integers(0, 9))
def test_pss10_direct_items_raise_and_reversed_items_lower_the_total(
        answers: list[int], index: int) -> None:
    inst = get_instrument("pss-10")
    item = f"pss{index + 1}"
    base = {f"pss{i + 1}": v for i, v in enumerate(answers)}
    before = inst.score(base).exact["total"]
    after = inst.score({**base, item: base[item] + 1}).exact["total"]
    assert before is not None and after is not None
    assert after - before == (-1 if item in inst.reverse_items else 1)


@settings(max_examples=100, deadline=None)
@given(value=st.integers(0, 4), missing=st.sets(st.integers(1, 17), max_size=3))
def test_womac_mean_substitution_reproduces_a_constant_pattern(value: int,
                                                               missing: set[int]) -> None:
    answers = {f"f{i}": (None if i in missing else value) for i in range(1, 18)}
    score = get_instrument("womac").score(answers)
    assert score.exact["function"] == 17 * value
    assert score.missing_rule_applied == bool(missing)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(0, 5) | st.none(), min_size=10, max_size=10))
def test_odi_is_the_answered_mean_as_a_percentage(values: list[int | None]) -> None:
    sections = get_instrument("odi").item_ids
    score = get_instrument("odi").score(dict(zip(sections, values, strict=True)))
    done = [v for v in values if v is not None]
    if not done or len(done) < 8:
        assert score.values["disability"] is None
    else:
        assert score.exact["disability"] == Fraction(sum(done) * 100, 5 * len(done))


@settings(max_examples=100, deadline=None)
@given(days=st.tuples(st.integers(0, 6), st.integers(0, 7), st.integers(0, 7)),
       minutes=st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300)),
       which=st.integers(0, 2))
def test_ipaq_more_days_never_lower_met_or_category(days: tuple[int, int, int],
                                                    minutes: tuple[int, int, int],
                                                    which: int) -> None:
    names = ("vigorous", "moderate", "walking")
    inst = get_instrument("ipaq-sf")
    answers: dict[str, int] = {}
    for name, d, m in zip(names, days, minutes, strict=True):
        answers[f"{name}_days"], answers[f"{name}_min_per_day"] = d, m
    before = inst.score(answers)
    key = f"{names[which]}_days"
    after = inst.score({**answers, key: min(7, answers[key] + 1)})
    if before.values["total_met"] is None:
        assert after.values["total_met"] is None     # exclusion depends on minutes only
        return
    assert after.exact["total_met"] is not None and before.exact["total_met"] is not None
    assert after.exact["total_met"] >= before.exact["total_met"]
    assert after.exact["category"] >= before.exact["category"]  # type: ignore[operator]


#: Scores that can take non-integer values (means, proration, percentages, formulas).
FRACTIONAL = {("bpi-sf@2009", "severity"), ("vas@100mm", "pain"), ("odi@2.1a", "disability"),
              ("fiqr@2009", "total"), ("das28-esr@1995", "das28_esr4"),
              ("das28-esr@1995", "das28_esr3"), ("das28-crp@1995", "das28_crp4"),
              ("das28-crp@1995", "das28_crp3"), ("cdai@2005", "cdai"), ("sdai@2003", "sdai"),
              ("pss-10@1988", "total")}
BAND_SETS = [(inst.key, spec.name, band_set.name)
             for inst in list_instruments() for spec in inst.scores
             for band_set in (spec.bands, *spec.alternative_bands) if band_set is not None]


@pytest.mark.parametrize(("key", "score", "band_set"), BAND_SETS,
                         ids=[f"{k}:{s}:{b}" for k, s, b in BAND_SETS])
def test_band_sets_partition_the_score_range(key: str, score: str, band_set: str) -> None:
    """Every attainable value falls in exactly one band: no gaps, no overlaps."""
    spec = get_instrument(key).score_spec(score)
    bands = spec.band_set(band_set)
    assert bands is not None
    edges = [e for b in bands.bands for e in (b.lower, b.upper) if e is not None]
    top = spec.maximum if math.isfinite(spec.maximum) else max(edges) + 5
    step = Fraction(1, 100) if (key, score) in FRACTIONAL else Fraction(1)
    value = Fraction(spec.minimum).limit_denominator(100)
    while value <= top:
        hits = [b.label for b in bands.bands if b.contains(value, tolerance=spec.tolerance)]
        assert len(hits) == 1, (float(value), hits)
        value += step

"""The trial analyses' edge cases and invariants: baselines of 0, NNT words, zero cells,
cut-off ties, the direction flag, the primary visit, the small-trial warning."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.stats.trial import (
    TrialResults,
    analyze_trial,
    hedges_g,
    nnt_words,
    read_trial_table,
    wilson_interval,
)

FOLDER = Path(__file__).resolve().parents[2] / "reference" / "trial"


def small_trial(baseline: list[float], followup: list[float]) -> TrialResults:
    half = len(baseline) // 2
    table = pd.DataFrame({"arm": ["control"] * half + ["active"] * (len(baseline) - half),
                          "b": baseline, "f": followup})
    return analyze_trial(table, arm="arm", baseline="b", followup="f", treatment="active")


def test_baseline_of_zero_is_left_out_of_responders_only() -> None:
    r = small_trial([0, 6, 7, 8, 5, 6, 7, 8], [1, 6, 7, 7, 2, 3, 4, 4])
    assert r.effect("responder_30", "proportion control").n == 3  # the zero baseline left out
    assert r.effect("responder_30", "proportion active").n == 4
    assert any("baseline <= 0" in note for note in r.notes)
    control = r.effect("percent_change", "control")  # means (21 -> 21), not ratios
    assert control.estimate == pytest.approx(0.0, abs=1e-12)  # without the 0: 21 -> 20


def test_mean_baseline_of_zero_has_no_percent_change() -> None:
    r = small_trial([0, 0, 0, 5, 6, 7], [1, 2, 0, 2, 3, 3])
    e = r.effect("percent_change", "control")
    assert np.isnan(e.estimate) and "undefined" in e.note
    assert np.isnan(r.effect("percent_change", "active - control").estimate)


def test_percent_change_se_is_the_delta_method() -> None:
    r = analyze_trial(read_trial_table(FOLDER / "trial_wide.tsv"), arm="arm",
                      baseline="baseline", followup="week12")
    p = r.primary
    b, f = p.baseline[p.treated], p.outcome[p.treated]
    cov = np.cov(np.vstack([f, b])) / len(b)
    step = 1e-6
    def pct(mf: float, mb: float) -> float:
        return 100 * (mf / mb - 1)
    grad = np.array([(pct(f.mean() + step, b.mean()) - pct(f.mean() - step, b.mean())) / 2,
                     (pct(f.mean(), b.mean() + step) - pct(f.mean(), b.mean() - step)) / 2])
    grad /= step
    e = r.effect("percent_change", "probiotic")
    assert e.estimate == pytest.approx(pct(f.mean(), b.mean()), rel=1e-12)
    assert e.stderr == pytest.approx(np.sqrt(grad @ cov @ grad), rel=1e-6)


def test_a_cut_off_reached_exactly_counts() -> None:
    r = small_trial([10, 7, 8, 10, 7, 8], [7, 4.9, 8, 5, 3.5, 8])
    assert r.effect("responder_30", "proportion control").estimate == pytest.approx(2 / 3)
    assert r.effect("responder_50", "proportion active").estimate == pytest.approx(2 / 3)


def test_higher_is_better_counts_rises() -> None:
    base, follow = [5, 5, 5, 5, 5, 5], [5, 5, 7, 8, 8, 4]
    half = 3
    table = pd.DataFrame({"arm": ["c"] * half + ["t"] * half, "b": base, "f": follow})
    up = analyze_trial(table, arm="arm", baseline="b", followup="f", lower_is_better=False)
    assert up.effect("responder_30", "proportion t").estimate == pytest.approx(2 / 3)
    assert up.effect("responder_50", "proportion c").estimate == 0
    assert "higher is better" in up.summary()


def test_zero_cell_adds_a_half_to_every_cell() -> None:
    r = small_trial([8, 8, 8, 8, 8, 8, 8, 8], [8, 8, 8, 8, 2, 2, 8, 8])
    rr = r.effect("responder_30", "rr")
    a, b, c, d = 2.5, 2.5, 0.5, 4.5  # active 2 of 4, control 0 of 4, plus 1/2
    assert rr.estimate == pytest.approx((a / (a + b)) / (c / (c + d)), rel=1e-12)
    assert "1/2 added" in rr.note
    odds = r.effect("responder_30", "or")
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert odds.ci_high == pytest.approx(a * d / (b * c) * np.exp(1.959963984540054 * se))


def test_wilson_interval_at_the_edges() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0 and 0.25 < high < 0.35  # R prop.test(0, 10, correct=FALSE): 0.2775
    assert wilson_interval(0, 10)[1] == pytest.approx(0.27753279986288, rel=1e-9)
    low, high = wilson_interval(10, 10)
    assert high == 1 and low == pytest.approx(1 - 0.27753279986288, rel=1e-9)


@pytest.mark.parametrize(("rd", "low", "high", "words"), [
    (0.25, 0.1, 0.4, "NNT benefit 4.0 (95% CI NNT benefit 2.5 to 10.0)"),
    (-0.2, -0.5, -0.1, "NNT harm 5.0 (95% CI NNT harm 2.0 to 10.0)"),
    (0.1, -0.05, 0.25, "NNT benefit 10.0 (95% CI NNT benefit 4.0 to infinity to NNT harm "
     "20.0"),
    (-0.1, -0.25, 0.05, "NNT harm 10.0 (95% CI NNT benefit 20.0 to infinity to NNT harm 4.0"),
])
def test_nnt_words_follow_altman(rd: float, low: float, high: float, words: str) -> None:
    assert nnt_words(rd, low, high).startswith(words)


def test_nnt_interval_is_the_reciprocal_of_the_rd_interval() -> None:
    r = analyze_trial(read_trial_table(FOLDER / "trial_wide.tsv"), arm="arm",
                      baseline="baseline", followup="week12")
    rd, nnt = r.effect("responder_30", "rd"), r.effect("responder_30", "nnt")
    assert (nnt.ci_low, nnt.ci_high) == pytest.approx((1 / rd.ci_high, 1 / rd.ci_low))
    rd, nnt = r.effect("responder_50", "rd"), r.effect("responder_50", "nnt")
    assert rd.ci_low < 0 < rd.ci_high  # crosses 0: the two ends, harm below, benefit above
    assert (nnt.ci_low, nnt.ci_high) == pytest.approx((1 / rd.ci_low, 1 / rd.ci_high))
    assert "infinity" in nnt.note


@settings(max_examples=40)
@given(st.lists(st.floats(-5, 5), min_size=3, max_size=8),
       st.lists(st.floats(-5, 5), min_size=3, max_size=8),
       st.floats(0.1, 10), st.floats(-3, 3))
def test_hedges_g_is_scale_free_and_antisymmetric(t: list[float], c: list[float],
                                                  scale: float, shift: float) -> None:
    ta, ca = np.array(t), np.array(c)
    pooled = np.sqrt(((len(t) - 1) * ta.var(ddof=1) + (len(c) - 1) * ca.var(ddof=1))
                     / (len(t) + len(c) - 2))
    assume(pooled > 1e-3)
    g, se = hedges_g(ta, ca)
    g2, se2 = hedges_g(scale * ta + shift, scale * ca + shift)
    assert g2 == pytest.approx(g, rel=1e-9, abs=1e-9)
    assert se2 == pytest.approx(se, rel=1e-9)
    assert hedges_g(ca, ta)[0] == pytest.approx(-g, rel=1e-12, abs=1e-12)


def test_primary_visit_moves_the_single_visit_analyses() -> None:
    table = read_trial_table(FOLDER / "trial_long.csv")
    args = {"arm": "arm", "baseline": "baseline", "followup": "pain", "subject": "subject",
            "visit": "visit"}
    week8 = analyze_trial(table, **args, primary_visit="week8")
    assert week8.primary_visit == "week8" and len(week8.primary.outcome) == 62
    with pytest.raises(InputError, match=r"primary visit.*week5.*week4, week8, week12"):
        analyze_trial(table, **args, primary_visit="week5")


def test_results_are_frozen_and_summary_warns_of_a_small_trial() -> None:
    r = small_trial([6, 7, 8, 5, 6, 7], [5, 6, 8, 2, 3, 4])
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.lower_is_better = False  # type: ignore[misc]
    text = r.summary()
    assert "Small trial: 3 subjects in the smaller arm" in text
    assert "95% CI" in text and "NNT" in text
    assert r.repeated is None


def test_long_data_with_one_visit_per_subject_has_no_mixed_model() -> None:
    table = pd.DataFrame({"id": list("abcdef"), "arm": ["c", "c", "c", "t", "t", "t"],
                          "visit": ["w4", "w8", "w8", "w4", "w8", "w8"],
                          "b": [6, 7, 8, 6, 7, 8], "y": [5, 6, 7, 5, 3, 4]})
    r = analyze_trial(table, arm="arm", baseline="b", followup="y", subject="id",
                      visit="visit")
    assert r.repeated is None and r.primary_visit == "w8"
    assert "no mixed model" in r.summary()
    table["y"] = ["", 6, 7, "", 3, 4]  # week 4 without outcomes: one visit is left
    r = analyze_trial(table, arm="arm", baseline="b", followup="y", subject="id",
                      visit="visit")
    assert r.data.visit_levels == ("w8",) and "1 visit(s) without any outcome" in r.summary()

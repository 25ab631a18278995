"""Segmented regression of one subject: planted effects, Bayesian MCID probabilities, and
the guards against over-reading (points per phase, trend before the start, co-interventions,
washout, short series)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from nof1_simulate import ar1_errors

from gutaxis.errors import InputError
from gutaxis.stats.nof1.analysis import (
    OverReadingWarning,
    ShortSeriesWarning,
    analyze_nof1,
)
from gutaxis.stats.nof1.results import EFFECT_COLUMNS


def abab(seed: int = 0, *, effect: float = -2.5, n: int = 112, phase_len: int = 28,
         trend: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = np.where((t // phase_len) % 2 == 0, "A", "B")
    noise = ar1_errors(rng, np.array([0.4]), n)[0]
    pain = 6.0 + trend * t + effect * (phase == "B") + noise
    return pd.DataFrame({"day": t, "phase": phase, "pain": pain,
                         "gi": 3.0 + 0.5 * noise + rng.normal(0, 0.5, n)})


def test_a_planted_fall_is_found_with_its_probability_of_mattering() -> None:
    results = analyze_nof1(abab(), outcomes=["pain", "gi"], time="day")
    frame = results.to_frame()
    assert list(frame.columns) == list(EFFECT_COLUMNS)
    pain = frame.set_index("outcome").loc["pain"]
    assert pain["ci_low"] < -2.5 < pain["ci_high"] and pain["pval"] < 0.001
    assert pain["contrast"] == "B vs A" and pain["method"] == "reml"
    # P(fall >= 2 points) near one half when the fall is 2.5 +- 0.5; 30% of ~6 = 1.8
    assert 0.5 < pain["prob_mcid_points"] < 1.0
    assert pain["prob_mcid_percent"] > pain["prob_mcid_points"]
    gi = frame.set_index("outcome").loc["gi"]
    assert gi["pval"] > 0.01 and gi["prob_mcid_points"] < 0.01
    text = results.summary()
    assert "pain, B vs A: level change" in text and "95% CI" in text
    assert "gi, B vs A" in text and "Weak evidence" in text.split("gi, B vs A")[1]


def test_integrated_interval_is_wider_than_the_plug_in_interval() -> None:
    # this seed's series happens to trend before the first switch (p about 0.05), so the
    # pre-trend guard may speak; the intervals are what is tested here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverReadingWarning)
        row = analyze_nof1(abab(1), outcomes=["pain"], time="day").effects[0]
    assert row.ci_low < row.gls_ci_low and row.ci_high > row.gls_ci_high
    assert row.ci_high - row.ci_low < 1.3 * (row.gls_ci_high - row.gls_ci_low)


def test_no_effect_gives_a_weak_evidence_summary() -> None:
    results = analyze_nof1(abab(3, effect=0.0), outcomes=["pain"], time="day")
    assert results.effects[0].weak
    assert "No outcome changed clearly" in results.summary()


def test_washout_days_are_left_out_and_counted() -> None:
    frame = analyze_nof1(abab(), outcomes=["pain"], time="day", washout=5).to_frame()
    assert frame["n_washout"].iloc[0] == 15  # 5 days after each of the 3 switches
    assert frame["n_points"].iloc[0] == 112 - 15


def test_too_few_points_in_a_phase_names_the_block() -> None:
    data = abab()
    data.loc[(data["day"] >= 30) & (data["day"] < 54), "pain"] = np.nan
    with pytest.raises(InputError, match=r"too few points in phase 'B' \(block 2") as err:
        analyze_nof1(data, outcomes=["pain"], time="day")
    assert err.value.row == 30 and err.value.column == "pain"


def test_a_trend_before_the_start_is_warned_about() -> None:
    data = abab(2, trend=-0.1)
    with pytest.warns(OverReadingWarning, match="already trending before the first switch"):
        analyze_nof1(data, outcomes=["pain"], time="day")


def test_a_co_intervention_at_a_switch_is_warned_about() -> None:
    co = pd.DataFrame({"type": ["diet"], "product": ["low-FODMAP diet"], "start": [30.0]})
    with pytest.warns(OverReadingWarning, match="low-FODMAP diet started at time 30"):
        results = analyze_nof1(abab(), outcomes=["pain"], time="day", co_interventions=co)
    assert any("cannot be separated" in n for n in results.notes)


def test_a_very_short_series_falls_back_to_ols_with_a_warning() -> None:
    data = abab(n=16, phase_len=8)
    with pytest.warns(ShortSeriesWarning, match="fitted by OLS"):
        results = analyze_nof1(data, outcomes=["pain"], time="day")
    assert results.effects[0].method == "ols" and results.effects[0].phi == 0.0


def test_dates_and_a_third_phase() -> None:
    data = abab()
    data["date"] = pd.date_range("2024-01-01", periods=len(data)).strftime("%Y-%m-%d")
    data.loc[data["day"] >= 84, "phase"] = "C"
    frame = analyze_nof1(data, outcomes=["pain"], time="date").to_frame()
    assert list(frame["contrast"]) == ["B vs A", "C vs A"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.assign(phase="A"), "no treatment phase"),
    (lambda d: d.drop(columns="pain"), "column not found"),
    (lambda d: d.assign(day=d["day"].where(d["day"] != 5, 4)), "same time"),
    (lambda d: d.assign(pain=d["pain"].astype(object).where(d["day"] != 7, "lots")),
     "not a number"),
])
def test_bad_series_are_refused_with_the_place(change, message) -> None:
    with pytest.raises(InputError, match=message):
        analyze_nof1(change(abab()), outcomes=["pain"], time="day")


def test_higher_is_better_counts_a_rise_and_a_negative_control_mean_gives_no_percent() -> None:
    data = abab(effect=2.5)  # B raises the outcome: an improvement for quality of life
    data["qol"] = data["pain"]
    data["zero_based"] = data["gi"] - 4.0 * (data["phase"] == "A")  # control mean below 0
    effects = analyze_nof1(data, outcomes=["pain", "qol", "zero_based"], time="day",
                           higher_is_better=("qol",)).to_frame().set_index("outcome")
    assert effects.loc["pain", "improvement"] == "fall"
    assert effects.loc["pain", "prob_mcid_points"] < 1e-6
    assert effects.loc["qol", "improvement"] == "rise"
    assert effects.loc["qol", "prob_mcid_points"] > 0.5
    assert np.isnan(effects.loc["zero_based", "prob_mcid_percent"])

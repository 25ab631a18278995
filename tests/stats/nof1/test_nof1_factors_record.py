"""Everyday factors (associations done with care) and series taken from the record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nof1_record import pain_record
from nof1_simulate import ar1_errors

from gutaxis.errors import InputError
from gutaxis.stats.nof1.factors import FACTOR_COLUMNS, everyday_factors
from gutaxis.stats.nof1.record import series_from_record


def diary(days: int = 90, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sleep = rng.normal(7, 1, days)
    fibre = rng.integers(0, 6, days).astype(float)
    stress = rng.normal(5, 2, days)
    pain = 5 + ar1_errors(rng, np.array([0.4]), days, 0.7)[0]
    pain[1:] -= 0.6 * (sleep[:-1] - 7)  # poor sleep last night, more pain today
    return pd.DataFrame({"day": np.arange(days), "pain": pain, "sleep": sleep,
                         "fibre": fibre, "stress": stress})


def test_a_next_day_association_is_found_and_worded_as_association() -> None:
    scan = everyday_factors(diary(), outcome="pain", factors=["sleep", "fibre", "stress"],
                            time="day")
    table = scan.to_frame()
    assert list(table.columns) == list(FACTOR_COLUMNS) and len(table) == 6
    sleep_next = table[(table["factor"] == "sleep") & (table["lag"] == 1)].iloc[0]
    assert sleep_next["ci_low"] < -0.6 < sleep_next["ci_high"] and sleep_next["qval"] < 0.01
    others = table[table["factor"] != "sleep"]
    assert (others["qval"] > 0.05).all()
    assert (table["qval"] >= table["pval"]).all()
    text = scan.summary()
    assert "associations, not causes" in text and "randomised" in text
    assert "sleep: pain 1 day(s) later -0." in text and "clear after correction" in text


def test_nothing_is_shown_before_enough_days() -> None:
    scan = everyday_factors(diary(days=20), outcome="pain", factors=["sleep"], time="day")
    assert not scan.table["enough_data"].any() and scan.table["estimate"].isna().all()
    assert "too little data yet: sleep" in scan.summary()


def test_a_factor_that_hardly_varies_is_not_shown() -> None:
    data = diary().assign(probiotic=0.0)
    data.loc[:3, "probiotic"] = 1.0  # taken on 4 days only
    scan = everyday_factors(data, outcome="pain", factors=["probiotic"], time="day")
    assert not scan.table["enough_data"].any()


def test_record_series_has_phases_from_the_intervention() -> None:
    frame, co = series_from_record(pain_record(), subject="p01", intervention="probiotic")
    assert list(frame.columns) == ["day", "phase", "nrs.pain"]
    assert (frame["phase"] == "B").sum() == 30 and frame["phase"].iloc[29] == "A"
    assert co.empty


def test_record_series_lists_co_interventions_in_days() -> None:
    _, co = series_from_record(pain_record(co_start=31), subject="p01",
                               intervention="probiotic")
    assert co["start"].tolist() == [31.0] and co["product"].tolist() == ["low-FODMAP diet"]


def test_an_intervention_outside_the_series_is_refused() -> None:
    with pytest.raises(InputError, match="intervention period outside the series") as err:
        series_from_record(pain_record(start=70), subject="p01", intervention="probiotic")
    assert err.value.row == "intervention i1" and err.value.field == "start"


def test_an_unknown_subject_or_missing_intervention_is_refused() -> None:
    with pytest.raises(InputError, match="no observations of the subject"):
        series_from_record(pain_record(), subject="p99", intervention="probiotic")
    with pytest.raises(InputError, match="no intervention of this type"):
        series_from_record(pain_record(), subject="p01", intervention="diet")


def test_a_factor_that_moved_with_the_phases_does_not_borrow_their_effect() -> None:
    data = diary(days=112, seed=4)
    phase = np.where((data["day"] // 28) % 2 == 0, "A", "B")
    rng = np.random.default_rng(9)
    data["fibre"] = 2.0 + 2.0 * (phase == "B") + rng.normal(0, 0.5, len(data))
    data["pain"] -= 2.0 * (phase == "B")  # the intervention lowers pain, not the fibre
    data["phase"] = phase
    naive = everyday_factors(data, outcome="pain", factors=["fibre"], time="day").table
    adjusted = everyday_factors(data, outcome="pain", factors=["fibre"], time="day",
                                phase="phase").table
    assert naive.loc[0, "qval"] < 0.01  # fibre looks protective when phases are ignored
    assert adjusted.loc[0, "ci_low"] < 0 < adjusted.loc[0, "ci_high"]

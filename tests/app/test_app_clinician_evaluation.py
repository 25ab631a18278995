"""The n-of-1 evaluation of an intervention: on a planted series it finds the planted
effect and equals the engine run directly on the same series; with too few days it gives
no numbers; the engine's caveats and the co-interventions are all shown."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from clinic_fixtures import Cast

from gutaxis.app.diary.schemas import DiaryDay
from gutaxis.app.diary.service import save_day
from gutaxis.stats.nof1 import run_nof1

TODAY = dt.datetime.now(dt.UTC).date()
BEFORE, DURING = 30, 30


def planted(seed: int = 7) -> tuple[list[dt.date], list[int], list[int]]:
    """Pain around 6 for 30 days, then around 4 (noise sd 0.8, rounded to the NRS);
    bloating 5 then 5 (no change)."""
    rng = np.random.default_rng(seed)
    days = [TODAY - dt.timedelta(days=BEFORE + DURING - 1 - i) for i in range(BEFORE + DURING)]
    mean = np.r_[np.full(BEFORE, 6.0), np.full(DURING, 4.0)]
    pain = np.clip(np.rint(mean + rng.normal(0, 0.8, len(days))), 0, 10).astype(int)
    bloating = np.clip(np.rint(5 + rng.normal(0, 1.0, len(days))), 0, 10).astype(int)
    return days, pain.tolist(), bloating.tolist()


def write_diary(cast: Cast, days: list[dt.date], pain: list[int],
                bloating: list[int] | None = None) -> None:
    with cast.clinic.state.db.write() as session:
        for i, day in enumerate(days):
            gi = {"bloating": bloating[i]} if bloating else {}
            save_day(session, cast.patient_a, day, DiaryDay(pain=pain[i], gi_symptoms=gi))


def start(cast: Cast, **body: object) -> int:
    made = cast.clients["doc"].post(f"/api/v1/patients/{cast.patient_a}/interventions",
                                    json={"type": "probiotic", "product": "LGG", **body})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_a_planted_fall_of_two_points_is_found_as_the_engine_finds_it(cast: Cast) -> None:
    days, pain, bloating = planted()
    write_diary(cast, days, pain, bloating)
    iid = start(cast, start=str(days[BEFORE]), dose=1e10, dose_unit="CFU/day")
    url = f"/api/v1/patients/{cast.patient_a}/interventions/{iid}/evaluation"
    body = cast.clients["doc"].get(url).json()
    pain_row = next(o for o in body["outcomes"] if o["outcome"] == "pain")
    assert pain_row["evaluated"] and (pain_row["days_before"], pain_row["days_during"]) == (
        BEFORE, DURING)
    effect = pain_row["effect"]
    assert effect["ci_low"] <= -2.0 <= effect["ci_high"]
    # the engine on the same series, built here from the planted numbers
    series = pd.DataFrame({"day": np.arange(BEFORE + DURING, dtype=float),
                           "phase": ["A"] * BEFORE + ["B"] * DURING,
                           "pain": np.asarray(pain, dtype=float)})
    direct = run_nof1(series, outcomes=["pain"], time="day", phase="phase").results
    reference = direct.effects[0]
    for key in ("level_change", "ci_low", "ci_high", "prob_mcid_points", "prob_mcid_percent",
                "phi", "control_mean"):
        assert effect[key] == pytest.approx(getattr(reference, key), rel=1e-9), key
    assert effect["method"] == reference.method == "reml"
    assert body["caveats"][: len(direct.notes)] == list(direct.notes)
    assert any("not declared randomised" in c for c in body["caveats"])
    assert any(c.startswith("no washout") for c in body["caveats"])
    assert any("autocorrelation phi" in c for c in body["caveats"])
    assert body["rule"].startswith("One patient's before/after is not proof of cause")
    gi = next(o for o in body["outcomes"] if o["outcome"] == "gi_total")
    assert gi["evaluated"] and gi["effect"]["ci_low"] <= 0 <= gi["effect"]["ci_high"]
    # the patient may read their own evaluation; another patient may not
    assert cast.clients["pat_a"].get(url).status_code == 200
    assert cast.clients["pat_b"].get(url).status_code == 403


def test_a_washout_leaves_the_first_days_out(cast: Cast) -> None:
    days, pain, _ = planted(seed=3)
    write_diary(cast, days, pain)
    iid = start(cast, start=str(days[BEFORE]))
    url = f"/api/v1/patients/{cast.patient_a}/interventions/{iid}/evaluation"
    body = cast.clients["doc"].get(url, params={"washout": 5}).json()
    effect = body["outcomes"][0]["effect"]
    assert effect["n_washout"] == 5 and effect["n_points"] == BEFORE + DURING - 5
    assert any(c.startswith("washout: the first 5 days") for c in body["caveats"])


def test_too_few_days_give_no_numbers(cast: Cast) -> None:
    days = [TODAY - dt.timedelta(days=i) for i in range(8, -1, -1)]  # 9 days: 6 before, 3
    write_diary(cast, days, [5] * len(days))
    iid = start(cast, start=str(days[6]))
    body = cast.clients["doc"].get(
        f"/api/v1/patients/{cast.patient_a}/interventions/{iid}/evaluation").json()
    for row in body["outcomes"]:
        assert row["evaluated"] is False and row["effect"] is None
    assert body["outcomes"][0]["reason"].startswith("too few diary days to evaluate: 6 before "
                                                    "the start and 3 since")
    assert body["outcomes"][1]["days_before"] == 0  # no GI ratings at all
    assert body["rule"].startswith("One patient's")


def test_other_interventions_overlapping_are_caveats(cast: Cast) -> None:
    days, pain, _ = planted(seed=11)
    write_diary(cast, days, pain)
    iid = start(cast, start=str(days[BEFORE]))
    start(cast, type="diet", product="low FODMAP", start=str(days[BEFORE + 2]),
          stop=str(days[BEFORE + 20]))
    start(cast, type="exercise", product="walking", start=str(TODAY + dt.timedelta(days=3)))
    body = cast.clients["doc"].get(
        f"/api/v1/patients/{cast.patient_a}/interventions/{iid}/evaluation").json()
    engine = [c for c in body["caveats"] if c.startswith("co-intervention low FODMAP")]
    assert len(engine) == 1 and "cannot be separated" in engine[0]
    listed = [c for c in body["caveats"] if c.startswith("other interventions overlapped")]
    assert len(listed) == 1 and "diet low FODMAP" in listed[0] and "walking" not in listed[0]

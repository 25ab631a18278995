"""gutaxis scoring against an independent base-R implementation of the same rules.

``tests/reference/instruments/make_reference.R`` (run with R 4.x, base R only) writes 400
random administrations per instrument with its own scores; inputs are chosen to hit the
rules' edges (10-minute and 180-minute IPAQ limits, the 960-minute exclusion, PSQI
latency edges 15/30/60, exact 5/6/7 hours, missing FIQR and WOMAC items). Tolerance:
1e-9 absolute for scores (R computes in binary floating point, gutaxis exactly), and
identical bands/categories.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gutaxis.instruments import get_instrument

TOLERANCE = 1e-9

CASES = [
    ("das28.tsv", "das28-esr", {"das28_esr4": "das28_esr4", "das28_esr3": "das28_esr3"}),
    ("das28.tsv", "das28-crp", {"das28_crp4": "das28_crp4", "das28_crp3": "das28_crp3"}),
    ("cdai_sdai.tsv", "cdai", {"cdai": "cdai"}),
    ("cdai_sdai.tsv", "sdai", {"sdai": "sdai"}),
    ("ipaq.tsv", "ipaq-sf", {k: k for k in ("walking_met", "moderate_met", "vigorous_met",
                                            "total_met", "category")}),
    ("psqi.tsv", "psqi", {k: k for k in ("c1_quality", "c2_latency", "c3_duration",
                                         "c4_efficiency", "c5_disturbances",
                                         "c6_medication", "c7_daytime", "global")}),
    ("fiqr.tsv", "fiqr", {k: k for k in ("function", "overall", "symptoms", "total")}),
    ("womac.tsv", "womac", {k: k for k in ("pain", "stiffness", "function", "total")}),
]
BAND_CASES = [("cdai_sdai.tsv", "cdai", "cdai_band", "cdai"),
              ("cdai_sdai.tsv", "sdai", "sdai_band", "sdai")]


def read_reference(reference_dir: Path, name: str) -> list[dict[str, str]]:
    with (reference_dir / "instruments" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize(("file", "key", "columns"), CASES,
                         ids=[f"{k}" for _, k, _ in CASES])
def test_scores_match_the_r_reference(reference_dir: Path, file: str, key: str,
                                      columns: dict[str, str]) -> None:
    instrument = get_instrument(key)
    rows = read_reference(reference_dir, file)
    assert len(rows) == 400
    compared = 0
    for number, row in enumerate(rows, start=2):
        answers = {k: v for k, v in row.items() if k in instrument.item_ids}
        score = instrument.score(answers)
        for ours, theirs in columns.items():
            got, want = score.values[ours], row[theirs]
            if want == "":
                assert got is None, (number, ours, got)
            else:
                assert got is not None, (number, ours, want, score.notes)
                assert got == pytest.approx(float(want), abs=TOLERANCE), (number, ours)
                compared += 1
    assert compared > 300 * len(columns) // 2


@pytest.mark.parametrize(("file", "key", "column", "score"), BAND_CASES)
def test_bands_match_the_r_reference(reference_dir: Path, file: str, key: str, column: str,
                                     score: str) -> None:
    instrument = get_instrument(key)
    for row in read_reference(reference_dir, file):
        answers = {k: v for k, v in row.items() if k in instrument.item_ids}
        assert instrument.score(answers).bands[score] == row[column]


def test_reference_covers_the_rule_edges(reference_dir: Path) -> None:
    ipaq = read_reference(reference_dir, "ipaq.tsv")
    assert any(r["total_met"] == "" for r in ipaq)                      # 960 exclusion
    assert {r["category"] for r in ipaq if r["category"]} == {"1", "2", "3"}
    minutes = {r[f"{k}_min_per_day"] for r in ipaq for k in ("vigorous", "walking")}
    assert {"9", "10", "180", "200"} <= minutes
    psqi = read_reference(reference_dir, "psqi.tsv")
    assert {"5", "6", "7"} <= {r["q4_sleep_hours"] for r in psqi}
    fiqr = read_reference(reference_dir, "fiqr.tsv")
    assert any(r["function"] == "" for r in fiqr) and any(r["function_9"] == "" and
                                                          r["function"] for r in fiqr)

"""Pooling with gutaxis.stats.meta, against metafor (tests/reference/evidence_pooling)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gutaxis.evidence import EvidenceTable, plan_pooling, pool_evidence

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "evidence_pooling"


def test_pooled_ibs_sss_equals_metafor(evidence: EvidenceTable) -> None:
    pooled = pool_evidence(plan_pooling(evidence, condition="ibs", outcome="ibs_sss_total"))
    row = pooled.to_frame().iloc[0]
    expected = pd.read_csv(REFERENCE / "pooled.tsv", sep="\t").iloc[0]
    assert bool(row["pooled"]) and row["k"] == expected["k"] == 3
    for column in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"):
        assert row[column] == pytest.approx(expected[column], rel=1e-6), column
    assert row["method"] == "REML, Knapp-Hartung"
    assert "I2 = 93%" in row["certainty_notes"]


def test_groups_not_pooled_keep_their_reason_and_no_numbers(evidence: EvidenceTable) -> None:
    frame = pool_evidence(plan_pooling(evidence)).to_frame()
    thin = frame[~frame["pooled"]]
    assert len(thin) == 14
    assert thin["reason"].str.startswith("not pooled: ").all()
    assert all(math.isnan(v) for v in thin["estimate"])

"""Fixtures shared by the record tests."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data import Cohort, Measurements, ProfileTable
from gutaxis.instruments.record import record_from_answers, score_record


class DiaryJoin(NamedTuple):
    """The HMP2 cohort (no record), the R-simulated pain diary as a record with sample
    links, and R data.table's rolling-join results (tests/reference/join)."""

    cohort: Cohort
    record: Measurements
    expected: pd.DataFrame


@pytest.fixture(scope="module")
def hmp2_pain_diary(hmp2_dir: Path, reference_dir: Path) -> DiaryJoin:
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    folder = reference_dir / "join"
    diary = pd.read_csv(folder / "diary.tsv", sep="\t")
    expected = pd.read_csv(folder / "expected.tsv", sep="\t", index_col="sample_id")
    meta = pd.read_csv(hmp2_dir / "HMP2_metadata.tsv", sep="\t", index_col="ID")
    ids = [f"d{i}" for i in range(len(diary))]
    record = score_record(record_from_answers(
        administrations=pd.DataFrame({
            "administration_id": ids, "subject": diary["subject"],
            "time": t0 + pd.to_timedelta(diary["seconds"], unit="s"), "instrument": "nrs"}),
        responses=pd.DataFrame({"administration_id": ids, "item": "pain",
                                "answer": diary["pain"]}),
        samples=pd.DataFrame({
            "sample_id": meta.index, "subject": meta["subject"],
            "time": t0 + pd.to_timedelta(14 * (meta["collection"] - 1), unit="D")})))
    table = ProfileTable(sp.csr_array(np.ones((len(meta), 1))), meta.index.to_numpy(), ["f"])
    return DiaryJoin(Cohort(table, meta, subject_column="subject"), record, expected)

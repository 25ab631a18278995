"""A small record for the n-of-1 tests: one subject's daily NRS pain and interventions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gutaxis.data.measurements import Measurements
from gutaxis.instruments.record import record_from_answers, score_record


def pain_record(*, days: int = 60, start: int = 30, stop: int | None = None,
                effect: int = -3, seed: int = 0, co_start: int | None = None) -> Measurements:
    """Daily NRS pain from 2024-01-01; a probiotic from day ``start`` (to ``stop``)."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-01-01 08:00", periods=days, freq="D", tz="UTC")
    pain = np.clip(np.round(6 + effect * (np.arange(days) >= start)
                            + rng.normal(0, 1, days)), 0, 10).astype(int)
    ids = [f"a{i}" for i in range(days)]
    admins = pd.DataFrame({"administration_id": ids, "subject": "p01", "time": times,
                           "instrument": "nrs@11"})
    answers = pd.DataFrame({"administration_id": ids, "item": "pain",
                            "answer": [str(v) for v in pain]})
    day0 = pd.Timestamp("2024-01-01", tz="UTC")
    rows = [{"intervention_id": "i1", "subject": "p01", "type": "probiotic",
             "product": "L. rhamnosus GG", "start": day0 + pd.Timedelta(days=start),
             "stop": pd.NaT if stop is None else day0 + pd.Timedelta(days=stop)}]
    if co_start is not None:
        rows.append({"intervention_id": "i2", "subject": "p01", "type": "diet",
                     "product": "low-FODMAP diet", "start": day0 + pd.Timedelta(days=co_start),
                     "stop": pd.NaT})
    record = record_from_answers(administrations=admins, responses=answers,
                                 interventions=pd.DataFrame(rows))
    return score_record(record)

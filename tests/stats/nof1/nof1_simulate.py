"""Simulated n-of-1 series with AR(1) errors, batched (for the validation tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter


def ar1_errors(rng: np.random.Generator, phi: np.ndarray, n: int, sd: float = 1.0) -> np.ndarray:
    """``(m, n)`` stationary AR(1) series, one ``phi`` per row (vectorised recursion)."""
    m = len(phi)
    shocks = rng.normal(0.0, sd, size=(m, n))
    shocks[:, 0] /= np.sqrt(1 - phi**2)
    out = np.empty((m, n))
    for value in np.unique(phi):  # a handful of distinct phi values, not one per series
        rows = phi == value
        out[rows] = lfilter([1.0], [1.0, -value], shocks[rows], axis=1)
    return out


def ab_design(n: int, switch: int) -> np.ndarray:
    """``(n, 4)``: intercept, time, level, slope of an AB design switching at ``switch``."""
    t = np.arange(n, dtype=float)
    b = (t >= switch).astype(float)
    return np.column_stack([np.ones(n), t, b, (t - switch) * b])


def taye_like_series(rng: np.random.Generator, *, effect: float = -0.9, phi: float = 0.5,
                     sd: float = 1.2, days: int = 70) -> pd.DataFrame:
    """A daily pain VAS shaped like Taye et al. 2020 (their daily data are not public):
    three randomised pairs of 10-week periods, probiotic (B) against placebo (A),
    ``effect`` points lower on probiotic, AR(1) day-to-day noise, clipped to 0-10."""
    order = ["A", "B", "B", "A", "A", "B"]
    phase = np.repeat(order, days)
    n = len(phase)
    noise = ar1_errors(rng, np.array([phi]), n, sd)[0]
    vas = np.clip(4.9 + effect * (phase == "B") + noise, 0, 10)
    return pd.DataFrame({"day": np.arange(n), "period": np.repeat(np.arange(1, 7), days),
                         "phase": phase, "vas": vas.round(2)})

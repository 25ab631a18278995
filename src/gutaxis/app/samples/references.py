"""The shipped reference cohorts (``reference/references.json``) and percentiles from their
quantile grids.

A grid holds ``numpy.quantile`` of a metric at 0, 1, ..., 100 % (linear interpolation).
The percentile of a value is the inverse of that quantile function: the level ``p`` at
which the grid reaches the value, linear between grid levels; a value that several grid
levels equal (ties in the reference, e.g. many zero shares) gets the middle of those
levels, and a value outside the reference's range 0 or 100.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gutaxis.data.profile import ProfileTable

#: A reference smaller than this gets a note in the panel (percentiles move in big steps).
SMALL_REFERENCE = 100


@dataclass(frozen=True)
class Reference:
    """One reference cohort: what it is and one quantile grid per metric."""

    key: str
    name: str
    n: int
    subjects: int
    source: str
    method: str
    licence: str
    value_kind: str
    rarefied_depth: int | None
    grids: dict[str, dict[str, Any]]
    profiles_file: str | None = None

    def percentile(self, metric: str, value: float) -> float | None:
        """The percentile of ``value`` in this reference (``None`` if undefined)."""
        grid = self.grids.get(metric)
        if grid is None or not grid["quantiles"] or value != value:  # NaN
            return None
        return percentile_from_grid(grid["quantiles"], value)


def percentile_from_grid(quantiles: list[float], value: float) -> float:
    """Inverse of a quantile grid at levels 0..len-1 (see the module's docstring)."""
    top = len(quantiles) - 1
    step = 100.0 / top
    low = bisect.bisect_left(quantiles, value)
    high = bisect.bisect_right(quantiles, value)
    if high > low:  # equal to grid levels low .. high-1
        return step * (low + high - 1) / 2.0
    if low == 0:
        return 0.0
    if low > top:
        return 100.0
    below, above = quantiles[low - 1], quantiles[low]
    return step * (low - 1 + (value - below) / (above - below))


@cache
def references() -> dict[str, Reference]:
    """Every shipped reference cohort, by key."""
    path = resources.files("gutaxis.app.samples") / "reference" / "references.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    return {key: Reference(key=key, name=ref["name"], n=int(ref["n"]),
                           subjects=int(ref["subjects"]), source=ref["source"],
                           method=ref["method"], licence=ref["licence"],
                           value_kind=ref["value_kind"], rarefied_depth=ref["rarefied_depth"],
                           grids=ref["metrics"], profiles_file=ref.get("profiles_file"))
            for key, ref in document["references"].items()}


@cache
def reference_profiles(key: str) -> ProfileTable | None:
    """The shipped profiles of reference ``key`` (``None`` when it ships none)."""
    from gutaxis.io import read_table

    name = references()[key].profiles_file
    if name is None:
        return None
    path = resources.files("gutaxis.app.samples") / "reference" / name
    with resources.as_file(path) as file:
        return read_table(file, orientation="samples-columns", kind="relative")


def reference_for(value_kind: str) -> Reference:
    """The reference measured like a table of ``value_kind``: 16S read counts -> the
    fibromyalgia controls; relative abundances -> HMP2 non-IBD (MetaPhlAn species)."""
    refs = references()
    return refs["fibromyalgia_16s_controls"] if value_kind == "counts" else refs["hmp2_nonibd"]

"""Interventions in the longitudinal record: what was taken or done, when, how much.

An intervention has a type (:data:`INTERVENTION_TYPES`), a product or strain (free
text: ``Lactobacillus rhamnosus GG``, ``low-FODMAP diet``), an optional dose with its
unit, a start and an optional stop (``NaT`` while ongoing). Both are timezone-aware.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

import numpy as np
import pandas as pd

from gutaxis.errors import InputError

InterventionType = Literal["probiotic", "diet", "exercise", "stress_management", "medication"]
INTERVENTION_TYPES: tuple[str, ...] = get_args(InterventionType)

_SEPARATORS = r"[\s-]+"  # between the words of a type: "stress management" -> stress_management

#: Columns of the interventions table, in order.
INTERVENTION_COLUMNS: tuple[str, ...] = (
    "intervention_id", "subject", "type", "product", "dose", "dose_unit", "start", "stop")


def normalise_intervention_types(types: pd.Series, *, source: str | None = None,
                                 rows: np.ndarray | None = None) -> np.ndarray:
    """Intervention types as their canonical spelling (``stress management`` ->
    ``stress_management``); an unknown type is an error naming its row."""
    labels = np.arange(1, len(types) + 1) if rows is None else np.asarray(rows)
    text = (pd.Series(types).astype("string").fillna("").str.strip().str.lower()
            .str.replace(_SEPARATORS, "_", regex=True))
    known = text.isin(INTERVENTION_TYPES).to_numpy()
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise InputError("unknown intervention type", source=source, row=labels[i],
                         field="type", found=pd.Series(types).iloc[i],
                         expected=f"one of {', '.join(INTERVENTION_TYPES)}")
    return text.to_numpy(dtype=object)


def canonical_intervention_type(name: str, *, field: str = "type") -> str:
    """The canonical spelling of one intervention type; unknown is an error.

    Examples
    --------
    >>> canonical_intervention_type("Stress management")
    'stress_management'
    """
    key = re.sub(_SEPARATORS, "_", str(name).strip().lower())
    if key not in INTERVENTION_TYPES:
        raise InputError("unknown intervention type", field=field, found=name,
                         expected=f"one of {', '.join(INTERVENTION_TYPES)}")
    return key


def check_intervention_periods(start: pd.Series, stop: pd.Series, *, source: str | None = None,
                               rows: np.ndarray | None = None) -> None:
    """Refuse a stop before its start (a missing stop means ongoing)."""
    labels = np.arange(1, len(start) + 1) if rows is None else np.asarray(rows)
    backwards = (stop.notna() & (stop < start)).to_numpy()
    if backwards.any():
        i = int(np.flatnonzero(backwards)[0])
        raise InputError("intervention stops before it starts", source=source, row=labels[i],
                         field="stop", found=f"start {start.iloc[i]}, stop {stop.iloc[i]}",
                         expected="stop on or after start")


def active_at(interventions: pd.DataFrame, subjects: pd.Series, times: pd.Series, *,
              type: str | None = None) -> pd.DataFrame:
    """Which intervention each (subject, time) falls in, and for how long it has run.

    Parameters
    ----------
    interventions
        The interventions table (:data:`INTERVENTION_COLUMNS`).
    subjects, times
        Aligned series (same index): the subject and the instant of each query, e.g.
        of each microbiome sample.
    type
        Only interventions of this type (any spelling
        :func:`normalise_intervention_types` reads; unknown is an error).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``times``: ``active`` (bool), ``intervention_id`` (of the latest
        started active one, or missing) and ``days_since_start`` (float days, NaN when
        not active). A period is closed at its start and at its stop.
    """
    table = (interventions if type is None
             else interventions[interventions["type"] == canonical_intervention_type(type)])
    queries = pd.DataFrame({"subject": subjects.astype(str).to_numpy(),
                            "time": times.to_numpy(), "_pos": np.arange(len(times))})
    merged = queries.merge(table[["intervention_id", "subject", "start", "stop"]],
                           on="subject", how="inner")
    inside = (merged["start"] <= merged["time"]) & (
        merged["stop"].isna() | (merged["time"] <= merged["stop"]))
    hits = merged[inside.to_numpy()].sort_values(["_pos", "start"]).drop_duplicates(
        "_pos", keep="last")
    out = pd.DataFrame({"active": np.zeros(len(times), dtype=bool),
                        "intervention_id": pd.array([pd.NA] * len(times), dtype="string"),
                        "days_since_start": np.full(len(times), np.nan)})
    pos = hits["_pos"].to_numpy()
    out.loc[pos, "active"] = True
    out.loc[pos, "intervention_id"] = hits["intervention_id"].to_numpy()
    elapsed = (hits["time"] - hits["start"]).dt.total_seconds().to_numpy() / 86400.0
    out.loc[pos, "days_since_start"] = elapsed
    out.index = times.index
    return out

"""One subject's daily series and intervention phases from the longitudinal record."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gutaxis.data.interventions import canonical_intervention_type
from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError


def series_from_record(measurements: Measurements, *, subject: str, intervention: str,
                       outcomes: tuple[str, ...] = ("nrs.pain",),
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A subject's daily outcomes with phase ``B`` inside the intervention's periods.

    Parameters
    ----------
    measurements
        The record.
    subject
        The subject.
    intervention
        Intervention type whose periods are phase ``B`` (``probiotic``, ``diet``...);
        days outside them are ``A``.
    outcomes
        Variables of the record (``instrument.score`` or lab analyte ids).

    Returns
    -------
    tuple
        The series (``day`` since the first observation, ``phase``, one column per
        outcome: the day's mean) and the subject's other interventions (``type``,
        ``product``, ``start`` in the same days) for the co-intervention check.

    Raises
    ------
    InputError
        No such subject or intervention, or an intervention period outside the series
        (naming the intervention).
    """
    kind = canonical_intervention_type(intervention, field="--intervention")
    columns = []
    for outcome in outcomes:
        rows = (measurements.series(outcome) if "." in outcome
                else measurements.series(lab=outcome))
        rows = rows[(rows["subject"].astype(str) == subject).to_numpy()]
        day = rows["time"].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
        columns.append(rows.assign(day=day.to_numpy()).groupby("day")["value"].mean()
                       .rename(outcome))
    daily = pd.concat(columns, axis=1).sort_index()
    if daily.dropna(how="all").empty:
        raise InputError("no observations of the subject", source=measurements.source,
                         field="--subject", found=subject,
                         expected="one of " + ", ".join(measurements.subjects[:10]))
    table = measurements.interventions
    own = table[(table["subject"].astype(str) == subject).to_numpy()]
    chosen = own[(own["type"] == kind).to_numpy()]
    if chosen.empty:
        raise InputError("the subject has no intervention of this type",
                         source=measurements.source, field="--intervention", found=kind,
                         expected="one of " + (", ".join(sorted(set(own["type"])))
                                               or "(none recorded)"))
    first, last = daily.index.min(), daily.index.max()

    def to_day(times: pd.Series) -> np.ndarray:
        days = times.dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
        return ((days - first).dt.days).to_numpy(dtype=float)

    start, stop = to_day(chosen["start"]), to_day(chosen["stop"])
    span = float((last - first).days)
    for i, ident in enumerate(chosen["intervention_id"].astype(str)):
        if start[i] > span or (np.isfinite(stop[i]) and stop[i] < 0):
            raise InputError("intervention period outside the series",
                             source=measurements.source, row=f"intervention {ident}",
                             field="start" if start[i] > span else "stop",
                             found=f"{chosen['start'].iloc[i]} to {chosen['stop'].iloc[i]}",
                             expected=f"a period overlapping the observations ({first.date()} "
                                      f"to {last.date()})")
    day = ((daily.index - first).days).to_numpy(dtype=float)
    stop_or_end = np.where(np.isfinite(stop), stop, np.inf)
    inside = ((day[:, None] >= start[None, :]) & (day[:, None] <= stop_or_end[None, :])).any(1)
    frame = pd.DataFrame({"day": day, "phase": np.where(inside, "B", "A")})
    for outcome in outcomes:
        frame[outcome] = daily[outcome].to_numpy()
    others = own[~own["intervention_id"].isin(chosen["intervention_id"]).to_numpy()]
    co = pd.DataFrame({"type": others["type"].to_numpy(), "product": others["product"].to_numpy(),
                       "start": to_day(others["start"])})
    return frame, co

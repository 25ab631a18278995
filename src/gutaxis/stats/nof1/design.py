"""One subject's series and its phases: checks at the door, blocks, washout, and the
segmented-regression design (level and slope change per treatment phase)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gutaxis.errors import InputError

#: Points a phase block needs, after washout and missing values: the What Works
#: Clearinghouse single-case standard asks for at least five per phase (three with
#: reservations) (Kratochwill et al. 2013).
MIN_POINTS_PER_PHASE = 5


@dataclass(frozen=True, eq=False)
class PhaseSeries:
    """A subject's observations in time order with their phases.

    Attributes
    ----------
    time
        ``(n,)`` float times (days since the first observation for dates).
    phase
        ``(n,)`` phase labels (text).
    block
        ``(n,)`` block number: consecutive runs of one phase, from 0.
    rows
        ``(n,)`` row labels of the source (file lines) for error messages.
    values
        The outcome columns, aligned with ``time`` (NaN where missing).
    control
        The control phase label (e.g. ``"A"``).
    source
        Where the series came from.
    phase_column
        The name of the phase column, for messages.
    """

    time: np.ndarray
    phase: np.ndarray
    block: np.ndarray
    rows: np.ndarray
    values: pd.DataFrame
    control: str
    source: str | None = None
    phase_column: str = "phase"

    @property
    def treatments(self) -> tuple[str, ...]:
        """The phases other than control, in order of first appearance."""
        seen = dict.fromkeys(str(p) for p in self.phase if p != self.control)
        return tuple(seen)

    def block_phases(self) -> np.ndarray:
        """``(b,)`` the phase of each block."""
        first = np.flatnonzero(np.r_[True, self.block[1:] != self.block[:-1]])
        return self.phase[first]

    def washout_mask(self, days: float) -> np.ndarray:
        """``(n,)`` True for observations less than ``days`` after a switch of phase (never
        in the first phase).

        Parameters
        ----------
        days
            Length of the washout after each switch, in time units.
        """
        return (self.time[0] < self.switch_times()) & (self.since_switch() < days)

    def switch_times(self) -> np.ndarray:
        """``(n,)`` time at which each observation's phase began (a run of one phase,
        whatever the planned blocks)."""
        run = np.r_[0, np.cumsum(self.phase[1:] != self.phase[:-1])]
        first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
        return self.time[first][run]

    def since_switch(self) -> np.ndarray:
        """``(n,)`` time since the phase began."""
        return self.time - self.switch_times()


def prepare_series(series: pd.DataFrame, *, outcomes: list[str], time: str, phase: str,
                   control: str = "A", block: str | None = None,
                   source: str | None = None) -> PhaseSeries:
    """Check a diary-style frame and return its :class:`PhaseSeries`.

    Parameters
    ----------
    series
        One row per observation: a time column, a phase column and outcome columns. A
        ``source_row`` column, when present, names rows in errors (else row 1 is the
        first data row + 1, as a CSV file counts its lines).
    outcomes
        Outcome columns (numeric; blank is missing).
    time
        Time column: numbers (days, weeks) or dates.
    phase
        Phase column (e.g. ``A``/``B``).
    control
        The control phase label.
    block
        Column numbering the planned blocks (periods), for designs whose consecutive
        periods may share a phase (randomised pairs AB BA AB); default: each run of one
        phase is a block.
    source
        The file, for error messages.

    Raises
    ------
    InputError
        A missing column, a time or outcome that is not a number, repeated times, a
        phase label missing or no control or treatment phase.
    """
    rows = (series["source_row"].to_numpy() if "source_row" in series.columns
            else np.arange(2, len(series) + 2))
    extra = [(block, "--block")] if block is not None else []
    for column, field in [(time, "--time"), (phase, "--phase"), *extra,
                          *[(c, "--outcome") for c in outcomes]]:
        if column not in series.columns:
            raise InputError("column not found", source=source, column=column, field=field,
                             found=", ".join(map(str, series.columns)),
                             expected="a column of the file")
    times = time_column(series[time], rows=rows, source=source, column=time)
    labels = series[phase].astype("string").str.strip()
    blank = labels.isna() | (labels == "")
    if blank.any():
        i = int(np.flatnonzero(blank.to_numpy())[0])
        raise InputError("missing phase", source=source, row=rows[i], column=phase,
                         found="(blank)", expected="a phase label such as A or B")
    order = np.argsort(times, kind="stable")
    ordered = labels.to_numpy(dtype=object)[order].astype(str)
    times, rows = times[order], rows[order]
    repeated = np.flatnonzero(np.diff(times) == 0)
    if len(repeated):
        raise InputError("two observations at the same time", source=source,
                         row=rows[repeated[0] + 1], column=time, found=times[repeated[0]],
                         expected="one row per day (or week); average repeated entries first")
    present = sorted(set(ordered))
    if control not in present:
        raise InputError("the control phase does not occur", source=source, column=phase,
                         field="--control-phase", found=control,
                         expected="one of " + ", ".join(present))
    if present == [control]:
        raise InputError("no treatment phase: every row is the control phase", source=source,
                         column=phase, found=control, expected="at least two phases")
    values = pd.DataFrame({c: numeric_column(series[c].to_numpy()[order], rows=rows,
                                             source=source, column=c) for c in outcomes})
    key = ordered if block is None else series[block].astype(str).to_numpy()[order]
    blocks = np.r_[0, np.cumsum(key[1:] != key[:-1])].astype(int)
    mixed = np.flatnonzero((blocks[1:] == blocks[:-1]) & (ordered[1:] != ordered[:-1]))
    if len(mixed):
        raise InputError("the phase changes inside a block", source=source,
                         row=rows[mixed[0] + 1], column=phase, found=ordered[mixed[0] + 1],
                         expected=f"the phase of its block ({ordered[mixed[0]]})")
    return PhaseSeries(time=times, phase=ordered, block=blocks, rows=rows, values=values,
                       control=control, source=source, phase_column=phase)


def _is_dates(column: pd.Series) -> bool:
    """True when no value reads as a number (then they are dates)."""
    return bool(pd.to_numeric(column, errors="coerce").isna().all() and column.notna().any())


def time_column(values: pd.Series, *, rows: np.ndarray, source: str | None,
           column: str) -> np.ndarray:
    """Numbers as they are; dates as days since the first (fractional for times of day)."""
    if _is_dates(values):
        parsed = pd.to_datetime(values, errors="coerce", utc=True)
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError("not a date", source=source, row=rows[i], column=column,
                             found=values.iloc[i], expected="a date such as 2024-03-01 or a "
                             "number (day or week)")
        return (parsed - parsed.min()).dt.total_seconds().to_numpy() / 86400.0
    out = numeric_column(values.to_numpy(), rows=rows, source=source, column=column)
    missing = np.isnan(out)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError("missing time", source=source, row=rows[i], column=column,
                         found="(blank)", expected="a number (day or week) or a date")
    return out


def numeric_column(values: np.ndarray, *, rows: np.ndarray, source: str | None,
             column: str) -> np.ndarray:
    """Numbers (blank or NA is missing); anything else is an error naming its row."""
    text = pd.Series(values, dtype="object")
    blank = (text.isna() | text.astype(str).str.strip().isin(["", "NA", "nan"])).to_numpy()
    out = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(out) & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError("not a number", source=source, row=rows[i], column=column,
                         found=values[i], expected="a number (blank when missing)")
    return out


def check_points(series: PhaseSeries, used: np.ndarray, *, outcome: str,
                 min_points: int = MIN_POINTS_PER_PHASE) -> None:
    """Refuse a phase block with fewer than ``min_points`` usable observations.

    Parameters
    ----------
    series
        The series.
    used
        ``(n,)`` True for observations the fit uses (not missing, not washout).
    outcome
        The outcome's name, for the message.
    min_points
        The minimum per block.
    """
    counts = np.bincount(series.block[used], minlength=series.block.max() + 1)
    short = np.flatnonzero(counts < min_points)
    if len(short):
        b = int(short[0])
        first = int(np.flatnonzero(series.block == b)[0])
        raise InputError(
            f"too few points in phase {str(series.phase[first])!r} (block {b + 1}, starting at "
            f"time {series.time[first]:g})", source=series.source, row=series.rows[first],
            column=outcome, found=f"{counts[b]} usable points (after washout and blanks)",
            expected=f"at least {min_points} per phase block")


def segmented_design(series: PhaseSeries, *,
                     slope: bool = True) -> tuple[np.ndarray, tuple[str, ...]]:
    """The interrupted-time-series design: intercept, time, and for each treatment phase
    a level (indicator) and a slope (time since the phase began, inside the phase).

    Parameters
    ----------
    series
        The series.
    slope
        Include the slope-change columns.

    Returns
    -------
    tuple
        ``X (n, p)`` and the term names (``level:B``, ``slope:B``...).

    Notes
    -----
    ``y_t = b0 + b1 t + sum_k [d_k I(phase_t = k) + s_k (t - start_t) I(phase_t = k)] + e_t``
    (Wagner et al. 2002): ``d_k`` is the level change of phase ``k`` against control at
    the start of its blocks, ``s_k`` the change of slope within them.
    """
    t = series.time - series.time[0]
    since = series.since_switch()
    columns, names = [np.ones_like(t), t], ["intercept", "time"]
    for k in series.treatments:
        inside = (series.phase == k).astype(float)
        columns.append(inside)
        names.append(f"level:{k}")
        if slope:
            columns.append(since * inside)
            names.append(f"slope:{k}")
    return np.column_stack(columns), tuple(names)

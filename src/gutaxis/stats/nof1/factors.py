"""Everyday factors and pain within one person: same-day and next-day associations,
autocorrelation-aware, shown only with enough data, corrected for testing many factors.

Symptom apps show naive correlations ("pain is lower on days you sleep well") after a
few days. This is the within-person version done with care, and it still shows
associations, not causes: to learn whether a factor changes pain, randomise it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.nof1.design import numeric_column, time_column
from gutaxis.stats.nof1.gls import MIN_POINTS_AR1, Method, fit_gls_ar1

#: Columns of ``factors.tsv`` (:meth:`FactorScan.to_frame`), in order.
FACTOR_COLUMNS = ("factor", "lag", "n_days", "estimate", "ci_low", "ci_high", "pval", "qval",
                  "phi", "method", "enough_data")

#: Days with both the outcome and the factor observed before anything is shown.
MIN_DAYS = 28
#: Days the factor must spend on each side of its median (or at each of two values).
MIN_EACH = 7


@dataclass(frozen=True, eq=False)
class FactorScan:
    """Associations of diary factors with an outcome, same day (lag 0) and next day (lag 1).

    Attributes
    ----------
    outcome
        The outcome column.
    table
        One row per factor and lag, columns :data:`FACTOR_COLUMNS`; ``estimate`` is the
        outcome's change per unit of the factor, NaN unless ``enough_data``.
    min_days, min_each
        The data thresholds used.
    """

    outcome: str
    table: pd.DataFrame
    min_days: int
    min_each: int

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def summary(self) -> str:
        """The associations in words: association, not cause, and how to test one."""
        lines = [f"Everyday factors and {self.outcome} (within-person associations, AR(1) "
                 "errors, a time trend and the phases in every model, Benjamini-Hochberg "
                 "across factors):"]
        shown = self.table[self.table["enough_data"]]
        for row in shown.to_dict("records"):
            when = "the same day" if row["lag"] == 0 else f"{row['lag']} day(s) later"
            strength = ("clear after correction" if float(row["qval"]) < 0.05
                        else "weak: could be chance")
            lines.append(f"{row['factor']}: {self.outcome} {when} {row['estimate']:+.2f} per "
                         f"unit (95% CI {row['ci_low']:+.2f} to {row['ci_high']:+.2f}, q = "
                         f"{row['qval']:.2g}), {strength}")
        hidden = sorted(set(self.table.loc[~self.table["enough_data"], "factor"]))
        if hidden:
            lines.append(f"Not shown, too little data yet: {', '.join(hidden)} (need "
                         f"{self.min_days} days with both values and {self.min_each} days "
                         "on each side of the factor's median).")
        lines.append("These are associations, not causes: a factor can go with pain because "
                     "pain changes the factor, or because something else drives both. To "
                     "test a factor, change it in randomised blocks (an n-of-1 trial: "
                     "gutaxis nof1 --randomised-pairs).")
        return "\n".join(lines)


def everyday_factors(series: pd.DataFrame, *, outcome: str, factors: list[str],
                     time: str = "time", lags: tuple[int, ...] = (0, 1),
                     phase: str | None = None, control: str = "A",
                     min_days: int = MIN_DAYS, min_each: int = MIN_EACH,
                     source: str | None = None) -> FactorScan:
    """Same-day and next-day associations of diary factors with an outcome.

    Parameters
    ----------
    series
        One row per day: the time, the outcome and the factor columns (fibre or
        fermented-food servings, sugar, ultra-processed food, probiotic taken 0/1,
        exercise minutes, sleep hours, stress...).
    outcome
        The outcome column (e.g. pain).
    factors
        The factor columns.
    time
        The time column (day numbers or dates).
    lags
        Lags in days: 0 (same day) and 1 (the factor yesterday, the outcome today).
    phase, control
        The phase column and its control label, when the diary spans intervention
        phases: each model then adjusts for the phase (an indicator per treatment phase),
        so that a factor that changed with the phases does not borrow their effect.
    min_days, min_each
        Nothing is estimated with fewer than ``min_days`` days having both values, or
        fewer than ``min_each`` days on each side of the factor's median.
    source
        The file, for messages.

    Returns
    -------
    FactorScan

    Notes
    -----
    For each factor and lag: ``y_t = b0 + b1 t + g x_{t - lag} (+ phases) + e_t`` with AR(1)
    errors (GLS, REML; OLS below
    :data:`~gutaxis.stats.nof1.gls.MIN_POINTS_AR1` days). The time trend keeps two
    drifting series from looking related; the AR(1) errors keep autocorrelated days
    from counting as independent evidence. ``qval``: Benjamini-Hochberg across every
    factor and lag estimated.
    """
    rows = (series["source_row"].to_numpy() if "source_row" in series.columns
            else np.arange(2, len(series) + 2))
    for column in [time, outcome, *factors]:
        if column not in series.columns:
            raise InputError("column not found", source=source, column=column,
                             field="--factors" if column in factors else "--outcome",
                             found=", ".join(map(str, series.columns)),
                             expected="a column of the file")
    t = time_column(series[time], rows=rows, source=source, column=time)
    repeated = np.flatnonzero(pd.Series(t).duplicated().to_numpy())
    if len(repeated):
        raise InputError("two rows for the same day", source=source, row=rows[repeated[0]],
                         column=time, found=series[time].iloc[repeated[0]],
                         expected="one row per day")
    y = pd.Series(numeric_column(series[outcome].to_numpy(), rows=rows, source=source,
                           column=outcome), index=t)
    if phase is not None and phase not in series.columns:
        raise InputError("column not found", source=source, column=phase, field="--phase",
                         found=", ".join(map(str, series.columns)),
                         expected="a column of the file")
    labels = (series[phase].astype(str).str.strip().to_numpy() if phase is not None
              else np.full(len(series), control))
    treated = [k for k in dict.fromkeys(labels) if k != control]
    phases = np.column_stack([labels == k for k in treated]).astype(float) if treated else (
        np.empty((len(series), 0)))
    records = []
    for factor in factors:
        x = pd.Series(numeric_column(series[factor].to_numpy(), rows=rows, source=source,
                               column=factor), index=t)
        for lag in lags:
            records.append(_one(y, x.reindex(y.index - lag).to_numpy(), phases,
                                factor=factor, lag=lag, min_days=min_days,
                                min_each=min_each))
    table = pd.DataFrame.from_records(records, columns=list(FACTOR_COLUMNS))
    table["qval"] = adjust_pvalues(table["pval"].to_numpy(dtype=float), method="BH")
    return FactorScan(outcome=outcome, table=table, min_days=min_days, min_each=min_each)


def _one(y: pd.Series, x: np.ndarray, phases: np.ndarray, *, factor: str, lag: int,
         min_days: int, min_each: int) -> dict[str, object]:
    """One factor at one lag: the GLS fit, or a row saying there is too little data."""
    ok = np.isfinite(y.to_numpy()) & np.isfinite(x)
    t = y.index.to_numpy(dtype=float)[ok]
    xv = x[ok]
    median = np.median(xv) if len(xv) else np.nan
    low, high = np.sum(xv <= median), np.sum(xv > median)
    row: dict[str, object] = {"factor": factor, "lag": lag, "n_days": int(ok.sum()),
                              "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                              "pval": np.nan, "qval": np.nan, "phi": np.nan, "method": "",
                              "enough_data": False}
    if ok.sum() < min_days or min(low, high) < min_each:
        return row
    varies = phases[ok].any(axis=0) & ~phases[ok].all(axis=0)
    present = phases[ok][:, varies]  # phases that vary over these days
    X = np.column_stack([np.ones_like(t), t - t[0], xv, present])
    method: Method = "reml" if ok.sum() >= MIN_POINTS_AR1 else "ols"
    fit = fit_gls_ar1(y.to_numpy()[ok], X, time=t, method=method)
    ci = fit.conf_int()[0, 2]
    row.update(estimate=float(fit.coef[0, 2]), ci_low=float(ci[0]), ci_high=float(ci[1]),
               pval=float(fit.pvalues()[0, 2]), phi=float(fit.phi[0]), method=method,
               enough_data=True)
    return row

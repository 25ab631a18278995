"""Results of n-of-1 analyses: frozen records that render to a table and to words."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

#: Columns of ``effects.tsv`` (:meth:`Nof1Results.to_frame`), in order.
EFFECT_COLUMNS = ("outcome", "contrast", "level_change", "ci_low", "ci_high", "pval",
                  "slope_change", "slope_ci_low", "slope_ci_high", "slope_pval",
                  "prob_mcid_points", "prob_mcid_percent", "mcid_points", "mcid_percent",
                  "control_mean", "phi", "method", "df", "n_points", "n_washout",
                  "randomisation_pval", "gls_ci_low", "gls_ci_high", "gls_pval", "improvement")


@dataclass(frozen=True)
class Nof1Effect:
    """One outcome's change in one treatment phase against control.

    Attributes
    ----------
    outcome, contrast
        The outcome column and ``"B vs A"``.
    level_change, ci_low, ci_high, pval
        Level change (treatment minus control; negative is a fall), its 95% interval and
        two-sided p-value (with the uncertainty of ``phi`` integrated out).
    slope_change, slope_ci_low, slope_ci_high, slope_pval
        Change of slope inside the treatment blocks (NaN when not modelled).
    prob_mcid_points, prob_mcid_percent
        Posterior probability that the level fell (rose, see ``improvement``) by at least
        ``mcid_points`` points and by at least ``mcid_percent`` percent of
        ``control_mean``.
    mcid_points, mcid_percent, control_mean
        The thresholds and the control mean the percent refers to.
    phi, method, df, n_points, n_washout
        AR(1) estimate, ``"reml"``, ``"ols"``, ``"paired-t"``..., residual degrees of
        freedom, points used and points left out as washout.
    randomisation_pval
        p-value of the randomisation test of the design as run (NaN when none was run).
    gls_ci_low, gls_ci_high, gls_pval
        The plug-in GLS t interval and p-value of the level change, ``phi`` taken as known
        (as ``nlme::gls``); NaN for paired designs.
    improvement
        ``"fall"`` (lower is better: pain) or ``"rise"``: the direction the MCID
        probabilities count.
    """

    outcome: str
    contrast: str
    level_change: float
    ci_low: float
    ci_high: float
    pval: float
    slope_change: float
    slope_ci_low: float
    slope_ci_high: float
    slope_pval: float
    prob_mcid_points: float
    prob_mcid_percent: float
    mcid_points: float
    mcid_percent: float
    control_mean: float
    phi: float
    method: str
    df: int
    n_points: int
    n_washout: int
    randomisation_pval: float = float("nan")
    gls_ci_low: float = float("nan")
    gls_ci_high: float = float("nan")
    gls_pval: float = float("nan")
    improvement: str = "fall"

    @property
    def weak(self) -> bool:
        """The evidence is weak: the 95% interval includes no change."""
        return bool(self.ci_low <= 0 <= self.ci_high)

    def summary(self) -> str:
        """The effect in words, with its uncertainty and how strong the evidence is."""
        text = (f"{self.outcome}, {self.contrast}: level change {self.level_change:+.2f} "
                f"(95% CI {self.ci_low:+.2f} to {self.ci_high:+.2f}, p = {self.pval:.2g})")
        if np.isfinite(self.slope_change):
            text += f", slope change {self.slope_change:+.3g} per time unit"
        text += (f"; probability of a {self.improvement} of at least {self.mcid_points:g} points "
                 f"{self.prob_mcid_points:.2f}, of at least {self.mcid_percent:g}% of the "
                 f"control mean {self.prob_mcid_percent:.2f}")
        if np.isfinite(self.randomisation_pval):
            text += f"; randomisation test p = {self.randomisation_pval:.3g}"
        if self.weak:
            text += ". Weak evidence: the interval includes no change"
        elif self.method == "ols":
            text += ". Treat with caution: a short series, autocorrelation ignored"
        return text + "."


@dataclass(frozen=True, eq=False)
class OutcomeFit:
    """Observed and fitted values of one outcome, for the timeline figure.

    Attributes
    ----------
    outcome
        The outcome's name.
    time, value, phase, washout, fitted
        ``(n,)`` arrays: times, observed values (NaN missing), phase labels, washout
        flags and the fitted segments.
    """

    outcome: str
    time: np.ndarray
    value: np.ndarray
    phase: np.ndarray
    washout: np.ndarray
    fitted: np.ndarray


@dataclass(frozen=True, eq=False)
class Nof1Results:
    """Effects of the treatment phases of one subject, per outcome.

    Attributes
    ----------
    effects
        One :class:`Nof1Effect` per outcome and treatment phase.
    fits
        One :class:`OutcomeFit` per outcome (for the figure; empty for summary designs).
    notes
        Warnings about reading the result (short series, trends, co-interventions).
    design
        The analysis, in words.
    control
        The control phase label.
    washout
        The washout length left out after each switch.
    """

    effects: tuple[Nof1Effect, ...]
    fits: tuple[OutcomeFit, ...]
    notes: tuple[str, ...]
    design: str
    control: str
    washout: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """The effects, one row each, columns :data:`EFFECT_COLUMNS`."""
        return pd.DataFrame([asdict(e) for e in self.effects],
                            columns=[f.name for f in fields(Nof1Effect)])[list(EFFECT_COLUMNS)]

    def to_tsv(self, path: Path) -> Path:
        """Write :meth:`to_frame` as a TSV (full float precision).

        Parameters
        ----------
        path
            Where to write.
        """
        self.to_frame().to_csv(path, sep="\t", index=False, float_format="%.17g")
        return path

    def summary(self) -> str:
        """Every effect in words, the design and any notes; says association, not proof,
        when the evidence is weak."""
        lines = [f"n-of-1 ({self.design}):"]
        lines += [e.summary() for e in self.effects]
        if self.effects and all(e.weak for e in self.effects):
            lines.append("No outcome changed clearly; a longer series or more randomised "
                         "blocks would be needed to show an effect.")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

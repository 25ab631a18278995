"""The results of a two-arm trial analysis: one tidy table of effects, the arms described,
the fitted models, and a summary in words."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.stats.results import FitResults
from gutaxis.stats.trial.data import TrialData
from gutaxis.stats.trial.effects import Effect
from gutaxis.stats.trial.repeated import RepeatedFit

EFFECT_COLUMNS = tuple(f.name for f in dataclasses.fields(Effect))
"""Columns of ``effects.tsv`` (:meth:`TrialResults.to_frame`), in order."""

ARM_COLUMNS = ("arm", "role", "visit", "n", "baseline_mean", "baseline_sd", "followup_mean",
               "followup_sd", "change_mean", "change_sd")
"""Columns of ``arms.tsv`` (:meth:`TrialResults.arms_frame`), in order."""

SMALL_ARM = 20
"""Fewer subjects than this in an arm make a small trial (said in the summary)."""


@dataclass(frozen=True, eq=False)
class TrialResults:
    """A two-arm trial analysed: ANCOVA, change, percent change, Hedges' g, responders and,
    with several visits, a mixed model.

    Attributes
    ----------
    data
        Every row analysed (all visits).
    primary
        The rows of the primary visit with an outcome (ANCOVA, change, responders).
    primary_visit
        Its name (``"followup"`` for wide data).
    effects
        Every estimate, in the order of ``effects.tsv``.
    ancova
        The ANCOVA model's coefficients.
    repeated
        The mixed model over visits, or ``None`` with a single visit.
    lower_is_better
        Whether a fall in the outcome is an improvement (pain).
    notes
        What was left out or needs saying, in words.
    """

    data: TrialData
    primary: TrialData
    primary_visit: str
    effects: tuple[Effect, ...]
    ancova: FitResults
    repeated: RepeatedFit | None
    lower_is_better: bool
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The effects, one row each, columns :data:`EFFECT_COLUMNS`."""
        return pd.DataFrame([dataclasses.astuple(e) for e in self.effects],
                            columns=list(EFFECT_COLUMNS))

    def effect(self, analysis: str, contrast_prefix: str = "") -> Effect:
        """The first effect of ``analysis`` whose contrast starts with ``contrast_prefix``.

        Parameters
        ----------
        analysis
            E.g. ``"ancova"`` or ``"responder_30"``.
        contrast_prefix
            E.g. ``"nnt"``; empty for the first row of the analysis.
        """
        for row in self.effects:
            if row.analysis == analysis and row.contrast.startswith(contrast_prefix):
                return row
        raise KeyError(f"{analysis} {contrast_prefix}".strip())

    def arms_frame(self) -> pd.DataFrame:
        """Per arm and visit: n and the means and SDs of baseline, follow-up and change
        (subjects with an outcome at that visit), columns :data:`ARM_COLUMNS`."""
        d = self.data
        rows = []
        for label, role, in_arm in ((d.treatment, "treatment", d.treated),
                                    (d.control, "control", ~d.treated)):
            for code, visit in enumerate(d.visit_levels):
                use = in_arm & (d.visits == code) & np.isfinite(d.outcome)
                b, f = d.baseline[use], d.outcome[use]
                rows.append((label, role, visit, int(use.sum()), *_mean_sd(b), *_mean_sd(f),
                             *_mean_sd(f - b)))
        return pd.DataFrame(rows, columns=list(ARM_COLUMNS))

    def models_frame(self) -> pd.DataFrame:
        """Every coefficient of the ANCOVA and the mixed model, with a ``model`` column
        (the columns of :meth:`gutaxis.stats.results.FitResults.to_frame` after it)."""
        parts = [self.ancova.to_frame().assign(response="ancova")]
        if self.repeated is not None:
            parts.append(self.repeated.model.to_frame().assign(response="lmm"))
        return pd.concat(parts, ignore_index=True).rename(columns={"response": "model"})

    def to_dir(self, folder: str | Path) -> list[Path]:
        """Write ``effects.tsv``, ``arms.tsv`` and ``models.tsv`` into ``folder``.

        Parameters
        ----------
        folder
            An existing folder.
        """
        folder = Path(folder)
        written = []
        for name, frame in (("effects.tsv", self.to_frame()), ("arms.tsv", self.arms_frame()),
                            ("models.tsv", self.models_frame())):
            path = folder / name
            frame.to_csv(path, sep="\t", index=False, float_format="%.17g", na_rep="NA")
            written.append(path)
        return written

    def summary(self) -> str:
        """The effects in words, with their 95% intervals, and whether the trial is small."""
        d, p = self.data, self.primary
        n_t, n_c = int(p.treated.sum()), int((~p.treated).sum())
        better = "lower" if self.lower_is_better else "higher"
        lines = [f"Two-arm trial of {d.outcome_name!r}: {d.treatment} (n = {n_t}) vs "
                 f"{d.control} (n = {n_c}) at {self.primary_visit}; {better} is better, so "
                 f"{'negative' if self.lower_is_better else 'positive'} differences "
                 f"favour {d.treatment}."]
        lines += [_line(self.effect(a), label) for a, label in (
            ("ancova", "ANCOVA (baseline-adjusted)"), ("change", "Change from baseline"))]
        lines += [_line(e, f"Percent change, {e.contrast}") for e in self.effects
                  if e.analysis == "percent_change"]
        lines += [_line(e, f"Hedges' g, {e.contrast}", digits=2) for e in self.effects
                  if e.analysis == "hedges_g"]
        for cut in ("30", "50"):
            lines.append(self._responder_line(cut))
        if self.repeated is not None:
            r = self.repeated
            lines.append(f"Mixed model over {len(d.visit_levels)} visits ({r.n_observations} "
                         f"observations, {r.n_subjects} subjects; random intercept per subject):")
            lines += [_line(e, f"  effect at {e.contrast.split(':')[0]}")
                      for e in r.effects]
        n_min = min(n_t, n_c)
        if n_min < SMALL_ARM:
            lines.append(f"Small trial: {n_min} subjects in the smaller arm (fewer than "
                         f"{SMALL_ARM}); intervals are wide, and the normal approximations of "
                         "percent change, Hedges' g and the risk and odds ratios may be poor.")
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _responder_line(self, cut: str) -> str:
        a = f"responder_{cut}"
        rows = [e for e in self.effects if e.analysis == a]
        props = ", ".join(f"{e.contrast.removeprefix('proportion ')} {100 * e.estimate:.0f}%"
                          for e in rows if e.contrast.startswith("proportion"))
        rd, rr, odds, nnt = (self.effect(a, k) for k in ("rd", "rr", "or", "nnt"))
        return (f"Responders (>= {cut}% improvement): {props}; RD {_ci(rd)}, RR {_ci(rr)}, "
                f"OR {_ci(odds)}; {nnt.note}.")


def _mean_sd(values: np.ndarray) -> tuple[float, float]:
    if not len(values):
        return math.nan, math.nan
    sd = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return float(values.mean()), sd


def _ci(e: Effect, digits: int = 2) -> str:
    return f"{e.estimate:.{digits}f} (95% CI {e.ci_low:.{digits}f} to {e.ci_high:.{digits}f})"


def _line(e: Effect, label: str, digits: int = 2) -> str:
    p = "" if not np.isfinite(e.pval) else f", p = {e.pval:.2g}"
    return f"{label}: {_ci(e, digits)}{p}"

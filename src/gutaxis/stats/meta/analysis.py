"""The whole meta-analysis the CLI (and the web app) run: effect sizes, the pooled model,
subgroups, meta-regression, bias tests and per-study influence, with its tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.stats.meta.bias import BiasTests, bias_tests
from gutaxis.stats.meta.effect_sizes import RATIO_MEASURES, Measure, StudyEffects, effect_sizes
from gutaxis.stats.meta.influence import StudyInfluence, study_influence
from gutaxis.stats.meta.models import MetaFit, MetaTest, fit_meta, refit
from gutaxis.stats.meta.tau2 import Tau2Method

META_COLUMNS = ("model", "k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high",
                "tau2", "tau2_ci_low", "tau2_ci_high", "i2", "h2", "q", "q_pval")
"""Columns of ``meta.tsv`` (:meth:`MetaAnalysis.to_frame`); ratio measures add
``estimate_exp, ci_low_exp, ci_high_exp, pi_low_exp, pi_high_exp``, then ``pval`` ends."""
EXP_COLUMNS = ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")


@dataclass(frozen=True, eq=False)
class MetaAnalysis:
    """A meta-analysis of published studies and its diagnostics.

    Attributes
    ----------
    overall
        The pooled model of every study (:class:`MetaFit`).
    subgroups
        One model per level of the subgroup column (levels with one study are left out
        and named in ``notes``), in sorted order.
    subgroup_column, subgroup
        The subgroup column and each study's level (``None`` without subgroups).
    subgroup_test
        The meta-regression on the subgroup (its QM tests that the levels differ).
    moderators
        The meta-regression on the moderators (``None`` without).
    bias
        Egger, Begg and trim-and-fill (``None`` with fewer than 3 studies).
    influence
        Leave-one-out and influence diagnostics of the overall model.
    notes
        What was done that a reader should know, in words.
    """

    overall: MetaFit
    subgroups: Mapping[str, MetaFit]
    subgroup_column: str | None
    subgroup: tuple[str, ...] | None
    subgroup_test: MetaFit | None
    moderators: MetaFit | None
    bias: BiasTests | None
    influence: StudyInfluence
    notes: tuple[str, ...]

    @property
    def studies(self) -> StudyEffects:
        """The studies' effect sizes."""
        return self.overall.studies

    def to_frame(self) -> pd.DataFrame:
        """``meta.tsv``: one row per model, the overall model first, then subgroups."""
        fits = {"overall": self.overall}
        fits.update({f"{self.subgroup_column}={level}": fit
                     for level, fit in self.subgroups.items()})
        rows = []
        for name, fit in fits.items():
            ci = fit.conf_int()[0]
            pi = fit.prediction_interval()
            rows.append((name, fit.k, fit.coef[0], fit.se[0], ci[0], ci[1], pi[0], pi[1],
                         fit.tau2, *fit.tau2_ci, fit.i2, fit.h2, fit.q, fit.q_pval))
        frame = pd.DataFrame(rows, columns=list(META_COLUMNS))
        if self.studies.measure in RATIO_MEASURES:
            for column in EXP_COLUMNS:
                frame[f"{column}_exp"] = np.exp(frame[column])
        frame["pval"] = [fit.pvalue[0] for fit in fits.values()]
        return frame

    def studies_frame(self) -> pd.DataFrame:
        """``studies.tsv``: effect sizes, their 95% intervals, weights and influence."""
        effects = self.studies.to_frame()
        half = 1.959963984540054 * effects["sei"]
        effects.insert(4, "ci_low", effects["yi"] - half)
        effects.insert(5, "ci_high", effects["yi"] + half)
        if self.subgroup is not None and self.subgroup_column is not None:
            effects.insert(1, self.subgroup_column, list(self.subgroup))
        return pd.concat([effects, self.influence.to_frame().drop(columns="study")], axis=1)

    def summary(self) -> str:
        """The pooled result, subgroups, moderators, bias and influence, in words."""
        parts = [self.studies.summary(), self.overall.summary()]
        for level, fit in self.subgroups.items():
            low, high = fit.conf_int()[0]
            parts.append(f"Subgroup {self.subgroup_column}={level}: {fit.k} studies, "
                         f"{fit.coef[0]:.4g} [{low:.4g}, {high:.4g}], I2 = {fit.i2:.1f}%")
        if self.subgroup_test is not None:
            parts.append(f"Subgroup differences ({self.subgroup_column}): QM = "
                         f"{self.subgroup_test.qm:.4g}, p = {self.subgroup_test.qm_pval:.3g}")
        if self.moderators is not None:
            parts.append("Meta-regression:\n" + self.moderators.summary())
        if self.bias is not None:
            parts.append(self.bias.summary())
        parts.append(self.influence.summary())
        parts.extend(self.notes)
        return "\n".join(parts)

    def to_dir(self, path: str | Path) -> list[Path]:
        """Write meta.tsv, studies.tsv, bias.tsv, moderators.tsv, subgroup_test.tsv and
        summary.txt (those that apply) into ``path``; returns the files written.

        Parameters
        ----------
        path
            The folder to write into (created if needed).
        """
        from gutaxis.io.matrix import write_frame_tsv

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        tables = {"meta.tsv": self.to_frame(), "studies.tsv": self.studies_frame()}
        if self.bias is not None:
            tables["bias.tsv"] = self.bias.to_frame()
        if self.moderators is not None:
            tables["moderators.tsv"] = _coefficients(self.moderators)
        if self.subgroup_test is not None:
            tables["subgroup_test.tsv"] = _coefficients(self.subgroup_test)
        written = []
        for name, frame in tables.items():
            first = str(frame.columns[0])
            write_frame_tsv(frame.set_index(first), out / name, index_label=first)
            written.append(out / name)
        (out / "summary.txt").write_text(self.summary() + "\n", encoding="utf-8")
        return [*written, out / "summary.txt"]


def _coefficients(fit: MetaFit) -> pd.DataFrame:
    frame = fit.to_frame()
    frame["tau2"] = fit.tau2
    frame["qm"] = fit.qm
    frame["qm_pval"] = fit.qm_pval
    return frame


def meta_analysis(
    studies: pd.DataFrame,
    *,
    measure: Measure,
    method: Tau2Method = "REML",
    test: MetaTest = "z",
    subgroup: str | None = None,
    moderators: Sequence[str] = (),
    source: str | None = None,
) -> MetaAnalysis:
    """Meta-analyse a table of study summaries: everything ``gutaxis meta`` writes.

    Parameters
    ----------
    studies
        One row per study (see :func:`effect_sizes` for the columns).
    measure
        ``SMD``, ``MD``, ``ROM``, ``OR``, ``RR``, ``RD`` or ``GEN``.
    method
        tau² estimator (or ``FE``), see :func:`fit_meta`.
    test
        ``"z"`` or ``"knha"``.
    subgroup
        A column whose levels get a model each, and a test of their difference.
    moderators
        Columns for a meta-regression: numbers, or text (dummy-coded, the first level in
        sorted order the reference).
    source
        Name of the table in error messages.

    Returns
    -------
    MetaAnalysis

    Raises
    ------
    InputError
        Fewer than 2 studies, a missing subgroup or moderator column, and the errors of
        :func:`effect_sizes`.
    """
    effects = effect_sizes(studies, measure=measure, source=source)
    if effects.k < 2:
        raise InputError("a meta-analysis needs at least 2 studies", source=source,
                         found=f"{effects.k} {'study' if effects.k == 1 else 'studies'}",
                         expected="2 or more studies")
    frame = studies.reset_index(drop=True)
    overall = fit_meta(effects, method=method, test=test)
    notes: list[str] = []
    fits: dict[str, MetaFit] = {}
    levels = None
    between = None
    if subgroup is not None:
        levels = tuple(str(v) for v in _needed(frame, subgroup, source, "--subgroup"))
        for level in sorted(set(levels)):
            keep = np.array([lv == level for lv in levels])
            if keep.sum() < 2:
                notes.append(f"Subgroup {subgroup}={level} has 1 study: no model of its own.")
                continue
            fits[level] = refit(overall, keep)
        between = _moderated(overall, frame, [subgroup], source, "--subgroup")
    moderated = (_moderated(overall, frame, moderators, source, "--moderators")
                 if moderators else None)
    bias = bias_tests(overall) if effects.k >= 3 else None
    if bias is None:
        notes.append("Bias tests need at least 3 studies.")
    if effects.zero_cells.any():
        notes.append("1/2 was added to every cell of the studies with a zero count "
                     "(zero_cells in studies.tsv), as metafor does.")
    return MetaAnalysis(overall=overall, subgroups=fits, subgroup_column=subgroup,
                        subgroup=levels, subgroup_test=between, moderators=moderated,
                        bias=bias, influence=study_influence(overall), notes=tuple(notes))


def _needed(frame: pd.DataFrame, column: str, source: str | None, option: str) -> pd.Series:
    if column not in frame:
        raise InputError("no such column in the study table", source=source, field=option,
                         found=column, expected="one of " + ", ".join(map(str, frame.columns)))
    values = frame[column]
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError("missing value", source=source, row=row + 2, field=column,
                         expected="a value for every study")
    return values


def _moderated(overall: MetaFit, frame: pd.DataFrame, columns: Sequence[str],
               source: str | None, option: str) -> MetaFit:
    blocks = []
    for column in columns:
        values = _needed(frame, column, source, option)
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all():
            blocks.append(pd.DataFrame({column: numeric.to_numpy(dtype=float)}))
        else:
            dummies = pd.get_dummies(values.astype(str), dtype=float)
            dummies = dummies[sorted(dummies.columns)[1:]]
            dummies.columns = [f"{column}[{level}]" for level in dummies.columns]
            blocks.append(dummies)
    design = pd.concat(blocks, axis=1)
    try:
        return fit_meta(overall.studies, method=overall.method, test=overall.test,
                        moderators=design, level=overall.level)
    except InputError as exc:
        raise exc.placed(source=source, field=option) from None

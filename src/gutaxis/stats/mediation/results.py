"""Results of a mediation analysis: frozen records that render to a frame and a summary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: Columns of ``effects.tsv`` (one mediation analysis).
EFFECT_COLUMNS = ("effect", "estimate", "ci_low", "ci_high", "pval")
#: Columns of ``effects.tsv`` with ``--taxa-as-mediators``.
TAXA_COLUMNS = ("mediator", "effect", "estimate", "ci_low", "ci_high", "pval", "qval")


@dataclass(frozen=True, eq=False)
class MediationResults:
    """Effects of exposure -> mediator(s) -> outcome with their intervals.

    Attributes
    ----------
    effects
        One row per effect: ``effect, estimate, ci_low, ci_high, pval`` (see
        :func:`gutaxis.stats.mediation.mediate` for the effect names).
    paths
        The path coefficients of the fitted models (``source, target, coefficient,
        model``; ``model`` is ``linear`` or ``logistic``, whose coefficients are
        log-odds), for the path diagram.
    exposure, mediators, outcome, covariates
        Column names (covariates as coded: dummy columns are ``name[level]``).
    serial
        Whether the mediators form a chain (``M_1 -> M_2 -> ...``) or are parallel.
    treated, control
        The exposure levels (or values) compared.
    method, ci, n_draws, level, seed
        ``"boot"`` or ``"quasi-bayes"``; ``"percentile"`` or ``"bca"``; the number of
        bootstrap replicates or simulation draws; confidence level; seed.
    n
        Samples analysed.
    notes
        What was done silently (rows left out, the treated level chosen).
    """

    effects: pd.DataFrame
    paths: pd.DataFrame
    exposure: str
    mediators: tuple[str, ...]
    outcome: str
    covariates: tuple[str, ...]
    serial: bool
    treated: str
    control: str
    method: str
    ci: str
    n_draws: int
    level: float
    seed: int | None
    n: int
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The effects, one row each (a copy): ``effect, estimate, ci_low, ci_high, pval``."""
        return self.effects.loc[:, list(EFFECT_COLUMNS)].copy()

    def estimate(self, effect: str) -> float:
        """The estimate of one effect by name (``"acme"``, ``"ade"``, ``"total"``...).

        Parameters
        ----------
        effect
            A value of the ``effect`` column.
        """
        rows = self.effects.loc[self.effects["effect"] == effect, "estimate"]
        if rows.empty:
            raise KeyError(effect)
        return float(rows.iloc[0])

    def summary(self) -> str:
        """A few lines for people: the design, then ACME, ADE, total, prop. mediated."""
        chain = " -> ".join(self.mediators) if self.serial else ", ".join(self.mediators)
        head = (f"mediation of {self.exposure} ({self.treated} vs {self.control}) on "
                f"{self.outcome} through {chain}; n = {self.n}; "
                f"{self.method} ({self.n_draws}), {self.ci} {self.level:.0%} intervals")
        lines = [head]
        for row in self.effects.itertuples():
            if row.effect in ("acme", "ade", "total", "prop_mediated") or \
                    str(row.effect).startswith("acme["):
                lines.append(f"  {row.effect:<16} {row.estimate: .4g} "
                             f"[{row.ci_low:.4g}, {row.ci_high:.4g}] p = {row.pval:.3g}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class TaxaMediationResults:
    """Every taxon as a candidate mediator of exposure -> taxon -> outcome.

    Attributes
    ----------
    effects
        One row block per taxon: ``mediator, effect, estimate, ci_low, ci_high, pval,
        qval``. For ``effect == "acme"`` the p-value is the joint-significance test
        (the larger of the two path p-values) and ``qval`` its Benjamini-Hochberg
        adjustment over taxa; for the other effects ``pval`` is the bootstrap p-value and
        ``qval`` its BH adjustment over taxa.
    paths
        One row per taxon: ``mediator, a, p_a, b, p_b, p_joint, qval`` (the exposure ->
        taxon and taxon -> outcome coefficients and their t-test p-values).
    exposure, outcome, covariates, treated, control
        As in :class:`MediationResults`.
    transform
        How the taxa were made mediators (e.g. ``"clr"`` of genus counts).
    n_draws, level, seed, n, fdr
        Bootstrap replicates, level, seed, samples, and the FDR used to count the taxa
        that pass.
    notes
        What was done silently.
    """

    effects: pd.DataFrame
    paths: pd.DataFrame
    exposure: str
    outcome: str
    covariates: tuple[str, ...]
    treated: str
    control: str
    transform: str
    n_draws: int
    level: float
    seed: int | None
    n: int
    fdr: float = 0.1
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The effects, one row block per taxon (a copy), columns as ``effects.tsv``."""
        return self.effects.loc[:, list(TAXA_COLUMNS)].copy()

    def passing(self) -> pd.DataFrame:
        """The taxa whose joint-significance q-value is at most ``fdr``, smallest first."""
        return self.paths[self.paths["qval"] <= self.fdr].sort_values("p_joint")

    def summary(self) -> str:
        """How many taxa were tested and pass, and the five with the smallest p_joint."""
        top = self.paths.sort_values("p_joint").head(5)
        acme = self.effects[self.effects["effect"] == "acme"].set_index("mediator")["estimate"]
        lines = [f"{len(self.paths)} taxa ({self.transform}) as mediators of "
                 f"{self.exposure} ({self.treated} vs {self.control}) on {self.outcome}; "
                 f"n = {self.n}; {len(self.passing())} pass FDR {self.fdr:g}"]
        for row in top.itertuples():
            lines.append(f"  {row.mediator}: acme {float(acme[str(row.mediator)]):.4g} "
                         f"p_joint = {row.p_joint:.3g} q = {row.qval:.3g}")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class SensitivityResults:
    """How ACME changes with the mediator-outcome error correlation rho (``medsens``).

    Attributes
    ----------
    grid
        One row per rho: ``rho, acme, ci_low, ci_high`` (normal-theory interval, as
        ``medsens``).
    rho_at_zero
        The rho at which ACME = 0 (interpolated between grid points).
    rho_tilde
        The correlation of the mediator residuals with the residuals of the outcome
        model without the mediator (the closed-form root, Imai, Keele & Yamamoto 2010).
    level
        Confidence level of the intervals.
    """

    grid: pd.DataFrame
    rho_at_zero: float
    rho_tilde: float
    level: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """The rho grid (a copy): ``rho, acme, ci_low, ci_high``."""
        return self.grid.copy()

    def summary(self) -> str:
        """One line: the rho at which ACME vanishes."""
        return (f"ACME = 0 at rho = {self.rho_at_zero:.4f} (mediator-outcome error "
                f"correlation); grid {self.grid['rho'].min():g}..{self.grid['rho'].max():g}")


def write_mediation(results: MediationResults, folder: str | Path, *,
                    record: dict[str, object] | None = None) -> list[Path]:
    """Write ``effects.tsv``, ``paths.tsv`` and ``mediation.json`` (as ``gutaxis mediate``).

    Parameters
    ----------
    results
        A single-mediator-set analysis.
    folder
        Where to write (created if needed).
    record
        The settings to record in ``mediation.json`` (default: the results' own).
    """
    import json

    from gutaxis.version import package_version

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "effects.tsv", out / "paths.tsv", out / "mediation.json"]
    results.to_frame().to_csv(written[0], sep="\t", index=False, na_rep="NA")
    results.paths.to_csv(written[1], sep="\t", index=False, na_rep="NA")
    record = {"gutaxis": package_version(), **record} if record is not None else {
              "gutaxis": package_version(), "exposure": results.exposure,
              "mediators": list(results.mediators), "outcome": results.outcome,
              "covariates": list(results.covariates), "serial": results.serial,
              "treated": results.treated, "control": results.control,
              "method": results.method, "ci": results.ci, "boot": results.n_draws,
              "level": results.level, "seed": results.seed, "n": results.n,
              "notes": list(results.notes)}
    written[2].write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return written

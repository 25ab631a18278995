"""The evidence listing the doors present: selected contrasts, decisions and pooled rows.

:func:`evidence_listing` is the pipeline behind ``gutaxis evidence``: select a condition
and/or outcome, decide what can be pooled and (optionally) pool it; the result writes
itself into a folder (:meth:`EvidenceListing.to_dir`) and gives a short overview for a
terminal (:meth:`EvidenceListing.overview`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gutaxis.errors import InputError
from gutaxis.evidence.decisions import PoolingPlan, plan_pooling
from gutaxis.evidence.pooling import PooledEvidence, pool_evidence
from gutaxis.evidence.table import EvidenceTable

__all__ = ["OVERVIEW_COLUMNS", "EvidenceListing", "evidence_listing"]

OVERVIEW_COLUMNS = ("condition", "outcome", "trials", "usable", "result")
"""Columns of :meth:`EvidenceListing.overview`, in order."""


@dataclass(frozen=True, eq=False)
class EvidenceListing:
    """Selected evidence, its pooling plan and, when asked for, the pooled results.

    Attributes
    ----------
    evidence
        The selected part of the evidence table.
    plan
        What can be pooled, per condition and outcome, and why not.
    pooled
        Pooled results (``None`` when pooling was not asked for).
    condition, outcome
        The selection (``None``: all).
    """

    evidence: EvidenceTable
    plan: PoolingPlan
    pooled: PooledEvidence | None
    condition: str | None
    outcome: str | None

    def overview(self) -> pd.DataFrame:
        """One short row per condition and outcome (columns :data:`OVERVIEW_COLUMNS`)."""
        pooled = {(g.condition, g.outcome): g for g in self.pooled.groups} \
            if self.pooled is not None else {}
        rows = []
        for decision in self.plan.decisions:
            trials = len({v.trial_id for v in decision.verdicts})
            group = pooled.get((decision.condition, decision.outcome))
            if group is not None and group.pooled:
                result = (f"{group.measure} {group.estimate:.3g} [{group.ci_low:.3g}, "
                          f"{group.ci_high:.3g}], I2 {group.i2:.0f}%")
            elif decision.poolable:
                result = "poolable (run with --pool)"
            else:
                result = (f"not pooled: {decision.k_trials} usable, fewer than "
                          f"{self.plan.min_trials}")
            rows.append({"condition": decision.condition, "outcome": decision.outcome,
                         "trials": trials, "usable": decision.k_trials, "result": result})
        return pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS))

    def summary(self) -> str:
        """The table's counts and what was pooled, in words."""
        text = f"{self.evidence.summary()}. {self.plan.summary()}."
        return text if self.pooled is None else f"{text}\n{self.pooled.summary()}"

    def to_dir(self, path: str | Path) -> list[Path]:
        """Write the listing into the folder ``path``.

        Parameters
        ----------
        path
            An existing folder (the CLI gives a staging folder).

        Returns
        -------
        list of Path
            The files written: ``evidence.tsv`` (one row per contrast with its sources),
            ``numbers.tsv`` (every number with its source), ``meta_analyses.tsv``,
            ``evidence.json`` (version and selection) and, with pooling,
            ``pooled.tsv`` and ``pooling_decisions.tsv`` (one row per contrast: usable
            or why not).
        """
        folder = Path(path)
        frames = {"evidence.tsv": self.evidence.to_frame(),
                  "numbers.tsv": self.evidence.numbers,
                  "meta_analyses.tsv": self.evidence.meta_analyses}
        if self.pooled is not None:
            frames["pooled.tsv"] = self.pooled.to_frame()
            frames["pooling_decisions.tsv"] = self.plan.verdicts_frame()
        written = []
        for name, frame in frames.items():
            target = folder / name
            frame.to_csv(target, sep="\t", index=False, na_rep="NA", lineterminator="\n")
            written.append(target)
        target = folder / "evidence.json"
        target.write_text(json.dumps(self.provenance(), indent=2) + "\n", encoding="utf-8")
        written.append(target)
        return written

    def provenance(self) -> dict[str, object]:
        """Version of the table and gutaxis, the selection and the pooling settings."""
        from gutaxis.version import package_version

        pooled = self.pooled
        return {"evidence_version": self.evidence.version,
                "evidence_sha256": self.evidence.sha256, "gutaxis_version": package_version(),
                "condition": self.condition, "outcome": self.outcome,
                "min_trials": self.plan.min_trials,
                "pooling": None if pooled is None else {
                    "engine": "gutaxis.stats.meta.fit_meta", "method": pooled.method,
                    "test": pooled.test},
                "trials": int(self.evidence.contrasts["trial_id"].nunique()),
                "contrasts": len(self.evidence.contrasts)}


def evidence_listing(evidence: EvidenceTable, *, condition: str | None = None,
                     outcome: str | None = None, pool: bool = False,
                     min_trials: int = 3) -> EvidenceListing:
    """Select evidence, decide what can be pooled and, if asked, pool it.

    Parameters
    ----------
    evidence
        The evidence table (:func:`~gutaxis.evidence.load_evidence`).
    condition, outcome
        Keys of :data:`~gutaxis.evidence.CONDITIONS` / :data:`~gutaxis.evidence.OUTCOMES`,
        or ``None`` for all.
    pool
        Pool the poolable groups (:func:`~gutaxis.evidence.pool_evidence`).
    min_trials
        Fewest usable trials for a pooled analysis.

    Returns
    -------
    EvidenceListing

    Examples
    --------
    >>> from gutaxis.evidence import load_evidence
    >>> listing = evidence_listing(load_evidence(), condition="fibromyalgia")
    >>> sorted(set(listing.evidence.contrasts["condition"]))
    ['fibromyalgia']
    """
    selected = evidence.select(condition=condition, outcome=outcome)
    if selected.contrasts.empty:
        within = evidence.select(condition=condition).contrasts["outcome"]
        raise InputError("no contrasts for this condition and outcome", field="outcome",
                         found=f"{condition} / {outcome}",
                         expected="an outcome listed for the condition: "
                         + ", ".join(dict.fromkeys(within)))
    plan = plan_pooling(selected, min_trials=min_trials)
    pooled = pool_evidence(plan) if pool else None
    return EvidenceListing(selected, plan, pooled, condition, outcome)

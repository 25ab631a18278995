"""The models every step of ``gutaxis analyze`` shares: the fixed and random terms of the
design, the reference levels, and the per-feature scan with the configured options (the
association step's scan of taxa and the mechanism step's scan of modules are the same
call, on different tables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from gutaxis.compute import Backend
    from gutaxis.data.cohort import Cohort
    from gutaxis.stats.association_results import AssociationResults

__all__ = ["association_scan", "fixed_terms", "outcome_scan", "random_terms", "references"]

Config = Mapping[str, Mapping[str, Any]]


def fixed_terms(cfg: Config, variable: str) -> list[str]:
    """The outcome variable, then the covariates of the design.

    Parameters
    ----------
    cfg
        The configuration.
    variable
        The outcome as the models use it (see :class:`gutaxis.analyze.AnalysisResults`).
    """
    return [variable, *cfg["design"]["covariates"]]


def random_terms(cfg: Config) -> list[str]:
    """A random intercept per subject when the design names a subject column."""
    subject = cfg["design"]["subject"]
    return [subject] if subject else []


def references(meta: pd.DataFrame, columns: list[str]) -> dict[str, str]:
    """The first sorted level of every categorical column, as its reference.

    Parameters
    ----------
    meta
        The metadata.
    columns
        The columns of the model.
    """
    return {c: sorted(meta[c].dropna().astype(str).unique())[0] for c in columns
            if not pd.api.types.is_numeric_dtype(meta[c])}


def association_scan(cohort: Cohort, cfg: Config, variable: str, *,
                     normalization: str | None = None, transform: str | None = None,
                     backend: Backend | None = None) -> AssociationResults:
    """Every feature of the cohort's table against the outcome, adjusted for the
    covariates (a random intercept per subject), with ``[association]``'s options.

    Parameters
    ----------
    cohort
        Table and metadata (with ``variable``).
    cfg
        The configuration.
    variable
        The outcome as the models use it.
    normalization, transform
        In place of the configured ones (a coverage table is scanned without TSS).
    backend
        Where the features' models run (:mod:`gutaxis.compute`; default: this process).
    """
    from gutaxis.stats.associate import associate

    a = cfg["association"]
    fixed = fixed_terms(cfg, variable)
    return associate(cohort, fixed=fixed, random=random_terms(cfg),
                     reference=references(cohort.metadata, fixed),
                     normalization=normalization or a["normalization"],
                     transform=transform or a["transform"],
                     min_prevalence=a["min_prevalence"], correction=a["correction"],
                     max_significance=a["max_significance"], seed=cfg["design"]["seed"],
                     backend=backend)


def outcome_scan(cohort: Cohort, outcomes: pd.DataFrame, cfg: Config, variable: str
                 ) -> AssociationResults:
    """Each column of ``outcomes`` (per-sample summaries such as alpha diversity or
    inferred guild shares) against the outcome, with the design of
    :func:`association_scan`, values as given.

    Parameters
    ----------
    cohort
        The samples and their metadata.
    outcomes
        One column per summary, indexed by sample id.
    cfg
        The configuration.
    variable
        The outcome as the models use it.
    """
    from gutaxis.stats.associate import associate_outcomes

    fixed = fixed_terms(cfg, variable)
    return associate_outcomes(cohort, outcomes, fixed=fixed, random=random_terms(cfg),
                              reference=references(cohort.metadata, fixed),
                              correction=cfg["association"]["correction"],
                              max_significance=cfg["association"]["max_significance"])

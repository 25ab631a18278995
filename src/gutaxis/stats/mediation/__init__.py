"""Causal mediation: exposure -> mediator(s) -> outcome (diet -> gut -> CRP -> pain).

:func:`mediate` estimates ACME, ADE, total effect and proportion mediated for one
mediator, several in parallel or a serial chain, with linear or logistic models, and
bootstrap (percentile, BCa) or quasi-Bayesian intervals; :func:`mediation_sensitivity`
is ``medsens``'s analysis of mediator-outcome confounding; :func:`mediate_taxa` takes
every taxon of a table as a candidate mediator at once.
"""

from gutaxis.stats.mediation.mediate import mediate
from gutaxis.stats.mediation.results import (
    MediationResults,
    SensitivityResults,
    TaxaMediationResults,
)
from gutaxis.stats.mediation.sensitivity import mediation_sensitivity
from gutaxis.stats.mediation.taxa import mediate_taxa

__all__ = [
    "MediationResults",
    "SensitivityResults",
    "TaxaMediationResults",
    "mediate",
    "mediate_taxa",
    "mediation_sensitivity",
]

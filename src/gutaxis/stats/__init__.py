"""gutaxis.stats: connect the gut to pain.

Per-feature association scans (:func:`associate`, MaAsLin 2/3 style) on ordinary least
squares (:func:`fit_ols`), linear mixed models and logistic models, with multiple-testing
correction (:func:`adjust_pvalues`). Every fit gives a :class:`FitResults` (term names,
``conf_int()``, ``to_frame()``, ``summary()``) through its ``results()`` method.

Community tests on distance matrices: :func:`permanova` (vegan's adonis2),
:func:`permdisp` (betadisper) and :func:`pairwise_permanova`.
"""

from gutaxis.stats.associate import associate, associate_outcomes
from gutaxis.stats.association_results import AssociationResults, AssociationSpec
from gutaxis.stats.community import (
    PairwiseResults,
    PermanovaResults,
    PermdispResults,
    pairwise_permanova,
    permanova,
    permdisp,
)
from gutaxis.stats.design import Design, Term, build_design
from gutaxis.stats.models.linear import OLSFit, fit_ols
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.normalize import normalize, transform
from gutaxis.stats.results import FitResults

__all__ = [
    "AssociationResults",
    "AssociationSpec",
    "Design",
    "FitResults",
    "OLSFit",
    "PairwiseResults",
    "PermanovaResults",
    "PermdispResults",
    "Term",
    "adjust_pvalues",
    "associate",
    "associate_outcomes",
    "build_design",
    "fit_ols",
    "normalize",
    "pairwise_permanova",
    "permanova",
    "permdisp",
    "transform",
]

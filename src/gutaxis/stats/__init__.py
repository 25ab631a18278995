"""gutaxis.stats: connect the gut to pain.

Per-feature association scans (:func:`associate`, MaAsLin 2/3 style) on ordinary least
squares (:func:`fit_ols`), linear mixed models and logistic models, with multiple-testing
correction (:func:`adjust_pvalues`); cross-validated classifiers of a phenotype
(:func:`classify`, scikit-learn loaded when one runs). Every fit gives a
:class:`FitResults` (term names, ``conf_int()``, ``to_frame()``, ``summary()``) through its
``results()`` method.
"""

from gutaxis.stats.associate import associate, associate_outcomes
from gutaxis.stats.association_results import AssociationResults, AssociationSpec
from gutaxis.stats.classify import ClassifierResults, ClassifySpec, classify
from gutaxis.stats.design import Design, Term, build_design
from gutaxis.stats.models.linear import OLSFit, fit_ols
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.normalize import normalize, transform
from gutaxis.stats.results import FitResults

__all__ = [
    "AssociationResults",
    "AssociationSpec",
    "ClassifierResults",
    "ClassifySpec",
    "Design",
    "FitResults",
    "OLSFit",
    "Term",
    "adjust_pvalues",
    "associate",
    "associate_outcomes",
    "build_design",
    "classify",
    "fit_ols",
    "normalize",
    "transform",
]

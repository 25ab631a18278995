"""gutaxis.stats: connect the gut to pain.

Per-feature association scans (:func:`associate`, MaAsLin 2/3 style) on ordinary least
squares (:func:`fit_ols`), linear mixed models and logistic models, with multiple-testing
correction (:func:`adjust_pvalues`); cross-validated classifiers of a phenotype
(:func:`classify`, scikit-learn loaded when one runs). Meta-analysis of published study
summaries (:func:`meta_analysis`, :func:`effect_sizes`, :func:`fit_meta`,
:func:`bias_tests`), as R metafor computes it. Every fit gives a :class:`FitResults` (term
names, ``conf_int()``, ``to_frame()``, ``summary()``) through its ``results()`` method.

Community tests on distance matrices: :func:`permanova` (vegan's adonis2),
:func:`permdisp` (betadisper) and :func:`pairwise_permanova`.
"""

from gutaxis.stats.associate import associate, associate_outcomes
from gutaxis.stats.association_results import AssociationResults, AssociationSpec
from gutaxis.stats.classify import ClassifierResults, ClassifySpec, classify
from gutaxis.stats.community import (
    PairwiseResults,
    PermanovaResults,
    PermdispResults,
    pairwise_permanova,
    permanova,
    permdisp,
)
from gutaxis.stats.design import Design, Term, build_design
from gutaxis.stats.mediation import (
    MediationResults,
    SensitivityResults,
    TaxaMediationResults,
    mediate,
    mediate_taxa,
    mediation_sensitivity,
)
from gutaxis.stats.meta import MetaFit, StudyEffects, bias_tests, effect_sizes, fit_meta
from gutaxis.stats.meta.analysis import MetaAnalysis, meta_analysis
from gutaxis.stats.models.linear import OLSFit, fit_ols
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.nof1 import Nof1Results, analyze_nof1, fit_gls_ar1, run_nof1
from gutaxis.stats.normalize import normalize, transform
from gutaxis.stats.results import FitResults
from gutaxis.stats.trial import TrialResults, analyze_trial

__all__ = [
    "AssociationResults",
    "AssociationSpec",
    "ClassifierResults",
    "ClassifySpec",
    "Design",
    "FitResults",
    "MediationResults",
    "MetaAnalysis",
    "MetaFit",
    "Nof1Results",
    "OLSFit",
    "PairwiseResults",
    "PermanovaResults",
    "PermdispResults",
    "SensitivityResults",
    "StudyEffects",
    "TaxaMediationResults",
    "Term",
    "TrialResults",
    "adjust_pvalues",
    "analyze_nof1",
    "analyze_trial",
    "associate",
    "associate_outcomes",
    "bias_tests",
    "build_design",
    "classify",
    "effect_sizes",
    "fit_gls_ar1",
    "fit_meta",
    "fit_ols",
    "mediate",
    "mediate_taxa",
    "mediation_sensitivity",
    "meta_analysis",
    "normalize",
    "pairwise_permanova",
    "permanova",
    "permdisp",
    "run_nof1",
    "transform",
]

"""gutaxis.stats.meta: meta-analysis of published summary data (metafor 3.8-1 conventions).

Effect sizes from study summaries (:func:`effect_sizes`), fixed- and random-effects models
and meta-regression (:func:`fit_meta`), bias tests (:func:`bias_tests`), per-study
influence (:func:`study_influence`) and the whole analysis the CLI runs
(:func:`meta_analysis`).
"""

from gutaxis.stats.meta.bias import BiasTests, TrimFill, bias_tests, trim_and_fill
from gutaxis.stats.meta.effect_sizes import MEASURES, StudyEffects, effect_sizes
from gutaxis.stats.meta.influence import StudyInfluence, study_influence
from gutaxis.stats.meta.models import META_TESTS, MetaFit, fit_meta
from gutaxis.stats.meta.tau2 import TAU2_METHODS

__all__ = [
    "MEASURES",
    "META_TESTS",
    "TAU2_METHODS",
    "BiasTests",
    "MetaFit",
    "StudyEffects",
    "StudyInfluence",
    "TrimFill",
    "bias_tests",
    "effect_sizes",
    "fit_meta",
    "study_influence",
    "trim_and_fill",
]

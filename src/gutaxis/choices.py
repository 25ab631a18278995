"""The closed sets of words the engine takes, as ``Literal`` types: one source of truth.

The engine's functions are annotated with these types and validate against them; the
command line builds its choices from them (:func:`typing.get_args`), so a choice added
here reaches every door at once. This module imports nothing but :mod:`typing`, so the
command line can read it without loading numpy or pandas (``gutaxis --help`` stays fast).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["AlphaMetricName", "BetaMetric", "ClassifierModel", "Correction", "InputKind",
           "LmmOptimizer", "MetaMeasure", "MetaMethod", "MetaTest", "Normalization",
           "Orientation", "Transform"]

#: Normalisation of a feature table before an association scan (MaAsLin 2's names).
Normalization = Literal["TSS", "CLR", "NONE"]
#: Transform of the normalised values before an association scan (MaAsLin 2's names).
Transform = Literal["LOG", "AST", "LOGIT", "NONE"]
#: Multiple-testing correction (R's ``p.adjust`` names; ``none`` leaves p-values as they are).
Correction = Literal["BH", "BY", "bonferroni", "holm", "none"]
#: Optimiser of the mixed models: ``newton`` (exact optimum) or ``lme4`` (lme4's stopping
#: point, to reproduce lme4 / MaAsLin 2 output).
LmmOptimizer = Literal["newton", "lme4"]
#: Orientation of a delimited table: samples as rows or as columns.
Orientation = Literal["samples-rows", "samples-columns"]
#: What the values of a table read from a file are, when the reader cannot tell.
InputKind = Literal["counts", "relative"]
#: Alpha diversity metrics by their QIIME 2 names.
AlphaMetricName = Literal["observed_features", "shannon_entropy", "simpson", "inverse_simpson",
                          "pielou_e", "chao1", "faith_pd"]
#: Beta diversity metrics by their QIIME 2 names.
BetaMetric = Literal[
    "braycurtis", "jaccard", "aitchison", "unweighted_unifrac", "weighted_unifrac",
    "weighted_normalized_unifrac", "generalized_unifrac", "variance_adjusted_weighted_unifrac",
]
#: Effect measures of a meta-analysis (metafor's names; GEN: yi/vi given).
MetaMeasure = Literal["SMD", "MD", "ROM", "OR", "RR", "RD", "GEN"]
#: Heterogeneity (tau²) estimators of a meta-analysis (metafor's names); FE: fixed effect.
MetaMethod = Literal["DL", "REML", "ML", "PM", "SJ", "HE", "HS", "EB", "FE"]
#: Tests of a meta-analysis: Wald z, or Knapp-Hartung (HKSJ) t.
MetaTest = Literal["z", "knha"]
#: Classifier of ``gutaxis classify``: L1-penalised (lasso) or elastic-net logistic
#: regression, or a random forest.
ClassifierModel = Literal["lasso", "enet", "rf"]

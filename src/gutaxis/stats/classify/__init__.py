"""gutaxis.stats.classify: predict a pain phenotype from the gut profile.

:func:`classify` runs a repeated, nested, subject-grouped cross-validation of a lasso,
elastic-net or random-forest classifier (scikit-learn) and gives a
:class:`ClassifierResults`: AUROC, AUPRC and Brier score with their spread over repeats
and a permutation p-value, out-of-fold predictions, calibration and feature
importances with their stability across folds. scikit-learn is imported only when a
classifier runs (:mod:`.steps`, :mod:`.nested`), never when gutaxis is imported.
"""

from gutaxis.stats.classify.metrics import (
    auprc,
    auroc,
    brier_score,
    calibration_table,
    permutation_pvalue,
    spread_interval,
)
from gutaxis.stats.classify.results import ClassifierResults, ClassifySpec
from gutaxis.stats.classify.run import classify, importance_table

__all__ = ["ClassifierResults", "ClassifySpec", "auprc", "auroc", "brier_score",
           "calibration_table", "classify", "importance_table", "permutation_pvalue",
           "spread_interval"]

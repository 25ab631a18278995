"""gutaxis.gut: measure the gut. Alpha and beta diversity, ordination, gut-health summaries."""

from gutaxis.gut.alpha import (
    ALPHA_METRICS,
    NoSingletonsWarning,
    alpha_diversity,
    chao1,
    inverse_simpson,
    observed_features,
    pielou_evenness,
    shannon,
    simpson,
)
from gutaxis.gut.beta import BETA_METRICS, aitchison, beta_diversity, braycurtis, jaccard
from gutaxis.gut.ordination import NegativeEigenvalueWarning, Ordination, pcoa

__all__ = [
    "ALPHA_METRICS",
    "BETA_METRICS",
    "NegativeEigenvalueWarning",
    "NoSingletonsWarning",
    "Ordination",
    "aitchison",
    "alpha_diversity",
    "beta_diversity",
    "braycurtis",
    "chao1",
    "inverse_simpson",
    "jaccard",
    "observed_features",
    "pcoa",
    "pielou_evenness",
    "shannon",
    "simpson",
]

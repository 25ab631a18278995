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
from gutaxis.gut.summaries import (
    SummaryWarning,
    butyrate_producer_share,
    dysbiosis_score,
    enterobacteriaceae_share,
    feature_lineage,
    firmicutes_bacteroidota_ratio,
    gut_summary,
    md_index,
    prevotella_bacteroides_ratio,
    proteobacteria_share,
    taxon_share,
)

__all__ = [
    "ALPHA_METRICS",
    "BETA_METRICS",
    "NegativeEigenvalueWarning",
    "NoSingletonsWarning",
    "Ordination",
    "SummaryWarning",
    "aitchison",
    "alpha_diversity",
    "beta_diversity",
    "braycurtis",
    "butyrate_producer_share",
    "chao1",
    "dysbiosis_score",
    "enterobacteriaceae_share",
    "feature_lineage",
    "firmicutes_bacteroidota_ratio",
    "gut_summary",
    "inverse_simpson",
    "jaccard",
    "md_index",
    "observed_features",
    "pcoa",
    "pielou_evenness",
    "prevotella_bacteroides_ratio",
    "proteobacteria_share",
    "shannon",
    "simpson",
    "taxon_share",
]

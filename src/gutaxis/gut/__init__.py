"""gutaxis.gut: measure the gut. Alpha and beta diversity, ordination, gut-health summaries.

Alpha metrics return a :class:`pandas.Series` indexed by ``sample_id`` and named after the
metric; beta metrics a :class:`gutaxis.data.distance.DistanceMatrix` with the sample ids.
The low-level band and kernel functions for chunked computation
(:func:`gutaxis.gut.beta.braycurtis_between`, :func:`gutaxis.gut.beta.sum_of_minima`,
:func:`gutaxis.gut.phylogenetic.unifrac_rows`,
:func:`gutaxis.gut.unifrac_variants.unifrac_variant_rows`) return bare arrays and are
imported from their modules, as are :func:`gutaxis.gut.beta.jaccard_rows`,
:func:`gutaxis.gut.beta.aitchison_rows` and :func:`gutaxis.gut.phylogenetic.unifrac_band`.
For cohorts too large for one process: :mod:`gutaxis.gut.distance_store` (a distance matrix
by row bands on a compute back-end, into a Zarr store), :mod:`gutaxis.gut.pcoa_stored`
(randomised PCoA from the store) and :mod:`gutaxis.gut.alpha_blocks` (alpha diversity by
sample blocks).

:func:`run_metrics` runs them all (the metrics pipeline behind ``gutaxis metrics``).
"""

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
from gutaxis.gut.beta import (
    BETA_METRICS,
    PHYLOGENETIC_METRICS,
    aitchison,
    beta_diversity,
    braycurtis,
    jaccard,
)
from gutaxis.gut.guilds import GuildProfile, metabolic_guilds
from gutaxis.gut.modules import ModuleProfile, module_profile
from gutaxis.gut.ordination import NegativeEigenvalueWarning, Ordination, pcoa
from gutaxis.gut.phylogenetic import faith_pd, unifrac
from gutaxis.gut.pipeline import MetricsResults, run_metrics
from gutaxis.gut.summaries import (
    SummaryWarning,
    butyrate_producer_share,
    dysbiosis_score,
    dysbiotic,
    enterobacteriaceae_share,
    feature_lineage,
    firmicutes_bacteroidota_ratio,
    gut_summary,
    md_index,
    prevotella_bacteroides_ratio,
    proteobacteria_share,
    taxon_share,
)
from gutaxis.gut.unifrac_variants import generalized_unifrac, variance_adjusted_unifrac

__all__ = [
    "ALPHA_METRICS",
    "BETA_METRICS",
    "PHYLOGENETIC_METRICS",
    "GuildProfile",
    "MetricsResults",
    "ModuleProfile",
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
    "dysbiotic",
    "enterobacteriaceae_share",
    "faith_pd",
    "feature_lineage",
    "firmicutes_bacteroidota_ratio",
    "generalized_unifrac",
    "gut_summary",
    "inverse_simpson",
    "jaccard",
    "md_index",
    "metabolic_guilds",
    "module_profile",
    "observed_features",
    "pcoa",
    "pielou_evenness",
    "prevotella_bacteroides_ratio",
    "proteobacteria_share",
    "run_metrics",
    "shannon",
    "simpson",
    "taxon_share",
    "unifrac",
    "variance_adjusted_unifrac",
]

"""The diversity metrics by QIIME 2's names, their settings and their references.

``gutaxis metrics`` (and the web app) choose metrics by the names QIIME 2 users know
(``shannon_entropy``, ``pielou_e``, ``weighted_normalized_unifrac``, ...); this module maps
them to the functions of :mod:`gutaxis.gut.alpha` and :mod:`gutaxis.gut.beta`, checks a
choice against the table (a tree for the phylogenetic ones, counts for chao1 and
variance-adjusted UniFrac), and computes the alpha table with QIIME 2's column names.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.alpha import alpha_diversity
from gutaxis.gut.beta import BETA_METRICS, PHYLOGENETIC_METRICS

if TYPE_CHECKING:
    from gutaxis.compute.backend import Backend
    from gutaxis.io.biom_blocks import BiomBlocks

__all__ = [
    "ALPHA_NAMES",
    "BETA_NAMES",
    "DiversitySettings",
    "alpha_table",
    "choose_metrics",
    "metric_citations",
]

#: QIIME 2's alpha metric name -> the name in :data:`gutaxis.gut.alpha.ALPHA_METRICS`.
ALPHA_NAMES: dict[str, str] = {
    "observed_features": "observed_features",
    "shannon_entropy": "shannon",
    "simpson": "simpson",
    "inverse_simpson": "inverse_simpson",
    "pielou_e": "pielou_evenness",
    "chao1": "chao1",
    "faith_pd": "faith_pd",
}
#: Beta metric names (QIIME 2's), those of :data:`gutaxis.gut.beta.BETA_METRICS`.
BETA_NAMES: tuple[str, ...] = tuple(BETA_METRICS)

#: Chosen when no metric is named: these alpha metrics (faith_pd only with a tree; chao1
#: stays, empty for a table of proportions, so the columns are the same for every table)
#: and these beta metrics (the UniFrac ones only with a tree).
_DEFAULT_ALPHA = ("observed_features", "shannon_entropy", "simpson", "inverse_simpson",
                  "pielou_e", "chao1", "faith_pd")
_DEFAULT_BETA = ("braycurtis", "jaccard", "aitchison", "unweighted_unifrac",
                 "weighted_normalized_unifrac", "weighted_unifrac")
_NEEDS_TREE = frozenset({"faith_pd", *PHYLOGENETIC_METRICS})
_NEEDS_COUNTS = frozenset({"chao1", "variance_adjusted_weighted_unifrac"})

_CITATIONS: dict[str, str] = {
    "shannon_entropy": "Shannon CE (1948). A mathematical theory of communication. Bell Syst "
                       "Tech J 27:379-423.",
    "simpson": "Simpson EH (1949). Measurement of diversity. Nature 163:688.",
    "pielou_e": "Pielou EC (1966). The measurement of diversity in different types of "
                "biological collections. J Theor Biol 13:131-144.",
    "chao1": "Chao A (1984). Non-parametric estimation of the number of classes in a "
             "population. Scand J Stat 11:265-270.",
    "faith_pd": "Faith DP (1992). Conservation evaluation and phylogenetic diversity. Biol "
                "Conserv 61:1-10.",
    "braycurtis": "Bray JR, Curtis JT (1957). An ordination of the upland forest communities "
                  "of southern Wisconsin. Ecol Monogr 27:325-349.",
    "jaccard": "Jaccard P (1912). The distribution of the flora in the alpine zone. New "
               "Phytol 11:37-50.",
    "aitchison": "Aitchison J, Barceló-Vidal C, Martín-Fernández JA, Pawlowsky-Glahn V "
                 "(2000). Logratio analysis and compositional distance. Math Geol "
                 "32:271-275.",
    "unweighted_unifrac": "Lozupone C, Knight R (2005). UniFrac: a new phylogenetic method "
                          "for comparing microbial communities. Appl Environ Microbiol "
                          "71:8228-8235.",
    "weighted_unifrac": "Lozupone CA, Hamady M, Kelley ST, Knight R (2007). Quantitative and "
                        "qualitative beta diversity measures lead to different insights into "
                        "factors that structure microbial communities. Appl Environ "
                        "Microbiol 73:1576-1585.",
    "generalized_unifrac": "Chen J, Bittinger K, Charlson ES, et al. (2012). Associating "
                           "microbiome composition with environmental covariates using "
                           "generalized UniFrac distances. Bioinformatics 28:2106-2113.",
    "variance_adjusted_weighted_unifrac": "Chang Q, Luan Y, Sun F (2011). Variance adjusted "
                                          "weighted UniFrac: a powerful beta diversity "
                                          "measure for comparing communities based on "
                                          "phylogeny. BMC Bioinformatics 12:118.",
    "pcoa": "Gower JC (1966). Some distance properties of latent root and vector methods "
            "used in multivariate analysis. Biometrika 53:325-338.",
    "qiime2": "Bolyen E, Rideout JR, Dillon MR, et al. (2019). Reproducible, interactive, "
              "scalable and extensible microbiome data science using QIIME 2. Nat "
              "Biotechnol 37:852-857.",
}
_CITED_AS = {"inverse_simpson": "simpson", "weighted_normalized_unifrac": "weighted_unifrac"}


@dataclass(frozen=True)
class DiversitySettings:
    """What ``gutaxis metrics`` computes: metric names (QIIME 2's) and their parameters.

    ``shannon_base`` is the logarithm base of ``shannon_entropy`` (2, bits, as QIIME 2;
    or e); ``generalized_alpha`` the ``alpha`` of ``generalized_unifrac``.
    """

    alpha_metrics: tuple[str, ...]
    beta_metrics: tuple[str, ...]
    shannon_base: float = 2.0
    generalized_alpha: float = 0.5

    def to_dict(self) -> dict[str, object]:
        """JSON-ready; the base is written as ``"e"`` when it is Euler's number."""
        base: object = "e" if self.shannon_base == math.e else self.shannon_base
        return {"alpha_metrics": list(self.alpha_metrics),
                "beta_metrics": list(self.beta_metrics),
                "shannon_base": base, "generalized_alpha": self.generalized_alpha}


def choose_metrics(table: ProfileTable, names: Sequence[str] | None = None
                   ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The alpha and the beta metrics to compute, each in the order given.

    Without ``names``, the defaults that apply to the table (see the module notes). Named
    metrics are checked: an unknown name, a phylogenetic metric without a tree, or a
    counts-only metric on proportions is an :class:`InputError` naming it.
    """
    if names is None:
        chosen = [m for m in (*_DEFAULT_ALPHA, *_DEFAULT_BETA)
                  if m not in _NEEDS_TREE or table.tree is not None]
    else:
        chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
        _check_names(table, chosen)
    return (tuple(m for m in chosen if m in ALPHA_NAMES),
            tuple(m for m in chosen if m in BETA_METRICS))


def _check_names(table: ProfileTable, chosen: list[str]) -> None:
    known = (*ALPHA_NAMES, *BETA_NAMES)
    unknown = [m for m in chosen if m not in known]
    if unknown or not chosen:
        raise InputError("unknown diversity metric", field="--metrics",
                         found=", ".join(unknown) or "no name",
                         expected=f"comma-separated names among {', '.join(known)}")
    treeless = [m for m in chosen if m in _NEEDS_TREE]
    if treeless and table.tree is None:
        raise InputError("phylogenetic metrics need a tree", field="--metrics",
                         found=", ".join(treeless),
                         expected="a tree (--tree; it is dropped by --rank) or other metrics")
    counts_only = [m for m in chosen if m in _NEEDS_COUNTS]
    if counts_only and not _holds_read_counts(table):
        raise InputError(f"these metrics need read counts; the table holds "
                         f"{table.unit or table.kind} values", field="--metrics",
                         found=", ".join(counts_only),
                         expected="a table of counts, or other metrics")


def alpha_table(table: ProfileTable, settings: DiversitySettings, *,
                backend: Backend | None = None, source: BiomBlocks | None = None
                ) -> pd.DataFrame:
    """Alpha diversity of every sample, one column per metric under its QIIME 2 name.

    With a ``backend`` (:mod:`gutaxis.compute`) the samples are computed by blocks on it
    (:func:`~gutaxis.gut.alpha_blocks.alpha_diversity_blocks`: the same frame, bit for bit),
    read by the tasks from ``source`` when given (a reader of the file whose blocks are
    ``table``'s rows).

    A ``chao1`` column of a table that does not hold counts is left empty (NaN), with a
    warning (:func:`choose_metrics` refuses chao1 by name on such a table).
    """
    empty_chao1 = "chao1" in settings.alpha_metrics and not _holds_read_counts(table)
    names = [m for m in settings.alpha_metrics if not (empty_chao1 and m == "chao1")]
    chosen = [ALPHA_NAMES[m] for m in names]
    if backend is None:
        frame = alpha_diversity(table, metrics=chosen, shannon_base=settings.shannon_base)
    else:
        from gutaxis.gut.alpha_blocks import alpha_diversity_blocks

        frame = alpha_diversity_blocks(table if source is None else source, metrics=chosen,
                                       shannon_base=settings.shannon_base, backend=backend)
    frame.columns = pd.Index(names)
    if empty_chao1:
        warnings.warn(f"chao1 needs read counts; the table holds {table.unit or table.kind} "
                      "values, so its chao1 column is empty", UserWarning, stacklevel=2)
        frame["chao1"] = np.nan
    return frame[list(settings.alpha_metrics)]


def _holds_read_counts(table: ProfileTable) -> bool:
    """Counts that are reads: not HUMAnN's RPK nor PICRUSt2's predicted copies."""
    return table.kind == "counts" and table.unit in (None, "counts")


def metric_citations(settings: DiversitySettings) -> tuple[str, ...]:
    """The references of the metrics chosen, then PCoA and QIIME 2 (whose names are used)."""
    keys = [_CITED_AS.get(m, m) for m in (*settings.alpha_metrics, *settings.beta_metrics)]
    if settings.beta_metrics:
        keys.append("pcoa")
    keys.append("qiime2")
    return tuple(_CITATIONS[k] for k in dict.fromkeys(keys) if k in _CITATIONS)

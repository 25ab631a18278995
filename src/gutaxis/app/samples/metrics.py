"""The gut-health metrics of the panel, one row per sample, computed by the engine.

The same function computes the shipped reference cohorts
(``reference/make_reference.py``) and each uploaded sample, so a patient's value and its
reference are measured alike: Shannon entropy in bits (base 2, as QIIME 2 and ``gutaxis
metrics``), observed richness (rarefied to a fixed depth for read counts), the taxon shares
and ratios of :mod:`gutaxis.gut.summaries` and the MD index of Gevers et al. (2014).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from gutaxis.data.profile import ProfileTable

#: Logarithm base of the panel's Shannon entropy (bits).
SHANNON_BASE = 2.0
#: Seed of the rarefaction behind observed richness.
RAREFY_SEED = 0


@dataclass(frozen=True)
class Metric:
    """One metric of the panel: its key, what a person reads and its unit."""

    name: str
    label: str
    unit: str
    caveat: str | None = None


METRICS: tuple[Metric, ...] = (
    Metric("shannon", "Shannon diversity", "bits"),
    Metric("observed_features", "Observed richness", "features"),
    Metric("butyrate_producer_share", "Butyrate producers", "share",
           "16S genera are a proxy for butyrate production (Vital et al. 2014)."),
    Metric("proteobacteria_share", "Proteobacteria", "share"),
    Metric("enterobacteriaceae_share", "Enterobacteriaceae", "share"),
    Metric("firmicutes_bacteroidota_ratio", "Firmicutes/Bacteroidota ratio", "ratio",
           "A weak, inconsistent marker (Walters et al. 2014)."),
    Metric("md_index", "Microbial dysbiosis index", "ln ratio",
           "Taxa from new-onset paediatric Crohn's disease (Gevers et al. 2014)."),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)
#: The HMP2 dysbiosis score: only for tables compared with a reference that ships its
#: profiles (the HMP2 non-IBD species profiles).
DYSBIOSIS = Metric("dysbiosis_score", "HMP2 dysbiosis score", "Bray-Curtis",
                   "Median Bray-Curtis distance to the non-IBD HMP2 samples; above their "
                   "90th percentile counts as dysbiotic (Lloyd-Price et al. 2019).")


def sample_metrics(table: ProfileTable, *, depth: int | None) -> pd.DataFrame:
    """Every panel metric of every sample of ``table`` (index ``sample_id``).

    Parameters
    ----------
    table
        Read counts or relative abundances, with a taxonomy or species-name feature ids.
    depth
        For read counts: observed richness is counted after rarefying to ``depth`` reads
        (seed :data:`RAREFY_SEED`); a sample with fewer reads keeps its unrarefied
        richness and the column ``rarefied`` says so. ``None``: no rarefaction.

    Returns
    -------
    pandas.DataFrame
        One column per name of :data:`METRIC_NAMES` (NaN where a metric is undefined),
        ``rarefied`` (bool) and ``notes`` (why a value is NaN, from
        :func:`gutaxis.gut.summaries.gut_summary`).
    """
    import numpy as np

    from gutaxis.gut.alpha import observed_features, shannon
    from gutaxis.gut.summaries import gut_summary

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the notes column says why a value is NaN
        summary = gut_summary(table)
    frame = summary[[m for m in METRIC_NAMES if m in summary.columns] + ["notes"]].copy()
    frame.insert(0, "shannon", shannon(table, base=SHANNON_BASE))
    richness = observed_features(table)
    rarefied = np.zeros(table.n_samples, dtype=bool)
    if depth is not None and table.kind == "counts":
        deep = table.sample_totals() >= depth
        if deep.any():
            thin = table.subset_samples(deep).rarefy(depth, seed=RAREFY_SEED)
            richness.loc[list(thin.sample_ids)] = observed_features(thin).to_numpy()
            rarefied = deep
    frame.insert(1, "observed_features", richness)
    frame["rarefied"] = rarefied
    return frame[[*METRIC_NAMES, "rarefied", "notes"]]


def dysbiosis_against(table: ProfileTable, reference: ProfileTable) -> pd.Series:
    """The HMP2 dysbiosis score of every sample of ``table``: the median Bray-Curtis
    distance to all ``reference`` samples (:func:`gutaxis.gut.summaries.dysbiosis_score`
    on the two tables joined over the union of their features).

    Parameters
    ----------
    table
        Relative abundances (or counts, turned into proportions).
    reference
        The reference samples' relative abundances (e.g. HMP2 non-IBD).
    """
    import numpy as np
    import pandas as pd

    from gutaxis.data.profile import ProfileTable as Table
    from gutaxis.gut.summaries import dysbiosis_score

    own = table.relative() if table.kind == "counts" else table
    joined = pd.concat([own.to_dataframe(), reference.to_dataframe()], axis=0).fillna(0.0)
    joined.index = pd.Index([f"upload:{s}" for s in own.sample_ids]
                            + [f"reference:{s}" for s in reference.sample_ids])
    combined = Table.from_dataframe(joined, kind="relative")
    mask = np.zeros(combined.n_samples, dtype=bool)
    mask[own.n_samples:] = True
    scores = dysbiosis_score(combined, mask).to_numpy()[: own.n_samples]
    return pd.Series(scores, index=pd.Index(own.sample_ids, name="sample_id"),
                     name="dysbiosis_score")

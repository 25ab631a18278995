"""The simulation template: per-taxon zero-inflated log-normal marginals, a Gaussian copula
and a depth distribution, fitted to a real cohort and shipped as parameters (no raw data)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from gutaxis.data.cohort import Cohort
from gutaxis.errors import InputError
from gutaxis.io._files import PathLike, atomic_path

#: Ranks kept in the template's taxonomy.
TEMPLATE_RANKS = ("kingdom", "phylum", "class", "order", "family", "genus")
#: Quantile levels of the depth distribution kept in the template.
DEPTH_LEVELS = np.linspace(0.0, 1.0, 21)
_SHIPPED = "fibromyalgia-genus.json"


@dataclass(frozen=True, eq=False)
class SimulationTemplate:
    """Fitted parameters a synthetic cohort is drawn from (in the spirit of SparseDOSSA 2).

    Parameters
    ----------
    features
        Feature ids (genus lineages, ``"k__Bacteria;...;g__Roseburia"``).
    taxonomy
        Ranks of each feature, indexed by feature id.
    prevalence
        Fraction of samples in which each taxon is present, ``pi_j``.
    mu, sigma
        Mean and standard deviation of the natural log relative abundance where present.
    correlation
        Correlation of the Gaussian copula (features x features, positive definite).
    depth_quantiles
        Quantiles of the read depth at :data:`DEPTH_LEVELS`.
    source
        What the template was fitted to.
    """

    features: np.ndarray
    taxonomy: pd.DataFrame
    prevalence: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    correlation: np.ndarray
    depth_quantiles: np.ndarray
    source: str = ""

    @property
    def n_features(self) -> int:
        return len(self.features)

    def summary(self) -> str:
        """One line: features, prevalence and depth range."""
        lo, hi = self.depth_quantiles[[0, -1]]
        return (f"simulation template ({self.source}): {self.n_features} taxa, prevalence "
                f"{self.prevalence.min():.2f}-{self.prevalence.max():.2f}, depth "
                f"{lo:,.0f}-{hi:,.0f} reads")

    def to_frame(self) -> pd.DataFrame:
        """One row per taxon: ``prevalence``, ``mu``, ``sigma`` and its ranks."""
        frame = pd.DataFrame({"prevalence": self.prevalence, "mu": self.mu,
                              "sigma": self.sigma}, index=pd.Index(self.features, name="feature"))
        return frame.join(self.taxonomy)

    def head(self, n_features: int) -> SimulationTemplate:
        """The template restricted to its ``n_features`` most prevalent taxa.

        Parameters
        ----------
        n_features
            How many taxa to keep (1 to :attr:`n_features`).
        """
        if not 1 <= n_features <= self.n_features:
            raise InputError("n_features out of range", field="n_features", found=n_features,
                             expected=f"1 to {self.n_features} (the template's taxa)")
        keep = np.sort(np.argsort(-self.prevalence, kind="stable")[:n_features])
        return SimulationTemplate(self.features[keep], self.taxonomy.iloc[keep],
                                  self.prevalence[keep], self.mu[keep], self.sigma[keep],
                                  self.correlation[np.ix_(keep, keep)], self.depth_quantiles,
                                  self.source)

    def write(self, path: PathLike) -> None:
        """Write the parameters as JSON, atomically.

        Parameters
        ----------
        path
            Target file.
        """
        doc = {
            "source": self.source,
            "features": [str(f) for f in self.features],
            "taxonomy": {r: [None if pd.isna(v) else str(v) for v in self.taxonomy[r]]
                         for r in self.taxonomy.columns},
            "prevalence": np.round(self.prevalence, 6).tolist(),
            "mu": np.round(self.mu, 6).tolist(),
            "sigma": np.round(self.sigma, 6).tolist(),
            "correlation": np.round(self.correlation, 4).tolist(),
            "depth_levels": DEPTH_LEVELS.tolist(),
            "depth_quantiles": np.round(self.depth_quantiles, 1).tolist(),
        }
        with atomic_path(path) as tmp:
            Path(tmp).write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")


def load_template(path: PathLike | None = None) -> SimulationTemplate:
    """Read a template written by :meth:`SimulationTemplate.write`; the shipped one by default.

    The shipped template was fitted by ``scripts/fit_simulation_template.py`` to the
    fibromyalgia cohort (101 stool samples, 16S V3-V4) at genus level, 150 most
    prevalent genera.

    Parameters
    ----------
    path
        A template JSON file, or ``None`` for the shipped template.

    Examples
    --------
    >>> from gutaxis.simulate import load_template
    >>> load_template().n_features
    150
    """
    if path is None:
        text = (resources.files("gutaxis.simulate") / "data" / _SHIPPED).read_text("utf-8")
        source = _SHIPPED
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    try:
        doc = json.loads(text)
        features = np.asarray(doc["features"], dtype=str)
        tax = pd.DataFrame(doc["taxonomy"], index=pd.Index(features, name="feature_id"))
        return SimulationTemplate(
            features, tax, np.asarray(doc["prevalence"], float), np.asarray(doc["mu"], float),
            np.asarray(doc["sigma"], float), np.asarray(doc["correlation"], float),
            np.asarray(doc["depth_quantiles"], float), str(doc.get("source", source)))
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError("not a gutaxis simulation template", source=source,
                         found=repr(exc), expected="a JSON file written by "
                         "SimulationTemplate.write") from None


def fit_template(cohort: Cohort, *, rank: str = "genus", n_features: int = 150,
                 shrinkage: float = 0.3, source: str = "") -> SimulationTemplate:
    r"""Fit a simulation template to a cohort's count table.

    The table is summed to ``rank``; the ``n_features`` most prevalent taxa with an
    assigned name at ``rank`` are kept and the rest are pooled out (relative abundances
    are taken over the whole table, so the kept taxa leave room for the others). Per
    taxon: prevalence :math:`\pi_j`, and the mean :math:`\mu_j` and standard deviation
    :math:`\sigma_j` of :math:`\log a_{ij}` over the samples where taxon :math:`j` is
    present. Copula: the Pearson correlation of normal scores
    :math:`\Phi^{-1}(\mathrm{rank}_{ij}/(n+1))` (zeros sharing their mid-rank), shrunk
    toward the identity, :math:`R = (1-\lambda)\hat R + \lambda I`, as SparseDOSSA 2
    (Ma et al. 2021) does with its penalised copula.

    Parameters
    ----------
    cohort
        Counts with a taxonomy.
    rank
        Rank to sum to.
    n_features
        Taxa kept, most prevalent first.
    shrinkage
        :math:`\lambda`, weight of the identity in the copula correlation.
    source
        Free text naming what was fitted, kept in the template.

    References
    ----------
    Ma S, Ren B, Mallick H, et al. A statistical model for describing and simulating
    microbial community profiles. PLoS Comput Biol 17(9):e1008913 (2021).
    """
    table = cohort.table
    table.require_integer_counts(action="fitting a simulation template")
    agg = table.aggregate(rank)
    counts = agg.dense()
    depth = counts.sum(axis=1)
    if np.any(depth <= 0):
        raise InputError("a sample has no reads", field="table", expected="positive depths")
    rel = counts / depth[:, None]
    tax = agg.taxonomy
    assert tax is not None
    named = tax[rank].notna().to_numpy()
    prevalence = (counts > 0).mean(axis=0)
    order = np.argsort(-np.where(named, prevalence, -1.0), kind="stable")[:n_features]
    keep = np.sort(order[named[order]])
    sub = rel[:, keep]
    present = sub > 0
    logs = np.where(present, np.log(np.where(present, sub, 1.0)), np.nan)
    mu = np.nanmean(logs, axis=0)
    sigma = np.nan_to_num(np.nanstd(logs, axis=0, ddof=1), nan=0.5)
    sigma = np.maximum(sigma, 0.1)
    n = sub.shape[0]
    scores = sps.norm.ppf(sps.rankdata(sub, axis=0) / (n + 1))
    corr = np.corrcoef(scores, rowvar=False)
    corr = np.nan_to_num(corr, nan=0.0)
    corr = (1 - shrinkage) * corr + shrinkage * np.eye(len(keep))
    np.fill_diagonal(corr, 1.0)
    ids = agg.feature_ids[keep]
    ranks = [r for r in TEMPLATE_RANKS if r in tax.columns]
    return SimulationTemplate(
        ids, tax.iloc[keep][ranks], present.mean(axis=0), mu, sigma, corr,
        np.quantile(depth, DEPTH_LEVELS), source)

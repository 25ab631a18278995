"""Readers of the vegan fixtures in ``tests/reference/vegan`` (see its README)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.data.distance import DistanceMatrix
from gutaxis.io.matrix import read_distance_matrix

VEGAN = Path(__file__).resolve().parents[2] / "reference" / "vegan"
#: adonis2 / betadisper's permutation count in every fixture.
NPERM = 999


def distances(name: str) -> DistanceMatrix:
    """``dune_braycurtis``, ``fibromyalgia_braycurtis`` or ``..._unweighted_unifrac``."""
    return read_distance_matrix(VEGAN / f"{name}.tsv")


def metadata(cohort: str) -> pd.DataFrame:
    """dune.env (factors as text) or the fibromyalgia metadata, indexed by sample id."""
    if cohort == "dune":
        return pd.read_csv(VEGAN / "dune_env.tsv", sep="\t", index_col=0,
                           dtype={"sample_id": str, "Moisture": str, "Manure": str, "Use": str})
    return pd.read_csv(VEGAN / "fibromyalgia_metadata.tsv", sep="\t", index_col=0)


def permutations(name: str) -> np.ndarray:
    """vegan's permutation matrix, as 0-based positions."""
    return np.loadtxt(VEGAN / f"perm_{name}.tsv", dtype=np.int64, ndmin=2) - 1


def table(name: str) -> pd.DataFrame:
    """A fixture table (``adonis2_*.tsv``, ``betadisper_*.tsv``)."""
    return pd.read_csv(VEGAN / f"{name}.tsv", sep="\t", dtype={"sample_id": str})


def mc_bound(p: float, nperm: int = NPERM) -> float:
    """Largest difference allowed between two independent Monte-Carlo p-values of the
    same test, each from ``nperm`` permutations: 3.89 standard errors of the difference
    (two-sided 1e-4), ``3.89 * sqrt(2 p (1 - p) / nperm)``, plus 2 / (nperm + 1) for the
    discreteness of the +1 rule."""
    return 3.89 * float(np.sqrt(2 * p * (1 - p) / nperm)) + 2 / (nperm + 1)

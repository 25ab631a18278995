"""Real-data inputs shared by the association tests (not a test module)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.data.cohort import Cohort
from gutaxis.io import read_cohort

SEVERITY_SCORE = {"ctl": 0, "fbm_12_20": 1, "fbm_21_25": 2, "fbm_26_31": 3}
COVARIATES = ["covariate_age", "covariate_imc", "covariate_sii"]


def fibromyalgia_genus(data_dir: Path) -> Cohort:
    """The fibromyalgia cohort at genus level, with ``fm`` (control/FM) and ``severity``
    (0-3 band score) columns added, as the R reference script builds them."""
    cohort = read_cohort(data_dir / "feature-table.tsv.gz", data_dir / "metadata.tsv",
                         taxonomy=data_dir / "taxonomy.tsv.gz")
    meta = cohort.metadata.copy()
    meta["fm"] = np.where(meta["group"] == "ctl", "control", "FM")
    meta["severity"] = meta["group"].map(SEVERITY_SCORE).astype(float)
    return Cohort(cohort.table.aggregate("genus"), meta)


def r_transformed(reference_dir: Path) -> pd.DataFrame:
    """R's transformed genus values: columns pipeline, sample_id, feature, value."""
    return pd.read_csv(reference_dir / "associate" / "fibromyalgia_genus_transformed.tsv.gz",
                       sep="\t")


def r_lm(reference_dir: Path) -> pd.DataFrame:
    """R's per-feature lm() results: model, feature, term, coef, stderr, t, df, pval, qval."""
    return pd.read_csv(reference_dir / "associate" / "fibromyalgia_genus_lm.tsv.gz", sep="\t")

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


def hmp2_presence(directory: Path) -> dict[str, object]:
    """HMP2 complete cases for the prevalence models (R's glm/glmer fixtures): design ``X``
    (intercept, diagnosisUC, diagnosisCD, dysbiosis nonIBD/UC/CD, antibiotics, age),
    presence ``Y`` (relative abundance > 0), ``species`` names, ``site``/``subject`` codes."""
    meta = pd.read_csv(directory / "HMP2_metadata.tsv", sep="\t").dropna()
    tax = pd.read_csv(directory / "HMP2_taxonomy.tsv.gz", sep="\t", index_col=0).loc[meta["ID"]]
    X = np.column_stack([
        np.ones(len(meta)), meta["diagnosis"].eq("UC"), meta["diagnosis"].eq("CD"),
        meta["dysbiosisnonIBD"].eq("Yes"), meta["dysbiosisUC"].eq("Yes"),
        meta["dysbiosisCD"].eq("Yes"), meta["antibiotics"].eq("Yes"), meta["age"],
    ]).astype(float)
    return {"X": X, "Y": (tax.to_numpy() > 0).astype(np.int8), "species": list(tax.columns),
            "site": pd.factorize(meta["site"])[0], "subject": pd.factorize(meta["subject"])[0]}


#: Coefficient names of :class:`Hmp2`'s design, in column order.
TERMS = ["(Intercept)", "diagnosisCD", "diagnosisUC", "dysbiosisnonIBDYes", "dysbiosisUCYes",
         "dysbiosisCDYes", "antibioticsYes", "age"]


class Hmp2:
    """HMP2's AST-transformed species and the design of MaAsLin 2's regression fixture
    (diagnosis, dysbiosis, antibiotics, age; site and subject as random intercepts)."""

    def __init__(self, directory: Path) -> None:
        tax = pd.read_csv(directory / "HMP2_taxonomy.tsv.gz", sep="\t", index_col="ID")
        meta = pd.read_csv(directory / "HMP2_metadata.tsv", sep="\t").set_index("ID").loc[tax.index]
        keep = ((tax > 0).sum() > 0.1 * len(tax)) & (tax.var() > 0)
        tax = tax.loc[:, keep]
        ast = np.arcsin(np.sqrt(tax.div(tax.sum(axis=1), axis=0)))
        cols = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics",
                "age", "site", "subject"]
        complete = meta[cols].notna().all(axis=1)
        meta, ast = meta[complete], ast[complete]
        yes = {c: meta[c].eq("Yes") for c in ["dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD",
                                             "antibiotics"]}
        self.X = np.column_stack([
            np.ones(len(meta)), meta.diagnosis.eq("CD"), meta.diagnosis.eq("UC"),
            yes["dysbiosisnonIBD"], yes["dysbiosisUC"], yes["dysbiosisCD"], yes["antibiotics"],
            meta.age,
        ]).astype(float)
        self.Y = ast.to_numpy()
        self.features = list(ast.columns)
        self.site = pd.factorize(meta.site, sort=True)[0]
        self.subject = pd.factorize(meta.subject, sort=True)[0]

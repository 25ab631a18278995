"""Synthetic cohorts for the classifier tests: pure-noise counts, or counts with a few
planted features that differ between the classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data import Cohort, ProfileTable


def synthetic_cohort(*, n_samples: int = 60, n_features: int = 2000, planted: int = 0,
                     fold_change: float = 8.0, samples_per_subject: int = 1,
                     seed: int = 0) -> Cohort:
    """Counts (Poisson around log-normal feature means, a tenth of the cells zeroed) and a
    balanced outcome ``label`` (``case``/``control``) constant within each ``subject``.

    The first ``planted`` features (``planted_0``, ...) are ``fold_change`` times more
    abundant in cases; every other feature is noise, independent of the label.
    """
    rng = np.random.default_rng(seed)
    n_subjects = n_samples // samples_per_subject
    subject_case = rng.permutation(np.arange(n_subjects) % 2 == 1)
    subject = np.repeat(np.arange(n_subjects), samples_per_subject)
    case = subject_case[subject]
    mean = np.exp(rng.normal(2.0, 1.5, size=n_features))
    rate = np.tile(mean, (len(subject), 1))
    rate[np.ix_(case, np.arange(planted))] *= fold_change
    counts = rng.poisson(rate) * (rng.random(rate.shape) < 0.9)
    counts[:, -1] += 1  # no empty sample
    names = [f"planted_{k}" for k in range(planted)] + [
        f"noise_{k}" for k in range(n_features - planted)]
    ids = [f"s{k:03d}" for k in range(len(subject))]
    table = ProfileTable(sp.csr_array(counts.astype(float)), np.array(ids), np.array(names))
    metadata = pd.DataFrame({
        "label": np.where(case, "case", "control"),
        "subject": [f"p{s:03d}" for s in subject],
        "age": rng.normal(50, 10, size=len(subject)).round(),
        "ibs": rng.choice(["n", "y"], size=len(subject)),
        "score": rng.integers(0, 10, size=len(subject)),
    }, index=pd.Index(ids, name="sample_id"))
    return Cohort(table, metadata, subject_column="subject")


def write_cohort(cohort: Cohort, folder: object) -> tuple[object, object]:
    """Write the cohort as ``table.tsv`` (features as rows) and ``metadata.tsv``."""
    from pathlib import Path

    out = Path(str(folder))
    table = pd.DataFrame(cohort.table.dense().T, index=pd.Index(cohort.table.feature_ids,
                                                                  name="feature_id"),
                         columns=cohort.table.sample_ids)
    table.to_csv(out / "table.tsv", sep="\t")
    cohort.metadata.to_csv(out / "metadata.tsv", sep="\t")
    return out / "table.tsv", out / "metadata.tsv"

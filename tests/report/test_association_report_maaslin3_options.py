"""The report's words for MaAsLin 3's strata (matched sets) and scaled abundance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gutaxis.data import Cohort, ProfileTable
from gutaxis.report import write_association_report
from gutaxis.report.association_words import flag_reason, outcome_notes, outcome_scale
from gutaxis.stats import associate


def _cohort() -> Cohort:
    rng = np.random.default_rng(7)
    n = 48
    meta = pd.DataFrame({"treated": np.tile(["no", "yes"], n // 2),
                         "age": np.repeat(rng.normal(50, 8, 12), 4),
                         "subject": np.repeat([f"p{i}" for i in range(12)], 4)},
                        index=[f"s{i}" for i in range(n)])
    counts = rng.poisson(40, size=(n, 8)).astype(float)
    counts[rng.random((n, 8)) < 0.3] = 0.0
    return Cohort(ProfileTable.from_dataframe(pd.DataFrame(
        counts, index=meta.index, columns=[f"g__Genus{i}" for i in range(8)])), meta)


def test_strata_report_describes_the_matched_sets(tmp_path):
    res = associate(_cohort(), fixed=["treated", "age"], strata="subject",
                    prevalence_model=True, median_comparison_abundance=False)
    path = tmp_path / "report.html"
    write_association_report(res, path, figures=False)
    text = " ".join(path.read_text(encoding="utf-8").split())
    assert "Matched sets" in text and "conditional logistic" in text
    assert "none (every sample counted as independent)" not in text
    prevalence = res.table[res.table.model == "prevalence"]
    age_error = prevalence.loc[prevalence.metadata == "age", "error"].iloc[0]
    assert flag_reason(age_error)[0] == "not estimable within strata"


def test_scaled_abundance_is_named_as_such():
    cohort = _cohort()
    load = pd.DataFrame({"total": np.linspace(1e9, 5e9, cohort.n_samples)},
                        index=pd.Index(cohort.table.sample_ids, name="sample_id"))
    spec = associate(cohort, fixed=["treated"], prevalence_model=True, unscaled=load).spec
    assert outcome_scale(spec) == "log2 scaled abundance"
    assert "total microbial load" in outcome_notes(spec)[0]
    assert spec.median_comparison_abundance is False  # off by default with scaled abundance

"""Acceptance: the HMP2 mixed-model scan reproduces MaAsLin 2's own regression fixture.

Model (``../shared/data/hmp2/README.md``): TSS + AST; fixed diagnosis (reference nonIBD),
dysbiosisnonIBD, dysbiosisUC, dysbiosisCD, antibiotics, age; random intercepts for site
and subject (REML, Satterthwaite t-tests); BH over all (feature, term) p-values; q < 0.25.
The fixture's feature names went through R's ``make.names``. Its ``N`` counts all 1,595
input samples; the fits use the 1,576 complete cases, which is what ``n`` reports.
"""

from __future__ import annotations

import re
from functools import partial

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("gutaxis.stats.models.linear_mixed", reason="the LMM engine has not landed")

from gutaxis.io import read_cohort
from gutaxis.stats import associate

# The references (R's lm / lmerTest, MaAsLin 2) test coefficients against zero: the scans
# here turn MaAsLin 3's median comparison (gutaxis's default) off.
associate = partial(associate, median_comparison_abundance=False)

FIXED = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics", "age"]
KEY = ["feature", "metadata", "value"]


def make_names(name: str) -> str:
    """R's make.names for these species names: every invalid character becomes a dot."""
    return re.sub(r"[^A-Za-z0-9._]", ".", name)


@pytest.fixture(scope="module")
def scan(hmp2_dir):
    cohort = read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")
    return associate(cohort, fixed=FIXED, random=["site", "subject"],
                     reference={"diagnosis": "nonIBD"}, normalization="TSS", transform="AST")


@pytest.fixture(scope="module")
def expected(hmp2_dir):
    return pd.read_csv(hmp2_dir / "maaslin2_expected_run1.tsv", sep="\t")


@pytest.fixture(scope="module")
def merged(scan, expected):
    ours = scan.significant(0.25).assign(feature=lambda t: t["feature"].map(make_names))
    return expected.merge(ours, on=KEY, how="outer", suffixes=("_r", ""), indicator=True)


def test_same_207_significant_rows(merged, expected):
    assert len(expected) == 207
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEY]


@pytest.mark.parametrize("column", ["coef", "stderr"])
def test_estimates_within_1e4_relative(merged, column):
    rel = np.abs(merged[column] / merged[f"{column}_r"] - 1)
    assert rel.max() < 1e-4
    assert np.median(rel) < 1e-6


@pytest.mark.parametrize("column", ["pval", "qval"])
def test_pvalues_within_1e3_relative(merged, column):
    rel = np.abs(merged[column] / merged[f"{column}_r"] - 1)
    assert rel.max() < 1e-3


def test_sample_counts_are_reported_honestly(scan, merged):
    assert scan.spec.n_samples_input == 1595 == merged["N"].iloc[0]
    assert scan.spec.n_samples_used == 1576
    assert (scan.table["n"] == 1576).all()
    assert (merged["n_nonzero"] <= merged["N.not.0"]).all()


def test_every_feature_is_tested_and_no_fit_failed(scan):
    assert scan.spec.n_features_tested == 87
    assert len(scan.table) == 87 * 7
    table = scan.table
    assert table["converged"].all() and not table["separated"].any()
    # the only notes are singular fits (status in the typed column, the text for people)
    np.testing.assert_array_equal(table["error"].notna(), table["singular"])
    assert table["singular"].any() and table["coef"].notna().all()

"""``associate(strata=...)``: MaAsLin 3's matched designs.

Reference: MaAsLin 3 0.99.1 itself, ``maaslin3(~ antibiotics + strata(subject))`` on HMP2
with its defaults and median comparison off (tests/reference/maaslin3/hmp2_strata.tsv.gz,
made by make_fixtures.R on the m3fix branch). MaAsLin 3 fits abundance with a random
intercept per stratum (lmer) and prevalence by clogit (Breslow, augmented). Tolerance 1e-6
on coefficients, standard errors and p-values (measured: <= 3e-8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from maaslin3_fixture import joined, read_all_results

from gutaxis.data.cohort import Cohort
from gutaxis.errors import InputError
from gutaxis.io import read_cohort
from gutaxis.stats.associate import associate
from gutaxis.stats.design import build_design
from gutaxis.stats.scan_prevalence import STRATA_PREVALENCE_LABEL

FIXTURE = Path(__file__).resolve().parents[1] / "reference" / "maaslin3" / "hmp2_strata.tsv.gz"
TOL = 1e-6


@pytest.fixture(scope="module")
def hmp2_cohort(hmp2_dir: Path) -> Cohort:
    return read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")


@pytest.fixture(scope="module")
def strata_scan(hmp2_cohort):
    return associate(hmp2_cohort, fixed=["antibiotics"], strata="subject",
                     prevalence_model=True, min_prevalence=0.0,
                     median_comparison_abundance=False)


@pytest.mark.parametrize("model", ["abundance", "prevalence"])
def test_strata_scan_matches_maaslin3(strata_scan, model):
    both = joined(strata_scan.table, read_all_results(FIXTURE))
    rows = both[both.model == model]
    assert rows.coef.notna().eq(rows.coef_m3.notna()).all()
    fitted = rows[rows.coef.notna()]
    assert len(fitted) == 87
    np.testing.assert_allclose(fitted.coef, fitted.coef_m3, rtol=0, atol=TOL)
    np.testing.assert_allclose(fitted.stderr, fitted.stderr_m3, rtol=0, atol=TOL)
    np.testing.assert_allclose(fitted.pval, fitted.pval_individual, rtol=0, atol=TOL)
    np.testing.assert_array_equal(fitted.n_nonzero, fitted.N_not_zero)


def test_strata_scan_says_what_it_fitted(strata_scan):
    spec = strata_scan.spec
    assert spec.formula == "y ~ antibiotics + strata(subject)"
    assert spec.strata == "subject" and spec.random == ()
    assert spec.abundance_model.startswith("LMM")
    assert (strata_scan.table.loc[strata_scan.table.model == "prevalence", "df"].isna().all())
    assert STRATA_PREVALENCE_LABEL.startswith("conditional logistic")


def test_covariate_constant_within_strata_is_nan_with_a_reason(hmp2_cohort):
    res = associate(hmp2_cohort, fixed=["antibiotics", "age"], strata="subject",
                    prevalence_model=True, min_prevalence=0.5)
    prev = res.table[res.table.model == "prevalence"]
    age = prev[prev.metadata == "age"]
    assert age.coef.isna().all() and prev[prev.metadata == "antibiotics"].coef.notna().all()
    assert age.error.str.contains("age constant within strata").all()


def test_strata_with_random_effects_is_refused(hmp2_cohort):
    with pytest.raises(InputError, match="strata and random effects cannot be combined"):
        associate(hmp2_cohort, fixed=["antibiotics"], random=["site"], strata="subject")


def test_strata_that_is_a_fixed_effect_is_refused():
    meta = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "s": list("aabbcc")},
                        index=[f"s{i}" for i in range(6)])
    with pytest.raises(InputError, match="cannot also be a fixed effect"):
        build_design(meta, fixed=["x", "s"], strata="s")


def test_strata_column_must_exist():
    meta = pd.DataFrame({"x": [0.0, 1, 2, 3]}, index=list("abcd"))
    with pytest.raises(InputError, match="not found"):
        build_design(meta, fixed=["x"], strata="pair")


def test_design_with_strata_groups_samples_by_stratum():
    meta = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], "pair": ["p", "p", "q", "q", "r", None]},
                        index=[f"s{i}" for i in range(6)])
    design = build_design(meta, fixed=["x"], strata="pair")
    assert design.n == 5  # the sample without a stratum is not a complete case
    assert design.group_names == ("pair",) and design.strata == "pair"
    np.testing.assert_array_equal(design.groups[0], [0, 0, 1, 1, 2])

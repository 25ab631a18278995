"""MaAsLin 3's bookkeeping in a real scan, restated independently.

HMP2's species with the prevalence model, fixed effects only (LM + logistic GLM): the
individual q-values, joint p/q-values, ``warn_prevalence`` flags and the significant rows
follow MaAsLin 3's rules (``R/fit.R``: add_qvals, create_combined_pval,
flag_abundance_turned_prevalence; ``R/utility_scripts.R``: write_results), recomputed here
with statsmodels' Benjamini-Hochberg and scipy's Beta(1, 2) distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from gutaxis.io import read_cohort
from gutaxis.stats import associate

FIXED = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics", "age"]
REFERENCE = {"diagnosis": "nonIBD"}
KEY = ["feature", "metadata", "value"]


@pytest.fixture(scope="module")
def cohort(hmp2_dir):
    return read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")


@pytest.fixture(scope="module")
def scans(cohort):
    kwargs = {"fixed": FIXED, "reference": REFERENCE, "prevalence_model": True,
              "standardize": True, "min_prevalence": 0.0, "max_significance": 0.1}
    return (associate(cohort, **kwargs),
            associate(cohort, median_comparison_abundance=False, **kwargs))


def _bh(p: np.ndarray) -> np.ndarray:
    out = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def test_median_comparison_changes_abundance_pvalues_only(scans):
    median, zero = (s.table.set_index(["model", *KEY]).sort_index() for s in scans)
    assert median.index.equals(zero.index)
    for column in ("coef", "stderr", "df", "n"):
        pd.testing.assert_series_equal(median[column], zero[column])
    ab = median.index.get_level_values("model") == "abundance"
    pd.testing.assert_series_equal(median.loc[~ab, "pval"], zero.loc[~ab, "pval"])
    fitted = ab & zero["pval"].notna().to_numpy()
    moved = np.abs(median.loc[fitted, "pval"] - zero.loc[fitted, "pval"]) > 1e-6
    assert moved.mean() > 0.9
    assert scans[0].spec.median_comparison_abundance
    assert not scans[1].spec.median_comparison_abundance


def test_qvalues_joint_values_and_flags_follow_maaslin3(scans):
    scan, zero = scans
    t = scan.table
    suspect = (t["suspect_rare"] | t["suspect_common"]).to_numpy()
    np.testing.assert_allclose(t["qval"], _bh(np.where(suspect, np.nan, t["pval"])),
                               rtol=1e-12)
    wide = t.pivot_table(index=KEY, columns="model", values=["pval", "pval_joint"],
                         dropna=False, aggfunc="first")
    flags = t[t["model"] == "prevalence"].set_index(KEY)
    pa = wide[("pval", "abundance")]
    pp = wide[("pval", "prevalence")].where(
        ~(flags["induced_by_abundance"] | flags["suspect_rare"] | flags["suspect_common"])
        .reindex(wide.index).astype(bool))
    joint = np.where(pa.isna(), pp, np.where(pp.isna(), pa,
                                            stats.beta(1, 2).cdf(np.fmin(pa, pp))))
    np.testing.assert_allclose(wide[("pval_joint", "abundance")], joint, rtol=1e-12)
    np.testing.assert_allclose(wide[("pval_joint", "prevalence")], joint, rtol=1e-12)
    q_joint = pd.Series(_bh(np.asarray(joint, dtype=float)), index=wide.index)
    ours = t.set_index(KEY)["qval_joint"]
    np.testing.assert_allclose(ours, q_joint.reindex(ours.index), rtol=1e-12)
    # warn_prevalence: abundance against zero on TSS + LOG, q over it and the prevalence
    # p-values, then same sign, larger in absolute value, q < 0.1
    z = zero.table
    z_ab = z[z["model"] == "abundance"].set_index(KEY)
    z_pr = z[z["model"] == "prevalence"].set_index(KEY)
    z_pr_p = z_pr["pval"].where(~(z_pr["suspect_rare"] | z_pr["suspect_common"]))
    q_both = _bh(np.concatenate([z_ab["pval"].to_numpy(), z_pr_p.to_numpy()]))
    q_ab = pd.Series(q_both[: len(z_ab)], index=z_ab.index)
    pr = flags
    a_coef, a_q = z_ab["coef"].reindex(pr.index), q_ab.reindex(pr.index)
    expected = (pr["pval"].notna() & ~pr["suspect_rare"] & ~pr["suspect_common"]
                & a_q.lt(0.1) & (np.sign(a_coef) == np.sign(pr["coef"]))
                & (a_coef.abs() > pr["coef"].abs()))
    assert expected.any()
    pd.testing.assert_series_equal(pr["induced_by_abundance"], expected, check_names=False)
    assert not t.loc[t["model"] == "abundance", ["induced_by_abundance", "suspect_rare",
                                                 "suspect_common"]].any().any()


def test_significant_rows_are_maaslin3s(scans):
    scan = scans[0]
    t = scan.table
    rule = (t["qval_joint"] <= 0.1) | ((t["qval"] <= 0.1) & ~t["induced_by_abundance"])
    got = scan.significant()
    assert len(got) == int(rule.sum()) > 0
    pd.testing.assert_frame_equal(got, t[rule].reset_index(drop=True))


def test_without_the_prevalence_model_joint_equals_individual(cohort):
    scan = associate(cohort, fixed=FIXED, reference=REFERENCE)
    t = scan.table
    np.testing.assert_array_equal(t["pval_joint"], t["pval"])
    np.testing.assert_allclose(t["qval_joint"], t["qval"], rtol=1e-15)
    assert not t[["induced_by_abundance", "suspect_rare", "suspect_common"]].any().any()

"""gutaxis.stats.trial equals R (lm, lme4 + lmerTest, metafor) and statsmodels on the
committed simulated pain trial (tests/reference/trial, see its README for tolerances)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.stats.trial import TrialResults, analyze_trial, read_trial_table

FOLDER = Path(__file__).resolve().parents[2] / "reference" / "trial"


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(FOLDER / "reference.tsv", sep="\t")


@pytest.fixture(scope="module")
def adjusted() -> TrialResults:
    """Wide data (TSV), ANCOVA adjusted for age and sex."""
    return analyze_trial(read_trial_table(FOLDER / "trial_wide.tsv"), arm="arm",
                         baseline="baseline", followup="week12", covariates=["age", "sex"])


@pytest.fixture(scope="module")
def long() -> TrialResults:
    """Long data (CSV), three visits: the mixed model runs."""
    return analyze_trial(read_trial_table(FOLDER / "trial_long.csv"), arm="arm",
                         baseline="baseline", followup="pain", subject="subject", visit="visit")


def rows(reference: pd.DataFrame, analysis: str) -> pd.DataFrame:
    return reference[reference["analysis"] == analysis].set_index("term")


def close(actual: object, expected: object, rtol: float) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=float),
                               np.asarray(expected, dtype=float), rtol=rtol, atol=0)


def test_ancova_coefficients_equal_r_lm(adjusted: TrialResults, reference: pd.DataFrame
                                        ) -> None:
    ref = rows(reference, "ancova")
    frame = adjusted.ancova.to_frame().set_index("term").loc[ref.index]
    for ours, theirs in (("coef", "estimate"), ("stderr", "stderr"), ("pvalue", "pval"),
                         ("ci_lower", "ci_low"), ("ci_upper", "ci_high"), ("df", "df")):
        close(frame[ours], ref[theirs], 1e-8)
    effect = adjusted.effect("ancova")
    close([effect.estimate, effect.pval], ref.loc["armprobiotic", ["estimate", "pval"]], 1e-8)


def test_ancova_and_change_equal_statsmodels(long: TrialResults) -> None:
    sm = pytest.importorskip("statsmodels.formula.api")
    wide = pd.read_csv(FOLDER / "trial_wide.tsv", sep="\t").dropna()
    fit = sm.ols("week12 ~ arm + baseline", data=wide).fit()
    effect = long.effect("ancova")
    name = "arm[T.probiotic]"
    close([effect.estimate, effect.stderr, effect.pval],
          [fit.params[name], fit.bse[name], fit.pvalues[name]], 1e-8)
    close([effect.ci_low, effect.ci_high], fit.conf_int().loc[name], 1e-8)
    change = sm.ols("I(week12 - baseline) ~ arm", data=wide).fit()
    effect = long.effect("change")
    close([effect.estimate, effect.stderr, effect.pval],
          [change.params[name], change.bse[name], change.pvalues[name]], 1e-8)


def test_unadjusted_ancova_and_change_equal_r(long: TrialResults, reference: pd.DataFrame
                                              ) -> None:
    for analysis, ref_name in (("ancova", "ancova_unadjusted"), ("change", "change")):
        ref = rows(reference, ref_name).loc["armprobiotic"]
        e = long.effect(analysis)
        close([e.estimate, e.stderr, e.statistic, e.pval, e.ci_low, e.ci_high, e.df],
              ref[["estimate", "stderr", "statistic", "pval", "ci_low", "ci_high", "df"]],
              1e-8)


def test_mixed_model_equals_lmer_with_satterthwaite_df(long: TrialResults,
                                                       reference: pd.DataFrame) -> None:
    assert long.repeated is not None
    ref = rows(reference, "lmm")
    frame = long.repeated.model.to_frame().set_index("term")
    assert list(frame.index) == list(ref.index)  # terms named as lmer names them
    close(frame["coef"], ref["estimate"], 1e-6)
    close(frame["stderr"], ref["stderr"], 1e-6)
    close(frame["df"], ref["df"], 1e-4)
    close(frame["pvalue"], ref["pval"], 1e-4)
    var = rows(reference, "lmm_variance")
    close([long.repeated.subject_variance, long.repeated.residual_variance],
          var.loc[["subject", "residual"], "estimate"], 1e-5)


def test_treatment_effect_per_visit_equals_lmertest_contest(long: TrialResults,
                                                            reference: pd.DataFrame) -> None:
    assert long.repeated is not None
    ref = rows(reference, "lmm_arm_at_visit")
    ours = {e.contrast.split(":")[0]: e for e in long.repeated.effects}
    assert list(ours) == list(ref.index)
    for visit, e in ours.items():
        r = ref.loc[visit]
        close([e.estimate, e.stderr], r[["estimate", "stderr"]], 1e-6)
        close([e.df, e.pval, e.ci_low, e.ci_high], r[["df", "pval", "ci_low", "ci_high"]], 1e-4)


def test_hedges_g_equals_metafor_escalc_smd(long: TrialResults, reference: pd.DataFrame
                                            ) -> None:
    ref = rows(reference, "hedges_g")
    for e in (x for x in long.effects if x.analysis == "hedges_g"):
        r = ref.loc[e.contrast.split(":")[0]]
        close([e.estimate, e.stderr, e.ci_low, e.ci_high, e.pval],
              r[["estimate", "stderr", "ci_low", "ci_high", "pval"]], 1e-10)


@pytest.mark.parametrize("cut", [30, 50])
def test_responders_equal_r(long: TrialResults, reference: pd.DataFrame, cut: int) -> None:
    ref = rows(reference, f"responder_{cut}")
    a = f"responder_{cut}"
    for arm in ("probiotic", "placebo"):
        e = long.effect(a, f"proportion {arm}")
        r = ref.loc[f"proportion_{arm}"]
        assert e.n == r["n"]
        close([e.estimate, e.ci_low, e.ci_high], r[["estimate", "ci_low", "ci_high"]], 1e-10)
    rd = long.effect(a, "rd")
    close([rd.estimate, rd.ci_low, rd.ci_high], ref.loc["rd", ["estimate", "ci_low", "ci_high"]],
          1e-10)
    for name in ("rr", "or"):
        e = long.effect(a, name)
        close(np.log([e.estimate, e.ci_low, e.ci_high]),
              ref.loc[f"log_{name}", ["estimate", "ci_low", "ci_high"]], 1e-10)
    nnt = long.effect(a, "nnt")
    close(nnt.estimate, 1.0 / rd.estimate, 1e-12)
    close(sorted([nnt.ci_low, nnt.ci_high]), sorted([1 / rd.ci_low, 1 / rd.ci_high]), 1e-12)


def test_responder_chi_square_p_equals_scipy(long: TrialResults) -> None:
    from scipy.stats import chi2_contingency

    props = [long.effect("responder_30", f"proportion {a}") for a in ("probiotic", "placebo")]
    counts = [[round(p.estimate * p.n), p.n - round(p.estimate * p.n)] for p in props]
    _, pval, _, _ = chi2_contingency(counts, correction=False)
    close(long.effect("responder_30", "rd").pval, pval, 1e-10)

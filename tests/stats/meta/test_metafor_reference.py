"""gutaxis.stats.meta equals R metafor 3.8-1 to 1e-6 on the fixtures in
tests/reference/metafor (see its README): escalc, rma for every tau² estimator with and
without Knapp-Hartung, Q-profile CI, PI, I², H², Q, subgroups, meta-regression, regtest,
ranktest, trimfill, leave1out and influence."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.stats.meta import (
    StudyEffects,
    bias_tests,
    effect_sizes,
    fit_meta,
    study_influence,
)
from gutaxis.stats.meta.analysis import meta_analysis

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "metafor"
INPUTS = {"bcg": "input_bcg.tsv", "nielweise": "input_nielweise2007.tsv",
          "normand": "input_normand1999.tsv", "molloy": "input_molloy2014.tsv"}
TOLERANCE = 1e-6  # |ours - metafor| <= 1e-6 max(1, |metafor|)
CASES = ["bcg_RR", "bcg_OR", "bcg_RD", "nielweise_OR", "nielweise_RR", "nielweise_RD",
         "normand_SMD", "normand_MD", "normand_ROM", "molloy_GEN"]
METHODS = ["FE", "DL", "REML", "ML", "PM", "SJ", "HE", "HS", "EB"]


@cache
def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"{name}.tsv", sep="\t", keep_default_na=False,
                       na_values=["NA"])


@cache
def table(data: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / INPUTS[data], sep="\t", dtype=str)


@cache
def effects(case: str) -> StudyEffects:
    data, measure = case.split("_")
    return effect_sizes(table(data), measure=measure)  # type: ignore[arg-type]


def assert_close(ours: object, theirs: object, what: str) -> None:
    a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert a.shape == b.shape, what
    both_nan = np.isnan(a) & np.isnan(b)
    err = np.abs(a - b) / np.maximum(1.0, np.abs(b))
    assert np.all(both_nan | (err <= TOLERANCE)), f"{what}: {a} vs metafor {b}"


def rows(name: str, case: str, method: str, test: str) -> pd.DataFrame:
    frame = reference(name)
    return frame[(frame.case == case) & (frame.method == method) & (frame.test == test)]


@pytest.mark.parametrize("case", CASES)
def test_effect_sizes_equal_escalc(case):
    ref = reference("escalc")
    ref = ref[ref.case == case]
    ours = effects(case)
    assert list(ours.study) == list(ref.study)
    assert_close(ours.yi, ref.yi, "yi")
    assert_close(ours.vi, ref.vi, "vi")


def test_zero_cells_get_a_half_as_in_escalc():
    ours = effects("nielweise_OR")
    ref = table("nielweise")
    zero = (ref.events_t == "0") | (ref.events_c == "0")
    assert list(ours.zero_cells) == list(zero)
    assert "yucel" in ours.study[14].lower() and np.isfinite(ours.yi[14])  # double zero kept


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_model_equals_rma(case, method, test):
    fit = fit_meta(effects(case), method=method, test=test)
    ref = rows("models", case, method, test).iloc[0]
    ci = fit.conf_int()[0]
    ours = {"k": fit.k, "estimate": fit.coef[0], "se": fit.se[0], "zval": fit.statistic[0],
            "pval": fit.pvalue[0], "ci_low": ci[0], "ci_high": ci[1],
            "pi_low": fit.prediction_interval()[0], "pi_high": fit.prediction_interval()[1],
            "tau2": fit.tau2, "i2": fit.i2, "h2": fit.h2, "q": fit.q, "q_pval": fit.q_pval}
    if method != "FE":  # metafor has no tau² interval for FE; gutaxis gives NaN
        ours.update(tau2_ci_low=fit.tau2_ci[0], tau2_ci_high=fit.tau2_ci[1])
    else:
        assert np.isnan(fit.tau2_ci).all()
    for key, value in ours.items():
        assert_close(value, ref[key], key)


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_bias_tests_equal_regtest_ranktest_trimfill(case, method, test):
    bias = bias_tests(fit_meta(effects(case), method=method, test=test))
    egger = rows("regtest", case, method, test).iloc[0]
    assert_close([bias.egger_statistic, bias.egger_pval, bias.egger_limit,
                  *bias.egger_limit_ci],
                 egger[["zval", "pval", "limit", "limit_ci_low", "limit_ci_high"]], "regtest")
    rank = reference("ranktest")
    rank = rank[rank.case == case].iloc[0]
    assert_close([bias.begg_tau, bias.begg_pval], [rank.tau, rank.pval], "ranktest")
    fill = rows("trimfill", case, method, test).iloc[0]
    tf = bias.trimfill
    assert (tf.side, tf.k0) == (fill.side, fill.k0)
    ci = tf.fit.conf_int()[0]
    assert_close([tf.se_k0, tf.fit.coef[0], tf.fit.se[0], ci[0], ci[1], tf.fit.tau2],
                 fill[["se_k0", "estimate", "se", "ci_low", "ci_high", "tau2"]], "trimfill")


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_influence_equals_influence_and_leave1out(case, method, test):
    ours = study_influence(fit_meta(effects(case), method=method, test=test))
    inf = rows("influence", case, method, test)
    for column in ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat",
                   "weight"]:
        assert_close(ours.influence[column], inf[column], column)
    loo = rows("leave1out", case, method, test)
    for column in ["estimate", "se", "ci_low", "ci_high", "q", "q_pval", "tau2", "i2", "h2"]:
        assert_close(ours.leave_one_out[column], loo[column], f"leave1out {column}")


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", METHODS)
def test_subgroups_and_meta_regression_equal_rma(method, test):
    result = meta_analysis(table("bcg"), measure="RR", method=method, test=test,  # type: ignore[arg-type]
                           subgroup="alloc", moderators=["ablat", "year"])
    frame = result.to_frame().set_index("model")
    columns = ["k", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
               "h2", "q", "q_pval"] + ([] if method == "FE" else ["tau2_ci_low",
                                                                  "tau2_ci_high"])
    for _, ref in reference("subgroups").query("method == @method and test == @test").iterrows():
        assert_close(frame.loc[f"alloc={ref.model}", columns], ref[columns], ref.model)
    regression = {"bcg_RR": result.moderators}
    molloy = meta_analysis(table("molloy"), measure="GEN", method=method, test=test,  # type: ignore[arg-type]
                           moderators=["meanage"])
    regression["molloy_GEN"] = molloy.moderators
    for case, fit in regression.items():
        assert fit is not None
        ref = rows("metareg", case, method, test)
        coefs = fit.to_frame()
        for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("statistic", "zval"),
                             ("pval", "pval"), ("ci_low", "ci_low"), ("ci_high", "ci_high")]:
            assert_close(coefs[ours], ref[theirs], f"{case} {ours}")
        first = ref.iloc[0]
        assert_close([fit.tau2, fit.qm, fit.qm_pval, fit.q, fit.q_pval, fit.i2, fit.h2],
                     first[["tau2", "qm", "qm_pval", "qe", "qe_pval", "i2", "h2"]], case)

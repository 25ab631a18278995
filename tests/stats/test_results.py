"""gutaxis.stats.results: one results object for LM, LMM and logistic fits.

References: statsmodels' ``conf_int`` (OLS: t intervals; Logit: Wald z intervals, as R's
``confint.default``), and for the LMM the Satterthwaite t interval computed from lmerTest's
own estimate, standard error and df (tests/reference/lmm, make_fixtures.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from assoc_data import TERMS, Hmp2
from scipy import special
from scipy import stats as sps

from gutaxis.errors import InputError
from gutaxis.stats.models.linear import fit_ols
from gutaxis.stats.models.linear_mixed import fit_lmm
from gutaxis.stats.models.logistic import fit_logistic
from gutaxis.stats.results import FRAME_COLUMNS, FitResults

sm = pytest.importorskip("statsmodels.api")


def _design(n: int, seed: int) -> tuple[np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(seed)
    return np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)]), rng


def test_ols_results_conf_int_matches_statsmodels():
    X, rng = _design(80, 1)
    Y = X @ rng.normal(size=(3, 4)) + rng.normal(size=(80, 4))
    res = fit_ols(Y, X).results(terms=["(Intercept)", "x", "group"],
                                responses=["a", "b", "c", "d"])
    assert res.statistic_name == "t" and res.model == "LM (OLS)"
    for j in range(4):
        ref = sm.OLS(Y[:, j], X).fit()
        for alpha in (0.05, 0.1):
            np.testing.assert_allclose(res.conf_int(alpha)[j], ref.conf_int(alpha), rtol=1e-10)
    assert res.converged.all() and not res.singular.any() and not res.separated.any()


def test_logistic_results_are_wald_z_intervals_like_statsmodels_and_flag_separation():
    X, rng = _design(150, 2)
    Y = (rng.random((150, 3)) < special.expit(X @ rng.normal(scale=0.7, size=(3, 3))))
    Y = np.column_stack([Y, X[:, 1] > 0]).astype(int)  # the last one is separated
    res = fit_logistic(Y, X).results(terms=["(Intercept)", "x", "group"])
    assert res.statistic_name == "z" and np.isinf(res.df).all()
    for j in range(3):
        ref = sm.Logit(Y[:, j], X).fit(method="newton", tol=1e-14, maxiter=100, disp=False)
        np.testing.assert_allclose(res.conf_int()[j], ref.conf_int(0.05), rtol=1e-7)
    np.testing.assert_array_equal(res.separated, [False, False, False, True])
    np.testing.assert_array_equal(res.converged, [True, True, True, False])
    frame = res.to_frame()
    assert frame.loc[frame.response == "3", "separated"].all()
    assert frame.loc[frame.response == "3", "message"].str.contains("separation").all()


@pytest.mark.realdata
def test_lmm_results_give_lmertests_satterthwaite_intervals(hmp2: Hmp2, reference_dir: Path):
    """CI = estimate -/+ qt(0.975, df) * se from lmerTest's numbers (tight single-factor
    fit: coef within 1e-5 se, se and df within 1e-5 relative, see test_lmm.py)."""
    ref = pd.read_csv(reference_dir / "lmm" / "hmp2_subject_coef.tsv", sep="\t")
    shape = (len(hmp2.features), len(TERMS))
    est, se, df = (ref[c].to_numpy().reshape(shape) for c in ("estimate", "stderr", "df"))
    expected = np.stack([est - sps.t.ppf(0.975, df) * se, est + sps.t.ppf(0.975, df) * se], -1)
    res = fit_lmm(hmp2.Y, hmp2.X, [hmp2.subject]).results(terms=TERMS,
                                                            responses=hmp2.features)
    assert np.all(np.abs(res.conf_int() - expected) <= 1e-4 * se[..., None])
    frame = res.to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert len(frame) == shape[0] * shape[1]
    row = frame[(frame.response == hmp2.features[0]) & (frame.term == "age")].iloc[0]
    assert row.coef == res.coef[0, TERMS.index("age")]


def test_status_columns_are_booleans_and_summary_renders_text_and_html():
    X, rng = _design(60, 3)
    res = fit_ols(rng.normal(size=(60, 2)), X).results(terms=["(Intercept)", "x", "group"],
                                                       responses=["alpha", "beta"])
    frame = res.to_frame()
    for column in ("converged", "singular", "separated"):
        assert frame[column].dtype == bool
    text = str(res.summary())
    assert text.splitlines()[0] == "LM (OLS)"
    assert "2 converged, 0 singular, 0 separated" in text
    assert "95% lower" in text and "group" in text and "beta" in text
    html = res.summary(alpha=0.1)._repr_html_()
    assert "<table" in html and "90% upper" in html and "alpha" in html


def test_fit_results_is_public_api():
    import gutaxis.stats

    assert gutaxis.stats.FitResults is FitResults and "FitResults" in gutaxis.stats.__all__


def test_mismatched_arrays_and_bad_alpha_are_refused():
    X, rng = _design(30, 4)
    fit = fit_ols(rng.normal(size=(30, 2)), X)
    with pytest.raises(InputError, match="do not match the names") as info:
        fit.results(terms=["(Intercept)", "x"])
    assert info.value.field == "coef"
    with pytest.raises(InputError, match="alpha"):
        fit.results(terms=["a", "b", "c"]).conf_int(1.5)
    with pytest.raises(InputError, match="one per response"):
        FitResults.from_arrays("LM", terms=["a"], coef=np.zeros((2, 1)),
                               stderr=np.ones((2, 1)), statistic=np.zeros((2, 1)), df=3.0,
                               pvalue=np.ones((2, 1)), statistic_name="t", messages=[""])


def test_separated_terms_default_to_the_response_flag_and_are_checked():
    arrays = {name: np.zeros((2, 3)) for name in ("coef", "stderr", "statistic", "pvalue")}
    res = FitResults.from_arrays("m", terms=["a", "b", "c"], df=np.inf, statistic_name="z",
                                 messages=["", ""], separated=np.array([True, False]),
                                 **arrays)
    assert res.separated_terms is None
    np.testing.assert_array_equal(res.separated_by_term(), [[True] * 3, [False] * 3])
    per_term = FitResults.from_arrays(
        "m", terms=["a", "b", "c"], df=np.inf, statistic_name="z", messages=["", ""],
        separated_terms=np.array([[False, True, False], [False] * 3]), **arrays)
    np.testing.assert_array_equal(per_term.separated, [True, False])  # any term
    assert per_term.to_frame()["separated"].tolist() == [False, True, False, False, False,
                                                         False]
    with pytest.raises(InputError, match="separated_terms"):
        FitResults.from_arrays("m", terms=["a", "b", "c"], df=np.inf, statistic_name="z",
                               messages=["", ""], separated_terms=np.zeros((2, 2), bool),
                               **arrays)

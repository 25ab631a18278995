"""Separation per term (gutaxis.stats.models.separation) and what the fits report with it.

The truths are independent of the module's method (one programme for the separated
samples, then a null space):

- by construction: data whose separated coefficients are known (complete separation: every
  coefficient; a categorical level with only absences: that level alone; a pattern like
  HMP2's F. prausnitzii, present in every non-IBD sample without dysbiosis);
- :func:`coordinate_truth`, written here: for each coefficient ``k``, the largest and the
  smallest ``d_k`` over the cone ``{d : (2 y_i - 1) x_i d >= 0}`` within ``|d| <= 1``
  (``2 p`` programmes); ``k`` is separated iff either is nonzero;
- R: ``tests/reference/glm/separation_hmp2.tsv``, the same per-coefficient programmes solved
  by lp_solve (``make_separation_reference.R``), and R's augmented ``glm``
  (``glm_hmp2_augmented.tsv``, ``make_glm_reference.R``) for the estimates.

Tolerances: estimates against R 1e-6 relative (R's glm at epsilon 1e-14 agrees to ~1e-9);
the augmented estimates of estimable terms within 0.5 standard errors of their limits along
the divergent direction (the unaugmented fit on the non-separated samples), which is what
"stable" means here (HMP2: at most 0.43).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from assoc_data import hmp2_presence
from dense_laplace import dense_laplace, dense_laplace_gradient  # no compiled kernel
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.special import expit

from gutaxis.stats.models.logistic import fit_logistic
from gutaxis.stats.models.logistic_mixed import fit_logistic_mixed
from gutaxis.stats.models.separation import separated_samples, separated_terms

HMP2_TERMS = ["(Intercept)", "diagnosisUC", "diagnosisCD", "dysbiosisnonIBDYes",
              "dysbiosisUCYes", "dysbiosisCDYes", "antibioticsYes", "age"]


def coordinate_truth(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``(p,)``: coefficient ``k`` can be nonzero in a direction of separation (2p LPs)."""
    A = (2.0 * y - 1.0)[:, None] * (X / np.abs(X).max(axis=0))
    p = X.shape[1]
    out = np.zeros(p, dtype=bool)
    for k in range(p):
        for sign in (1.0, -1.0):
            c = np.zeros(p)
            c[k] = -sign
            res = linprog(c, A_ub=-A, b_ub=np.zeros(len(y)), bounds=[(-1, 1)] * p,
                          method="highs")
            assert res.status == 0
            out[k] |= -res.fun > 1e-7
    return out


def _categorical(levels: np.ndarray, names: list[str]) -> np.ndarray:
    return np.column_stack([levels == name for name in names]).astype(float)


@pytest.fixture
def level_only_absent():
    """Three levels a/b/c and a covariate z; level c has only absences, a and b both."""
    rng = np.random.default_rng(11)
    n = 90
    level = np.repeat(np.array(["a", "b", "c"]), n // 3)
    z = rng.normal(size=n)
    X = np.column_stack([np.ones(n), _categorical(level, ["b", "c"]), z])
    y = (rng.random(n) < expit(0.3 + 0.8 * z - 0.5 * (level == "b"))).astype(int)
    y[level == "c"] = 0
    return y, X


@pytest.fixture
def prausnitzii_like():
    """diagnosis nonIBD/UC/CD, dysbiosis (nonIBD only), age: present in every non-IBD
    sample without dysbiosis, both outcomes elsewhere."""
    rng = np.random.default_rng(5)
    n = 300
    diagnosis = rng.choice(np.array(["nonIBD", "UC", "CD"]), n)
    dysbiosis = (diagnosis == "nonIBD") & (rng.random(n) < 0.3)
    age = rng.normal(40, 12, n)
    X = np.column_stack([np.ones(n), _categorical(diagnosis, ["UC", "CD"]), dysbiosis, age])
    eta = 1.0 - 0.8 * (diagnosis != "nonIBD") - 1.2 * dysbiosis - 0.03 * (age - 40)
    y = (rng.random(n) < expit(eta)).astype(int)
    y[(diagnosis == "nonIBD") & ~dysbiosis] = 1
    return y, X


# ---- which terms ------------------------------------------------------------------------


def test_complete_separation_flags_every_coefficient():
    rng = np.random.default_rng(1)
    x, z = rng.normal(size=60), rng.normal(size=60)
    X = np.column_stack([np.ones(60), x, z])
    y = (x > 0.3).astype(int)
    assert separated_samples(y, X).all()
    np.testing.assert_array_equal(separated_terms(y[None], X)[0], [True, True, True])
    np.testing.assert_array_equal(coordinate_truth(y, X), [True, True, True])


def test_quasi_complete_separation_flags_only_the_absent_level(level_only_absent):
    y, X = level_only_absent
    expected = np.array([False, False, True, False])  # (Intercept), b, c, z
    np.testing.assert_array_equal(separated_terms(y[None], X)[0], expected)
    np.testing.assert_array_equal(coordinate_truth(y, X), expected)
    np.testing.assert_array_equal(separated_samples(y, X), X[:, 2] == 1)


def test_a_pattern_like_prausnitzii_flags_the_reference_cell_terms_only(prausnitzii_like):
    y, X = prausnitzii_like
    expected = np.array([True, True, True, True, False])  # age is estimable
    np.testing.assert_array_equal(separated_terms(y[None], X)[0], expected)
    np.testing.assert_array_equal(coordinate_truth(y, X), expected)


def test_estimable_data_have_no_separated_term():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(80), rng.normal(size=(80, 2))])
    y = (rng.random(80) < expit(X @ [0.2, 0.7, -0.4])).astype(int)
    assert not coordinate_truth(y, X).any()
    assert not separated_terms(y[None], X).any()
    assert not separated_samples(y, X).any()


def test_only_candidates_are_examined(level_only_absent):
    y, X = level_only_absent
    both = np.vstack([y, y])
    flags = separated_terms(both, X, candidates=np.array([False, True]))
    assert not flags[0].any() and flags[1, 2]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(8, 30), binary=st.integers(1, 3),
       rate=st.floats(0.05, 0.5))
def test_separated_terms_equal_the_per_coordinate_programmes(seed, n, binary, rate):
    """Small designs with binary columns and rare outcomes: separation is common (of 300
    draws, 69 partly and 48 wholly separated). The fits flag the same terms."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.random((n, binary)) < 0.4, rng.normal(size=n)])
    X = X.astype(float)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        return
    y = (rng.random(n) < rate).astype(int)
    truth = coordinate_truth(y, X)
    np.testing.assert_array_equal(separated_terms(y[None], X)[0], truth)
    if 0 < y.sum() < n:  # the fits' screen lets every separated feature through
        for augment in (False, True):
            fit = fit_logistic(y, X, augment=augment)
            np.testing.assert_array_equal(fit.separated_terms[0], truth)
            assert fit.converged[0] == (augment or not truth.any())


# ---- what the fits report ---------------------------------------------------------------


def _limit_of_estimable_terms(y: np.ndarray, X: np.ndarray, separated: np.ndarray
                              ) -> dict[int, tuple[float, float]]:
    """Coefficient and standard error of each estimable term in the unaugmented fit on the
    non-separated samples (separated columns dropped as far as they are aliased there): the
    limit of the unaugmented estimates along the divergent direction."""
    keep_rows = ~separated_samples(y, X)
    Xo = X[keep_rows]
    columns: list[int] = []
    for c in [*np.flatnonzero(~separated), *np.flatnonzero(separated)]:
        if np.linalg.matrix_rank(Xo[:, [*columns, c]]) == len(columns) + 1:
            columns.append(int(c))
    fit = fit_logistic(y[keep_rows], Xo[:, columns])
    assert fit.converged[0] and not fit.separated[0]  # the limit exists
    return {c: (fit.coef[0, i], fit.stderr[0, i]) for i, c in enumerate(columns)
            if not separated[c]}


def test_augmented_fit_keeps_every_estimate_and_flags_the_separated_terms(prausnitzii_like):
    y, X = prausnitzii_like
    names = ["(Intercept)", "diagnosisUC", "diagnosisCD", "dysbiosis", "age"]
    fit = fit_logistic(y, X, augment=True)
    assert fit.converged[0] and fit.separated[0] and np.isfinite(fit.coef).all()
    np.testing.assert_array_equal(fit.separated_terms[0], coordinate_truth(y, X))
    assert fit.describe(names)[0] == (
        "separation: presence is predicted exactly by (Intercept), diagnosisUC, diagnosisCD,"
        " dysbiosis (augmented estimate, likelihood unbounded)")
    for c, (coef, _se) in _limit_of_estimable_terms(y, X, fit.separated_terms[0]).items():
        assert abs(fit.coef[0, c] - coef) < 0.5 * fit.stderr[0, c]
    plain = fit_logistic(y, X)  # no estimate without augmentation, the same flags
    assert not plain.converged[0] and np.isnan(plain.coef).all()
    np.testing.assert_array_equal(plain.separated_terms, fit.separated_terms)
    assert "(no maximum-likelihood estimate)" in plain.describe(names)[0]


def test_fit_results_flag_rows_per_term(level_only_absent):
    y, X = level_only_absent
    other = (np.random.default_rng(3).random(len(y)) < 0.5).astype(int)
    assert not coordinate_truth(other, X).any()
    res = fit_logistic(np.column_stack([y, other]), X, augment=True).results(
        terms=["(Intercept)", "b", "c", "z"], responses=["sep", "ok"])
    frame = res.to_frame().set_index(["response", "term"])
    assert frame.loc[("sep", "c"), "separated"] and frame.loc[("sep", "c"), "converged"]
    assert not frame.loc[[("sep", "b"), ("sep", "z"), ("sep", "(Intercept)")],
                         "separated"].any()
    assert frame["converged"].all() and np.isfinite(frame["coef"]).all()
    assert list(res.separated) == [True, False]
    assert "1 separated (1 separated term(s))" in str(res.summary())


def test_mixed_model_flags_terms_and_keeps_the_other_features_on_glmers_objective(
        level_only_absent):
    y, X = level_only_absent
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(30), 3)
    other = (rng.random(len(y)) < expit(X @ [0.1, 0.4, -0.3, 0.6]
                                        + rng.normal(size=30)[groups])).astype(int)
    together = fit_logistic_mixed(np.column_stack([y, other]), X, [groups], augment=True)
    alone = fit_logistic_mixed(other, X, [groups], augment=True)
    np.testing.assert_array_equal(together.separated_terms,
                                  [[False, False, True, False], [False] * 4])
    assert together.converged.all() and np.isfinite(together.coef).all()
    np.testing.assert_allclose(together.coef[1], alone.coef[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(together.deviance[1], alone.deviance[0], rtol=1e-12)
    assert np.isnan(together.deviance[0])  # glmer's objective has no minimum there
    for c, (coef, se) in _limit_of_estimable_terms(y, X, together.separated_terms[0]).items():
        assert abs(together.coef[0, c] - coef) < 0.5 * max(se, together.stderr[0, c])
    plain = fit_logistic_mixed(y, X, [groups])
    assert plain.separated[0] and np.isnan(plain.coef).all() and not plain.converged[0]


# ---- HMP2 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hmp2_design(hmp2_dir: Path) -> tuple[object, object, object]:
    data = hmp2_presence(hmp2_dir)
    return data["Y"], data["X"], data["species"]


@pytest.mark.realdata
def test_hmp2_separated_samples_of_prausnitzii_are_the_nonibd_without_dysbiosis(
        hmp2_design, reference_dir):
    Y, X, species = hmp2_design
    y = Y[:, species.index("Faecalibacterium prausnitzii")]
    removed = separated_samples(y, X)
    np.testing.assert_array_equal(removed, (X[:, 1] == 0) & (X[:, 2] == 0) & (X[:, 3] == 0))
    ref = pd.read_csv(reference_dir / "glm" / "separation_glmer_boundary.tsv", sep="\t")
    assert removed.sum() == ref["n_removed"].iloc[0] == 383 and y[removed].all()


@pytest.mark.realdata
def test_hmp2_separated_terms_match_r_lp_solve(hmp2_design, reference_dir):
    Y, X, species = hmp2_design
    ref = pd.read_csv(reference_dir / "glm" / "separation_hmp2.tsv", sep="\t")
    assert list(ref["term"][:8]) == HMP2_TERMS and list(ref["feature"][::8]) == species
    expected = ref["separated"].to_numpy(dtype=bool).reshape(-1, 8)
    fit = fit_logistic(Y, X, augment=True)
    np.testing.assert_array_equal(fit.separated_terms, expected)
    assert expected.any(axis=1).sum() == 4 and expected.sum() == 8


@pytest.fixture(scope="module")
def hmp2_cohort(hmp2_dir: Path):
    from gutaxis.io import read_cohort

    return read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")


FIXED = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics", "age"]


def _prevalence_rows(res) -> pd.DataFrame:
    table = res.table[res.table["model"] == "prevalence"].copy()
    table["term"] = np.where(table["metadata"] == table["value"], table["metadata"],
                             table["metadata"] + table["value"])
    return table.set_index(["feature", "term"]).sort_index()


@pytest.mark.realdata
def test_hmp2_scan_estimates_of_separated_features_match_r_augmented_glm(hmp2_cohort,
                                                                         reference_dir):
    from gutaxis.stats import associate

    res = associate(hmp2_cohort, fixed=FIXED, reference={"diagnosis": "nonIBD"},
                    prevalence_model=True)
    rows = _prevalence_rows(res)
    ref = pd.read_csv(reference_dir / "glm" / "glm_hmp2_augmented.tsv", sep="\t")
    ref = ref[ref["term"] != "(Intercept)"].set_index(["feature", "term"])
    flags = pd.read_csv(reference_dir / "glm" / "separation_hmp2.tsv", sep="\t")
    flags = flags[flags["term"] != "(Intercept)"].set_index(["feature", "term"])["separated"]
    features = flags[flags].index.get_level_values("feature").unique()
    ours = rows.loc[list(features)]
    assert len(ours) == 4 * 7
    np.testing.assert_array_equal(ours["separated"], flags.loc[ours.index])
    assert ours["converged"].all()
    estimable = ours[~ours["separated"]]
    assert len(estimable) == 28 - 7 and estimable["error"].isna().all()
    r = ref.loc[estimable.index]
    np.testing.assert_allclose(estimable["coef"], r["estimate"], rtol=1e-6)
    np.testing.assert_allclose(estimable["stderr"], r["stderr"], rtol=1e-6)
    np.testing.assert_allclose(estimable["pval"], r["p"], rtol=1e-5)


@pytest.mark.realdata
@pytest.mark.slow
def test_hmp2_mixed_scan_keeps_prausnitzii_estimable_terms(hmp2_cohort, reference_dir):
    """MaAsLin 3's model (random site and subject): F. prausnitzii's dysbiosisCD and age
    prevalence terms are reported, finite and not separated; the separated ones flagged.
    Its estimable terms equal glmer's at the limit along the separating direction (R
    fixture ``separation_glmer_boundary.tsv``; tolerances of the glmer comparisons in
    test_glm.py: 2e-3 standard errors, 2e-3 relative)."""
    from gutaxis.stats import associate

    res = associate(hmp2_cohort, fixed=FIXED, random=["site", "subject"],
                    reference={"diagnosis": "nonIBD"}, prevalence_model=True)
    rows = _prevalence_rows(res).loc["Faecalibacterium prausnitzii"]
    ref = pd.read_csv(reference_dir / "glm" / "separation_glmer_boundary.tsv", sep="\t")
    ref = ref.set_index("term").loc[["dysbiosisUCYes", "dysbiosisCDYes", "antibioticsYes",
                                     "age"]]
    ours = rows.loc[ref.index]
    assert np.all(np.abs(ours["coef"] - ref["estimate"]) <= 2e-3 * ref["stderr"])
    np.testing.assert_allclose(ours["stderr"], ref["stderr"], rtol=2e-3)
    flagged = {"diagnosisUC", "diagnosisCD", "dysbiosisnonIBDYes"}
    assert set(rows.index[rows["separated"]]) == flagged
    assert rows["converged"].all() and np.isfinite(rows[["coef", "stderr", "pval"]]).all().all()
    for term in ("dysbiosisCDYes", "age"):
        assert not rows.loc[term, "separated"] and pd.isna(rows.loc[term, "error"])
    assert rows.loc["dysbiosisCDYes", "pval"] < 1e-4  # a clear effect, no longer lost
    for term in flagged:
        assert rows.loc[term, "error"] == (
            "separation: presence is predicted exactly by (Intercept), diagnosisCD, "
            "diagnosisUC, dysbiosisnonIBDYes (augmented estimate, likelihood unbounded)")
    prevalence = res.table[res.table["model"] == "prevalence"]
    assert prevalence["converged"].all()
    assert prevalence["separated"].sum() == 7  # 8 with the intercepts


def test_augmented_laplace_objective_of_separated_features_matches_a_dense_reference(
        level_only_absent):
    """The objective used for separated features (pseudo-rows in the deviance term too):
    value and exact gradient against a dense computation and its central differences."""
    from gutaxis.stats.mixed.structure import random_intercepts
    from gutaxis.stats.models.logistic import augmented_response
    from gutaxis.stats.models.logistic_mixed import _evaluate, _Problem

    y, X = level_only_absent
    groups = [np.repeat(np.arange(30), 3), np.tile(np.arange(5), 18)]
    ri = random_intercepts(groups, len(y))
    Zs = [np.eye(s)[c] for c, s in zip(ri.codes, ri.sizes, strict=True)]
    Yt, w = augmented_response(y[None, :].astype(float), X.shape[1], augment=True)
    prob = _Problem(X, y[None, :].astype(float), Yt, w, ri, np.array([True]))
    theta, beta = np.array([0.8, 0.4]), np.array([0.2, -0.3, -4.0, 0.5])
    state = _evaluate(prob, np.r_[theta, beta][None, :], np.zeros((1, sum(ri.sizes))))
    dense = dense_laplace(Yt[0], X, Zs, theta, beta, weight=w)
    assert state.value[0] == pytest.approx(dense, rel=1e-11)
    numeric = dense_laplace_gradient(Yt[0], X, Zs, np.r_[theta, beta], weight=w)
    np.testing.assert_allclose(state.grad[0], numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.realdata
def test_hmp2_prausnitzii_mixed_fit_is_glmers_at_the_boundary(hmp2_dir, reference_dir):
    """fit_logistic_mixed itself (not through the scan): estimable terms as glmer's limit
    fit, separated terms flagged, no deviance (glmer's objective has no minimum)."""
    data = hmp2_presence(hmp2_dir)
    j = data["species"].index("Faecalibacterium prausnitzii")
    fit = fit_logistic_mixed(data["Y"][:, [j]], data["X"], [data["site"], data["subject"]],
                             augment=True)
    ref = pd.read_csv(reference_dir / "glm" / "separation_glmer_boundary.tsv", sep="\t")
    assert fit.converged[0] and np.isnan(fit.deviance[0]) and np.isfinite(fit.coef).all()
    np.testing.assert_array_equal(fit.separated_terms[0], [True] * 4 + [False] * 4)
    estimable = ref.set_index("term").loc[HMP2_TERMS[4:]]
    assert np.all(np.abs(fit.coef[0, 4:] - estimable["estimate"])
                  <= 2e-3 * estimable["stderr"])
    np.testing.assert_allclose(fit.stderr[0, 4:], estimable["stderr"], rtol=2e-3)

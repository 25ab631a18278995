"""Prevalence models (gutaxis.stats.models.logistic, .logistic_mixed) against R glm, glmer.

Also against statsmodels.

References: ``tests/reference/glm/*.tsv``, made by ``make_glm_reference.R`` on the HMP2
species (presence = relative abundance > 0; fixed effects of the data set's README;
complete cases, 1,576 samples). Tolerances:

- ``fit_logistic`` vs R ``glm`` (epsilon 1e-14) and statsmodels: 1e-8 relative (coef, stderr).
- ``fit_logistic_mixed`` vs ``glmer`` (tolPwrss 1e-12, BOBYQA xtol_rel 1e-12): where glmer
  converged without warnings to the same optimum (Laplace deviances within 1e-3),
  coefficients within 2e-3 standard errors, standard errors and variances within 2e-3
  relative (glmer's finite-difference Hessian and stopping rule limit the agreement to ~1e-4..1e-3).
  Everywhere: our Laplace deviance is never above glmer's (glmer's optimiser stops early
  on several augmented fits; R's own deviance function confirms the lower values).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from assoc_data import hmp2_presence
from dense_laplace import dense_laplace, dense_laplace_gradient  # no compiled kernel
from flag_margins import separated_by_lp  # separation certified by a linear programme
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

from gutaxis.errors import InputError
from gutaxis.stats.mixed.structure import random_intercepts
from gutaxis.stats.models.logistic import fit_logistic
from gutaxis.stats.models.logistic_mixed import _evaluate, _Problem, fit_logistic_mixed

TERMS = ["(Intercept)", "diagnosisUC", "diagnosisCD", "dysbiosisnonIBDYes", "dysbiosisUCYes",
         "dysbiosisCDYes", "antibioticsYes", "age"]


@pytest.fixture(scope="module")
def hmp2(hmp2_dir: Path) -> dict[str, object]:
    """HMP2 complete cases: design X, presence Y, species names, site and subject codes."""
    return hmp2_presence(hmp2_dir)


def _reference(reference_dir: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref = pd.read_csv(reference_dir / "glm" / name, sep="\t")
    per_feature = ref.groupby("feature", sort=False).first()
    assert list(ref["term"][: len(TERMS)]) == TERMS
    return ref, per_feature


def _matrix(ref: pd.DataFrame, column: str) -> np.ndarray:
    return ref[column].to_numpy().reshape(-1, len(TERMS))


# ---- fixed effects ----------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "augment"), [("glm_hmp2.tsv", False),
                                                ("glm_hmp2_augmented.tsv", True)])
def test_fit_logistic_matches_r_glm(hmp2, reference_dir, name, augment):
    ref, per_feature = _reference(reference_dir, name)
    assert list(per_feature.index) == hmp2["species"]
    fit = fit_logistic(hmp2["Y"], hmp2["X"], augment=augment)
    warnings = per_feature["warnings"].astype(object).fillna("")
    r_separated = warnings.str.contains("numerically 0 or 1").to_numpy()
    # separation is a property of the data: both R's warning (unaugmented) and our flag
    # agree with the LP certificate (margins 0 or >= 50 here, so no flag sits near a
    # threshold). The augmented fit keeps every estimate (augmented data are never
    # separated, R converges) and still flags the separation of the data.
    lp_separated = separated_by_lp(hmp2["Y"], hmp2["X"])
    assert lp_separated.sum() == 4
    np.testing.assert_array_equal(fit.separated, lp_separated)
    np.testing.assert_array_equal(r_separated, lp_separated & (not augment))
    ok = ~lp_separated | augment
    assert fit.converged[ok].all()
    coef, stderr = _matrix(ref, "estimate"), _matrix(ref, "stderr")
    np.testing.assert_allclose(fit.coef[ok], coef[ok], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit.stderr[ok], stderr[ok], rtol=1e-8)
    np.testing.assert_allclose(fit.zvalue[ok], _matrix(ref, "z")[ok], rtol=1e-7)
    np.testing.assert_allclose(fit.pval[ok], _matrix(ref, "p")[ok], rtol=1e-6, atol=1e-300)
    np.testing.assert_allclose(fit.deviance[ok], per_feature["deviance"].to_numpy()[ok],
                               rtol=1e-10)
    assert np.isnan(fit.coef[~ok]).all()
    described = fit.describe(TERMS)
    assert all(described[i].startswith("separation: presence is predicted exactly by ")
               for i in np.flatnonzero(lp_separated))


@pytest.mark.realdata
def test_fit_logistic_matches_statsmodels(hmp2):
    sm = pytest.importorskip("statsmodels.api")
    Y, X = hmp2["Y"][:, ::7], hmp2["X"]
    fit = fit_logistic(Y, X)
    for j in np.flatnonzero(~fit.separated):
        res = sm.Logit(Y[:, j], X).fit(method="newton", tol=1e-14, maxiter=100, disp=False)
        np.testing.assert_allclose(fit.coef[j], res.params, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(fit.stderr[j], res.bse, rtol=1e-8)


def test_all_present_and_all_absent_features_are_degenerate():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    Y = np.column_stack([np.ones(60), np.zeros(60), rng.random(60) < 0.5]).astype(int)
    fit = fit_logistic(Y, X)
    assert np.isnan(fit.coef[:2]).all() and not fit.converged[:2].any()
    assert "present in all 60" in fit.messages[0] and "absent from all 60" in fit.messages[1]
    assert fit.converged[2] and fit.messages[2] == ""
    augmented = fit_logistic(Y, X, augment=True)  # MaAsLin 3's augmentation keeps them finite
    assert np.isfinite(augmented.coef).all() and augmented.converged.all()


def test_perfect_separation_is_flagged_and_nan():
    x = np.linspace(-2, 2, 40)
    X = np.column_stack([np.ones(40), x])
    complete = (x > 0).astype(int)
    overlapping = complete.copy()
    overlapping[[18, 21]] = overlapping[[21, 18]]  # outcomes overlap near 0: estimable
    fit = fit_logistic(np.column_stack([complete, overlapping]), X)
    assert fit.separated[0] and not fit.converged[0] and np.isnan(fit.coef[0]).all()
    assert fit.describe(["(Intercept)", "x"])[0].startswith(
        "separation: presence is predicted exactly by (Intercept), x (no maximum-likelihood")
    assert not fit.separated[1] and fit.converged[1] and fit.messages[1] == ""
    assert np.isfinite(fit_logistic(complete, X, augment=True).coef).all()


def test_quasi_complete_separation_is_flagged():
    # x = 0: only absences (separated); x = 1: both outcomes (not)
    X = np.column_stack([np.ones(40), np.r_[np.zeros(10), np.ones(30)]])
    y = np.r_[np.zeros(10), np.tile([0, 1], 15)].astype(int)
    fit = fit_logistic(y, X)
    assert fit.separated[0] and np.isnan(fit.coef[0]).all()


def test_batched_fit_equals_one_feature_at_a_time():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(150), rng.normal(size=(150, 2))])
    Y = (rng.random((150, 6)) < special.expit(X @ rng.normal(size=(3, 6)))).astype(int)
    together = fit_logistic(Y, X)
    for j in range(6):
        alone = fit_logistic(Y[:, j], X)
        np.testing.assert_allclose(together.coef[j], alone.coef[0], rtol=1e-12)
        np.testing.assert_allclose(together.stderr[j], alone.stderr[0], rtol=1e-12)


@pytest.mark.parametrize(("Y", "X", "fragment"), [
    (np.array([[0], [2], [1], [0]]), np.column_stack([np.ones(4), np.arange(4)]),
     "presence/absence"),
    (np.array([[0], [1], [1], [0]]), np.column_stack([np.ones(4), np.ones(4)]), "rank"),
    (np.array([[0], [1], [1]]), np.column_stack([np.ones(4), np.arange(4)]), "numbers of"),
    (np.array([[0], [1], [1], [0]]), np.column_stack([np.ones(4), [0, np.nan, 1, 2]]),
     "missing"),
])
def test_bad_input_raises_input_error(Y, X, fragment):
    with pytest.raises(InputError, match=fragment):
        fit_logistic(Y, X)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(30, 120))
def test_flipping_presence_negates_coefficients(seed, n):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    Y = (rng.random((n, 2)) < special.expit(X @ rng.normal(scale=0.7, size=(3, 2)))).astype(int)
    assume(np.all((Y.min(axis=0) == 0) & (Y.max(axis=0) == 1)))  # both outcomes present
    fit, flipped = fit_logistic(Y, X), fit_logistic(1 - Y, X)
    lp_separated = separated_by_lp(Y, X)  # the same data property for Y and 1 - Y
    np.testing.assert_array_equal(fit.separated, lp_separated)
    np.testing.assert_array_equal(flipped.separated, lp_separated)
    ok = fit.converged & flipped.converged
    np.testing.assert_allclose(flipped.coef[ok], -fit.coef[ok], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(flipped.stderr[ok], fit.stderr[ok], rtol=1e-9)


# ---- random intercepts ------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_laplace_kernel_matches_dense_reference_and_its_gradient(k):
    rng = np.random.default_rng(k)
    n = 120
    codes = [rng.integers(0, size, n) for size in (15, 4, 3)[:k]]  # crossed factors
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = (rng.random(n) < 0.4).astype(float)
    ri = random_intercepts(codes, n)
    Zs = [np.eye(s)[c] for c, s in zip(ri.codes, ri.sizes, strict=True)]
    theta, beta = rng.uniform(0.3, 1.5, k), np.array([-0.3, 0.5])
    prob = _Problem(X, y[None, :], y[None, :], 1.0, ri)
    state = _evaluate(prob, np.r_[theta, beta][None, :], np.zeros((1, sum(ri.sizes))))
    assert state.value[0] == pytest.approx(dense_laplace(y, X, Zs, theta, beta), rel=1e-11)
    numeric = dense_laplace_gradient(y, X, Zs, np.r_[theta, beta])
    np.testing.assert_allclose(state.grad[0], numeric, rtol=1e-6, atol=1e-6)


GLMER_CASES = [("glmer_subject.tsv", ("subject",), False),
               ("glmer_site_subject.tsv", ("site", "subject"), False),
               ("glmer_site_subject_augmented.tsv", ("site", "subject"), True)]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize(("name", "factors", "augment"), GLMER_CASES)
def test_fit_logistic_mixed_matches_glmer(hmp2, reference_dir, name, factors, augment):
    ref, per_feature = _reference(reference_dir, name)
    cols = [hmp2["species"].index(f) for f in per_feature.index]
    fit = fit_logistic_mixed(hmp2["Y"][:, cols], hmp2["X"], [hmp2[f] for f in factors],
                             augment=augment)
    np.testing.assert_array_equal(fit.separated, separated_by_lp(hmp2["Y"][:, cols], hmp2["X"]))
    fitted = ~fit.separated
    assert fit.converged[fitted].all()
    r_dev = per_feature["laplace_deviance"].to_numpy()
    assert np.all(fit.deviance[fitted] <= r_dev[fitted] + 1e-6)  # never worse than glmer
    clean = per_feature["warnings"].isna().to_numpy() \
        & (per_feature["vcov_source"].to_numpy() == "hessian")  # glmer converged, no fallback
    same = fitted & clean & (np.abs(fit.deviance - r_dev) < 1e-3)
    assert same.sum() >= 3
    coef, stderr = _matrix(ref, "estimate")[same], _matrix(ref, "stderr")[same]
    assert np.all(np.abs(fit.coef[same] - coef) <= 2e-3 * stderr)
    np.testing.assert_allclose(fit.stderr[same], stderr, rtol=2e-3)
    r_var = pd.DataFrame([dict(item.split("=") for item in v.replace(" ", "").split(";"))
                          for v in per_feature["variances"]]).astype(float)[list(factors)]
    np.testing.assert_allclose(fit.variances[same], r_var.to_numpy()[same], rtol=2e-3,
                               atol=1e-8)


def test_mixed_edge_cases_single_observation_group_and_degenerate_features():
    rng = np.random.default_rng(7)
    groups = np.r_[np.repeat(np.arange(30), 8), 30]  # group 30 has one observation
    n = groups.size
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    eta = X @ [0.3, 0.8] + rng.normal(scale=0.8, size=31)[groups]
    Y = np.column_stack([rng.random(n) < special.expit(eta), np.ones(n), np.zeros(n)])
    fit = fit_logistic_mixed(Y.astype(int), X, [groups])
    assert fit.converged[0] and fit.messages[0] == ""
    assert np.isfinite(fit.coef[0]).all() and fit.variances[0, 0] > 0
    assert np.isnan(fit.coef[1:]).all() and "present in all" in fit.messages[1]
    assert "absent from all" in fit.messages[2]
    augmented = fit_logistic_mixed(Y.astype(int), X, [groups], augment=True)
    assert augmented.converged[0] and np.isnan(augmented.coef[1:]).all()


def test_mixed_separated_feature_is_flagged():
    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(20), 5)
    x = rng.normal(size=100)
    X = np.column_stack([np.ones(100), x])
    y = (x > 0).astype(int)
    assert separated_by_lp(y, X)[0]
    fit = fit_logistic_mixed(y, X, [groups], augment=True)
    assert fit.separated[0] and fit.separated_terms[0].all()
    assert fit.converged[0] and np.isfinite(fit.coef[0]).all()  # augmented: estimates kept
    plain = fit_logistic_mixed(y, X, [groups])
    assert plain.separated[0] and not plain.converged[0] and np.isnan(plain.coef[0]).all()


def test_mixed_zero_variance_is_reported_as_exact_zero():
    rng = np.random.default_rng(9)
    groups = np.repeat(np.arange(25), 8)
    X = np.column_stack([np.ones(200), rng.normal(size=200)])
    Y = (rng.random((200, 3)) < special.expit(X @ [[-0.2] * 3, [1.0] * 3])).astype(int)
    fit = fit_logistic_mixed(Y, X, [groups])  # no group effect was simulated
    plain = fit_logistic(Y, X)
    zero = fit.variances[:, 0] == 0
    assert zero.any()
    np.testing.assert_allclose(fit.coef[zero], plain.coef[zero], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.stderr[zero], plain.stderr[zero], rtol=1e-4)


@pytest.mark.parametrize(("groups", "kwargs", "fragment"), [
    ([np.arange(5)], {}, "wrong length"),
    ([np.zeros(40, dtype=int)], {}, "single level"),
    ([np.linspace(0, 1, 40)], {}, "integer codes"),
    ([np.repeat([-1, 0, 1, 2], 10)], {}, "negative group code"),
    ([np.repeat(np.arange(8), 5)], {"nAGQ": 5}, "Laplace"),
])
def test_mixed_bad_input_raises_input_error(groups, kwargs, fragment):
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(40), rng.normal(size=40)])
    with pytest.raises(InputError, match=fragment):
        fit_logistic_mixed(rng.integers(0, 2, (40, 1)), X, groups, **kwargs)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_mixed_flipping_presence_negates_coefficients(seed):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(15), 6)
    X = np.column_stack([np.ones(90), rng.normal(size=90)])
    eta = X @ [0.2, 0.9] + rng.normal(size=15)[groups]
    Y = (rng.random(90) < special.expit(eta)).astype(int)
    assume(not separated_by_lp(Y, X)[0])  # a separated draw has no estimate to negate
    fit, flipped = fit_logistic_mixed(Y, X, [groups]), fit_logistic_mixed(1 - Y, X, [groups])
    assert not fit.separated[0] and not flipped.separated[0]
    np.testing.assert_allclose(flipped.coef, -fit.coef, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flipped.stderr, fit.stderr, rtol=1e-4)
    np.testing.assert_allclose(flipped.variances, fit.variances, rtol=1e-5, atol=1e-8)

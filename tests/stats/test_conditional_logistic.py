"""Conditional logistic regression against survival::clogit (tests/reference/clogit/).

The fixture script ``make_clogit_reference.R`` fits the same data with R 4.2.2 and
survival 3.5-3 (``eps = 1e-11``); tolerance 1e-6 on coefficients and standard errors,
1e-6 on the log likelihood.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.stats.models.conditional_logistic import fit_conditional_logistic

REF = Path(__file__).resolve().parents[1] / "reference" / "clogit"
TOL = 1e-6
OUTCOMES = [f"y{k}" for k in range(1, 7)]


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return pd.read_csv(REF / "synthetic_data.tsv", sep="\t")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "clogit_fits.tsv", sep="\t")


def _r_rows(ref: pd.DataFrame, dataset: str, method: str, augmented: bool) -> pd.DataFrame:
    rows = ref[(ref.dataset == dataset) & (ref.method == method) & (ref.augmented == augmented)]
    assert len(rows), "fixture rows missing"
    return rows


@pytest.mark.parametrize("dataset, column", [("pairs", "pair"), ("stratum", "stratum")])
@pytest.mark.parametrize("method, augmented",
                         [("exact", False), ("breslow", False), ("breslow", True)])
def test_matches_clogit_on_pairs_and_larger_strata(synthetic, reference, dataset, column,
                                                   method, augmented):
    fit = fit_conditional_logistic(synthetic[OUTCOMES].to_numpy(),
                                   synthetic[["x1", "x2"]].to_numpy(float),
                                   synthetic[column].to_numpy(), method=method,
                                   augment=augmented)
    r = _r_rows(reference, dataset, method, augmented)
    assert fit.converged.all()
    np.testing.assert_allclose(fit.coef, r.coef.to_numpy().reshape(6, 2), rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.stderr, r.stderr.to_numpy().reshape(6, 2), rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.pval, r.p.to_numpy().reshape(6, 2), rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.loglik, r.loglik.to_numpy()[::2], rtol=0, atol=TOL)


def test_exact_and_breslow_agree_when_each_stratum_has_one_case():
    rng = np.random.default_rng(3)
    n_sets, size = 40, 4  # 1:3 matching: one case per set
    x = rng.normal(size=(n_sets * size, 2))
    y = np.zeros((n_sets * size, 1))
    y[rng.integers(0, size, n_sets) + np.arange(n_sets) * size, 0] = 1
    strata = np.repeat(np.arange(n_sets), size)
    exact = fit_conditional_logistic(y, x, strata, method="exact")
    breslow = fit_conditional_logistic(y, x, strata, method="breslow")
    np.testing.assert_allclose(exact.coef, breslow.coef, atol=1e-9)
    np.testing.assert_allclose(exact.loglik, breslow.loglik, atol=1e-9)


def test_matches_maaslin3_augmented_clogit_on_hmp2_subjects(hmp2_dir, reference):
    """MaAsLin 3's prevalence model with strata(subject): age is constant within a subject,
    so it is aliased (R: NA), and antibiotics is estimated."""
    meta = pd.read_csv(hmp2_dir / "HMP2_metadata.tsv", sep="\t").dropna()
    tax = pd.read_csv(hmp2_dir / "HMP2_taxonomy.tsv.gz", sep="\t", index_col="ID").loc[meta.ID]
    r = reference[reference.dataset == "hmp2"]
    species = list(dict.fromkeys(r.outcome))
    Y = (tax[species] > 0).to_numpy()
    X = np.column_stack([(meta.antibiotics == "Yes").to_numpy(float), meta.age.to_numpy(float)])
    for augmented in (False, True):
        fit = fit_conditional_logistic(Y, X, meta.subject.to_numpy(), augment=augmented)
        rows = r[r.augmented == augmented]
        want = rows.coef.to_numpy().reshape(-1, 2)
        assert fit.aliased.tolist() == [False, True]
        assert np.isnan(want[:, 1]).all() and np.isnan(fit.coef[:, 1]).all()
        np.testing.assert_allclose(fit.coef[:, 0], want[:, 0], rtol=0, atol=TOL)
        np.testing.assert_allclose(fit.stderr[:, 0], rows.stderr.to_numpy()[::2], rtol=0,
                                   atol=TOL)
        np.testing.assert_allclose(fit.loglik, rows.loglik.to_numpy()[::2], rtol=1e-9)


def test_separation_is_flagged_without_augmentation_and_finite_with_it():
    strata = np.repeat(np.arange(10), 2)
    x = np.tile([0.0, 1.0], 10)[:, None] + np.random.default_rng(0).normal(0, 0.01, (20, 1))
    y = (x[:, 0] > 0.5).astype(int)[:, None]  # within every pair the larger x is the case
    plain = fit_conditional_logistic(y, x, strata)
    assert plain.separated.all() and np.isnan(plain.coef).all()
    assert "separation" in plain.messages[0]
    augmented = fit_conditional_logistic(y, x, strata, augment=True)
    assert augmented.converged.all() and np.isfinite(augmented.coef).all()
    assert augmented.coef[0, 0] > 0


def test_results_object_names_terms_and_z_tests(synthetic):
    fit = fit_conditional_logistic(synthetic[OUTCOMES].to_numpy(),
                                   synthetic[["x1", "x2"]].to_numpy(float),
                                   synthetic["pair"].to_numpy())
    res = fit.results(terms=["x1", "x2"], responses=OUTCOMES)
    assert res.terms == ("x1", "x2") and res.statistic_name == "z"
    assert res.model == "conditional logistic (breslow)"
    np.testing.assert_array_equal(res.coef, fit.coef)


def test_exact_with_augmentation_is_refused():
    with pytest.raises(InputError, match="exact"):
        fit_conditional_logistic(np.array([1, 0, 1, 0]), np.arange(4.0), np.array([0, 0, 1, 1]),
                                 method="exact", augment=True)


@pytest.mark.parametrize("y, x, strata, match", [
    (np.array([1, 0, 2, 0]), np.arange(4.0), np.array([0, 0, 1, 1]), "presence/absence"),
    (np.array([1, 0, 1, 0]), np.array([0.0, np.nan, 1, 2]), np.array([0, 0, 1, 1]), "missing"),
    (np.array([1, 0, 1, 0]), np.arange(4.0), np.array([0, 0, 1]), "one label per sample"),
    (np.array([1, 0, 1, 0]), np.arange(4.0), np.array(["a", None, "b", "b"], dtype=object),
     "missing stratum"),
    (np.array([1, 0, 1, 0]), np.empty((4, 0)), np.array([0, 0, 1, 1]), "terms"),
])
def test_bad_input_names_what_is_wrong(y, x, strata, match):
    with pytest.raises(InputError, match=match):
        fit_conditional_logistic(y, x, strata)


def test_unknown_method_is_refused():
    with pytest.raises(InputError, match="method"):
        fit_conditional_logistic(np.array([1, 0, 1, 0]), np.arange(4.0), np.array([0, 0, 1, 1]),
                                 method="efron")


def test_results_can_line_up_with_an_intercept_and_name_aliased_terms():
    rng = np.random.default_rng(5)
    strata = np.repeat(np.arange(30), 3)
    x = np.column_stack([rng.normal(size=90), np.repeat(rng.normal(size=30), 3)])
    y = (rng.random((90, 2)) < 0.5).astype(int)
    fit = fit_conditional_logistic(y, x, strata, augment=True)
    res = fit.results(terms=["(Intercept)", "x", "subject_level"])
    assert res.terms == ("(Intercept)", "x", "subject_level")
    assert np.isnan(res.coef[:, [0, 2]]).all() and np.isfinite(res.coef[:, 1]).all()
    assert res.messages[0] == "subject_level constant within strata: not estimable by the " \
        "conditional model"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), method=st.sampled_from(["breslow", "exact"]),
       augment=st.booleans())
def test_estimates_ignore_stratum_level_shifts_and_sample_order(seed, method, augment):
    """The strata absorb anything constant within a stratum, and the likelihood is a sum
    over samples: shifting a covariate by a per-stratum constant, or shuffling the samples,
    leaves the fit unchanged."""
    if method == "exact" and augment:
        augment = False
    rng = np.random.default_rng(seed)
    n_strata = int(rng.integers(8, 20))
    strata = np.repeat(np.arange(n_strata), rng.integers(2, 6, n_strata))
    n = len(strata)
    x = rng.normal(size=(n, 2))
    y = (rng.random((n, 3)) < 1 / (1 + np.exp(-x @ [[0.5, -1, 0], [1, 0, -0.5]]))).astype(int)
    base = fit_conditional_logistic(y, x, strata, method=method, augment=augment)
    shifted = x + rng.normal(size=(n_strata, 2))[strata]
    order = rng.permutation(n)
    for other in (fit_conditional_logistic(y, shifted, strata, method=method, augment=augment),
                  fit_conditional_logistic(y[order], x[order], strata[order], method=method,
                                           augment=augment)):
        ok = base.converged & other.converged
        np.testing.assert_allclose(other.coef[ok], base.coef[ok], atol=1e-7)
        np.testing.assert_allclose(other.stderr[ok], base.stderr[ok], atol=1e-7)
        np.testing.assert_array_equal(other.converged | other.separated,
                                      base.converged | base.separated)

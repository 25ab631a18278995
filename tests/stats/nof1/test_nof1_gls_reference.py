"""The batched AR(1) GLS agrees with nlme::gls (REML) and with OLS; batches equal single fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from gutaxis.stats.nof1.gls import fit_gls_ar1

TOL = 1e-5  # absolute; seen at most 4e-8 (tests/reference/nof1/README.md)


def _series(reference_dir: Path) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    folder = reference_dir / "nof1"
    data = pd.read_csv(folder / "series.csv")
    ref = pd.read_csv(folder / "gls_ar1.tsv", sep="\t")
    ref["series"] = ref["series"].str.strip()
    return [(name, rows, ref[ref["series"] == name]) for name, rows in
            data.groupby("series", sort=False)]


def _design(rows: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(rows)), rows["time"], rows["level"], rows["slope"]])


def test_gls_ar1_matches_nlme_reml(reference_dir: Path) -> None:
    for name, rows, ref in _series(reference_dir):
        fit = fit_gls_ar1(rows["y"].to_numpy(), _design(rows), time=rows["time"].to_numpy())
        assert fit.phi[0] == pytest.approx(ref["phi"].iloc[0], abs=TOL), name
        assert fit.sigma[0] == pytest.approx(ref["sigma"].iloc[0], abs=TOL), name
        np.testing.assert_allclose(fit.coef[0], ref["coef"], atol=TOL, err_msg=name)
        np.testing.assert_allclose(fit.stderr[0], ref["se"], atol=TOL, err_msg=name)
        np.testing.assert_allclose(fit.pvalues()[0], ref["p"], atol=TOL, err_msg=name)
        assert fit.df == len(rows) - 4


def test_negative_autocorrelation_and_gaps_are_estimated(reference_dir: Path) -> None:
    phis = {name: fit_gls_ar1(rows["y"].to_numpy(), _design(rows),
                              time=rows["time"].to_numpy()).phi[0]
            for name, rows, _ in _series(reference_dir)}
    assert phis["ab60_neg"] < -0.3 and phis["abab_gaps"] > 0.5


def test_a_batch_gives_the_fits_of_its_series_one_by_one(reference_dir: Path) -> None:
    _, rows, _ = _series(reference_dir)[0]
    X = _design(rows)
    rng = np.random.default_rng(4)
    Y = rows["y"].to_numpy() + rng.normal(0, 0.5, size=(5, len(rows)))
    batch = fit_gls_ar1(Y, X)
    for i in range(5):
        one = fit_gls_ar1(Y[i], X)
        np.testing.assert_allclose(batch.coef[i], one.coef[0], atol=1e-9)
        assert batch.phi[i] == pytest.approx(one.phi[0], abs=1e-9)


def test_ols_method_is_ordinary_least_squares(reference_dir: Path) -> None:
    _, rows, _ = _series(reference_dir)[0]
    X = _design(rows)
    ours = fit_gls_ar1(rows["y"].to_numpy(), X, method="ols")
    theirs = sm.OLS(rows["y"].to_numpy(), X).fit()
    np.testing.assert_allclose(ours.coef[0], theirs.params, atol=1e-9)
    np.testing.assert_allclose(ours.stderr[0], theirs.bse, atol=1e-9)
    np.testing.assert_allclose(ours.pvalues()[0], theirs.pvalues, atol=1e-9)
    assert ours.phi[0] == 0.0

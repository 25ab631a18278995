"""Against R: lavaan (linear single, parallel, serial), mediation (logistic mediator and
outcome: counterfactual effects, quasi-Bayesian intervals) and medsens.

Fixture: ``tests/reference/mediation`` (``make_reference.R``; tolerances in its README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from gutaxis.stats.mediation import mediate, mediation_sensitivity
from gutaxis.stats.mediation.data import mediation_data
from gutaxis.stats.mediation.effects import mediator_design
from gutaxis.stats.mediation.mediate import point_coefficients

HERE = Path(__file__).resolve().parents[2] / "reference" / "mediation"
COVARIATES = ["c1", "site"]
LAVAAN = {
    "linear_single": (["m1"], False, {"acme": "acme", "ade": "ade", "total": "total"}),
    "linear_parallel": (["m1", "m2"], False, {
        "acme_m1": "acme[m1]", "acme_m2": "acme[m2]", "acme": "acme", "ade": "ade",
        "total": "total"}),
    "linear_serial": (["m1", "m2"], True, {
        "acme_m1": "acme[m1]", "acme_m1_m2": "acme[m1>m2]", "acme_m2": "acme[m2]",
        "acme": "acme", "ade": "ade", "total": "total"}),
}
MEDIATION = {"lin_lin": ("m1", "y"), "lin_logit": ("m1", "yb"), "logit_lin": ("mb", "ymb"),
             "logit_logit": ("mb", "ybb")}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "data.tsv", sep="\t", index_col="sample_id")


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(HERE / "expected.tsv", sep="\t")


def _rows(expected: pd.DataFrame, case: str, source: str) -> pd.DataFrame:
    rows = expected[(expected["case"] == case) & expected["source"].str.startswith(source)]
    assert not rows.empty
    return rows.set_index("effect")


@pytest.mark.parametrize("case", list(LAVAAN))
def test_linear_effects_match_lavaan(data: pd.DataFrame, expected: pd.DataFrame,
                                     case: str) -> None:
    mediators, serial, names = LAVAAN[case]
    res = mediate(data, exposure="t", mediators=mediators, outcome="y",
                  covariates=COVARIATES, serial=serial, n_draws=2000, seed=1)
    mine = res.effects.set_index("effect")
    ref = _rows(expected, case, "lavaan")
    for r_name, our_name in names.items():
        row = ref.loc[r_name]
        assert mine.loc[our_name, "estimate"] == pytest.approx(row["estimate"], abs=1e-6)
        # bootstrap limits: 500 (lavaan) and 2,000 (here) replicates, 15% of the width
        width = row["ci_high"] - row["ci_low"]
        for side in ("ci_low", "ci_high"):
            assert abs(mine.loc[our_name, side] - row[side]) < 0.15 * width, (r_name, side)


@pytest.mark.parametrize("case", list(MEDIATION))
def test_point_estimates_match_the_exact_r_evaluation(data: pd.DataFrame,
                                                      expected: pd.DataFrame,
                                                      case: str) -> None:
    mediator, outcome = MEDIATION[case]
    res = mediate(data, exposure="t", mediators=[mediator], outcome=outcome,
                  covariates=COVARIATES, n_draws=10, seed=1)
    ref = _rows(expected, case, "exact")
    for effect, row in ref.iterrows():
        assert res.estimate(str(effect)) == pytest.approx(row["estimate"], abs=1e-6), effect


@pytest.mark.parametrize("case", list(MEDIATION))
def test_point_estimates_are_within_r_mediations_simulation_error(
        data: pd.DataFrame, expected: pd.DataFrame, case: str) -> None:
    """R ``mediation`` integrates over the mediator by simulation; the mean of its
    full-data estimates over 200 seeds +- 4 standard errors must hold ours."""
    mediator, outcome = MEDIATION[case]
    res = mediate(data, exposure="t", mediators=[mediator], outcome=outcome,
                  covariates=COVARIATES, n_draws=10, seed=1)
    ref = _rows(expected, case, "mediation boot point")
    for effect, row in ref.iterrows():
        estimate = res.estimate(str(effect))
        assert row["ci_low"] - 1e-9 <= estimate <= row["ci_high"] + 1e-9, effect


def _simulation_variance(data: pd.DataFrame) -> float:
    """Variance R ``mediation`` adds to each ACME draw of a binary mediator and a linear
    outcome by drawing the mediators (``rbinom``) instead of averaging over them:
    :math:`b^2 n^{-2} \\sum_i [p_{1i}(1-p_{1i}) + p_{0i}(1-p_{0i})]`."""
    coded = mediation_data(data, exposure="t", mediators=["mb"], outcome="ymb",
                           covariates=COVARIATES)
    point = point_coefficients(coded, serial=False)
    X = mediator_design(coded, 0, serial=False)
    theta = point.mediators[0][0]
    p1 = expit(X @ theta + (1 - X[:, 1]) * theta[1])
    p0 = expit(X @ theta - X[:, 1] * theta[1])
    b = point.outcome[0, 2]
    return float(b**2 * np.sum(p1 * (1 - p1) + p0 * (1 - p0)) / coded.n**2)


@pytest.mark.parametrize("case", list(MEDIATION))
def test_quasi_bayes_intervals_match_r_mediation(data: pd.DataFrame, expected: pd.DataFrame,
                                                 case: str) -> None:
    """Within 8% of R's interval width (2,000 draws in R, 10,000 here: > 4 Monte-Carlo
    SEs). For a binary mediator with a linear outcome R's ACME draws also carry the noise
    of simulating the mediators, which widens its interval (~17% here); ours is widened
    by that known variance before the comparison."""
    mediator, outcome = MEDIATION[case]
    res = mediate(data, exposure="t", mediators=[mediator], outcome=outcome,
                  covariates=COVARIATES, method="quasi-bayes", n_draws=10000, seed=1)
    mine = res.effects.set_index("effect")
    ref = _rows(expected, case, "mediation QB")
    extra = _simulation_variance(data) if case == "logit_lin" else 0.0
    for effect in ("acme_control", "acme_treated", "acme", "ade", "total"):
        row = ref.loc[effect]
        width = row["ci_high"] - row["ci_low"]
        low, high = mine.loc[effect, "ci_low"], mine.loc[effect, "ci_high"]
        if effect.startswith("acme") and extra:
            mid, half = (low + high) / 2, (high - low) / 2
            half *= np.sqrt(1 + extra / (half / 1.96) ** 2)
            low, high = mid - half, mid + half
        assert abs(low - row["ci_low"]) < 0.08 * width, (effect, "ci_low")
        assert abs(high - row["ci_high"]) < 0.08 * width, (effect, "ci_high")


def test_sensitivity_matches_medsens(data: pd.DataFrame, expected: pd.DataFrame) -> None:
    sens = mediation_sensitivity(data, exposure="t", mediator="m1", outcome="y",
                                 covariates=COVARIATES, rho_step=0.01)
    ref = pd.read_csv(HERE / "medsens.tsv", sep="\t")
    np.testing.assert_allclose(sens.grid["rho"], ref["rho"], atol=1e-12)
    for col in ("acme", "ci_low", "ci_high"):
        np.testing.assert_allclose(sens.grid[col], ref[col], rtol=1e-9, atol=1e-12)
    r_rho = _rows(expected, "lin_lin", "medsens").loc["rho_at_zero", "estimate"]
    assert abs(sens.rho_at_zero - r_rho) <= 0.005 + 1e-9   # medsens: nearest grid point

"""Linear mediation: the product-of-coefficients identities, intervals and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.stats.mediation import mediate
from gutaxis.stats.mediation.intervals import (
    bca_interval,
    percentile_interval,
    replicate_pvalue,
)


def _frame(seed: int, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.repeat([0.0, 1.0], n // 2)
    c = rng.normal(size=n)
    m1 = 0.5 * t + 0.3 * c + rng.normal(size=n)
    m2 = 0.4 * t + 0.5 * m1 + rng.normal(size=n)
    y = 0.3 * t + 0.6 * m1 + 0.4 * m2 + 0.2 * c + rng.normal(size=n)
    return pd.DataFrame({"t": t, "c": c, "m1": m1, "m2": m2, "y": y,
                         "site": rng.choice(["a", "b", "c"], size=n)})


def _ols(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


def test_single_mediator_acme_is_the_product_of_path_coefficients() -> None:
    f = _frame(1)
    res = mediate(f, exposure="t", mediators=["m1"], outcome="y", covariates=["c"],
                  n_draws=50, seed=0)
    one = np.ones(len(f))
    a = _ols(np.column_stack([one, f.t, f.c]), f.m1)[1]
    coef = _ols(np.column_stack([one, f.t, f.m1, f.c]), f.y)
    assert res.estimate("acme") == pytest.approx(a * coef[2], rel=1e-10)
    assert res.estimate("ade") == pytest.approx(coef[1], rel=1e-10)
    assert res.estimate("acme_control") == res.estimate("acme_treated")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), serial=st.booleans())
def test_acme_plus_ade_is_the_total_effect_of_the_reduced_model(seed: int, serial: bool
                                                                ) -> None:
    """For least squares with shared covariates, the indirect paths plus the direct path
    add up to the exposure's coefficient in ``Y ~ T + C`` exactly (parallel and serial)."""
    f = _frame(seed, n=60)
    res = mediate(f, exposure="t", mediators=["m1", "m2"], outcome="y",
                  covariates=["c", "site"], serial=serial, n_draws=10, seed=0)
    dummies = pd.get_dummies(f.site, drop_first=True, dtype=float).to_numpy()
    total = _ols(np.column_stack([np.ones(len(f)), f.t, f.c, dummies]), f.y)[1]
    assert res.estimate("total") == pytest.approx(total, rel=1e-9, abs=1e-12)
    paths = [e for e in res.effects["effect"] if e.startswith("acme[")]
    assert len(paths) == (3 if serial else 2)
    assert sum(res.estimate(p) for p in paths) == pytest.approx(res.estimate("acme"))


def test_a_numeric_exposure_scales_with_the_contrast() -> None:
    f = _frame(2)
    one = mediate(f, exposure="c", mediators=["m1"], outcome="y", n_draws=20, seed=0)
    two = mediate(f, exposure="c", mediators=["m1"], outcome="y", n_draws=20, seed=0,
                  control_value=-1.0, treated_value=1.0)
    assert two.estimate("acme") == pytest.approx(2 * one.estimate("acme"))
    assert two.estimate("prop_mediated") == pytest.approx(one.estimate("prop_mediated"))


def test_a_two_level_exposure_names_the_treated_level() -> None:
    f = _frame(3)
    f["ibs"] = np.where(f.t == 1, "y", "n")
    default = mediate(f, exposure="ibs", mediators=["m1"], outcome="y", n_draws=20, seed=0)
    assert (default.treated, default.control) == ("y", "n")
    assert any("treated = 'y'" in note for note in default.notes)
    flipped = mediate(f, exposure="ibs", treated="n", mediators=["m1"], outcome="y",
                      n_draws=20, seed=0)
    assert flipped.estimate("acme") == pytest.approx(-default.estimate("acme"))


def test_same_seed_same_intervals_other_seed_other_intervals() -> None:
    f = _frame(4)
    kw = {"exposure": "t", "mediators": ["m1"], "outcome": "y", "n_draws": 200}
    a, b, c = (mediate(f, seed=s, **kw).to_frame() for s in (5, 5, 6))
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])


def test_bootstrap_and_quasi_bayes_intervals_agree_for_a_clear_effect() -> None:
    f = _frame(5, n=400)
    kw = {"exposure": "t", "mediators": ["m1"], "outcome": "y", "n_draws": 2000, "seed": 1}
    boot = mediate(f, **kw).effects.set_index("effect")
    qb = mediate(f, method="quasi-bayes", **kw).effects.set_index("effect")
    bca = mediate(f, ci="bca", **kw).effects.set_index("effect")
    for effect in ("acme", "ade", "total"):
        width = boot.loc[effect, "ci_high"] - boot.loc[effect, "ci_low"]
        for other in (qb, bca):
            assert abs(other.loc[effect, "ci_low"] - boot.loc[effect, "ci_low"]) < 0.15 * width
            assert abs(other.loc[effect, "ci_high"] - boot.loc[effect, "ci_high"]) < 0.15 * width


def test_percentile_interval_is_r_type_7_quantile() -> None:
    reps = np.random.default_rng(0).normal(size=(999, 3))
    low, high = percentile_interval(reps, level=0.9)
    np.testing.assert_allclose(low, np.quantile(reps, 0.05, axis=0))
    np.testing.assert_allclose(high, np.quantile(reps, 0.95, axis=0))


def test_bca_without_bias_or_acceleration_is_the_percentile_interval() -> None:
    reps = np.linspace(-1, 1, 2001)[:, None]
    low, high = bca_interval(reps, np.array([1e-12]), np.linspace(-1, 1, 50)[:, None])
    p_low, p_high = percentile_interval(reps)
    assert low[0] == pytest.approx(p_low[0], abs=2e-3)
    assert high[0] == pytest.approx(p_high[0], abs=2e-3)


def test_replicate_pvalue_counts_signs_as_r_mediation() -> None:
    reps = np.array([[1.0, -1.0], [2.0, 1.0], [-1.0, 2.0], [3.0, 3.0]])
    np.testing.assert_allclose(replicate_pvalue(reps, np.array([1.0, 1.0])), [0.5, 0.5])
    assert replicate_pvalue(reps, np.array([0.0, 1.0]))[0] == 1.0


@pytest.mark.parametrize(("change", "message"), [
    ({"m1": 2.5}, "the mediator has no variance"),
    ({"y": 7.0}, "the outcome has no variance"),
    ({"y": 1.0}, "the binary outcome has one class only"),
])
def test_constant_columns_are_refused(change: dict[str, float], message: str) -> None:
    f = _frame(6).assign(**change)
    with pytest.raises(InputError, match=message):
        mediate(f, exposure="t", mediators=["m1"], outcome="y", n_draws=20)


def test_a_binary_outcome_needs_a_single_mediator() -> None:
    f = _frame(7).assign(yb=lambda d: (d.y > 0).astype(float))
    with pytest.raises(InputError, match="needs a single mediator"):
        mediate(f, exposure="t", mediators=["m1", "m2"], outcome="yb", n_draws=20)

"""Invariants of the n-of-1 building blocks (hypothesis; deterministic under the ci profile)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from gutaxis.stats.nof1.gls import mixture_cdf, mixture_quantile

weights_st = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(weights=weights_st, seed=st.integers(0, 2**31 - 1), df=st.integers(2, 200),
       q=st.floats(0.01, 0.99))
def test_mixture_quantile_inverts_the_mixture_cdf(weights, seed, df, q) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    w = np.array(weights)[None, :] / np.sum(weights)
    centre = rng.normal(0, 2, w.shape)
    scale = rng.uniform(0.1, 3, w.shape)
    x = mixture_quantile(q, w, centre, scale, df)
    assert abs(mixture_cdf(x, w, centre, scale, df)[0] - q) < 1e-8


@settings(max_examples=30, deadline=None)
@given(centre=st.floats(-5, 5), scale=st.floats(0.05, 5), df=st.integers(2, 100))
def test_one_component_is_the_t_distribution(centre, scale, df) -> None:  # type: ignore[no-untyped-def]
    one = np.ones((1, 1))
    x = mixture_quantile(0.975, one, np.full((1, 1), centre), np.full((1, 1), scale), df)
    assert abs(x[0] - (centre + scale * stats.t.ppf(0.975, df))) < 1e-7 * (1 + abs(x[0]))

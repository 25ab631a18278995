"""MaAsLin 3's median comparison and joint p-values against closed forms.

The MaAsLin 3 runs themselves are compared in ``test_maaslin3_fixture.py``; here each
ingredient is checked against an independent computation:

- the covariance of a coefficient with the median of independent normals, which the
  method estimates by simulation, equals ``se_i**2 * P(coefficient i is the median)``
  (Stein's lemma: d median / d x_i is 1 when x_i is the median, 0 otherwise), and that
  probability is an integral over the Poisson-binomial count of the others below x_i,
  computed here by quadrature;
- the p-value is the two-sided t (or z) test of ``coef - median`` with variance
  ``se**2 + (pi/2) s**2 / k - 2 cov``;
- the joint p-value is the Beta(1, 2) distribution function of the smaller p-value.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from gutaxis.stats.joint import (
    induced_by_abundance,
    joint_pvalue,
    suspect_prevalence_fits,
)
from gutaxis.stats.median_comparison import median_comparison


def _probability_is_median(i: int, mu: np.ndarray, sd: np.ndarray) -> float:
    """P(X_i is the sample median) for independent X_j ~ N(mu_j, sd_j), odd count."""
    others = np.delete(np.arange(len(mu)), i)
    half = (len(mu) - 1) // 2

    def density(x: float) -> float:
        below = stats.norm.cdf((x - mu[others]) / sd[others])
        count = np.zeros(len(others) + 1)  # Poisson-binomial, by convolution
        count[0] = 1.0
        for p in below:
            count[1:] = count[1:] * (1 - p) + count[:-1] * p
            count[0] *= 1 - p
        return float(stats.norm.pdf(x, mu[i], sd[i]) * count[half])

    lo, hi = float((mu - 8 * sd).min()), float((mu + 8 * sd).max())
    return integrate.quad(density, lo, hi, limit=200, epsabs=1e-12)[0]


def test_simulated_covariance_with_the_median_matches_steins_lemma():
    rng = np.random.default_rng(11)
    coef = rng.normal(0.0, 0.3, 7)
    se = rng.uniform(0.1, 0.4, 7)
    res = median_comparison(coef[:, None], se[:, None], np.full((7, 1), 0.01),
                            np.full((7, 1), 40.0), n_simulations=400_000, seed=3)
    cov = np.array([se[i] ** 2 * _probability_is_median(i, coef, se) for i in range(7)])
    # the p-value fixes the covariance: invert it and compare (MC error ~ se^2/sqrt(4e5))
    med = float(np.median(coef))
    var_med = 0.5 * np.pi * np.var(coef, ddof=1) / 7
    keep = np.abs(coef - med) > 1e-12  # the median's own row has t = 0: p = 1, no information
    t = stats.t.isf(res.pvalue[keep, 0] / 2, 40.0)
    cov_from_p = (se[keep] ** 2 + var_med - ((coef[keep] - med) / t) ** 2) / 2
    assert cov[keep].max() > 0.01  # the check below is far from trivial
    np.testing.assert_allclose(cov_from_p, cov[keep], atol=4e-4)
    assert res.median[0] == pytest.approx(med)
    assert res.median_stderr[0] == pytest.approx(np.sqrt(var_med))


def test_pvalue_is_the_two_sided_test_of_the_difference_from_the_median():
    rng = np.random.default_rng(5)
    m = 301
    coef = rng.normal(0.2, 0.5, (m, 2))
    se = rng.uniform(0.05, 0.5, (m, 2))
    p0 = rng.uniform(0, 1, (m, 2))
    df = np.column_stack([np.full(m, 25.0), np.full(m, np.inf)])  # t test, z test
    res = median_comparison(coef, se, p0, df, seed=1)
    for j in range(2):
        use = p0[:, j] < 0.95
        med = np.median(coef[use, j])
        var_med = 0.5 * np.pi * np.var(coef[use, j], ddof=1) / use.sum()
        dist = stats.t(25.0) if j == 0 else stats.norm
        gap, s2 = np.abs(coef[:, j] - med), se[:, j] ** 2

        def p_with(cov, gap=gap, s2=s2, var_med=var_med, dist=dist):
            return 2 * dist.sf(gap / np.sqrt(s2 + var_med - 2 * cov))

        # 0 <= cov <= se^2 * P(it is the median) <= se^2 / 10 here (a precise coefficient at
        # the centre is the median with probability ~ P(Binomial(300, 1/2) = 150) = 0.046),
        # widened by the simulation's error (se * sd_median / sqrt(10,000), three times)
        noise = 3 * np.sqrt(s2 * var_med) / 100
        assert np.all(res.pvalue[:, j] >= p_with(s2 / 10 + noise) - 1e-15)
        assert np.all(res.pvalue[:, j] <= p_with(-noise) + 1e-15)
        assert res.median[j] == pytest.approx(med)


def test_coefficients_left_out_of_the_median_and_failed_fits():
    coef = np.array([[0.1], [0.2], [0.3], [9.0], [np.nan]])
    se = np.array([[0.1], [0.1], [0.1], [0.1], [np.nan]])
    p0 = np.array([[0.01], [0.02], [0.03], [0.99], [np.nan]])  # p >= 0.95: not in the median
    res = median_comparison(coef, se, p0, np.full((5, 1), 10.0))
    assert res.median[0] == pytest.approx(0.2) and res.n_median[0] == 3
    assert np.isfinite(res.pvalue[:4, 0]).all() and np.isnan(res.pvalue[4, 0])
    none = median_comparison(coef, se, np.full((5, 1), 0.99), np.full((5, 1), 10.0))
    assert np.isnan(none.pvalue).all() and np.isnan(none.median[0])


def test_threshold_and_subtract_median():
    coef = np.array([[0.0], [0.05], [1.0], [-1.0], [0.5]])
    se = np.full_like(coef, 0.2)
    p0 = np.full_like(coef, 0.01)
    res = median_comparison(coef, se, p0, np.full_like(coef, 30.0), threshold=0.1,
                            subtract_median=True)
    # median 0.05: 0.0 and 0.05 are within 0.1 of it
    assert res.pvalue[0, 0] == 1.0 and res.pvalue[1, 0] == 1.0 and res.pvalue[2, 0] < 1.0
    np.testing.assert_allclose(res.coef[:, 0], coef[:, 0] - 0.05)
    scaled = median_comparison(coef, se, p0, np.full_like(coef, 30.0), threshold=0.1,
                               column_scale=np.full_like(coef, 0.01))  # threshold 10
    assert (scaled.pvalue == 1.0).all()


def test_seeded_simulation_is_reproducible_and_seed_effect_is_small():
    rng = np.random.default_rng(2)
    coef, se = rng.normal(0, 1, (80, 1)), rng.uniform(0.1, 0.3, (80, 1))
    args = (coef, se, np.full((80, 1), 0.01), np.full((80, 1), 20.0))
    a, b, c = (median_comparison(*args, seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.pvalue, b.pvalue)
    np.testing.assert_allclose(a.pvalue, c.pvalue, rtol=0.05, atol=1e-3)


def test_joint_pvalue_is_the_beta_1_2_cdf_of_the_smaller_pvalue():
    rng = np.random.default_rng(0)
    pa, pp = rng.uniform(size=1000), rng.uniform(size=1000)
    np.testing.assert_allclose(joint_pvalue(pa, pp),
                               stats.beta(1, 2).cdf(np.minimum(pa, pp)), rtol=1e-12)
    # under the null (two independent uniforms) the joint p-value is uniform
    pa, pp = rng.uniform(size=200_000), rng.uniform(size=200_000)
    assert stats.kstest(joint_pvalue(pa, pp), "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(joint_pvalue(np.array([np.nan, 0.2, np.nan]),
                                               np.array([0.3, np.nan, np.nan])),
                                  [0.3, 0.2, np.nan])


def test_suspect_and_induced_flags_follow_maaslin3s_rules():
    coef = np.array([[16.0, 1.0], [1.0, 1.0], [-20.0, 0.5]])
    pval = np.array([[0.5, 1e-11], [1e-11, 0.5], [0.5, 0.5]])
    n = np.array([1000, 1000, 100])
    present = np.array([40, 980, 3])  # 4% (rare), 98% (common, 20 absent), 3% but n=100
    rare, common = suspect_prevalence_fits(coef, pval, n, present)
    np.testing.assert_array_equal(rare, [[True, True], [False, False], [True, False]])
    np.testing.assert_array_equal(common, [[False, False], [True, False], [False, False]])
    flagged = induced_by_abundance(
        prevalence_coef=np.array([[0.5, 0.5, -0.5, 2.0]]),
        prevalence_ok=np.array([[True, False, True, True]]),
        abundance_coef=np.array([[1.0, 1.0, 1.0, 1.0]]),
        abundance_qvalue=np.array([[0.01, 0.01, 0.01, 0.01]]), max_significance=0.1)
    np.testing.assert_array_equal(flagged, [[True, False, False, False]])

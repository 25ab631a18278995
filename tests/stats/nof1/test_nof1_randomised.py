"""Randomised designs analysed as run: randomisation tests over the assignments the scheme
allowed, the paired last-days comparison of Taye et al. 2020 on a series shaped like theirs
(simulated: their daily data are not public), and refusal of designs that were not
randomised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nof1_simulate import taye_like_series

from gutaxis.errors import InputError
from gutaxis.stats.nof1.design import prepare_series
from gutaxis.stats.nof1.randomised import (
    MAX_EXACT,
    pair_blocks,
    paired_block_effect,
    randomisation_test,
)


def blocks(order: str, means: list[float], *, days: int = 6) -> pd.DataFrame:
    """A series of constant blocks (each block's value its mean)."""
    phase = np.repeat(list(order), days)
    pain = np.repeat(means, days) + np.tile(np.linspace(-0.5, 0.5, days), len(order))
    return pd.DataFrame({"day": np.arange(len(phase)), "period": np.repeat(
        np.arange(len(order)), days), "phase": phase, "pain": pain})


def prepared(frame: pd.DataFrame, **kw):
    return prepare_series(frame, outcomes=["pain"], time="day", phase="phase",
                          block="period", **kw)


def test_pairs_test_enumerates_every_order_by_hand() -> None:
    # pair differences B - A: -1, -2, -3 -> statistic -2; of the 8 sign patterns, two
    # reach |mean| >= 2 (all minus, all plus): p = 2/8
    series = prepared(blocks("ABBAAB", [5, 4, 4, 6, 6, 3]))
    test = randomisation_test(series, outcome="pain")
    assert test.statistic == pytest.approx(-2.0)
    assert (test.pval, test.n_assignments, test.exact, test.min_pval) == (0.25, 8, True, 0.25)
    assert "cannot give p below 0.25" in test.summary()


def test_blocks_scheme_uses_all_placements_of_the_treatment_blocks() -> None:
    series = prepared(blocks("ABBA", [5, 3, 3, 5]))
    test = randomisation_test(series, outcome="pain", scheme="blocks")
    # C(4, 2) = 6 placements; the observed and its mirror reach |2|
    assert (test.n_assignments, test.pval) == (6, pytest.approx(2 / 6))
    assert test.min_pval == pytest.approx(2 / 6)


def test_many_pairs_are_sampled_with_the_seed() -> None:
    order = "AB" * 16  # 2^16 = 65,536 > MAX_EXACT orders
    rng = np.random.default_rng(0)
    series = prepared(blocks(order, list(5 - (np.arange(32) % 2) + rng.normal(0, .3, 32))))
    one = randomisation_test(series, outcome="pain", seed=3)
    two = randomisation_test(series, outcome="pain", seed=3)
    assert not one.exact and one.n_assignments == MAX_EXACT and one.pval == two.pval
    assert one.pval < 0.001


@pytest.mark.parametrize(("order", "message"), [
    ("AB", "a single AB pair"),
    ("ABA", "odd number of phase blocks"),
    ("AABB", "pair 1 holds A, A"),
    ("ABCA", "one treatment with control"),
])
def test_non_randomised_designs_are_refused(order: str, message: str) -> None:
    series = prepared(blocks(order, [5.0] * len(order)))
    with pytest.raises(InputError, match=message):
        pair_blocks(series)


def test_blocks_scheme_needs_two_blocks_of_each_phase() -> None:
    with pytest.raises(InputError, match="not a randomised-blocks design"):
        randomisation_test(prepared(blocks("ABA", [5, 4, 5])), outcome="pain",
                           scheme="blocks")


def test_taye_design_paired_days_have_20_df_and_pair_means_2() -> None:
    data = taye_like_series(np.random.default_rng(20), effect=-0.9)
    series = prepare_series(data, outcomes=["vas"], time="day", phase="phase",
                            block="period")
    used = ~series.washout_mask(14)
    days, means = paired_block_effect(series, outcome="vas", used=used, last=7)
    assert (days.df, days.n_points, means.df, means.n_points) == (20, 21, 2, 3)
    assert days.level_change == pytest.approx(means.level_change)
    assert days.ci_high - days.ci_low < means.ci_high - means.ci_low
    test = randomisation_test(series, outcome="vas", used=used, last=7)
    assert test.n_assignments == 8 and test.min_pval == 0.25
    assert test.statistic == pytest.approx(means.level_change)


def test_taye_design_finds_a_large_effect_in_the_paired_days() -> None:
    data = taye_like_series(np.random.default_rng(5), effect=-3.0, sd=0.8)
    series = prepare_series(data, outcomes=["vas"], time="day", phase="phase",
                            block="period")
    days, _ = paired_block_effect(series, outcome="vas", used=~series.washout_mask(14))
    assert days.ci_high < 0 and days.prob_mcid_points > 0.5


def test_a_period_too_short_for_the_last_days_is_refused() -> None:
    series = prepared(blocks("ABBAAB", [5, 4, 6, 4, 6, 3], days=5))
    with pytest.raises(InputError, match="too few points at the end of phase block 1"):
        paired_block_effect(series, outcome="pain", last=7)


def test_paired_days_reproduce_the_interval_taye_reported_from_their_t() -> None:
    # 21 daily differences (placebo - probiotic) with mean 0.9 and t(20) = 2.2, the
    # published summary: the dependent t interval is 0.9 +- 2.086 * 0.9 / 2.2
    z = np.random.default_rng(0).normal(size=21)
    z = (z - z.mean()) / z.std(ddof=1)
    diffs = 0.9 + z * (0.9 / 2.2) * np.sqrt(21)
    order = "ABBAAB"
    pain = np.full((6, 70), 4.9)
    for pair, treated in enumerate([1, 2, 5]):  # the B period of each pair
        pain[treated, -7:] = 4.9 - diffs[7 * pair: 7 * pair + 7]
    frame = pd.DataFrame({"day": np.arange(420), "period": np.repeat(np.arange(6), 70),
                          "phase": np.repeat(list(order), 70), "pain": pain.ravel()})
    days, _ = paired_block_effect(prepared(frame), outcome="pain", last=7)
    assert days.df == 20
    assert days.level_change == pytest.approx(-0.9)
    assert (days.ci_low, days.ci_high) == (pytest.approx(-1.753, abs=1e-3),
                                           pytest.approx(-0.047, abs=1e-3))
    assert days.pval == pytest.approx(0.0398, abs=1e-3)  # reported: 95% CI 0.04 to 1.77,
    # p = 0.04 (their rounded t explains the last digits)

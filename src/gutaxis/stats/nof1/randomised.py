"""Randomised n-of-1 designs analysed as they were run: randomisation tests that permute
the phase assignment within the scheme actually used, and the paired-block comparison
of the last days of each period (Taye et al. 2020)."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.nof1.design import PhaseSeries
from gutaxis.stats.nof1.results import Nof1Effect

Scheme = Literal["pairs", "blocks"]

#: Enumerate every assignment up to this many; beyond, draw this many at random.
MAX_EXACT = 20_000


@dataclass(frozen=True)
class RandomisationTest:
    """A randomisation test of the treatment-minus-control difference of block means.

    Attributes
    ----------
    outcome, scheme
        The outcome and the randomisation scheme permuted (``pairs``: the order within
        each pair of blocks; ``blocks``: which blocks get the treatment).
    statistic
        Observed mean of treatment block means minus mean of control block means.
    pval
        Two-sided p-value: share of assignments with ``|statistic|`` at least as large.
    n_assignments, exact
        Assignments compared and whether that is all of them (else a random sample,
        ``p = (1 + hits) / (1 + draws)``).
    min_pval
        The smallest p-value the design can give.
    """

    outcome: str
    scheme: str
    statistic: float
    pval: float
    n_assignments: int
    exact: bool
    min_pval: float

    def summary(self) -> str:
        """The test in words, with the smallest p-value the design allows."""
        how = "all" if self.exact else "a random sample of"
        return (f"{self.outcome}: randomisation test ({self.scheme}), difference of block "
                f"means {self.statistic:+.2f}, p = {self.pval:.3g} over {how} "
                f"{self.n_assignments} assignments (the design cannot give p below "
                f"{self.min_pval:.3g}).")


def _where(series: PhaseSeries) -> dict[str, str | None]:
    """Where a design error points: the phase column, under ``--randomised-pairs``."""
    return {"column": series.phase_column, "field": "--randomised-pairs"}


def pair_blocks(series: PhaseSeries) -> np.ndarray:
    """``(pairs, 2)`` block numbers ``(control, treatment)`` of a randomised-pairs design.

    Parameters
    ----------
    series
        Blocks 1-2, 3-4, ... must each hold the control phase and one treatment phase.

    Raises
    ------
    InputError
        An odd number of blocks, a pair without both phases, one pair only, or more than
        one treatment: not a randomised-pairs design.
    """
    phases = series.block_phases()
    starts = np.flatnonzero(np.r_[True, series.block[1:] != series.block[:-1]])
    treatments = series.treatments
    if len(treatments) != 1:
        raise InputError("a randomised-pairs design compares one treatment with control",
                         source=series.source, **_where(series), found=", ".join(treatments),
                         expected="two phases (e.g. A and B)")
    if len(phases) % 2:
        raise InputError("not a randomised-pairs design: odd number of phase blocks",
                         source=series.source, row=series.rows[starts[-1]], **_where(series),
                         found=" ".join(phases), expected="pairs of blocks, e.g. AB BA AB")
    pairs = phases.reshape(-1, 2)
    for i, pair in enumerate(pairs):
        if sorted(pair) != sorted([series.control, treatments[0]]):
            raise InputError(f"not a randomised-pairs design: pair {i + 1} holds "
                             f"{pair[0]}, {pair[1]}", source=series.source,
                             row=series.rows[starts[2 * i]], **_where(series),
                             found=" ".join(phases),
                             expected="each pair of blocks one control and one treatment")
    if len(pairs) < 2:
        raise InputError("not a randomised design: a single AB pair has one alternative "
                         "order, so no randomisation test can reach significance",
                         source=series.source, row=series.rows[0], **_where(series),
                         found=" ".join(phases), expected="at least two randomised pairs")
    blocks = np.arange(len(phases)).reshape(-1, 2)
    control_first = pairs[:, 0] == series.control
    return np.where(control_first[:, None], blocks, blocks[:, ::-1])


def block_means(series: PhaseSeries, y: np.ndarray, used: np.ndarray, *,
                last: int | None = None) -> np.ndarray:
    """``(b,)`` mean of each block's usable points (only its last ``last`` when given).

    Parameters
    ----------
    series
        The series.
    y
        ``(n,)`` outcome values.
    used
        ``(n,)`` usable points.
    last
        Use only the last ``last`` usable points of each block.
    """
    keep = used & _last_of_block(series.block, used, last)
    sums = np.bincount(series.block[keep], weights=y[keep], minlength=series.block.max() + 1)
    counts = np.bincount(series.block[keep], minlength=series.block.max() + 1)
    return sums / np.maximum(counts, 1)


def _last_of_block(block: np.ndarray, used: np.ndarray, last: int | None) -> np.ndarray:
    """True for the last ``last`` usable points of each block (all when ``None``)."""
    if last is None:
        return np.ones_like(used)
    rank_from_end = np.zeros(len(block), dtype=int)
    for b in np.unique(block):  # one step per block (a handful), not per point
        idx = np.flatnonzero((block == b) & used)
        rank_from_end[idx] = np.arange(len(idx))[::-1]
    return used & (rank_from_end < last)


def randomisation_test(series: PhaseSeries, *, outcome: str, scheme: Scheme = "pairs",
                       used: np.ndarray | None = None, last: int | None = None,
                       seed: int = 0) -> RandomisationTest:
    """Randomisation test of one outcome, permuting the phases as the design randomised.

    Parameters
    ----------
    series
        The series (phase blocks as run).
    outcome
        Outcome column of ``series.values``.
    scheme
        ``pairs``: the order inside each pair of blocks was randomised (2^pairs
        assignments); ``blocks``: the treatment blocks were drawn among all blocks
        (``C(blocks, treatment blocks)`` assignments).
    used
        Usable points (default: all non-missing).
    last
        Compare only the last ``last`` usable points of each block.
    seed
        Seed of the random sample of assignments when there are more than
        :data:`MAX_EXACT`.

    Returns
    -------
    RandomisationTest

    Notes
    -----
    Statistic: mean of treatment-block means minus mean of control-block means. All
    assignments are enumerated when there are at most :data:`MAX_EXACT` (exact p,
    observed assignment included), else :data:`MAX_EXACT` are drawn (Edgington &
    Onghena 2007). The smallest attainable two-sided p is ``2 / assignments`` for pairs
    (and for blocks with as many treatment as control blocks), else ``1 / assignments``.

    References
    ----------
    Edgington ES, Onghena P (2007). Randomization Tests, 4th ed. Chapman & Hall/CRC.
    """
    y = series.values[outcome].to_numpy()
    usable = ~np.isnan(y) if used is None else used & ~np.isnan(y)
    means = block_means(series, y, usable, last=last)
    rng = np.random.default_rng(seed)
    if scheme == "pairs":
        pairs = pair_blocks(series)
        diffs = means[pairs[:, 1]] - means[pairs[:, 0]]
        total = 2 ** len(diffs)
        exact = total <= MAX_EXACT
        signs = (np.array(list(itertools.product((1.0, -1.0), repeat=len(diffs)))) if exact
                 else rng.choice((1.0, -1.0), size=(MAX_EXACT, len(diffs))))
        observed = float(diffs.mean())
        null = signs @ diffs / len(diffs)
        min_p = 2.0 / total
    else:
        phases = series.block_phases()
        treated = phases != series.control
        if treated.sum() < 2 or (~treated).sum() < 2:
            raise InputError("not a randomised-blocks design: each phase needs at least two "
                             "blocks", source=series.source, row=series.rows[0], **_where(series),
                             found=" ".join(phases), expected="e.g. ABBA or ABAB randomised")
        total = math.comb(len(phases), int(treated.sum()))
        exact = total <= MAX_EXACT
        if exact:
            chosen = np.zeros((total, len(phases)), dtype=bool)
            for i, c in enumerate(itertools.combinations(range(len(phases)),
                                                         int(treated.sum()))):
                chosen[i, list(c)] = True
        else:
            keys = rng.random((MAX_EXACT, len(phases)))
            chosen = keys.argsort(axis=1).argsort(axis=1) < treated.sum()
        observed = float(means[treated].mean() - means[~treated].mean())
        null = (chosen @ means / treated.sum()) - ((~chosen) @ means / (~treated).sum())
        # with as many treatment as control blocks, swapping every block mirrors the
        # statistic, so the observed and its mirror always count
        min_p = (2.0 if 2 * int(treated.sum()) == len(phases) else 1.0) / total
    hits = int(np.sum(np.abs(null) >= abs(observed) - 1e-12))
    pval = hits / len(null) if exact else (1 + hits) / (1 + len(null))
    return RandomisationTest(outcome=outcome, scheme=scheme, statistic=observed,
                             pval=float(pval), n_assignments=len(null), exact=exact,
                             min_pval=min_p)


def paired_block_effect(series: PhaseSeries, *, outcome: str, last: int = 7,
                        used: np.ndarray | None = None, mcid_points: float = 2.0,
                        mcid_percent: float = 30.0,
                        rise: bool = False) -> tuple[Nof1Effect, Nof1Effect]:
    """The paired-blocks comparison of the last ``last`` days of each period.

    Parameters
    ----------
    series
        A randomised-pairs series (:func:`pair_blocks`).
    outcome
        Outcome column.
    last
        Days (points) at the end of each block compared (7: the last week).
    used
        Usable points (default: all non-missing; pass the washout mask's complement).
    mcid_points, mcid_percent
        As :func:`~gutaxis.stats.nof1.analysis.analyze_nof1`.
    rise
        Improvement is a rise (higher is better).

    Returns
    -------
    tuple
        Two :class:`Nof1Effect`: ``paired days`` (day ``i`` of the last week of the
        treatment block minus day ``i`` of its pair's control block, a dependent t-test
        with ``pairs * last - 1`` df, as Taye et al. 2020 reported t(20) for three
        pairs) and ``pair means`` (difference of the last-week means, ``pairs - 1`` df).
        The daily version treats autocorrelated days as independent: its interval is too
        narrow when pain is autocorrelated; the pair-means version is the honest one.

    Notes
    -----
    The probabilities of a clinically important fall use the flat-prior posterior of a
    mean difference, ``t_df(mean, se)``.

    References
    ----------
    Taye I et al. (2020). Probiotics for pain of osteoarthritis; an N-of-1 trial of
    individual effects. Complement Ther Med 54:102548.
    """
    y = series.values[outcome].to_numpy()
    usable = ~np.isnan(y) if used is None else used & ~np.isnan(y)
    pairs = pair_blocks(series)
    keep = _last_of_block(series.block, usable, last)
    per_block = [y[keep & (series.block == b)] for b in range(series.block.max() + 1)]
    short = [b for b, v in enumerate(per_block) if len(v) < last]
    if short:
        first = int(np.flatnonzero(series.block == short[0])[0])
        raise InputError(f"too few points at the end of phase block {short[0] + 1}",
                         source=series.source, row=series.rows[first], column=outcome,
                         found=len(per_block[short[0]]), expected=f"{last} usable points")
    daily = np.concatenate([per_block[t] - per_block[c] for c, t in pairs])
    means = np.array([per_block[t].mean() - per_block[c].mean() for c, t in pairs])
    control = float(np.mean(np.concatenate([per_block[c] for c, _ in pairs])))
    label = f"{series.treatments[0]} vs {series.control}"
    effect = functools.partial(_mean_effect, outcome=outcome, control=control,
                               mcid_points=mcid_points, mcid_percent=mcid_percent, rise=rise)
    return (effect(daily, contrast=f"{label} (paired days)"),
            effect(means, contrast=f"{label} (pair means)"))


def _mean_effect(diffs: np.ndarray, *, outcome: str, contrast: str, control: float,
                 mcid_points: float, mcid_percent: float, rise: bool) -> Nof1Effect:
    """A one-sample t analysis of paired differences as a :class:`Nof1Effect`."""
    n = len(diffs)
    df = n - 1
    mean = float(diffs.mean())
    se = float(diffs.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    half = stats.t.ppf(0.975, df) * se if df > 0 else float("nan")
    pval = float(2 * stats.t.sf(abs(mean / se), df)) if df > 0 and se > 0 else float("nan")

    def prob_improved(delta: float) -> float:
        if not (df > 0 and delta > 0):
            return float("nan")
        if rise:
            return float(stats.t.sf((delta - mean) / se, df))
        return float(stats.t.cdf((-delta - mean) / se, df))

    nan = float("nan")
    return Nof1Effect(outcome=outcome, contrast=contrast, level_change=mean,
                      ci_low=mean - half, ci_high=mean + half, pval=pval, slope_change=nan,
                      slope_ci_low=nan, slope_ci_high=nan, slope_pval=nan,
                      prob_mcid_points=prob_improved(mcid_points),
                      prob_mcid_percent=prob_improved(mcid_percent / 100 * control),
                      improvement="rise" if rise else "fall",
                      mcid_points=mcid_points, mcid_percent=mcid_percent,
                      control_mean=control, phi=nan, method="paired-t", df=df, n_points=n,
                      n_washout=0)

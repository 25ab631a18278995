"""Responder analysis: the share of subjects improved by at least 30% or 50% from baseline,
compared between arms as a risk difference, risk ratio, odds ratio and number needed to
treat (NNT).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from gutaxis.stats.trial.data import TrialData
from gutaxis.stats.trial.effects import Z975, Effect, difference_label

CUTOFFS = (30, 50)
"""Percent improvements from baseline that make a responder (IMMPACT's moderate and
substantial improvement)."""

_TIE = 1e-9
"""Relative slack of the cut-off, so that 7.0 -> 4.9 counts as the 30% it is."""


def responders(data: TrialData, *, cutoff: float, lower_is_better: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """Which subjects respond, and which can be judged at all.

    Parameters
    ----------
    data
        One visit, every row with an outcome.
    cutoff
        The improvement in percent of baseline that makes a responder (e.g. 30).
    lower_is_better
        Improvement is a fall (pain) rather than a rise.

    Returns
    -------
    tuple of ndarray
        ``(responded, judged)`` booleans per row. A subject whose baseline is 0 or below has
        no percent improvement and is not judged (left out of the responder analysis).
    """
    base, follow = data.baseline, data.outcome
    judged = base > 0
    gain = (base - follow) if lower_is_better else (follow - base)
    responded = judged & (gain >= (cutoff / 100.0) * base * (1.0 - _TIE))
    return responded, judged


def wilson_interval(count: int, n: int) -> tuple[float, float]:
    """Wilson's score interval of a proportion (R's ``prop.test(correct = FALSE)``).

    Parameters
    ----------
    count, n
        Successes and trials (``n >= 1``).
    """
    z2 = Z975**2
    centre = (count + z2 / 2.0) / (n + z2)
    half = Z975 * math.sqrt(count * (n - count) / n + z2 / 4.0) / (n + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


def responder_effects(data: TrialData, *, cutoff: float, lower_is_better: bool = True
                      ) -> tuple[Effect, ...]:
    """Proportions per arm, risk difference, risk ratio, odds ratio and NNT.

    Parameters
    ----------
    data
        One visit, every row with an outcome.
    cutoff
        The improvement in percent of baseline that makes a responder.
    lower_is_better
        Improvement is a fall (pain) rather than a rise.

    Notes
    -----
    Proportions have Wilson score intervals. The risk difference ``RD = p_t - p_c`` has
    Newcombe's hybrid score interval (method 10) and the p-value of Pearson's chi-square
    test (no continuity correction). Risk and odds ratios have Wald intervals on the log
    scale; a table with a zero cell gets 1/2 added to every cell, as metafor's ``escalc``.
    ``NNT = 1 / RD``: positive is the number needed to treat for one more responder (NNT
    benefit), negative for one fewer (NNT harm). Its interval is the reciprocal of RD's;
    when that crosses 0 the NNT interval runs from NNT benefit ``1/RD_high`` through
    infinity to NNT harm ``1/|RD_low|`` (Altman 1998), and ``ci_low < 0 < ci_high`` hold
    those two ends.

    References
    ----------
    .. [1] Newcombe RG (1998). Interval estimation for the difference between independent
       proportions. Statistics in Medicine 17:873-890.
    .. [2] Altman DG (1998). Confidence intervals for the number needed to treat. BMJ
       317:1309-1312.
    """
    responded, judged = responders(data, cutoff=cutoff, lower_is_better=lower_is_better)
    analysis = f"responder_{cutoff:g}"
    counts = []
    rows = []
    for label, in_arm in ((data.treatment, data.treated), (data.control, ~data.treated)):
        x, n = int((responded & in_arm).sum()), int((judged & in_arm).sum())
        counts.append((x, n))
        low, high = wilson_interval(x, n) if n else (np.nan, np.nan)
        rows.append(Effect(analysis, f"proportion {label}", x / n if n else np.nan, np.nan,
                           low, high, np.nan, np.nan, np.nan, n,
                           f"{x} of {n} improved by >= {cutoff:g}%; Wilson interval"))
    (x1, n1), (x0, n0) = counts
    excluded = int((~judged).sum())
    caveat = f"; {excluded} subject(s) with baseline <= 0 left out" if excluded else ""
    contrast = difference_label(data)
    if not (n1 and n0):
        return tuple(rows) + tuple(
            Effect(analysis, f"{name}: {contrast}", np.nan, np.nan, np.nan, np.nan, np.nan,
                   np.nan, np.nan, n1 + n0, "no comparison: an arm has no subject with a "
                   "baseline > 0") for name in ("rd", "rr", "or", "nnt"))
    rd, rd_low, rd_high, rd_p = _risk_difference(x1, n1, x0, n0)
    rows.append(Effect(analysis, f"rd: {contrast}", rd, np.nan, rd_low, rd_high, np.nan,
                       np.nan, rd_p, n1 + n0, "Newcombe hybrid score interval; chi-square "
                       "p-value" + caveat))
    rows.extend(_ratios(analysis, contrast, x1, n1, x0, n0))
    rows.append(_nnt(analysis, contrast, rd, rd_low, rd_high, n1 + n0))
    return tuple(rows)


def _risk_difference(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float, float, float]:
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson_interval(x1, n1)
    l0, u0 = wilson_interval(x0, n0)
    rd = p1 - p0
    low = rd - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = rd + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    pooled = (x1 + x0) / (n1 + n0)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0))
    pval = float(2.0 * stats.norm.sf(abs(rd) / se0)) if se0 > 0 else math.nan
    return rd, low, high, pval


def _ratios(analysis: str, contrast: str, x1: int, n1: int, x0: int, n0: int
            ) -> list[Effect]:
    """Risk ratio and odds ratio with log-scale Wald intervals (metafor's ``escalc``)."""
    a, b, c, d = float(x1), float(n1 - x1), float(x0), float(n0 - x0)
    added = min(a, b, c, d) == 0
    if added:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    note = "; 1/2 added to every cell (a zero cell)" if added else ""
    logs = (("rr", math.log(a / (a + b)) - math.log(c / (c + d)),
             1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)),
            ("or", math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d))
    rows = []
    for name, log_est, var in logs:
        se = math.sqrt(var)
        z = log_est / se
        rows.append(Effect(analysis, f"{name}: {contrast}", math.exp(log_est), np.nan,
                           math.exp(log_est - Z975 * se), math.exp(log_est + Z975 * se),
                           np.inf, z, float(2.0 * stats.norm.sf(abs(z))), n1 + n0,
                           f"log-scale Wald interval (SE of log {name.upper()} {se:.6g})"
                           + note))
    return rows


def nnt_words(rd: float, low: float, high: float) -> str:
    """The NNT and its interval in Altman's (1998) words.

    Parameters
    ----------
    rd, low, high
        The risk difference (treatment minus control, of responders) and its interval.
    """
    def reciprocal(value: float) -> str:
        return "infinity" if value == 0 else f"{1.0 / abs(value):.1f}"

    if rd == 0:
        head = "no difference in responders (NNT infinite)"
    else:
        head = f"NNT {'benefit' if rd > 0 else 'harm'} {reciprocal(rd)}"
    if low > 0:
        return f"{head} (95% CI NNT benefit {reciprocal(high)} to {reciprocal(low)})"
    if high < 0:
        return f"{head} (95% CI NNT harm {reciprocal(low)} to {reciprocal(high)})"
    return (f"{head} (95% CI NNT benefit {reciprocal(high)} to infinity to NNT harm "
            f"{reciprocal(low)}: the interval of the risk difference includes 0)")


def _nnt(analysis: str, contrast: str, rd: float, low: float, high: float, n: int) -> Effect:
    with np.errstate(divide="ignore"):
        est, ends = np.divide(1.0, rd), np.divide(1.0, np.array([low, high]))
    ci_low, ci_high = (min(ends), max(ends)) if low > 0 or high < 0 else (ends[0], ends[1])
    return Effect(analysis, f"nnt: {contrast}", float(est), np.nan, float(ci_low),
                  float(ci_high), np.nan, np.nan, np.nan, n, nnt_words(rd, low, high))

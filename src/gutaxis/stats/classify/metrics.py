"""Performance measures of a binary classifier, vectorised over columns (repeats).

Every function takes the observed classes (0/1) and predicted probabilities of class 1;
``probability`` may be one column ``(n,)`` or several ``(n, r)`` (one per repeat), and the
result is then a scalar or ``(r,)``. Checked against :mod:`sklearn.metrics` and the
Mann-Whitney U statistic (``tests/stats/classify/test_metrics.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.errors import InputError

__all__ = ["auprc", "auroc", "brier_score", "calibration_table", "permutation_pvalue",
           "spread_interval"]


def _columns(observed: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(observed, dtype=float)
    p = np.asarray(probability, dtype=float)
    if p.ndim == 1:
        p = p[:, None]
    if y.ndim != 1 or p.shape[0] != y.shape[0]:
        raise InputError("observed and probability have different lengths", field="probability",
                         found=(y.shape, p.shape), expected="one probability per observation")
    if not np.isin(y, (0.0, 1.0)).all() or y.min(initial=1) == y.max(initial=0):
        raise InputError("observed must hold both classes, as 0 and 1", field="observed",
                         found=np.unique(y)[:5], expected="0 and 1, each at least once")
    return y, p


def auroc(observed: np.ndarray, probability: np.ndarray) -> np.ndarray | float:
    """Area under the ROC curve, from the Mann-Whitney U statistic.

    Parameters
    ----------
    observed
        ``(n,)`` classes, 0 or 1 (both present).
    probability
        ``(n,)`` or ``(n, r)`` scores of class 1.

    Notes
    -----
    .. math:: \\mathrm{AUROC} = \\frac{R_1 - n_1 (n_1 + 1) / 2}{n_1 n_0}

    with :math:`R_1` the sum of the mid-ranks of the positives' scores among all ``n``
    scores: the probability that a random positive scores above a random negative, ties
    counted one half. Equal to :func:`sklearn.metrics.roc_auc_score`.

    Examples
    --------
    >>> import numpy as np
    >>> float(auroc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])))
    0.75

    References
    ----------
    Hanley JA, McNeil BJ (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143:29-36.
    """
    y, p = _columns(observed, probability)
    ranks = stats.rankdata(p, axis=0)
    n1 = y.sum()
    n0 = y.size - n1
    value = (ranks[y == 1].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return value[0] if np.ndim(probability) == 1 else value


def auprc(observed: np.ndarray, probability: np.ndarray) -> np.ndarray | float:
    """Area under the precision-recall curve, as average precision.

    Parameters
    ----------
    observed
        ``(n,)`` classes, 0 or 1 (both present).
    probability
        ``(n,)`` or ``(n, r)`` scores of class 1.

    Notes
    -----
    .. math:: \\mathrm{AP} = \\sum_k (R_k - R_{k-1}) P_k

    over the distinct score thresholds in decreasing order, with precision
    :math:`P_k` and recall :math:`R_k` of the rule "score >= threshold k" (tied scores
    enter together). No interpolation. Equal to
    :func:`sklearn.metrics.average_precision_score`. A classifier without skill scores
    the prevalence of class 1, not 0.5.
    """
    y, p = _columns(observed, probability)
    order = np.argsort(-p, axis=0, kind="stable")
    scores = np.take_along_axis(p, order, axis=0)
    hits = y[order]
    tp = np.cumsum(hits, axis=0)
    seen = np.arange(1, y.size + 1)[:, None]
    # the last position of each run of tied scores closes a threshold
    closes = np.ones_like(scores, dtype=bool)
    closes[:-1] = scores[:-1] != scores[1:]
    precision = tp / seen
    recall = tp / y.sum()
    recall_closed = np.where(closes, recall, np.nan)
    previous = np.fmax.accumulate(np.vstack([np.zeros((1, p.shape[1])), recall_closed[:-1]]),
                                  axis=0)
    previous = np.nan_to_num(previous, nan=0.0)
    value = np.where(closes, (recall - previous) * precision, 0.0).sum(axis=0)
    return value[0] if np.ndim(probability) == 1 else value


def brier_score(observed: np.ndarray, probability: np.ndarray) -> np.ndarray | float:
    """Brier score: mean squared difference between probability and outcome.

    Parameters
    ----------
    observed
        ``(n,)`` classes, 0 or 1 (both present).
    probability
        ``(n,)`` or ``(n, r)`` probabilities of class 1.

    Notes
    -----
    .. math:: B = \\frac{1}{n} \\sum_i (p_i - y_i)^2

    0 is perfect; always predicting the prevalence :math:`\\pi` scores
    :math:`\\pi (1 - \\pi)`. Equal to :func:`sklearn.metrics.brier_score_loss`.

    References
    ----------
    Brier GW (1950). Verification of forecasts expressed in terms of probability.
    Monthly Weather Review 78:1-3.
    """
    y, p = _columns(observed, probability)
    value = ((p - y[:, None]) ** 2).mean(axis=0)
    return value[0] if np.ndim(probability) == 1 else value


def calibration_table(observed: np.ndarray, probability: np.ndarray, *,
                      bins: int = 10) -> pd.DataFrame:
    """Observed fraction of class 1 against mean predicted probability, by bin.

    Parameters
    ----------
    observed
        ``(n,)`` classes, 0 or 1.
    probability
        ``(n,)`` probabilities of class 1.
    bins
        Equal-width bins of ``[0, 1]``; empty bins are left out.

    Notes
    -----
    The points of :func:`sklearn.calibration.calibration_curve` with
    ``strategy="uniform"`` (columns ``mean_predicted`` and ``observed_fraction``), with the
    bin's edges and its count ``n``. A well calibrated model lies on the diagonal.
    """
    y, p = _columns(observed, probability)
    p = p[:, 0]
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, bins - 1)
    n = np.bincount(which, minlength=bins)
    keep = n > 0
    return pd.DataFrame({
        "bin_low": edges[:-1][keep], "bin_high": edges[1:][keep],
        "mean_predicted": np.bincount(which, p, bins)[keep] / n[keep],
        "observed_fraction": np.bincount(which, y, bins)[keep] / n[keep],
        "n": n[keep]})


def permutation_pvalue(scores: np.ndarray, observed: float) -> float:
    """One-sided permutation p-value, ``(b + 1) / (B + 1)``.

    Parameters
    ----------
    scores
        The ``B`` statistics of the permuted data (NaN entries are not counted).
    observed
        The statistic of the data as observed.

    Notes
    -----
    ``b`` counts the permuted statistics at least as large as the observed one. The
    observed data count as one of the permutations, so the p-value is never 0 and
    is valid at any ``B``.

    Examples
    --------
    >>> permutation_pvalue([0.52, 0.61, 0.48, 0.75], 0.7)
    0.4

    References
    ----------
    Phipson B, Smyth GK (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology 9:39.
    """
    null = np.asarray(scores, dtype=float)
    null = null[~np.isnan(null)]
    return float((np.sum(null >= observed - 1e-12) + 1) / (null.size + 1))


def spread_interval(scores: np.ndarray, *, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` interval of ``scores`` (e.g. one estimate per repeat).

    Parameters
    ----------
    scores
        The values, e.g. the AUROC of every repeat of the cross-validation.
    level
        Coverage; the quantiles ``(1 - level) / 2`` and ``(1 + level) / 2`` (linear
        interpolation, as ``numpy.quantile``).
    """
    values = np.asarray(scores, dtype=float)
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)

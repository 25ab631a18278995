"""The association scan's results table: each model's rows, individual and joint
p/q-values, MaAsLin 3's median comparison and flags.

:func:`gutaxis.stats.associate` fits the models; this module turns their fits
(:class:`ModelBlock`) into the tidy table of
:data:`~gutaxis.stats.association_results.RESULT_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gutaxis.stats.association_results import FLAG_COLUMNS, RESULT_COLUMNS, STATUS_COLUMNS
from gutaxis.stats.design import Design
from gutaxis.stats.joint import induced_by_abundance, joint_pvalue, suspect_prevalence_fits
from gutaxis.stats.median_comparison import MedianComparison, median_comparison
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.results import FitResults

__all__ = ["MedianComparison", "ModelBlock", "assemble", "compare_with_median"]


@dataclass(frozen=True, eq=False)
class ModelBlock:
    """One model's fits of the ``m`` tested features, as the table reports them.

    ``results`` holds the estimates over the design's terms (intercept dropped), the status
    flags and, in ``messages``, the table's ``error`` text; ``name`` is the table's
    ``model`` (``"abundance"`` or ``"prevalence"``); ``n`` and ``n_nonzero`` are the
    samples each feature's fit used, and those where it is present.
    """

    name: str
    results: FitResults
    n: np.ndarray
    n_nonzero: np.ndarray



def compare_with_median(
    block: ModelBlock,
    design: Design,
    present: np.ndarray,
    *,
    threshold: float,
    subtract: bool,
    seed: int,
) -> MedianComparison:
    """MaAsLin 3's median comparison of one model's coefficients (see
    :func:`gutaxis.stats.median_comparison.median_comparison`)."""
    res = block.results
    scale = None
    if threshold > 0:  # the threshold is per unit of a non-binary design column
        scale = _column_scales(design, present if block.name == "abundance" else None)
    return median_comparison(res.coef, res.stderr, res.pvalue, res.df, threshold=threshold,
                             column_scale=scale, subtract_median=subtract, seed=seed)


def _column_scales(design: Design, mask: np.ndarray | None) -> np.ndarray:
    """Features x terms: the standard deviation of each non-binary design column over the
    samples each feature's fit used (all samples when ``mask`` is None); ``NaN`` for 0/1
    columns."""
    x = design.matrix[:, 1:]
    used = np.ones((design.n, 1)) if mask is None else mask.astype(np.float64)
    count = used.sum(axis=0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (used.T @ x) / count
        spread = np.sqrt(np.maximum((used.T @ x**2) - count * mean**2, 0.0) / (count - 1))
    binary = np.all((x == 0) | (x == 1), axis=0)
    return np.where(binary[None, :], np.nan, spread)


def assemble(
    blocks: list[ModelBlock],
    features: np.ndarray,
    design: Design,
    corr: str,
    *,
    compared: Sequence[MedianComparison | None],
    against_zero: ModelBlock | None,
    max_significance: float,
) -> pd.DataFrame:
    """The results table: each block's rows, individual and joint p/q-values, the flags."""
    q = design.p - 1
    m = len(features)
    columns = []
    for block, median in zip(blocks, compared, strict=True):
        res = block.results
        error = np.repeat(np.asarray(res.messages, dtype=object)[:, None], q, axis=1)
        coef, pval = res.coef, res.pvalue
        if median is not None:
            lost = np.isfinite(pval) & ~np.isfinite(median.pvalue)
            error = np.where(lost & (error == ""), "p-value not computable in the median "
                             "comparison (rerun without it)", error)
            coef, pval = median.coef, median.pvalue
        flags = {name: np.zeros((m, q), dtype=bool) for name in FLAG_COLUMNS}
        columns.append(_Rows(block, coef, pval, error, flags))
    prevalence = next((c for c in columns if c.block.name == "prevalence"), None)
    if prevalence is not None:
        block = prevalence.block
        rare, common = suspect_prevalence_fits(prevalence.coef, prevalence.pval,
                                               block.n, block.n_nonzero)
        prevalence.flags["suspect_rare"] = rare
        prevalence.flags["suspect_common"] = common
    testable = [np.where(_suspect(c), np.nan, c.pval) for c in columns]
    qvals = np.split(adjust_pvalues(np.concatenate([t.ravel() for t in testable]),
                                    method=corr), len(columns))
    if prevalence is not None and against_zero is not None:
        base = against_zero.results
        p_prev = testable[1]
        base_q = adjust_pvalues(np.concatenate([base.pvalue.ravel(), p_prev.ravel()]),
                                method=corr)[: m * q].reshape(m, q)
        prevalence.flags["induced_by_abundance"] = induced_by_abundance(
            prevalence.coef, np.isfinite(p_prev), base.coef, base_q,
            max_significance=max_significance)
    if prevalence is not None:
        p_joint = joint_pvalue(testable[0], np.where(
            prevalence.flags["induced_by_abundance"], np.nan, testable[1]))
    else:
        p_joint = testable[0]
    q_joint = adjust_pvalues(p_joint, method=corr)
    frames = []
    for column, qval in zip(columns, qvals, strict=True):
        block, res = column.block, column.block.results
        frames.append(pd.DataFrame({
            "feature": np.repeat(features, q),
            "metadata": np.tile([t.metadata for t in design.terms], m),
            "value": np.tile([t.value for t in design.terms], m),
            "coef": column.coef.ravel(),
            "stderr": res.stderr.ravel(),
            "df": np.where(np.isfinite(res.df), res.df, np.nan).ravel(),  # NaN for z tests
            "pval": column.pval.ravel(),
            "qval": qval,
            "pval_joint": p_joint.ravel(),
            "qval_joint": q_joint.ravel(),
            "n": np.repeat(block.n, q),
            "n_nonzero": np.repeat(block.n_nonzero, q),
            "model": block.name,
            "error": column.error.ravel(),
            **{name: np.repeat(getattr(res, name), q) for name in STATUS_COLUMNS},
            **{name: flag.ravel() for name, flag in column.flags.items()},
        }))
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["error"].replace("", np.nan)
    table = table.sort_values("qval", kind="mergesort", na_position="last")
    return table.reset_index(drop=True)[list(RESULT_COLUMNS)]


def _suspect(rows: _Rows) -> np.ndarray:
    """Rows left out of the q-values: MaAsLin 3's suspect prevalence fits."""
    return rows.flags["suspect_rare"] | rows.flags["suspect_common"]


@dataclass(frozen=True, eq=False)
class _Rows:
    """One model's features x terms arrays on their way into the table."""

    block: ModelBlock
    coef: np.ndarray
    pval: np.ndarray
    error: np.ndarray
    flags: dict[str, np.ndarray]

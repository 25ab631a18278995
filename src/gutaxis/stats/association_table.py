"""The association scan's results table: each model's rows, individual and joint
p/q-values, MaAsLin 3's median comparison and flags.

:func:`gutaxis.stats.associate` fits the models; this module turns their fits
(:class:`ModelBlock`) into the tidy table of
:data:`~gutaxis.stats.association_results.RESULT_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import scipy.sparse as sp

from gutaxis.stats.association_results import FLAG_COLUMNS, RESULT_COLUMNS, STATUS_COLUMNS
from gutaxis.stats.design import Design
from gutaxis.stats.joint import induced_by_abundance, joint_pvalue, suspect_prevalence_fits
from gutaxis.stats.median_comparison import MedianComparison, median_comparison
from gutaxis.stats.multitest import adjust_pvalues
from gutaxis.stats.results import FitResults
from gutaxis.stats.special_terms import GroupTests

__all__ = ["Estimates", "MedianComparison", "ModelBlock", "assemble", "compare_with_median",
           "design_terms", "without_intercept", "without_lone_levels"]


@dataclass(frozen=True, eq=False)
class ModelBlock:
    """One model's fits of the ``m`` tested features, as the table reports them.

    ``results`` holds the estimates over the design's terms (intercept dropped), the status
    flags and, in ``messages``, the table's ``error`` text; ``name`` is the table's
    ``model`` (``"abundance"`` or ``"prevalence"``); ``n`` and ``n_nonzero`` are the
    samples each feature's fit used, and those where it is present; ``errors`` the
    table's ``error`` per row where it differs by term (separated terms).
    """

    name: str
    results: FitResults
    n: np.ndarray
    n_nonzero: np.ndarray
    group_tests: GroupTests | None = None  # MaAsLin 3's group predictors (special_terms)
    errors: np.ndarray | None = None  # (m, p - 1) per-row error text; default: messages


def compare_with_median(
    block: ModelBlock,
    design: Design,
    present: np.ndarray | sp.csc_array | None,
    *,
    threshold: float,
    subtract: bool,
    seed: int,
) -> MedianComparison:
    """MaAsLin 3's median comparison of one model's coefficients (see
    :func:`gutaxis.stats.median_comparison.median_comparison`); ``present`` (where each
    feature is present, dense or sparse) is needed only with a ``threshold``."""
    res = block.results
    scale = None
    if threshold > 0:  # the threshold is per unit of a non-binary design column
        scale = _column_scales(design, present if block.name == "abundance" else None)
    return median_comparison(res.coef, res.stderr, res.pvalue, res.df, threshold=threshold,
                             column_scale=scale, subtract_median=subtract, seed=seed)


def _column_scales(design: Design, mask: np.ndarray | sp.csc_array | None) -> np.ndarray:
    """Features x terms: the standard deviation of each non-binary design column over the
    samples each feature's fit used (all samples when ``mask`` is None); ``NaN`` for 0/1
    columns."""
    x = design.matrix[:, 1:]
    used = np.ones((design.n, 1)) if mask is None else mask.astype(np.float64)  # or sparse
    count = np.asarray(used.sum(axis=0)).ravel()[:, None]
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
    """The results table: each block's rows, individual and joint p/q-values, the flags.

    The rows of a group variable's levels are replaced by one row per feature holding its
    joint test (MaAsLin 3's group predictors: ``value`` the variable, ``coef``/``stderr``
    ``NaN``); those rows take no part in the median comparison.
    """
    m = len(features)
    terms = [k for k, t in enumerate(design.terms) if t.metadata not in design.group_effects]
    labels = [(design.terms[k].metadata, design.terms[k].value) for k in terms] + [
        (var, var) for var in design.group_effects]
    q = len(labels)
    columns = []
    for block, median in zip(blocks, compared, strict=True):
        res = block.results
        coef, pval = res.coef, res.pvalue
        error = np.repeat(np.asarray(res.messages, dtype=object)[:, None], res.coef.shape[1],
                          axis=1) if block.errors is None else block.errors
        if median is not None:
            lost = np.isfinite(pval) & ~np.isfinite(median.pvalue)
            error = np.where(lost & (error == ""), "p-value not computable in the median "
                             "comparison (rerun without it)", error)
            coef, pval = median.coef, median.pvalue
        rows = _Rows(block, coef[:, terms], res.stderr[:, terms], res.df[:, terms],
                     pval[:, terms], error[:, terms],
                     {name: np.zeros((m, len(terms)), dtype=bool) for name in FLAG_COLUMNS})
        columns.append(rows.with_groups(block.group_tests, design.group_effects))
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
        base = _Rows(against_zero, against_zero.results.coef[:, terms],
                     against_zero.results.stderr[:, terms], against_zero.results.df[:, terms],
                     against_zero.results.pvalue[:, terms], np.empty((m, len(terms))), {}
                     ).with_groups(against_zero.group_tests, design.group_effects)
        p_prev = testable[1]
        base_q = adjust_pvalues(np.concatenate([base.pval.ravel(), p_prev.ravel()]),
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
            "metadata": np.tile([label[0] for label in labels], m),
            "value": np.tile([label[1] for label in labels], m),
            "coef": column.coef.ravel(),
            "stderr": column.stderr.ravel(),
            "df": np.where(np.isfinite(column.df), column.df, np.nan).ravel(),  # NaN: z tests
            "pval": column.pval.ravel(),
            "qval": qval,
            "pval_joint": p_joint.ravel(),
            "qval_joint": q_joint.ravel(),
            "n": np.repeat(block.n, q),
            "n_nonzero": np.repeat(block.n_nonzero, q),
            "model": block.name,
            "error": column.error.ravel(),
            **{name: np.repeat(getattr(res, name), q) for name in STATUS_COLUMNS},
            "separated": _separated_rows(res, design, terms).ravel(),  # per term
            **{name: flag.ravel() for name, flag in column.flags.items()},
        }))
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["error"].replace("", np.nan)
    table = table.sort_values("qval", kind="mergesort", na_position="last")
    return table.reset_index(drop=True)[list(RESULT_COLUMNS)]


def _separated_rows(res: FitResults, design: Design, terms: list[int]) -> np.ndarray:
    """``separated`` per row: each term's flag, and for a group variable's row whether any
    of its levels is separated."""
    groups = [[k for k, t in enumerate(design.terms) if t.metadata == var]
              for var in design.group_effects]
    flags = res.separated_by_term()
    return np.hstack([flags[:, terms],
                      *(flags[:, cols].any(axis=1, keepdims=True) for cols in groups)])


def _suspect(rows: _Rows) -> np.ndarray:
    """Rows left out of the q-values: MaAsLin 3's suspect prevalence fits."""
    return rows.flags["suspect_rare"] | rows.flags["suspect_common"]


@dataclass(frozen=True, eq=False)
class _Rows:
    """One model's features x terms arrays on their way into the table."""

    block: ModelBlock
    coef: np.ndarray
    stderr: np.ndarray
    df: np.ndarray
    pval: np.ndarray
    error: np.ndarray
    flags: dict[str, np.ndarray]

    def with_groups(self, tests: GroupTests | None, variables: tuple[str, ...]) -> _Rows:
        """These rows with one column per group variable appended (its joint test)."""
        if not variables:
            return self
        m, g = self.coef.shape[0], len(variables)
        nan = np.full((m, g), np.nan)
        df = nan if tests is None else tests.df
        pval = nan if tests is None else tests.pvalue
        messages = np.asarray(self.block.results.messages, dtype=object)[:, None]
        return replace(
            self, coef=np.hstack([self.coef, nan]), stderr=np.hstack([self.stderr, nan]),
            df=np.hstack([self.df, df]), pval=np.hstack([self.pval, pval]),
            error=np.hstack([self.error, np.repeat(messages, g, axis=1)]),
            flags={name: np.hstack([flag, np.zeros((m, g), dtype=bool)])
                   for name, flag in self.flags.items()})


def design_terms(design: Design) -> list[str]:
    """The design's column names: the intercept, then R's coefficient names."""
    return ["(Intercept)", *(t.name for t in design.terms)]


def without_intercept(res: FitResults) -> FitResults:
    """``res`` with its first term (the intercept) dropped."""
    return replace(res, terms=res.terms[1:], coef=res.coef[:, 1:], stderr=res.stderr[:, 1:],
                   statistic=res.statistic[:, 1:], df=res.df[:, 1:], pvalue=res.pvalue[:, 1:],
                   separated_terms=None if res.separated_terms is None
                   else res.separated_terms[:, 1:])


class Estimates:
    """Per-feature estimates gathered from several engine calls (``NaN`` until stored)."""

    def __init__(self, m: int, q: int) -> None:
        self.coef, self.stderr, self.statistic, self.df, self.pvalue = (
            np.full((m, q), np.nan) for _ in range(5))
        self.converged = np.zeros(m, dtype=bool)
        self.singular = np.zeros(m, dtype=bool)
        self.separated = np.zeros(m, dtype=bool)
        self.separated_terms = np.zeros((m, q), dtype=bool)  # per term (prevalence)
        self.separation = np.full(m, "", dtype=object)  # the error text of those rows
        self.messages = np.full(m, "", dtype=object)
        self.n = np.zeros(m, dtype=np.int64)
        self.n_nonzero = np.zeros(m, dtype=np.int64)
        self.group_tests: GroupTests | None = None

    def store(self, cols: np.ndarray, res: FitResults, good: np.ndarray) -> None:
        """Take ``res``'s estimates (intercept dropped) for the features ``cols``; ``NaN``
        and not converged where ``good`` is False."""
        for name in ("coef", "stderr", "statistic", "df", "pvalue"):
            arr = getattr(res, name)[:, 1:]
            getattr(self, name)[cols] = np.where(good[:, None], arr, np.nan)
        self.converged[cols] = good

    def block(self, name: str, model: str, design: Design, *,
              statistic_name: Literal["t", "z"]) -> ModelBlock:
        results = FitResults(
            model=model, terms=tuple(design_terms(design)[1:]),
            responses=tuple(str(i) for i in range(len(self.n))), coef=self.coef,
            stderr=self.stderr, statistic=self.statistic, df=self.df, pvalue=self.pvalue,
            statistic_name=statistic_name, converged=self.converged, singular=self.singular,
            separated=self.separated, messages=tuple(str(s) for s in self.messages),
            separated_terms=self.separated_terms if self.separated_terms.any() else None)
        errors = np.where(self.separated_terms, self.separation[:, None],
                          self.messages[:, None])
        return ModelBlock(name, results, self.n, self.n_nonzero, self.group_tests, errors)


def without_lone_levels(block: ModelBlock, design: Design, used: np.ndarray) -> ModelBlock:
    """``block`` with the features whose categorical variables cannot be fitted on their
    samples (reference level absent, one level left: :meth:`Design.level_problems`) set to
    ``NaN``, the reason in their message, as R refuses them."""
    problems = design.level_problems(used)
    bad = problems != ""
    if not bad.any():
        return block
    res = block.results
    def blank(arr: np.ndarray) -> np.ndarray:
        return np.where(bad[:, None], np.nan, arr)

    messages = tuple(m if (not b or "constant" in m) else str(p)
                     for m, p, b in zip(res.messages, problems, bad, strict=True))
    tests = block.group_tests
    if tests is not None:
        tests = replace(tests, pvalue=np.where(bad[:, None], np.nan, tests.pvalue),
                        statistic=np.where(bad[:, None], np.nan, tests.statistic))
    errors = None if block.errors is None else np.where(
        bad[:, None], np.asarray(messages, dtype=object)[:, None], block.errors)
    separated = None if res.separated_terms is None else res.separated_terms & ~bad[:, None]
    return replace(block, group_tests=tests, errors=errors, results=replace(
        res, converged=res.converged & ~bad, messages=messages, coef=blank(res.coef),
        stderr=blank(res.stderr), statistic=blank(res.statistic), df=blank(res.df),
        pvalue=blank(res.pvalue), separated_terms=separated))

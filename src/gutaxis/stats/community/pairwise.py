"""Pairwise post-hoc PERMANOVA: every pair of levels of a grouping column, tested on its
own samples, p-values corrected for the number of pairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.stats.community.alignment import TableResults, aligned_samples, dropped_note
from gutaxis.stats.community.permanova import permanova
from gutaxis.stats.design import level_labels, r_level_order
from gutaxis.stats.multitest import adjust_pvalues, correction_name

#: Columns of :attr:`PairwiseResults.table`.
COLUMNS = ("group1", "group2", "n1", "n2", "df", "sum_of_squares", "r2", "f", "pval",
           "padj")


@dataclass(frozen=True)
class PairwiseResults(TableResults):
    """One PERMANOVA per pair of levels.

    Attributes
    ----------
    table
        One row per pair: ``group1, group2, n1, n2, df, sum_of_squares, r2, f, pval,
        padj`` (``padj`` corrected over the pairs).
    column
        The grouping column.
    correction
        The multiple-testing correction (:func:`gutaxis.stats.adjust_pvalues`).
    permutations
        Permutations per pair.
    seed
        Seed of the permutations.
    strata
        Column the permutations were restricted within, if any.
    notes
        Things a person should know.
    """

    table: pd.DataFrame
    column: str
    correction: str
    permutations: int
    seed: int
    strata: str | None = None
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: each pair's R² and corrected p."""
        return (f"pairwise PERMANOVA of {self.column} ({self.correction}): " + "; ".join(
            f"{r.group1} vs {r.group2} R2={r.r2:.3f} padj={r.padj:.3g}"
            for r in self.table.itertuples()))


def pairwise_permanova(
    distances: DistanceMatrix,
    metadata: pd.DataFrame,
    *,
    column: str,
    permutations: int = 999,
    seed: int = 0,
    strata: str | None = None,
    correction: str = "BH",
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PairwiseResults:
    """PERMANOVA of each pair of levels of ``column`` on the samples of the two levels.

    Parameters
    ----------
    distances
        Any dissimilarity.
    metadata
        One row per sample, indexed by sample id; samples with a missing group (or
        stratum) are left out and named in ``notes``.
    column
        The grouping column (categorical, two or more levels).
    permutations
        Permutations per pair.
    seed
        Seed; pair ``k`` (in R's level order) draws from ``numpy.random.default_rng([seed,
        k])``, so a pair's result does not depend on which other pairs exist.
    strata
        Permute within the levels of this column (e.g. subject).
    correction
        ``BH`` (default), ``BY``, ``bonferroni``, ``holm`` or ``none``, over the pairs.
    source
        Names the metadata in errors.
    progress
        Called with (pairs done, number of pairs).

    Returns
    -------
    PairwiseResults

    Notes
    -----
    Each pair is a one-term PERMANOVA (:func:`permanova` with ``formula=column``) on the
    samples of its two levels only: the distance matrix is not refitted with the other
    groups, as in ``pairwiseAdonis`` (Martinez Arbizu 2017). Covariates are not
    adjusted for.
    """
    method = correction_name(correction)
    used = [column] + ([strata] if strata else [])
    dm, rows, dropped = aligned_samples(distances, metadata, used, source=source,
                                        field="column")
    labels = level_labels(rows[column])
    levels = r_level_order(rows[column])
    if len(levels) < 2:
        raise InputError("pairwise tests need two or more groups", source=source,
                         column=column, found=levels, expected="two or more levels")
    pairs = list(combinations(levels, 2))
    records = []
    for k, (a, b) in enumerate(pairs):
        keep = labels.isin([a, b]).to_numpy()
        sub = dm.subset(dm.ids[keep])
        frame = pd.DataFrame({column: labels[keep].to_numpy()}, index=sub.ids)
        if strata:
            frame[strata] = rows[strata].to_numpy()[keep]
        seed_k = int(np.random.default_rng([seed, k]).integers(2**63))
        res = permanova(sub, frame, formula=column, permutations=permutations, seed=seed_k,
                        strata=strata, source=source)
        row = res.table.iloc[0]
        records.append((a, b, int((labels[keep] == a).sum()), int((labels[keep] == b).sum()),
                        int(row.df), row.sum_of_squares, row.r2, row.f, row.pval))
        if progress is not None:
            progress(k + 1, len(pairs))
    table = pd.DataFrame(records, columns=list(COLUMNS[:-1]))
    table["padj"] = adjust_pvalues(table["pval"].to_numpy(dtype=np.float64), method=method)
    return PairwiseResults(table=table, column=column, correction=method,
                           permutations=permutations, seed=seed, strata=strata,
                           notes=dropped_note(dropped, used))

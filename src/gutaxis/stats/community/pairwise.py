"""Pairwise post-hoc PERMANOVA: every pair of levels of a grouping column, tested on its
own samples, p-values corrected for the number of pairs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from gutaxis.compute import Backend
from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.gut.distance_store import StoredDistances
from gutaxis.stats.community.alignment import (
    TableResults,
    aligned_rows,
    aligned_samples,
    dropped_note,
)
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
    distances: DistanceMatrix | StoredDistances,
    metadata: pd.DataFrame,
    *,
    column: str,
    permutations: int = 999,
    seed: int = 0,
    strata: str | None = None,
    correction: str = "BH",
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
) -> PairwiseResults:
    """PERMANOVA of each pair of levels of ``column`` on the samples of the two levels.

    Parameters
    ----------
    distances
        Any dissimilarity; or a stored matrix
        (:func:`~gutaxis.gut.distance_store.open_distance_store`), never loaded: each pair
        is then :func:`permanova`'s stored path (one pass over the store per pair).
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
    backend
        Where each pair's permutations run (:mod:`gutaxis.compute`; default: this
        process), as :func:`permanova`'s: batches of the permutations drawn here. F and
        the p-values equal the local run's (F to BLAS reassociation, under 1e-12
        relative; p-values identical; ``tests/stats/community/test_pairwise_backend.py``).

    Returns
    -------
    PairwiseResults

    Notes
    -----
    Each pair is a one-term PERMANOVA (:func:`permanova` with ``formula=column``) on the
    samples of its two levels only: the distance matrix is not refitted with the other
    groups, as in ``pairwiseAdonis`` (Martinez Arbizu 2017). Covariates are not
    adjusted for. On a stored matrix the samples of the other levels are zero in each
    pair's model basis (how :func:`permanova` leaves samples out of a store): the same
    samples, in the same order, so the same permutations as in memory.
    """
    method = correction_name(correction)
    used = [column] + ([strata] if strata else [])
    if isinstance(distances, StoredDistances):
        rows, _, dropped = aligned_rows(distances.ids, metadata, used, source=source,
                                        field="column")
    else:
        distances, rows, dropped = aligned_samples(distances, metadata, used, source=source,
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
        frame = pd.DataFrame({column: labels[keep].to_numpy()}, index=rows.index[keep])
        if strata:
            frame[strata] = rows[strata].to_numpy()[keep]
        target = _pair_distances(distances, frame)
        if isinstance(target, StoredDistances):  # other levels: no value, left out
            frame = frame.astype(object).reindex(pd.Index(target.ids).astype(str))
        seed_k = int(np.random.default_rng([seed, k]).integers(2**63))
        res = permanova(target, frame, formula=column, permutations=permutations,
                        seed=seed_k, strata=strata, source=source, backend=backend)
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


def _pair_distances(distances: DistanceMatrix | StoredDistances, frame: pd.DataFrame
                    ) -> DistanceMatrix | StoredDistances:
    """The distances of one pair's samples (``frame``'s index): the in-memory matrix's
    subset, or the whole store (read band by band; the other samples left out)."""
    if isinstance(distances, StoredDistances):
        return distances
    return distances.subset(frame.index.to_numpy())

"""PERMDISP: homogeneity of multivariate dispersions, as vegan's ``betadisper`` and its
``anova`` and ``permutest``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from gutaxis.compute import Backend
from gutaxis.compute.batches import map_row_batches
from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.stats.community.alignment import (
    EPS,
    TableResults,
    aligned_samples,
    dropped_note,
    gower_centred,
    permutation_pvalues,
)
from gutaxis.stats.community.permutations import permutations_for, permuted_statistics
from gutaxis.stats.design import level_labels, r_level_order

Centre = Literal["centroid", "median"]
#: Weiszfeld iterations stop when the median moves less than this, relative to the spread.
MEDIAN_TOL = 1e-12
MEDIAN_MAX_ITER = 10_000
#: Columns of :attr:`PermdispResults.table`.
COLUMNS = ("term", "df", "sum_of_squares", "mean_square", "f", "pval_f", "pval")


@dataclass(frozen=True)
class PermdispResults(TableResults):
    """Distances to group centres and the test of equal mean distance.

    Attributes
    ----------
    table
        ANOVA of the distances on the group: rows ``group`` and ``Residual``; columns
        ``term, df, sum_of_squares, mean_square, f, pval_f`` (F distribution) and ``pval``
        (permutation).
    distances
        Each sample's distance to its group's centre (index ``sample_id``).
    group_distances
        Mean distance to the centre, per group.
    column
        The grouping column.
    centre
        ``"centroid"`` or ``"median"`` (spatial median).
    n
        Samples used.
    permutations
        Number of permutations.
    seed
        Seed of the permutations (``None`` when given).
    notes
        Things a person should know (samples left out for a missing group).
    """

    table: pd.DataFrame
    distances: pd.Series
    group_distances: pd.Series
    column: str
    centre: Centre
    n: int
    permutations: int
    seed: int | None
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line: the test and the mean distance per group."""
        row = self.table.iloc[0]
        means = ", ".join(f"{g} {v:.3f}" for g, v in self.group_distances.items())
        return (f"PERMDISP ({self.centre}) of {self.column}, n={self.n}: F={row.f:.3f} "
                f"p={row.pval:.3g} ({self.permutations} permutations); mean distance "
                f"{means}")


def permdisp(
    distances: DistanceMatrix,
    metadata: pd.DataFrame,
    *,
    column: str,
    centre: Centre = "centroid",
    permutations: int | np.ndarray = 999,
    seed: int = 0,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
) -> PermdispResults:
    """Test whether groups differ in dispersion (PERMDISP), as vegan's ``betadisper``.

    Parameters
    ----------
    distances
        Any dissimilarity.
    metadata
        One row per sample, indexed by sample id; samples whose group is missing are left
        out (named in ``notes``).
    column
        The grouping column (categorical).
    centre
        ``"centroid"`` (Anderson 2006's original) or ``"median"`` (spatial median, vegan's
        default, more robust).
    permutations
        Number of permutations of the ANOVA residuals, or an ``(n_permutations, n)`` array
        of 0-based positions.
    seed
        Seed of the permutations.
    source
        Names the metadata in errors.
    progress
        Called with (permutations done, total) after each batch (with a ``backend``: once,
        at the end).
    backend
        Where the permutations run (:mod:`gutaxis.compute`), as for
        :func:`~gutaxis.stats.community.permanova.permanova`: batches of the permutations
        drawn here, the same F and p-value as a local run. Each permutation costs O(n)
        here; the principal coordinates (O(n^3)) always run in the caller.

    Returns
    -------
    PermdispResults

    Notes
    -----
    The samples are placed in principal coordinates (the eigenvectors of Gower's centred
    matrix :math:`G` scaled by :math:`\\sqrt{|\\lambda|}`, axes with :math:`|\\lambda| >
    \\sqrt{\\epsilon}\\lambda_1` kept). A sample's distance to its group's centre
    :math:`c` is :math:`z = \\sqrt{\\max(0, \\|x^+ - c^+\\|^2 - \\|x^- - c^-\\|^2)}` over
    the axes of positive and of negative eigenvalues; the spatial median is computed on
    each set of axes separately (Weiszfeld's iterations to :data:`MEDIAN_TOL`; vegan
    stops its BFGS search earlier, so its median distances agree to about 1e-6). The
    distances are compared by one-way ANOVA; the permutation test permutes the ANOVA
    residuals freely and refits, as ``permutest.betadisper``. Checked against vegan
    2.6-4: centroid distances and F to 1e-10.

    References
    ----------
    .. [1] Anderson MJ (2006). Distance-based tests for homogeneity of multivariate
       dispersions. Biometrics 62:245-253.
    .. [2] Anderson MJ, Ellingsen KE, McArdle BH (2006). Multivariate dispersion as a
       measure of beta diversity. Ecology Letters 9:683-693.
    """
    if centre not in ("centroid", "median"):
        raise InputError("unknown centre", field="centre", found=centre,
                         expected="centroid or median")
    dm, rows, dropped = aligned_samples(distances, metadata, [column], source=source,
                                        field="column")
    labels = level_labels(rows[column]).to_numpy()
    levels = r_level_order(rows[column])
    if len(levels) < 2:
        raise InputError("PERMDISP needs two or more groups", source=source, column=column,
                         found=levels, expected="two or more levels")
    codes = pd.Index(levels).get_indexer(pd.Index(labels))
    coords, positive = _principal_coordinates(gower_centred(dm))
    centres = np.vstack([_centre(coords[codes == g], positive, centre)
                         for g in range(len(levels))])
    diff = coords - centres[codes]
    squared = (diff[:, positive] ** 2).sum(axis=1) - (diff[:, ~positive] ** 2).sum(axis=1)
    z = np.sqrt(np.maximum(squared, 0.0))
    indicator = (codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64)
    sizes = indicator.sum(axis=0)
    f_obs, ss_between, ss_within = _one_way_f(z[None, :], indicator, sizes)
    df_between, df_within = len(levels) - 1, dm.n - len(levels)
    residuals = z - (z @ indicator / sizes)[codes]
    perms = permutations_for(permutations, dm.n, seed=seed)
    batch = max(1, 4_000_000 // dm.n)
    if backend is None:
        f_perm = permuted_statistics(
            perms, lambda rows: _permuted_f(rows, residuals, indicator, sizes), width=1,
            batch=batch, progress=progress)
    else:
        f_perm = np.vstack([np.empty((0, 1)), *map_row_batches(
            backend, _permuted_f, perms, residuals, indicator, sizes, batch=batch,
            step="PERMDISP permutations")])
        if progress is not None:
            progress(perms.shape[0], perms.shape[0])
    pval = permutation_pvalues(f_obs, f_perm)[0]
    table = pd.DataFrame({
        "term": [column, "Residual"], "df": [df_between, df_within],
        "sum_of_squares": [ss_between[0], ss_within[0]],
        "mean_square": [ss_between[0] / df_between, ss_within[0] / df_within],
        "f": [f_obs[0], np.nan],
        "pval_f": [float(sps.f.sf(f_obs[0], df_between, df_within)), np.nan],
        "pval": [pval, np.nan]}, columns=list(COLUMNS))
    index = pd.Index(dm.ids, name="sample_id")
    return PermdispResults(
        table=table, distances=pd.Series(z, index=index, name="distance"),
        group_distances=pd.Series(z @ indicator / sizes, index=pd.Index(levels, name=column),
                                  name="mean_distance"),
        column=column, centre=centre, n=dm.n, permutations=perms.shape[0],
        seed=None if isinstance(permutations, np.ndarray) else seed,
        notes=dropped_note(dropped, [column]))


def _permuted_f(perms: np.ndarray, residuals: np.ndarray, indicator: np.ndarray,
                sizes: np.ndarray) -> np.ndarray:
    """``(rows of perms, 1)``: F of the permuted ANOVA residuals."""
    return _one_way_f(residuals[perms], indicator, sizes)[0].reshape(-1, 1)


def _principal_coordinates(gower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates on every axis with a non-zero eigenvalue (as betadisper keeps them),
    and which axes have a positive eigenvalue."""
    values, vectors = np.linalg.eigh(gower)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    keep = np.abs(values) > max(EPS, EPS * values[0])
    values, vectors = values[keep], vectors[:, keep]
    return vectors * np.sqrt(np.abs(values))[None, :], values > 0


def _centre(points: np.ndarray, positive: np.ndarray, centre: Centre) -> np.ndarray:
    if centre == "centroid":
        return points.mean(axis=0)
    out = np.empty(points.shape[1])
    for axes in (positive, ~positive):
        out[axes] = _spatial_median(points[:, axes]) if axes.any() else 0.0
    return out


def _spatial_median(points: np.ndarray) -> np.ndarray:
    """The point minimising the sum of Euclidean distances (Weiszfeld's algorithm with
    Vardi and Zhang's step at a data point), started at the coordinate-wise median."""
    current = np.median(points, axis=0)
    scale = max(float(np.abs(points - current).max(initial=0.0)), np.finfo(float).tiny)
    for _ in range(MEDIAN_MAX_ITER):
        dist = np.sqrt(((points - current) ** 2).sum(axis=1))
        at = dist < 1e-14 * scale
        weights = 1.0 / np.where(at, 1.0, dist)
        weights[at] = 0.0
        target = (weights @ points) / weights.sum() if weights.sum() > 0 else current
        if at.any():  # Vardi-Zhang: move off a data point only when that lowers the sum
            pull = weights @ (points - current)
            norm = float(np.sqrt(pull @ pull))
            share = min(1.0, at.sum() / norm) if norm > 0 else 1.0
            target = (1 - share) * target + share * current
        step = float(np.sqrt(((target - current) ** 2).sum()))
        current = target
        if step <= MEDIAN_TOL * scale:
            break
    return current


def _one_way_f(values: np.ndarray, indicator: np.ndarray, sizes: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-way ANOVA F of each row of ``values`` (rows: permutations), with its between-
    and within-group sums of squares."""
    n, g = indicator.shape
    sums = values @ indicator
    grand = values.sum(axis=1) / n
    between = (sums**2 / sizes[None, :]).sum(axis=1) - n * grand**2
    within = (values**2).sum(axis=1) - (sums**2 / sizes[None, :]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (between / (g - 1)) / (within / (n - g))
    return f, between, within

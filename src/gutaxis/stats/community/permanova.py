"""PERMANOVA: permutational multivariate analysis of variance on a distance matrix, as
vegan's ``adonis2`` computes it (several terms, covariates, interactions; sums of squares
sequential or marginal; permutations free, within strata or of whole blocks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.linalg as sla

from gutaxis.compute import Backend
from gutaxis.compute.batches import map_row_batches
from gutaxis.data.distance import DistanceMatrix
from gutaxis.errors import InputError
from gutaxis.gut.distance_store import StoredDistances
from gutaxis.stats.community.alignment import (
    TableResults,
    aligned_rows,
    aligned_samples,
    dropped_note,
    gower_centred,
    permutation_pvalues,
)
from gutaxis.stats.community.formula import ModelTerm, model_frame, parse_formula
from gutaxis.stats.community.permutations import (
    permutations_for,
    permuted_statistics,
    restriction_codes,
)
from gutaxis.stats.community.stored_traces import stored_traces

#: Rank tolerance of a term's centred columns, relative to its largest column norm (R's qr).
RANK_TOL = 1e-7
#: Elements of the permuted basis matrices held at once (float64): about 64 MB.
BATCH_ELEMENTS = 8_000_000

SumsOfSquares = Literal["terms", "margin"]
#: Columns of :meth:`PermanovaResults.to_frame`, as adonis2 prints its table.
COLUMNS = ("term", "df", "sum_of_squares", "r2", "f", "pval")


@dataclass(frozen=True)
class PermanovaResults(TableResults):
    """The PERMANOVA table and how it was made.

    Attributes
    ----------
    table
        One row per tested term, then ``Residual`` and ``Total``; columns ``term, df,
        sum_of_squares, r2, f, pval`` (``f`` and ``pval`` empty on the last two rows).
    formula
        The formula as given.
    by
        ``"terms"`` (sequential sums of squares) or ``"margin"`` (each term last).
    n
        Samples used.
    permutations
        Number of permutations.
    seed
        Seed of the permutations (``None`` when the permutations were given).
    strata, blocks
        Metadata columns restricting the permutations, if any.
    metric
        The distance metric, when the matrix names it.
    f_permuted
        Permuted pseudo-F statistics, ``(permutations, tested terms)``.
    notes
        Things a person should know (samples left out for missing values).
    """

    table: pd.DataFrame
    formula: str
    by: SumsOfSquares
    n: int
    permutations: int
    seed: int | None
    strata: str | None = None
    blocks: str | None = None
    metric: str | None = None
    f_permuted: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line per tested term: R², pseudo-F and permutation p."""
        restricted = (f", within {self.strata}" if self.strata else
                      f", whole blocks of {self.blocks}" if self.blocks else "")
        head = (f"PERMANOVA ({'sequential' if self.by == 'terms' else 'marginal'} sums of "
                f"squares, {self.permutations} permutations{restricted}), n={self.n}: ")
        rows = self.table.iloc[:-2]
        return head + "; ".join(
            f"{r.term} R2={r.r2:.3f} F={r.f:.3f} p={r.pval:.3g}" for r in rows.itertuples())


def permanova(
    distances: DistanceMatrix | StoredDistances,
    metadata: pd.DataFrame,
    *,
    formula: str,
    by: SumsOfSquares = "terms",
    permutations: int | np.ndarray = 999,
    seed: int = 0,
    strata: str | None = None,
    blocks: str | None = None,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
) -> PermanovaResults:
    """PERMANOVA of a distance matrix on metadata terms, as vegan's ``adonis2``.

    Parameters
    ----------
    distances
        Any dissimilarity (Euclidean or not), e.g. from :func:`gutaxis.gut.beta_diversity`;
        or a stored matrix (:func:`~gutaxis.gut.distance_store.distance_matrix_to_store`),
        read band by band and never whole (see Notes).
    metadata
        One row per sample, indexed by sample id; every sample of ``distances`` needs one.
        Samples with a missing value in a formula, strata or blocks column are left out
        (named in ``notes``); adonis2 would stop with an error instead.
    formula
        Right-hand side such as ``"group + age"``, ``"group * sex"`` (``+``, ``:``, ``*``;
        see :mod:`gutaxis.stats.community.formula`).
    by
        ``"terms"``: sums of squares added sequentially, first to last (type I);
        ``"margin"``: each term's sum of squares given every other term (type III), only
        for terms not contained in an interaction, as ``adonis2(by = "margin")``.
    permutations
        Number of permutations, or an ``(n_permutations, n)`` array of 0-based sample
        positions (e.g. vegan's own, to reproduce its p-values exactly).
    seed
        Seed of the permutations.
    strata
        Permute only within the levels of this column (e.g. subject, for repeated
        measures), as adonis2's ``strata``.
    blocks
        Permute whole blocks, the levels of this column, as units; blocks must be of
        equal size (``how(plots = Plots(strata = blocks))``).
    source
        Names the metadata in errors.
    progress
        Called with (permutations done, total) after each batch (with a ``backend``: once,
        at the end).
    backend
        Where the permutations are run (:mod:`gutaxis.compute`): ``None`` (default) here;
        a back-end runs batches of permutation rows as separate tasks (on a Dask cluster:
        on its workers, the centred distance matrix sent once). The permutations are drawn
        here, before the batches, and every task splits its rows at the same batch
        boundaries as a local run: F, the permuted F and the p-values are those of the
        local run, bit for bit (``tests/stats/community/test_permanova_backend.py``).

    Returns
    -------
    PermanovaResults

    Notes
    -----
    With :math:`A = -D^{\\circ 2}/2` and :math:`G = (I - J/n) A (I - J/n)` (Gower's centred
    matrix), the sum of squares explained by a set of centred model columns with
    orthonormal basis :math:`Q` is :math:`\\operatorname{tr}(Q^\\top G Q)`, the total
    :math:`\\operatorname{tr}(G)` and, for a term with :math:`q` degrees of freedom, the
    pseudo-:math:`F = (SS_t / q) / (SS_{res} / (n - p - 1))` (McArdle and Anderson 2001).
    The sums of squares are taken from :math:`G` directly, negative eigenvalues included,
    as adonis2 does. A permutation :math:`\\pi` acts as :math:`G_{\\pi\\pi}`; rather than
    permute :math:`G`, the rows of :math:`Q` are permuted by :math:`\\pi^{-1}`, for a batch
    of permutations at once, so that one matrix product :math:`G [Q_{\\pi_1} \\dots
    Q_{\\pi_B}]` (BLAS, multi-threaded) gives every permuted trace. The p-value is
    :math:`(\\#\\{F^* \\ge F - \\epsilon\\} + 1) / (B + 1)`, :math:`\\epsilon =
    \\sqrt{\\text{machine eps}}`, as vegan. F, R² and the sums of squares equal vegan
    2.6-4's ``adonis2`` to 1e-10 (``tests/reference/vegan``).

    A :class:`~gutaxis.gut.distance_store.StoredDistances` is never loaded: the traces come
    from :math:`q^\\top G q = -\\tfrac12 q^\\top D^{\\circ 2} q` (the basis columns sum to
    zero) summed over the store's row bands, one task per band evaluating every
    permutation on it (:mod:`gutaxis.stats.community.stored_traces`); one pass over the
    store. Same permutations as in memory; the sums of squares equal the in-memory
    run's to floating-point reassociation (about 1e-15 of the total sum of squares), so
    F to 3e-15 relative on the fibromyalgia cohort (tested at 1e-12) and 2e-12 at
    n = 3,000 for a term with R² = 1e-4; p-values equal unless a permuted F lies within
    that of the observed one minus vegan's tolerance.
    Memory per task: one band of the store, the permutations (int32) and one batch of
    permuted basis (``BATCH_ELEMENTS`` float64); nothing ``n x n``.

    References
    ----------
    .. [1] Anderson MJ (2001). A new method for non-parametric multivariate analysis of
       variance. Austral Ecology 26:32-46.
    .. [2] McArdle BH, Anderson MJ (2001). Fitting multivariate models to community data:
       a comment on distance-based redundancy analysis. Ecology 82:290-297.
    .. [3] Oksanen J et al. vegan: Community Ecology Package, ``adonis2``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from gutaxis.data.distance import DistanceMatrix
    >>> x = np.array([0.0, 0.1, 0.2, 1.0, 1.1, 1.3])
    >>> dm = DistanceMatrix(list("abcdef"), np.abs(x[:, None] - x[None, :]))
    >>> meta = pd.DataFrame({"group": list("xxxyyy")}, index=list("abcdef"))
    >>> res = permanova(dm, meta, formula="group", permutations=99, seed=1)
    >>> round(float(res.table.loc[0, "r2"]), 4)
    0.96
    """
    if by not in ("terms", "margin"):
        raise InputError("unknown kind of sums of squares", field="by", found=by,
                         expected="terms or margin")
    terms = parse_formula(formula)
    frame_columns = [v for t in terms for v in t.variables]
    restrict = [c for c in (strata, blocks) if c is not None]
    used = None
    if isinstance(distances, StoredDistances):
        rows, used, dropped = aligned_rows(distances.ids, metadata, frame_columns + restrict,
                                           source=source)
        metric: str | None = distances.metric
    else:
        dm, rows, dropped = aligned_samples(distances, metadata, frame_columns + restrict,
                                            source=source)
        metric = dm.metric
    model = model_frame(rows, terms, source=source)
    n = len(rows)
    tested = _tested_terms(terms, by)
    sets, df, rank = _basis_sets(model.blocks, [terms.index(t) for t in tested], by, n)
    df_res = n - 1 - rank
    if df_res < 1:
        raise InputError("more model columns than samples allow", source=source,
                         field="formula", found=f"{rank} model columns for {n} samples",
                         expected="fewer model columns than samples minus one")
    perms = _permutations(permutations, n, rows, seed=seed, strata=strata, blocks=blocks,
                          source=source)
    basis = np.hstack(sets)
    membership = np.zeros((basis.shape[1], len(sets)))
    start = np.cumsum([0] + [b.shape[1] for b in sets])
    for k in range(len(sets)):
        membership[start[k]:start[k + 1], k] = 1.0
    batch = max(1, BATCH_ELEMENTS // max(1, n * basis.shape[1]))
    if isinstance(distances, StoredDistances):
        traces = stored_traces(distances, basis, perms, used=used, batch=batch,
                               backend=backend)
        total = traces.total
        ss_obs, f_obs, res_obs = _statistics(traces.observed[None, :] @ membership, total,
                                             df, df_res, by)
        f_perm = _statistics(traces.permuted @ membership, total, df, df_res, by)[1]
        if progress is not None:
            progress(perms.shape[0], perms.shape[0])
    else:
        gower = gower_centred(dm)
        total = float(np.trace(gower))
        identity = np.arange(n)[None, :]
        ss_obs, f_obs, res_obs = _statistics(_set_traces(gower, basis, identity) @ membership,
                                             total, df, df_res, by)
        statistic = _Model(basis, membership, total, df, df_res, by)
        if backend is None:
            f_perm = _permuted_f(perms, gower, statistic, batch=batch, progress=progress)
        else:
            f_perm = _permuted_f_on(backend, perms, gower, statistic, batch=batch)
            if progress is not None:
                progress(perms.shape[0], perms.shape[0])
    table = _table([t.label for t in tested], df, ss_obs[0], f_obs[0],
                   permutation_pvalues(f_obs[0], f_perm), residual=float(res_obs[0]),
                   total=total, df_res=df_res, n=n)
    return PermanovaResults(
        table=table, formula=formula, by=by, n=n, permutations=perms.shape[0],
        seed=None if isinstance(permutations, np.ndarray) else seed, strata=strata,
        blocks=blocks, metric=metric, f_permuted=f_perm,
        notes=dropped_note(dropped, frame_columns + restrict))


@dataclass(frozen=True)
class _Model:
    """What a permuted pseudo-F needs besides the Gower matrix and the permutations."""

    basis: np.ndarray
    membership: np.ndarray
    total: float
    df: np.ndarray
    df_res: int
    by: SumsOfSquares

    def f(self, gower: np.ndarray, perms: np.ndarray) -> np.ndarray:
        traces = _set_traces(gower, self.basis, perms) @ self.membership
        return _statistics(traces, self.total, self.df, self.df_res, self.by)[1]


def _permuted_f(perms: np.ndarray, gower: np.ndarray, model: _Model, *, batch: int,
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """``(rows of perms, tested terms)`` permuted pseudo-F, ``batch`` rows at a time."""
    return permuted_statistics(perms, lambda rows: model.f(gower, rows),
                               width=model.df.size, batch=batch, progress=progress)


def _permuted_f_on(backend: Backend, perms: np.ndarray, gower: np.ndarray, model: _Model, *,
                   batch: int) -> np.ndarray:
    """:func:`_permuted_f` by tasks of whole batches on ``backend``."""
    if perms.shape[0] == 0:
        return np.empty((0, model.df.size))
    parts = map_row_batches(backend, _batch_f, perms, backend.share(gower), model,
                            batch=batch, step="PERMANOVA permutations")
    return np.vstack(parts)


def _batch_f(perms: np.ndarray, gower: np.ndarray, model: _Model) -> np.ndarray:
    """One batch of permuted pseudo-F (a task of :func:`_permuted_f_on`)."""
    return model.f(gower, perms).reshape(perms.shape[0], model.df.size)


def _tested_terms(terms: tuple[ModelTerm, ...], by: SumsOfSquares) -> list[ModelTerm]:
    """Every term (by terms), or those in no interaction (vegan's ``drop.scope``)."""
    if by == "terms":
        return list(terms)
    return [t for t in terms if not any(set(t.variables) < set(o.variables) for o in terms)]


def _basis_sets(blocks: tuple[np.ndarray, ...], positions: list[int], by: SumsOfSquares,
                n: int) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Orthonormal column sets whose traces give the statistics, each test's df and the
    full model's rank.

    By terms: one set per term (sequentially orthogonalised). By margin: the full model's
    basis, then each reduced model's (the full model without the tested term at
    ``positions[k]``).
    """
    sequential = _orthonormal_terms(blocks, n)
    rank = sum(b.shape[1] for b in sequential)
    if by == "terms":
        return sequential, np.array([b.shape[1] for b in sequential], dtype=np.float64), rank
    sets = [np.hstack(sequential)]
    for i in positions:
        others = tuple(b for j, b in enumerate(blocks) if j != i)
        sets.append(np.hstack([np.empty((n, 0)), *_orthonormal_terms(others, n)]))
    return sets, np.array([rank - b.shape[1] for b in sets[1:]], dtype=np.float64), rank


def _orthonormal_terms(blocks: tuple[np.ndarray, ...], n: int) -> list[np.ndarray]:
    """Per term, an orthonormal basis of its centred columns orthogonal to earlier terms
    (Gram-Schmidt by blocks, twice for accuracy); aliased columns add nothing."""
    done = np.empty((n, 0))
    out = []
    for block in blocks:
        x = block - block.mean(axis=0)
        scale = float(np.sqrt((x**2).sum(axis=0)).max(initial=0.0))
        for _ in range(2):
            x = x - done @ (done.T @ x)
        if scale == 0 or x.shape[1] == 0:
            out.append(np.empty((n, 0)))
            continue
        q, r, _ = sla.qr(x, mode="economic", pivoting=True)
        rank = int(np.sum(np.abs(np.diag(r)) > RANK_TOL * scale))
        q = q[:, :rank]
        q = q - done @ (done.T @ q)
        q, _ = np.linalg.qr(q)
        out.append(q)
        done = np.hstack([done, q])
    return out


def _set_traces(gower: np.ndarray, basis: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """``(B, k)``: ``q_j' G[p][:, p] q_j`` for each permutation ``p`` and basis column."""
    n, k = basis.shape
    count = perms.shape[0]
    # row m of the permuted basis is row i of Q where p[i] = m: the inverse permutation
    # (an integer scatter), then one gather of Q, laid out (n, B, k) for the product
    inverse = np.empty_like(perms)
    np.put_along_axis(inverse, perms, np.arange(n)[None, :], axis=1)
    stacked = basis[inverse.T]
    flat = stacked.reshape(n, count * k)
    product = gower @ flat
    return np.einsum("ij,ij->j", product, flat).reshape(count, k)


def _statistics(traces: np.ndarray, total: float, df: np.ndarray, df_res: int,
                by: SumsOfSquares) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums of squares and pseudo-F of each tested term, and the residual sum of squares,
    per permutation row."""
    if by == "terms":
        ss = traces
        residual = total - traces.sum(axis=1)
    else:
        ss = traces[:, :1] - traces[:, 1:]
        residual = total - traces[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (ss / df[None, :]) / (residual / df_res)[:, None]
    return ss, f, residual


def _permutations(permutations: int | np.ndarray, n: int, rows: pd.DataFrame, *, seed: int,
                  strata: str | None, blocks: str | None, source: str | None) -> np.ndarray:
    given = isinstance(permutations, np.ndarray)
    codes_strata = None if strata is None or given else restriction_codes(
        rows[strata], column=strata, role="strata", source=source)
    codes_blocks = None if blocks is None or given else restriction_codes(
        rows[blocks], column=blocks, role="blocks", source=source, equal_sizes=True)
    return permutations_for(permutations, n, seed=seed, strata=codes_strata,
                            blocks=codes_blocks)


def _table(labels: list[str], df: np.ndarray, ss: np.ndarray, f: np.ndarray,
           pval: np.ndarray, *, residual: float, total: float, df_res: int, n: int
           ) -> pd.DataFrame:
    """adonis2's table: the tested terms, ``Residual`` and ``Total``."""
    return pd.DataFrame({
        "term": [*labels, "Residual", "Total"],
        "df": np.r_[df, df_res, n - 1].astype(np.int64),
        "sum_of_squares": np.r_[ss, residual, total],
        "r2": np.r_[ss, residual, total] / total,
        "f": np.r_[f, np.nan, np.nan],
        "pval": np.r_[pval, np.nan, np.nan],
    }, columns=list(COLUMNS))

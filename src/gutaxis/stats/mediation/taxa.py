"""Every taxon as a candidate mediator: which microbes carry the exposure's effect?

For each taxon ``j`` (transformed abundance ``M_j``): ``M_j ~ T + C`` (a path) and
``Y ~ T + M_j + C`` (b path), linear. All taxa share the a-path design, so one solve
gives every a path; the b path of taxon ``j`` follows from the residuals of ``Y`` and of
``M_j`` on ``[1, T, C]`` (Frisch-Waugh-Lovell):
:math:`b_j = \\sum_i w_i r^M_{ij} r^Y_i / \\sum_i w_i (r^M_{ij})^2` and
:math:`c'_j = c - b_j a_j` with ``c`` the exposure's coefficient in ``Y ~ T + C``. The
bootstrap refits every taxon under each replicate's row counts as arrays
``(replicates, samples, taxa)`` in batches, with no loop per replicate or per taxon.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.compute import Backend
from gutaxis.compute.batches import map_row_batches
from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.data.transforms import DEFAULT_CLR_PSEUDOCOUNT
from gutaxis.errors import InputError
from gutaxis.stats.mediation._fit import gram_inverse
from gutaxis.stats.mediation.data import MediationData, mediation_data
from gutaxis.stats.mediation.effects import BASE_EFFECTS
from gutaxis.stats.mediation.intervals import percentile_interval, replicate_pvalue
from gutaxis.stats.mediation.mediate import bootstrap_weights
from gutaxis.stats.mediation.results import TAXA_COLUMNS, TaxaMediationResults
from gutaxis.stats.multitest import adjust_pvalues

TaxaTransform = Literal["clr", "log_tss"]
Progress = Callable[[int, int], None]

#: Memory budget (float64 cells) of one bootstrap batch's (replicates, samples, taxa) array.
CELLS_PER_BATCH = 4_000_000


def taxa_values(table: ProfileTable, *, rank: str | None, min_prevalence: float,
                transform: TaxaTransform) -> tuple[np.ndarray, list[str], str]:
    """Transformed abundances of the prevalent taxa: ``(n, J)``, their ids, a description.

    The transform is computed on every feature (after aggregation to ``rank``), then the
    features present (> 0) in at least ``min_prevalence`` of the samples are kept.
    """
    if rank is not None:
        table = table.aggregate(rank)
    keep = table.filter_features(min_prevalence=min_prevalence).feature_ids
    if transform == "clr":
        values = table.clr().dense()
        how = f"CLR (pseudocount {DEFAULT_CLR_PSEUDOCOUNT:g})"
    elif transform == "log_tss":
        rel = table.relative().dense()
        floor = rel[rel > 0].min() / 2 if (rel > 0).any() else 1.0
        values = np.log(rel + floor)
        how = f"log of relative abundance + {floor:.3g} (half the smallest nonzero)"
    else:
        raise InputError("unknown taxa transform", field="transform", found=transform,
                         expected="clr or log_tss")
    position = {f: i for i, f in enumerate(table.feature_ids)}
    columns = [position[f] for f in keep]
    level = f"{rank}-level" if rank else "feature-level"
    return (values[:, columns], [str(f) for f in keep],
            f"{how} of {level} abundances, prevalence >= {min_prevalence:g}")


def _path_estimates(weights: np.ndarray, X: np.ndarray, M: np.ndarray, y: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """a, b, c' and the total effect's coefficient for every taxon: ``(R, J)`` each
    (total ``(R,)``), plus what the path t-tests need."""
    inv = gram_inverse(weights, X)                                          # (R, p, p)
    alpha = inv @ np.einsum("rn,np,nj->rpj", weights, X, M, optimize=True)  # (R, p, J)
    gamma = np.einsum("rpq,rq->rp", inv, np.einsum("rn,np,n->rp", weights, X, y))
    r_m = M[None] - np.einsum("np,rpj->rnj", X, alpha, optimize=True)      # (R, n, J)
    r_y = y[None] - gamma @ X.T                                            # (R, n)
    wy = weights * r_y
    smm = np.einsum("rn,rnj->rj", weights, r_m**2)
    smy = np.einsum("rn,rnj->rj", wy, r_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = smy / smm
    a = alpha[:, 1, :]
    return {"a": a, "b": b, "c": gamma[:, 1], "smm": smm,
            "syy": np.sum(wy * r_y, axis=1), "inv11": inv[:, 1, 1]}


def _effects(paths: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    acme = dt * paths["a"] * paths["b"]
    total = np.broadcast_to(dt * paths["c"][:, None], acme.shape)
    ade = total - acme
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = acme / total
    values = {"acme": acme, "ade": ade, "total": total, "prop_mediated": prop}
    return {name: values[name.replace("_control", "").replace("_treated", "")]
            for name in BASE_EFFECTS}


def _path_tests(paths: dict[str, np.ndarray], n: int, p: int) -> dict[str, np.ndarray]:
    """Two-sided t-test p-values of a (``M_j ~ T + C``) and b (``Y ~ T + M_j + C``)."""
    a, b = paths["a"][0], paths["b"][0]
    se_a = np.sqrt(paths["smm"][0] / (n - p) * paths["inv11"][0])
    rss_y = paths["syy"][0] - b**2 * paths["smm"][0]
    se_b = np.sqrt(rss_y / (n - p - 1) / paths["smm"][0])
    p_a = 2 * stats.t.sf(np.abs(a / se_a), n - p)
    p_b = 2 * stats.t.sf(np.abs(b / se_b), n - p - 1)
    return {"a": a, "p_a": p_a, "b": b, "p_b": p_b, "p_joint": np.maximum(p_a, p_b)}


def _bootstrap(data: MediationData, X: np.ndarray, M: np.ndarray, *, n_draws: int,
               rng: np.random.Generator, progress: Progress | None,
               backend: Backend | None = None) -> dict[str, np.ndarray]:
    weights = bootstrap_weights(data.n, n_draws, rng)
    batch = max(1, CELLS_PER_BATCH // (data.n * M.shape[1]))
    parts: list[dict[str, np.ndarray]] = []
    dt = data.treated - data.control
    if backend is None:
        for start in range(0, n_draws, batch):
            parts.append(_replicate_effects(weights[start:start + batch], X, M,
                                            data.outcome, dt))
            if progress is not None:
                progress(min(start + batch, n_draws), n_draws)
    else:
        parts = map_row_batches(backend, _replicate_effects, weights, X, backend.share(M),
                                data.outcome, dt, batch=batch,
                                step="taxon mediation bootstrap")
        if progress is not None:
            progress(n_draws, n_draws)
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _replicate_effects(weights: np.ndarray, X: np.ndarray, M: np.ndarray, y: np.ndarray,
                       dt: float) -> dict[str, np.ndarray]:
    """Every taxon's effects under the bootstrap replicates ``weights`` (``(R, n)``)."""
    return _effects(_path_estimates(weights, X, M, y), dt)


def mediate_taxa(cohort: Cohort, *, exposure: str, outcome: str,
                 covariates: Sequence[str] = (), rank: str | None = None,
                 min_prevalence: float = 0.1, transform: TaxaTransform = "clr",
                 treated: str | None = None, outcome_codes: Mapping[str, float] | None = None,
                 n_draws: int = 2000, level: float = 0.95, fdr: float = 0.1,
                 seed: int | None = None, progress: Progress | None = None,
                 backend: Backend | None = None
                 ) -> TaxaMediationResults:
    """Mediation through each taxon of the cohort's table, with FDR over the taxa.

    Parameters
    ----------
    cohort
        Table and metadata (exposure, outcome and covariate columns).
    exposure, outcome, covariates
        Metadata columns (as :func:`gutaxis.stats.mediation.mediate`); the outcome is
        modelled linearly.
    rank
        Aggregate the table to this rank first (e.g. ``"genus"``).
    min_prevalence
        Keep taxa present in at least this fraction of the samples.
    transform
        ``"clr"`` (centred log-ratio, pseudocount) or ``"log_tss"``.
    treated, outcome_codes
        As :func:`gutaxis.stats.mediation.mediate`.
    n_draws
        Bootstrap replicates (percentile intervals; 0 for none).
    level
        Confidence level.
    fdr
        False discovery rate at which taxa are counted as passing.
    seed
        Seed of the bootstrap.
    progress
        Called with ``(done, total)`` after each bootstrap batch (with a ``backend``:
        once, at the end).
    backend
        Where the bootstrap runs (:mod:`gutaxis.compute`): ``None`` (default) here; a
        back-end runs whole batches of replicates as tasks (the taxa values sent once),
        drawn here first and cut at the same batches: the same intervals as a local run
        with the same ``seed``.

    Returns
    -------
    TaxaMediationResults

    Notes
    -----
    The indirect effect of taxon ``j`` is :math:`a_j b_j` (the exposure's coefficient in
    ``M_j ~ T + C`` times the taxon's in ``Y ~ T + M_j + C``). Its test is the
    joint-significance test: :math:`p_j = \\max(p_{a_j}, p_{b_j})` from the two t-tests,
    adjusted over taxa by Benjamini-Hochberg (MacKinnon et al. 2002; used for
    high-dimensional mediation by e.g. Zhang et al. 2016, HIMA, and Dai et al. 2022,
    HDMT, whose mixture null is less conservative). Each taxon is its own single-mediator
    model, so the effects of correlated taxa overlap and do not add up.

    References
    ----------
    MacKinnon DP et al. (2002). A comparison of methods to test mediation and other
    intervening variable effects. Psychological Methods 7:83-104.
    """
    # the taxa come from the table: a stand-in mediator column (row positions) tells
    # which samples the checks keep
    meta = cohort.metadata.assign(__taxon__=np.arange(len(cohort.metadata), dtype=float))
    data = mediation_data(meta, exposure=exposure, mediators=["__taxon__"], outcome=outcome,
                          covariates=covariates, treated=treated,
                          outcome_codes=outcome_codes, outcome_type="continuous",
                          mediator_type="continuous", source=cohort.source)
    values, names, how = taxa_values(cohort.table, rank=rank, min_prevalence=min_prevalence,
                                     transform=transform)
    if not names:
        raise InputError("no taxon passes the prevalence filter", field="min_prevalence",
                         found=min_prevalence, expected="a lower prevalence")
    M = values[data.mediators[:, 0].astype(int)]
    varied = M.std(axis=0) > 0
    M, names = M[:, varied], [n for n, v in zip(names, varied, strict=True) if v]
    X = np.column_stack([np.ones(data.n), data.exposure, data.covariates])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError("the exposure and covariates are collinear", field="covariates",
                         expected="predictors that are not linear combinations")
    point = _path_estimates(np.ones((1, data.n)), X, M, data.outcome)
    estimates = _effects(point, data.treated - data.control)
    tests = _path_tests(point, data.n, X.shape[1])
    tests["qval"] = adjust_pvalues(tests["p_joint"], method="BH")
    rng = np.random.default_rng(seed)
    reps = (_bootstrap(data, X, M, n_draws=n_draws, rng=rng, progress=progress,
                       backend=backend)
            if n_draws > 0 else None)
    frames = []
    for name, est in estimates.items():
        est = est[0]
        if reps is None:
            low = high = np.full(est.shape, np.nan)
            p = np.full(est.shape, np.nan)
        else:
            low, high = percentile_interval(reps[name], level=level)
            p = replicate_pvalue(reps[name], est)
        if name == "acme":
            p = tests["p_joint"]
        q = tests["qval"] if name == "acme" else adjust_pvalues(p, method="BH")
        frames.append(pd.DataFrame({"mediator": names, "effect": name, "estimate": est,
                                    "ci_low": low, "ci_high": high, "pval": p, "qval": q,
                                    "_order": np.arange(len(names))}))
    table = pd.concat(frames, ignore_index=True)
    table["_effect"] = table["effect"].map({e: i for i, e in enumerate(estimates)})
    table = table.sort_values(["_order", "_effect"], kind="stable").loc[:, list(TAXA_COLUMNS)]
    paths = pd.DataFrame({"mediator": names, **tests})
    return TaxaMediationResults(
        effects=table.reset_index(drop=True), paths=paths, exposure=exposure, outcome=outcome,
        covariates=data.covariate_names, treated=data.treated_label,
        control=data.control_label, transform=how, n_draws=n_draws, level=level, seed=seed,
        n=data.n, fdr=fdr, notes=data.notes)

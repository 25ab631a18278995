"""``classify``: predict a binary phenotype from the gut profile, honestly.

The engine behind ``gutaxis classify``; scikit-learn is imported when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, get_args

import numpy as np
import pandas as pd

from gutaxis.choices import ClassifierModel
from gutaxis.compute import Backend
from gutaxis.compute.batches import map_row_batches
from gutaxis.data import Cohort
from gutaxis.errors import InputError
from gutaxis.stats.classify.metrics import (
    auprc,
    auroc,
    brier_score,
    calibration_table,
    permutation_pvalue,
    spread_interval,
)
from gutaxis.stats.classify.outcome import ClassifierInputs, classifier_inputs
from gutaxis.stats.classify.results import (
    IMPORTANCE_COLUMNS,
    PERFORMANCE_COLUMNS,
    ClassifierResults,
    ClassifySpec,
)

#: Progress callback: ``(stage, done, total)`` with stage ``"repeats"`` or ``"permutations"``.
Progress = Callable[[str, int, int], None]


def classify(
    cohort: Cohort,
    outcome: str,
    *,
    positive: str | None = None,
    covariates: Sequence[str] = (),
    model: ClassifierModel = "lasso",
    folds: int = 5,
    repeats: int = 10,
    inner_folds: int = 3,
    seed: int = 0,
    permutations: int = 0,
    permutation_repeats: int | None = None,
    transform: Literal["log", "clr"] = "log",
    min_prevalence: float = 0.1,
    top_k: int = 20,
    n_jobs: int = 1,
    progress: Progress | None = None,
    backend: Backend | None = None,
) -> ClassifierResults:
    """Cross-validated prediction of a binary outcome from the gut profile.

    Nested cross-validation, repeated: outer folds grouped by subject and stratified by
    class (:class:`~sklearn.model_selection.StratifiedGroupKFold`, reshuffled each
    repeat); in every outer training part the whole pipeline (prevalence filter,
    pseudocount and log-ratio, scaling, model) is tuned by an inner grouped
    cross-validation (AUROC) and refitted, then scores the outer test fold. Nothing is
    learnt from a sample that is then scored.

    Parameters
    ----------
    cohort
        Table (counts or relative abundances) and metadata; its ``subject_column`` groups
        the folds (each sample is its own subject when it has none).
    outcome
        Metadata column of the phenotype; samples without a value are left out.
    positive
        Which values are the positive class (see :mod:`gutaxis.stats.classify.outcome`):
        ``None`` for a two-valued column (the larger value), levels comma-separated, or a
        threshold such as ``">=4"`` on a numeric column.
    covariates
        Metadata columns added to the features (scaled; categorical ones as indicators).
    model
        ``"lasso"`` (L1 logistic, C tuned), ``"enet"`` (elastic-net logistic, C and
        l1_ratio tuned) or ``"rf"`` (random forest of 200 trees, leaf size tuned).
    folds, repeats, inner_folds
        Outer folds, repeats of the outer split, inner tuning folds.
    seed
        Seed of the splits, the models and the permutations.
    permutations
        Subject-level permutations of the outcome, each rerunning the whole nested
        cross-validation; 0 for none.
    permutation_repeats
        Repeats run for each permutation (default: ``repeats``). The test statistic is
        the mean AUROC of the first ``permutation_repeats`` repeats, which share their
        seeds with the permutations' repeats, so fewer make a cheaper test that is as
        valid (its statistic is a little noisier).
    transform
        ``"log"`` (log of relative abundance) or ``"clr"`` (centred log-ratio), both with
        a pseudocount of half the smallest nonzero training value.
    min_prevalence
        Keep features present in at least this fraction of the training samples.
    top_k
        The k of ``top_fraction`` in the importance table.
    n_jobs
        Processes for the permutations and trees of the random forest (at most 2 is
        polite on a shared machine).
    progress
        Called as ``progress(stage, done, total)`` (with a ``backend``, each stage
        once, at its end).
    backend
        Where the repeats and the permutations run (:mod:`gutaxis.compute`): ``None``
        (default) here (``n_jobs`` processes for the permutations); a back-end runs each
        repeat of the real outcome's nested cross-validation, and groups of permutations,
        as tasks, each task one process (the inputs sent once). Each repeat depends only
        on its seed, and the permuted outcomes are drawn here first: the predictions,
        the null AUROCs and the p-value are those of a local run with the same ``seed``.

    Returns
    -------
    ClassifierResults

    Notes
    -----
    AUROC (Mann-Whitney), AUPRC (average precision) and Brier score are computed on the
    pooled out-of-fold predictions of each repeat; the estimate is their mean over
    repeats and the interval their 2.5-97.5% quantiles over repeats (variation of the
    split, not a confidence interval for a new cohort). The permutation p-value of the
    mean AUROC is :math:`(b + 1) / (B + 1)`.

    References
    ----------
    Varma S, Simon R (2006). Bias in error estimation when using cross-validation for
    model selection. BMC Bioinformatics 7:91.
    Ojala M, Garriga GC (2010). Permutation tests for studying classifier performance.
    JMLR 11:1833-1863.
    """
    _check_settings(model=model, folds=folds, repeats=repeats, inner_folds=inner_folds,
                    permutations=permutations, transform=transform,
                    permutation_repeats=permutation_repeats,
                    min_prevalence=min_prevalence, top_k=top_k, n_jobs=n_jobs)
    from gutaxis.stats.classify.nested import CrossValidationPlan, nested_cv, permuted_outcomes

    data = classifier_inputs(cohort, outcome, positive=positive, covariates=covariates,
                             folds=folds, need_subject_outcomes=permutations > 0)
    plan = CrossValidationPlan(model=model, n_features=len(data.feature_names),
                               n_covariates=len(data.covariate_names), folds=folds,
                               repeats=repeats, inner_folds=inner_folds, transform=transform,
                               min_prevalence=min_prevalence, seed=seed, n_jobs=n_jobs)
    done = {"repeats": 0, "permutations": 0}

    def step(stage: str, total: int) -> Callable[[int], None]:
        def advance(k: int) -> None:
            done[stage] += k
            if progress is not None:
                progress(stage, done[stage], total)
        return advance

    run = nested_cv(data.X, data.y, data.subjects, plan, progress=step("repeats", repeats),
                    backend=backend)
    null = np.full(permutations, np.nan)
    test_repeats = repeats if permutation_repeats is None else permutation_repeats
    if permutations:
        shuffled = permuted_outcomes(data.y, data.subjects, permutations=permutations,
                                     seed=seed)
        test_plan = replace(plan, repeats=test_repeats)
        if backend is None:
            null = _null_aurocs(data, test_plan, shuffled, n_jobs=n_jobs,
                                advance=step("permutations", permutations))
        else:
            null = np.array(map_row_batches(
                backend, _null_of_rows, shuffled, backend.share(data),
                replace(test_plan, n_jobs=1), batch=1, step="classifier permutations"))
            step("permutations", permutations)(permutations)
    notes = list(data.notes)
    if run.convergence_warnings:
        notes.append(f"{run.convergence_warnings} fit(s) stopped at the iteration limit")
    return _results(data, plan, run, null, top_k=top_k, outcome=outcome,
                    permutations=permutations, test_repeats=test_repeats,
                    notes=tuple(notes))


def _check_settings(*, model: str, folds: int, repeats: int, inner_folds: int,
                    permutations: int, transform: str, min_prevalence: float, top_k: int,
                    n_jobs: int, permutation_repeats: int | None) -> None:
    if model not in get_args(ClassifierModel):
        raise InputError("unknown classifier", field="model", found=model,
                         expected=" or ".join(get_args(ClassifierModel)))
    if transform not in ("log", "clr"):
        raise InputError("unknown transform", field="transform", found=transform,
                         expected="log or clr")
    for name, value, least in (("folds", folds, 2), ("inner_folds", inner_folds, 2),
                               ("repeats", repeats, 1), ("permutations", permutations, 0),
                               ("top_k", top_k, 1), ("n_jobs", n_jobs, 1),
                               ("permutation_repeats", permutation_repeats or 1, 1)):
        if int(value) != value or value < least:
            raise InputError(f"{name} must be a whole number >= {least}", field=name,
                             found=value, expected=f"an integer >= {least}")
    if permutation_repeats is not None and permutation_repeats > repeats:
        raise InputError("permutation_repeats cannot exceed repeats",
                         field="permutation_repeats", found=permutation_repeats,
                         expected=f"at most {repeats}")
    if not 0.0 <= min_prevalence <= 1.0:
        raise InputError("min_prevalence is a fraction", field="min_prevalence",
                         found=min_prevalence, expected="a number in [0, 1]")


def _one_null(data: ClassifierInputs, plan: object, y: np.ndarray) -> float:
    from gutaxis.stats.classify.nested import CrossValidationPlan, nested_cv

    assert isinstance(plan, CrossValidationPlan)
    run = nested_cv(data.X, y, data.subjects, plan, importance=False)
    return float(np.mean(auroc(y, run.probability)))


def _null_of_rows(rows: np.ndarray, data: ClassifierInputs, plan: object) -> float:
    """The null AUROC of one permuted outcome (``rows`` holds it; a back-end task)."""
    return _one_null(data, plan, rows[0])


def _null_aurocs(data: ClassifierInputs, plan: object, shuffled: np.ndarray, *,
                 n_jobs: int, advance: Callable[[int], None]) -> np.ndarray:
    """Mean AUROC of the nested cross-validation of each permuted outcome."""
    if n_jobs == 1:
        values: list[float] = []
        for y in shuffled:
            values.append(_one_null(data, plan, y))
            advance(1)
        return np.array(values)
    from joblib import Parallel, delayed

    serial = replace(plan, n_jobs=1)  # type: ignore[type-var]
    for value in Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_one_null)(data, serial, y) for y in shuffled):
        values.append(value)
        advance(1)
    return np.array(values)


def _results(data: ClassifierInputs, plan: object, run: object, null: np.ndarray, *,
             top_k: int, outcome: str, permutations: int, test_repeats: int,
             notes: tuple[str, ...]) -> ClassifierResults:
    from gutaxis.stats.classify.nested import CrossValidationPlan, NestedRun

    assert isinstance(plan, CrossValidationPlan) and isinstance(run, NestedRun)
    y, p = data.y, run.probability
    per_repeat = pd.DataFrame({"repeat": np.arange(plan.repeats), "auroc": auroc(y, p),
                               "auprc": auprc(y, p), "brier": brier_score(y, p)})
    prevalence = float(y.mean())
    chance = {"auroc": 0.5, "auprc": prevalence, "brier": prevalence * (1 - prevalence)}
    rows = []
    for metric in ("auroc", "auprc", "brier"):
        low, high = spread_interval(per_repeat[metric].to_numpy())
        statistic = float(per_repeat["auroc"].to_numpy()[:test_repeats].mean())
        pval = (permutation_pvalue(null, statistic)
                if metric == "auroc" and permutations else np.nan)
        rows.append((metric, float(per_repeat[metric].mean()), low, high, chance[metric],
                     pval, permutations if metric == "auroc" else 0))
    performance = pd.DataFrame(rows, columns=list(PERFORMANCE_COLUMNS))
    n, r = p.shape
    predictions = pd.DataFrame({
        "sample_id": np.tile(data.sample_ids, r), "subject": np.tile(data.subjects, r),
        "repeat": np.repeat(np.arange(r), n), "fold": run.fold.T.ravel(),
        "observed": np.tile(y.astype(int), r), "probability": p.T.ravel()})
    spec = ClassifySpec(
        outcome=outcome, positive=data.positive, model=plan.model, transform=plan.transform,
        covariates=data.covariate_names, folds=plan.folds, repeats=plan.repeats,
        inner_folds=plan.inner_folds, seed=plan.seed, permutations=permutations,
        min_prevalence=plan.min_prevalence, top_k=top_k, n_samples=n,
        permutation_repeats=test_repeats,
        n_subjects=len(np.unique(data.subjects)), n_positive=int(y.sum()),
        n_features=len(data.feature_names))
    return ClassifierResults(
        spec=spec, performance=performance, per_repeat=per_repeat, predictions=predictions,
        importance=importance_table(run.importance, data.feature_names, data.covariate_names,
                                    top_k=top_k),
        calibration=calibration_table(np.tile(y, r), p.T.ravel()), null_auroc=null,
        notes=notes)


def importance_table(importance: np.ndarray, features: Sequence[str],
                     covariates: Sequence[str], *, top_k: int) -> pd.DataFrame:
    """Summary over outer fits of each column's importance (see
    :class:`ClassifierResults`); vectorised over fits and columns."""
    magnitude = np.abs(importance)
    order = np.argsort(-magnitude, axis=1, kind="stable")
    top = np.zeros_like(magnitude, dtype=bool)
    np.put_along_axis(top, order[:, :top_k], True, axis=1)
    top &= magnitude > 0
    frame = pd.DataFrame({
        "feature": [*features, *covariates],
        "kind": ["feature"] * len(features) + ["covariate"] * len(covariates),
        "importance": importance.mean(axis=0),
        "importance_sd": importance.std(axis=0, ddof=1) if len(importance) > 1 else np.nan,
        "abs_importance": magnitude.mean(axis=0),
        "selected_fraction": (magnitude > 0).mean(axis=0),
        "top_fraction": top.mean(axis=0)})
    frame = frame[frame["selected_fraction"] > 0].sort_values(
        ["abs_importance", "selected_fraction"], ascending=False, kind="stable")
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame.reset_index(drop=True)[list(IMPORTANCE_COLUMNS)]

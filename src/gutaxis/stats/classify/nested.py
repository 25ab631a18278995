"""Nested cross-validation of one classifier pipeline, repeated over seeds.

Outer loop: :class:`~sklearn.model_selection.StratifiedGroupKFold` (folds grouped by
subject, classes balanced across folds), once per repeat with its own shuffle. Inner
loop: a grid search scored by AUROC (:func:`tune`: the choice
:class:`~sklearn.model_selection.GridSearchCV` makes, with the preparation fitted once per
inner split) over the same kind of grouped folds of the outer training part only. The
whole pipeline (prevalence filter, log-ratio, scaling, model; :mod:`.steps`) is refitted
in every inner and outer training part, so no test sample shapes its own prediction.

This module imports scikit-learn; the package imports it when a classifier runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ParameterGrid, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from gutaxis.choices import ClassifierModel
from gutaxis.compute import Backend
from gutaxis.stats.classify.metrics import auroc
from gutaxis.stats.classify.steps import build_pipeline, fitted_importance


@dataclass(frozen=True)
class CrossValidationPlan:
    """What one nested cross-validation runs (the same for the data and every
    permutation of it)."""

    model: ClassifierModel
    n_features: int
    n_covariates: int
    folds: int
    repeats: int
    inner_folds: int
    transform: Literal["log", "clr"]
    min_prevalence: float
    seed: int
    n_jobs: int = 1

    def repeat_seeds(self) -> np.ndarray:
        """One seed per repeat (its outer and inner shuffles and the model's own seed)."""
        return np.random.default_rng(self.seed).integers(0, 2**31 - 1, size=self.repeats)


@dataclass(frozen=True)
class NestedRun:
    """Out-of-fold predictions of every repeat, and what each outer fit learnt.

    Attributes
    ----------
    probability, fold
        ``(n, repeats)``: each sample's predicted probability of class 1 when it was in
        the test fold, and that fold's number (0-based).
    importance
        ``(repeats * folds, n_features + n_covariates)``: each outer fit's importance of
        every input column (:func:`~.steps.fitted_importance`).
    best
        The tuning parameters each outer fit chose, in the same order.
    convergence_warnings
        How many fits stopped at their iteration limit.
    """

    probability: np.ndarray
    fold: np.ndarray
    importance: np.ndarray
    best: tuple[dict[str, object], ...]
    convergence_warnings: int


def nested_cv(X: np.ndarray, y: np.ndarray, groups: np.ndarray, plan: CrossValidationPlan,
              *, importance: bool = True, progress: Callable[[int], None] | None = None,
              backend: Backend | None = None) -> NestedRun:
    """Run ``plan`` on the samples ``X`` (rows) with classes ``y`` (0/1) and subjects
    ``groups``; ``progress(1)`` is called after each repeat. With a ``backend`` the
    repeats run as its tasks (one repeat each, the data sent once); each repeat depends
    only on its own seed, so the run is the same, bit for bit."""
    seeds = [int(s) for s in plan.repeat_seeds()]
    if backend is None:
        parts = []
        for repeat_seed in seeds:
            parts.append(one_repeat(repeat_seed, (X, y, groups), plan, importance=importance))
            if progress is not None:
                progress(1)
    else:
        parts = backend.map(one_repeat, seeds, backend.share((X, y, groups)), plan,
                            importance=importance, step="classifier cross-validation repeats")
        if progress is not None:
            progress(len(seeds))
    width = plan.n_features + plan.n_covariates
    importances = [row for part in parts for row in part.importance]
    stacked = np.vstack(importances) if importances else np.zeros((0, width))
    return NestedRun(np.column_stack([p.probability for p in parts]),
                     np.column_stack([p.fold for p in parts]), stacked,
                     tuple(b for p in parts for b in p.best),
                     sum(p.convergence_warnings for p in parts))


@dataclass(frozen=True)
class RepeatRun:
    """One repeat of a nested cross-validation: each sample's out-of-fold probability
    and fold, each outer fit's importances and chosen parameters, the fits that stopped
    at their iteration limit."""

    probability: np.ndarray
    fold: np.ndarray
    importance: list[np.ndarray]
    best: list[dict[str, object]]
    convergence_warnings: int


def one_repeat(repeat_seed: int, data: tuple[np.ndarray, np.ndarray, np.ndarray],
               plan: CrossValidationPlan, *, importance: bool = True) -> RepeatRun:
    """One repeat of ``plan`` (outer split, inner tuning and model seeded by
    ``repeat_seed``) on ``data`` = (X, y, groups)."""
    X, y, groups = data
    probability = np.full(len(y), np.nan)
    fold_of = np.full(len(y), -1, dtype=int)
    importances: list[np.ndarray] = []
    best: list[dict[str, object]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline, grid = build_pipeline(
            plan.model, n_features=plan.n_features, n_covariates=plan.n_covariates,
            transform=plan.transform, min_prevalence=plan.min_prevalence,
            seed=repeat_seed, n_jobs=plan.n_jobs)
        outer = StratifiedGroupKFold(plan.folds, shuffle=True, random_state=repeat_seed)
        for k, (train, test) in enumerate(outer.split(X, y, groups)):
            inner = StratifiedGroupKFold(plan.inner_folds, shuffle=True,
                                         random_state=repeat_seed + 1 + k)
            chosen = tune(pipeline, grid, X[train], y[train], groups[train], inner)
            fitted = clone(pipeline).set_params(**chosen).fit(X[train], y[train])
            probability[test] = fitted.predict_proba(X[test])[:, 1]
            fold_of[test] = k
            best.append(chosen)
            if importance:
                importances.append(fitted_importance(
                    fitted, n_features=plan.n_features, n_covariates=plan.n_covariates))
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return RepeatRun(probability, fold_of, importances, best, n_warn)


def tune(pipeline: Pipeline, grid: dict[str, list[object]], X: np.ndarray, y: np.ndarray,
         groups: np.ndarray, inner: StratifiedGroupKFold) -> dict[str, object]:
    """The grid point of best mean inner-validation AUROC (the first of equals, i.e. the
    most regularised in grid order), as :class:`~sklearn.model_selection.GridSearchCV`
    chooses it. The preparation steps are fitted once per inner training part and
    shared by every grid point, which only the model's parameters change."""
    points = list(ParameterGrid(grid))
    scores = np.zeros((inner.get_n_splits(), len(points)))
    prepare, model = pipeline.steps[0][1], pipeline.steps[-1][1]
    prefix = pipeline.steps[-1][0] + "__"
    for i, (fit, check) in enumerate(inner.split(X, y, groups)):
        prepared = clone(prepare).fit(X[fit], y[fit])
        X_fit, X_check = prepared.transform(X[fit]), prepared.transform(X[check])
        for j, point in enumerate(points):  # a handful of grid points
            options = {key.removeprefix(prefix): value for key, value in point.items()}
            fitted = clone(model).set_params(**options).fit(X_fit, y[fit])
            scores[i, j] = (auroc(y[check], fitted.predict_proba(X_check)[:, 1])
                            if 0 < y[check].sum() < len(check) else np.nan)
    mean = np.nanmean(scores, axis=0) if np.isfinite(scores).any() else np.zeros(len(points))
    return dict(points[int(np.nanargmax(np.nan_to_num(mean, nan=-np.inf)))])


def permuted_outcomes(y: np.ndarray, groups: np.ndarray, *, permutations: int,
                      seed: int) -> np.ndarray:
    """``(permutations, n)`` outcomes shuffled at subject level: each subject keeps one
    outcome for all its samples, drawn without replacement from the subjects' outcomes.
    ``y`` must be constant within each subject."""
    _, first, index = np.unique(groups, return_index=True, return_inverse=True)
    subject_y = y[first]
    rng = np.random.default_rng([seed, 0x5EED])
    shuffled = rng.permuted(np.tile(subject_y, (permutations, 1)), axis=1)
    return shuffled[:, index]

"""The steps of a classifier pipeline as scikit-learn estimators.

Every data-dependent step learns from the samples it is fitted on only (the training
folds): the prevalence filter chooses its features there, the log-ratio transform takes
its pseudocount from there and the scaler its means and standard deviations. Wrapped in
one :class:`sklearn.pipeline.Pipeline`, cross-validation refits them in every fold, so no
test sample ever shapes the features it is scored on.

This module imports scikit-learn; :mod:`gutaxis.stats.classify` imports it only when a
classifier runs.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from gutaxis.choices import ClassifierModel

#: Regularisation strengths searched for the penalised logistic models (inverse penalty).
C_GRID = tuple(float(c) for c in np.logspace(-2, 1, 7))
#: Mixing of the elastic net (1 = lasso), searched with :data:`C_GRID`.
L1_RATIO_GRID = (0.2, 0.5, 0.8)
#: Minimum leaf sizes searched for the random forest.
LEAF_GRID = (1, 5)
#: Trees in the random forest.
N_TREES = 200


class PrevalenceFilter(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Keep the features present (> 0) in at least ``min_prevalence`` of the training
    samples (and in at least one). ``kept_`` is the boolean mask learnt in ``fit``."""

    def __init__(self, min_prevalence: float = 0.1) -> None:
        self.min_prevalence = min_prevalence

    def fit(self, X: np.ndarray, y: object = None) -> PrevalenceFilter:
        present = (np.asarray(X) > 0).mean(axis=0)
        self.kept_ = (present >= self.min_prevalence) & (present > 0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X)[:, self.kept_]


class LogRatio(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Log of relative abundances (``"log"``) or centred log-ratio (``"clr"``).

    Input rows are relative abundances (total-sum scaled). Zeros get a pseudocount, half
    the smallest nonzero value seen in training (``pseudocount_``), as MaAsLin 2 does for
    its LOG transform; ``"clr"`` then subtracts each sample's mean log.
    """

    def __init__(self, kind: Literal["log", "clr"] = "log") -> None:
        self.kind = kind

    def fit(self, X: np.ndarray, y: object = None) -> LogRatio:
        values = np.asarray(X)
        nonzero = values[values > 0]
        self.pseudocount_ = float(nonzero.min()) / 2 if nonzero.size else 1e-6
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        logged = np.log(np.asarray(X, dtype=float) + self.pseudocount_)
        if self.kind == "clr" and logged.shape[1]:
            logged = logged - logged.mean(axis=1, keepdims=True)
        return logged


def _logistic(l1_ratio: float, *, seed: int) -> LogisticRegression:
    """A penalised logistic regression, spelled for old and new scikit-learn (1.8
    deprecated ``penalty``; ``l1_ratio`` alone chooses it)."""
    solver = "liblinear" if l1_ratio == 1.0 else "saga"
    options: dict[str, Any] = {"solver": solver, "l1_ratio": l1_ratio, "random_state": seed,
                               "max_iter": 5000 if solver == "saga" else 1000,
                               "tol": 1e-3 if solver == "saga" else 1e-4}
    if tuple(int(x) for x in sklearn.__version__.split(".")[:2]) < (1, 8):
        options["penalty"] = "l1" if l1_ratio == 1.0 else "elasticnet"
        if l1_ratio == 1.0:
            del options["l1_ratio"]
    return LogisticRegression(**options)


def build_pipeline(model: ClassifierModel, *, n_features: int, n_covariates: int,
                   transform: Literal["log", "clr"], min_prevalence: float, seed: int,
                   n_jobs: int = 1) -> tuple[Pipeline, dict[str, list[Any]]]:
    """The pipeline (gut columns filtered, log-ratio transformed and scaled; covariate
    columns scaled; then the model) and its tuning grid.

    The columns of ``X`` are the ``n_features`` relative abundances, then the
    ``n_covariates`` covariates (numbers; categorical ones as 0/1 indicators).
    """
    gut = Pipeline([("prevalence", PrevalenceFilter(min_prevalence)),
                    ("logratio", LogRatio(transform)), ("scale", StandardScaler())])
    parts: list[tuple[str, Any, Any]] = [("gut", gut, np.arange(n_features))]
    if n_covariates:
        parts.append(("covariates", StandardScaler(),
                      np.arange(n_features, n_features + n_covariates)))
    prepare = ColumnTransformer(parts)
    grid: dict[str, list[Any]]
    if model == "lasso":
        estimator: Any = _logistic(1.0, seed=seed)
        grid = {"model__C": list(C_GRID)}
    elif model == "enet":
        estimator = _logistic(0.5, seed=seed)
        grid = {"model__C": list(C_GRID[::2]), "model__l1_ratio": list(L1_RATIO_GRID)}
    else:
        estimator = RandomForestClassifier(n_estimators=N_TREES, random_state=seed,
                                           n_jobs=n_jobs)
        grid = {"model__min_samples_leaf": list(LEAF_GRID)}
    return Pipeline([("prepare", prepare), ("model", estimator)]), grid


def fitted_importance(pipeline: Pipeline, *, n_features: int, n_covariates: int
                      ) -> np.ndarray:
    """Importance of every input column in a fitted pipeline; 0 for a gut feature the
    prevalence filter left out.

    Logistic models: the coefficient (log-odds per standard deviation of the
    transformed feature). Random forest: the impurity (Gini) importance.
    """
    prepare = pipeline.named_steps["prepare"]
    model = pipeline.named_steps["model"]
    values = model.coef_[0] if hasattr(model, "coef_") else model.feature_importances_
    kept = prepare.named_transformers_["gut"].named_steps["prevalence"].kept_
    importance = np.zeros(n_features + n_covariates)
    importance[np.flatnonzero(kept)] = values[:kept.sum()]
    importance[n_features:] = values[kept.sum():]
    return importance

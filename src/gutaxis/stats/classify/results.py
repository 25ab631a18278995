"""What a classifier run gives: its settings, performance, predictions and importances."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.version import package_version

PERFORMANCE_COLUMNS = ("metric", "estimate", "ci_low", "ci_high", "chance", "pval",
                       "n_permutations")
PREDICTION_COLUMNS = ("sample_id", "subject", "repeat", "fold", "observed", "probability")
IMPORTANCE_COLUMNS = ("feature", "kind", "importance", "importance_sd", "abs_importance",
                      "selected_fraction", "top_fraction", "rank")


@dataclass(frozen=True)
class ClassifySpec:
    """The settings of a classifier run and the size of its data.

    Attributes
    ----------
    outcome, positive
        The outcome column and its positive class in words (e.g. ``group in {fbm_12_20}``).
    model, transform
        ``lasso``, ``enet`` or ``rf``; the log-ratio transform of the relative abundances
        (``log`` or ``clr``).
    covariates
        Covariate columns (categorical ones as indicators of their non-first levels).
    folds, repeats, inner_folds, seed, permutations
        The nested cross-validation: outer folds, repeats, inner (tuning) folds, seed and
        number of subject-level permutations of the outcome.
    permutation_repeats
        Repeats of each permutation; the test statistic is the mean AUROC of the first
        this many repeats.
    min_prevalence, top_k
        Prevalence filter (learnt in the training folds) and the k of ``top_fraction``.
    n_samples, n_subjects, n_positive, n_features
        Samples with an outcome, their subjects, positive samples, table features.
    """

    outcome: str
    positive: str
    model: str
    transform: str
    covariates: tuple[str, ...]
    folds: int
    repeats: int
    inner_folds: int
    seed: int
    permutations: int
    permutation_repeats: int
    min_prevalence: float
    top_k: int
    n_samples: int
    n_subjects: int
    n_positive: int
    n_features: int

    def to_dict(self) -> dict[str, object]:
        """The settings as JSON-ready values."""
        return {**asdict(self), "covariates": list(self.covariates)}


@dataclass(frozen=True, eq=False)
class ClassifierResults:
    """Cross-validated performance of a classifier, its predictions and importances.

    Attributes
    ----------
    spec
        Settings and data size (:class:`ClassifySpec`).
    performance
        One row per metric (``auroc``, ``auprc``, ``brier``): ``estimate`` the mean over
        repeats of the metric of the pooled out-of-fold predictions, ``ci_low``/``ci_high``
        the 2.5% and 97.5% quantiles over repeats (spread over splits, not a sampling
        interval), ``chance`` the value of a model without skill (0.5; the prevalence;
        prevalence x (1 - prevalence)), ``pval`` the permutation p-value of the AUROC
        (NA without permutations), ``n_permutations``.
    per_repeat
        ``repeat``, ``auroc``, ``auprc``, ``brier`` of each repeat.
    predictions
        Long table: ``sample_id``, ``subject``, ``repeat``, ``fold``, ``observed`` (0/1),
        ``probability`` (out-of-fold).
    importance
        One row per feature (and covariate): ``importance`` the mean over outer fits
        (coefficient per SD for lasso/enet, impurity importance for rf), ``importance_sd``,
        ``abs_importance`` (mean absolute), ``selected_fraction`` (fits with a nonzero
        coefficient; for rf, nonzero importance), ``top_fraction`` (fits where it is
        among the ``top_k`` by absolute importance), ``rank`` (1 = largest
        ``abs_importance``). Features in no fit are left out.
    calibration
        Pooled out-of-fold predictions of all repeats in ten equal-width bins:
        ``bin_low``, ``bin_high``, ``mean_predicted``, ``observed_fraction``, ``n``.
    null_auroc
        The mean AUROC of each permutation.
    notes
        Things a person should know (samples left out, fits at their iteration limit).
    """

    spec: ClassifySpec
    performance: pd.DataFrame
    per_repeat: pd.DataFrame
    predictions: pd.DataFrame
    importance: pd.DataFrame
    calibration: pd.DataFrame
    null_auroc: np.ndarray
    notes: tuple[str, ...] = ()

    def metric(self, name: str) -> float:
        """The estimate of one metric (``auroc``, ``auprc`` or ``brier``).

        Parameters
        ----------
        name
            The metric.
        """
        estimates = self.performance.set_index("metric")["estimate"]
        if name not in estimates.index:
            raise InputError("unknown metric", field="name", found=name,
                             expected="auroc, auprc or brier")
        return float(estimates.to_numpy(dtype=float)[estimates.index.get_loc(name)])

    def to_frame(self) -> pd.DataFrame:
        """The performance table (a copy)."""
        return self.performance.copy()

    def summary(self) -> str:
        """One paragraph: the model, the data and the cross-validated AUROC."""
        s = self.spec
        row = self.performance.set_index("metric").loc["auroc"]
        pval = "" if np.isnan(row["pval"]) else (
            f", permutation p = {row['pval']:.3g} ({s.permutations} permutations)")
        covariates = f" + {', '.join(s.covariates)}" if s.covariates else ""
        return (f"{s.model} classifier of {s.positive} ({s.n_positive} of {s.n_samples} "
                f"samples, {s.n_subjects} subjects) from {s.n_features} features{covariates}: "
                f"AUROC {row['estimate']:.3f} (repeats {row['ci_low']:.3f}-"
                f"{row['ci_high']:.3f}){pval}; {s.repeats} x {s.folds}-fold nested CV, "
                f"seed {s.seed}.")

    def to_dir(self, path: str | Path) -> list[Path]:
        """Write ``performance.tsv``, ``per_repeat.tsv``, ``predictions.tsv``,
        ``importance.tsv``, ``calibration.tsv`` and ``classify.json``.

        Parameters
        ----------
        path
            The folder to write into (created if needed).
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        frames = {"performance": self.performance, "per_repeat": self.per_repeat,
                  "predictions": self.predictions, "importance": self.importance,
                  "calibration": self.calibration}
        written = []
        for name, frame in frames.items():
            written.append(out / f"{name}.tsv")
            frame.to_csv(written[-1], sep="\t", index=False, na_rep="NA")
        written.append(out / "classify.json")
        document = {"gutaxis": package_version(), **self.spec.to_dict(),
                    "null_auroc": [float(v) for v in self.null_auroc],
                    "notes": list(self.notes)}
        written[-1].write_text(json.dumps(document, indent=2) + "\n")
        return written

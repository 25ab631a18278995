"""The cross-validation does not leak: on pure noise with many more features than
samples its AUROC stays at chance, a planted signal is found, and a pipeline that
selects features outside the cross-validation (the leak these tests guard against)
fails the same check, so the check can fail."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from classify_data import synthetic_cohort
from scipy import stats

from gutaxis.data import Cohort
from gutaxis.stats.classify import classify

pytest.importorskip("sklearn")

#: Seeds of the noise check: each a new noise table and a new split (one repeat each).
NOISE_SEEDS = range(10)
#: Allowed distance of the mean noise AUROC from 0.5. One run's AUROC has an SD of about
#: 0.08 on 60 samples, so the mean of 10 has an SD near 0.025: 0.05 is two SDs.
NOISE_MARGIN = 0.05


def _noise_auroc(cohort_of_seed: object) -> float:
    values = []
    for seed in NOISE_SEEDS:
        cohort = cohort_of_seed(seed)  # type: ignore[operator]
        values.append(classify(cohort, "label", positive="case", repeats=1, folds=5,
                               seed=seed, min_prevalence=0.0).metric("auroc"))
    return float(np.mean(values))


def _selected_outside_cv(cohort: Cohort, *, keep: int = 20) -> Cohort:
    """The leak: the ``keep`` features with the largest |t| between the classes, chosen
    on every sample (the test folds included) before cross-validation."""
    relative = cohort.table.relative().dense()
    logged = np.log(relative + relative[relative > 0].min() / 2)
    case = (cohort.metadata["label"] == "case").to_numpy()
    with warnings.catch_warnings():  # features that are zero in every sample of a class
        warnings.simplefilter("ignore", RuntimeWarning)
        t = np.nan_to_num(stats.ttest_ind(logged[case], logged[~case]).statistic)
    return cohort.with_table(cohort.table.subset_features(np.argsort(-np.abs(t))[:keep]))


def test_noise_with_far_more_features_than_samples_scores_chance() -> None:
    mean = _noise_auroc(lambda seed: synthetic_cohort(n_samples=60, n_features=2000,
                                                      seed=seed))
    assert abs(mean - 0.5) <= NOISE_MARGIN, mean


def test_selecting_features_outside_the_cross_validation_fails_the_noise_check() -> None:
    """Proof the noise check can fail: the same noise, leaked, scores far above chance."""
    values = [classify(_selected_outside_cv(synthetic_cohort(seed=seed)), "label",
                       positive="case", repeats=1, seed=seed, min_prevalence=0.0
                       ).metric("auroc") for seed in range(3)]
    assert np.mean(values) - 0.5 > 3 * NOISE_MARGIN, values


def test_a_planted_signal_is_found_and_its_features_rank_on_top() -> None:
    cohort = synthetic_cohort(n_samples=60, n_features=2000, planted=5, fold_change=8.0,
                              seed=0)
    results = classify(cohort, "label", positive="case", repeats=1, seed=0)
    assert results.metric("auroc") > 0.85
    ranked = list(results.importance["feature"])
    assert ranked[0].startswith("planted_")
    assert sum(name.startswith("planted_") for name in ranked[:5]) >= 3

"""``classify``: folds grouped by subject, every sample predicted once per repeat,
reproducible, permutations at subject level with p = (b + 1) / (B + 1), steps fitted on
training samples only, and clear errors for outcomes it cannot use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from classify_data import synthetic_cohort

from gutaxis.errors import InputError
from gutaxis.stats.classify import ClassifierResults, classify, permutation_pvalue

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def repeated_cohort():  # type: ignore[no-untyped-def]
    """40 samples of 20 subjects (two each), 300 features, a planted signal."""
    return synthetic_cohort(n_samples=40, n_features=300, planted=3,
                            samples_per_subject=2, seed=3)


@pytest.fixture(scope="module")
def results(repeated_cohort) -> ClassifierResults:  # type: ignore[no-untyped-def]
    return classify(repeated_cohort, "label", positive="case", covariates=["age", "ibs"],
                    folds=4, repeats=2, seed=5, permutations=4, permutation_repeats=1)


def test_every_sample_is_predicted_once_per_repeat_in_one_fold(
        results: ClassifierResults) -> None:
    frame = results.predictions
    assert len(frame) == 40 * 2
    assert frame.groupby("repeat")["sample_id"].nunique().eq(40).all()
    assert frame["probability"].between(0, 1).all()
    assert set(frame["fold"]) == {0, 1, 2, 3}


def test_a_subjects_samples_share_their_fold(results: ClassifierResults) -> None:
    folds_per_subject = results.predictions.groupby(["repeat", "subject"])["fold"].nunique()
    assert folds_per_subject.eq(1).all()


def test_tables_have_their_documented_columns(results: ClassifierResults) -> None:
    assert list(results.performance["metric"]) == ["auroc", "auprc", "brier"]
    assert list(results.performance.columns) == ["metric", "estimate", "ci_low", "ci_high",
                                                 "chance", "pval", "n_permutations"]
    assert list(results.importance.columns) == [
        "feature", "kind", "importance", "importance_sd", "abs_importance",
        "selected_fraction", "top_fraction", "rank"]
    assert results.spec.covariates == ("age", "ibs[y]")  # categorical: non-first levels
    covariate_rows = results.importance[results.importance["kind"] == "covariate"]
    assert set(covariate_rows["feature"]) <= {"age", "ibs[y]"}
    assert results.importance["selected_fraction"].between(0, 1).all()
    row = results.performance.set_index("metric").loc["auroc"]
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert "AUROC" in results.summary()


def test_pvalue_is_b_plus_one_over_b_plus_one_of_the_first_repeats(
        results: ClassifierResults) -> None:
    statistic = results.per_repeat["auroc"].iloc[0]  # permutation_repeats=1
    pval = results.performance.set_index("metric").loc["auroc", "pval"]
    assert len(results.null_auroc) == 4
    assert pval == permutation_pvalue(results.null_auroc, statistic)
    assert pval in {k / 5 for k in range(1, 6)}


def test_same_seed_same_results_other_seed_other_split(repeated_cohort) -> None:  # type: ignore[no-untyped-def]
    def run(seed: int) -> pd.DataFrame:
        return classify(repeated_cohort, "label", positive="case", folds=4, repeats=1,
                        seed=seed).predictions

    first, again, other = run(1), run(1), run(2)
    pd.testing.assert_frame_equal(first, again)
    assert not first["fold"].equals(other["fold"])


def test_permutations_keep_one_outcome_per_subject() -> None:
    from gutaxis.stats.classify.nested import permuted_outcomes

    y = np.repeat([0.0, 1.0, 1.0, 0.0, 1.0], 3)
    groups = np.repeat(np.array(["a", "b", "c", "d", "e"]), 3)
    shuffled = permuted_outcomes(y, groups, permutations=50, seed=0)
    assert shuffled.shape == (50, 15)
    assert (shuffled.reshape(50, 5, 3).std(axis=2) == 0).all()  # constant per subject
    assert (shuffled.sum(axis=1) == y.sum()).all()  # the same number of positives
    assert len({tuple(row) for row in shuffled}) > 1


def test_prevalence_filter_and_pseudocount_are_learnt_from_training_rows_only() -> None:
    from gutaxis.stats.classify.steps import LogRatio, PrevalenceFilter

    train = np.array([[0.5, 0.0, 0.5], [0.4, 0.0, 0.6]])
    test = np.array([[0.1, 0.8, 0.1]])
    kept = PrevalenceFilter(0.5).fit(train)
    assert kept.kept_.tolist() == [True, False, True]  # the test row's feature is unseen
    assert kept.transform(test).shape == (1, 2)
    assert LogRatio().fit(train).pseudocount_ == 0.2  # half the smallest training value
    clr = LogRatio("clr").fit(train).transform(test)
    assert clr.sum() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("positive", "words"), [
    (None, "label in {control}"),  # two values: the last sorted
    ("case", "label in {case}"),
])
def test_positive_class_of_a_two_valued_outcome(repeated_cohort, positive: str | None,  # type: ignore[no-untyped-def]
                                                words: str) -> None:
    from gutaxis.stats.classify.outcome import binary_outcome

    y, said = binary_outcome(repeated_cohort.metadata["label"], positive, column="label",
                             source=None)
    assert said == words
    assert y.sum() == 20


def test_a_threshold_makes_a_numeric_outcome_binary(repeated_cohort) -> None:  # type: ignore[no-untyped-def]
    from gutaxis.stats.classify.outcome import binary_outcome

    score = repeated_cohort.metadata["score"]
    y, said = binary_outcome(score, ">=5", column="score", source=None)
    assert said == "score >= 5"
    np.testing.assert_array_equal(y, (score >= 5).to_numpy(dtype=float))


@pytest.mark.parametrize(("options", "message"), [
    ({"outcome": "nothing"}, "metadata column not found"),
    ({"outcome": "label", "positive": "sick"}, "unknown positive level"),
    ({"outcome": "score"}, "say which are positive"),
    ({"outcome": "label", "positive": "case,control"}, "no negative sample"),
    ({"outcome": "label", "positive": "case", "folds": 25}, "fewer positive subjects than"),
    ({"outcome": "label", "positive": "case", "covariates": ["bmi"]},
     "covariate column not found"),
    ({"outcome": "label", "positive": "case", "model": "svm"}, "unknown classifier"),
])
def test_unusable_input_is_one_clear_error(repeated_cohort, options: dict[str, object],  # type: ignore[no-untyped-def]
                                           message: str) -> None:
    outcome = options.pop("outcome")
    with pytest.raises(InputError, match=message):
        classify(repeated_cohort, outcome, **options)  # type: ignore[arg-type]


def test_an_outcome_varying_within_a_subject_cannot_be_permuted() -> None:
    cohort = synthetic_cohort(n_samples=40, n_features=50, samples_per_subject=2, seed=1)
    metadata = cohort.metadata.assign(label=np.tile(["case", "control"], 20))
    from dataclasses import replace

    with pytest.raises(InputError, match="varies within a subject"):
        classify(replace(cohort, metadata=metadata), "label", positive="case",
                 permutations=9)


def test_scikit_learn_loads_only_when_a_classifier_runs() -> None:
    import subprocess
    import sys

    code = ("import sys, gutaxis, gutaxis.stats, gutaxis.cli.main, gutaxis.stats.classify; "
            "print(any(m.split('.')[0] == 'sklearn' for m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "False"

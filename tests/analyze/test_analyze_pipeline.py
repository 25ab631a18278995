"""The analyze pipeline on the shipped example cohort: every step runs on a binary outcome,
outcomes are coded as documented, and a step the data do not allow is skipped with its
reason while the rest runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gutaxis.analyze import DEFAULTS, merge_config, run_analysis
from gutaxis.cli.metrics import example_paths
from gutaxis.errors import InputError

pytest.importorskip("sklearn")


def config(**design: Any) -> dict[str, dict[str, Any]]:
    paths = example_paths()
    return merge_config(DEFAULTS, {
        "input": {"table": str(paths["table"]), "taxonomy": str(paths["taxonomy"]),
                  "tree": str(paths["tree"]), "metadata": str(paths["metadata"])},
        "design": {"covariates": ["age"], "subject": "subject", **design},
        "checks": {"min_depth": 1},
        "community": {"permutations": 99},
        "classify": {"repeats": 1, "permutations": 0, "folds": 3},
        "mediation": {"boot": 50},
    })


@pytest.fixture(scope="module")
def binary() -> Any:
    cfg = config(outcome="group", outcome_type="binary", positive=["chronic_pain"],
                 exposure="age", mediators=["crp_mg_l"], covariates=[])
    return run_analysis(merge_config(cfg, {"mechanism": {"markers": ["crp_mg_l"]}}))


def test_every_step_runs_on_a_binary_outcome(binary: Any) -> None:
    assert binary.skipped == {}
    assert binary.outcome_variable == "group_positive"
    assert set(binary.metadata["group_positive"]) == {0.0, 1.0}
    assert binary.classifier is not None and binary.mediation is not None
    assert "group_positive" in set(binary.community.permanova.table["term"])
    assert "group_positive" in set(binary.association.table["metadata"])


def test_results_folder_holds_each_step(binary: Any, tmp_path: Path) -> None:
    binary.to_dir(tmp_path)
    for name in ("config.toml", "report.html", "cohort/table1.tsv", "cohort/checks.tsv",
                 "diversity/alpha.tsv", "community/permanova.tsv",
                 "association/all_results.tsv", "classify/performance.tsv",
                 "mediation/effects.tsv"):
        assert (tmp_path / name).is_file(), name


def test_ordinal_outcome_is_a_score_and_the_classifier_is_skipped() -> None:
    result = run_analysis(config(outcome="pain_nrs", outcome_type="ordinal"))
    levels = result.config["design"]["levels"]
    assert levels == sorted(levels, key=float)
    assert result.metadata["pain_nrs_score"].min() == 0
    assert "binary" in result.skipped["classify"]
    assert "mediation" in result.skipped


def test_too_small_groups_skip_group_steps_only() -> None:
    result = run_analysis(merge_config(config(outcome="group", outcome_type="binary",
                                              positive=["chronic_pain"]),
                                       {"checks": {"min_group_size": 25}}))
    assert "too few samples in group" in result.skipped["community"]
    assert "too few samples in group" in result.skipped["classify"]
    assert result.association is not None and result.alpha is not None


@pytest.mark.parametrize(("design", "message"), [
    ({"outcome": "nope"}, "no such metadata column"),
    ({"outcome": "group", "outcome_type": "continuous"}, "must be numeric"),
])
def test_bad_outcomes_are_refused(design: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        run_analysis(config(**design))


def test_samples_missing_a_covariate_are_left_out_with_the_reason(tmp_path: Path) -> None:
    import pandas as pd

    meta = pd.read_csv(example_paths()["metadata"], sep="\t")
    meta.loc[:2, "age"] = None
    path = tmp_path / "meta.tsv"
    meta.to_csv(path, sep="\t", index=False)
    result = run_analysis(merge_config(config(outcome="pain_nrs"),
                                       {"input": {"metadata": str(path)}}))
    assert list(result.dropped["reason"]) == ["missing age"] * 3
    assert result.n == len(meta) - 3
    assert result.checks.set_index("check").loc["missing age", "value"] == "3"

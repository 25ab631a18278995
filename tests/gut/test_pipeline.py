"""run_metrics: the metrics pipeline the CLI and the web app share, checked against
closed forms, SciPy and scikit-bio rather than against itself."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform

from gutaxis.data import Cohort, ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.pipeline import MetricsResults, run_metrics
from gutaxis.io import read_cohort

EXAMPLES = Path(str(resources.files("gutaxis") / "data" / "examples"))


@pytest.fixture(scope="module")
def example() -> Cohort:
    return read_cohort(EXAMPLES / "example-table.tsv", EXAMPLES / "example-metadata.tsv",
                       taxonomy=EXAMPLES / "example-taxonomy.tsv",
                       tree=EXAMPLES / "example-tree.nwk", subject_column="subject")


def _counts(cohort: Cohort) -> np.ndarray:
    return cohort.table.values.toarray()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scikit-bio's notes on its PCoA
def test_alpha_beta_and_pcoa_match_closed_forms_scipy_and_scikit_bio(example: Cohort) -> None:
    from skbio import DistanceMatrix as SkbioDistanceMatrix
    from skbio.stats.ordination import pcoa as skbio_pcoa

    results = run_metrics(example, metrics=["shannon_entropy", "braycurtis"])
    counts = _counts(example)
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shannon = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    np.testing.assert_allclose(results.alpha["shannon_entropy"].to_numpy(), shannon,
                               rtol=1e-12)
    assert list(results.alpha.index) == list(example.sample_ids)
    bray = squareform(pdist(counts, "braycurtis"))
    dm = results.distances["braycurtis"]
    np.testing.assert_allclose(dm.data, bray, rtol=1e-12, atol=1e-15)
    theirs = skbio_pcoa(SkbioDistanceMatrix(bray, ids=list(example.sample_ids)))
    mine = results.ordinations["braycurtis"]
    np.testing.assert_allclose(mine.eigenvalues[:10], theirs.eigvals.to_numpy()[:10],
                               rtol=1e-8, atol=1e-10)
    assert list(results.distances) == ["braycurtis"]
    assert results.settings.alpha_metrics == ("shannon_entropy",)


def test_rarefaction_leaves_every_sample_at_the_depth_and_says_who_was_left_out(
        example: Cohort) -> None:
    depths = _counts(example).sum(axis=1)
    depth = int(np.sort(depths)[2])  # the two shallowest samples fall below it
    results = run_metrics(example, metrics=["observed_features"], rarefy=depth, seed=7)
    np.testing.assert_array_equal(results.table.sample_totals(), depth)
    shallow = [s for s, d in zip(example.sample_ids, depths, strict=True) if d < depth]
    assert results.table.n_samples == example.n_samples - len(shallow)
    assert any(f"left out {len(shallow)} of the 40 samples (fewer than {depth} reads)" in n
               for n in results.notes), results.notes
    assert results.parameters["rarefy"] == depth and results.parameters["seed"] == 7


@pytest.mark.filterwarnings("ignore:gut_summary")  # a table without taxonomy
def test_empty_samples_are_refused_by_name_or_left_out_with_a_note() -> None:
    values = np.array([[3.0, 1.0], [0.0, 0.0], [2.0, 2.0], [1.0, 4.0]])
    table = ProfileTable.from_dataframe(
        pd.DataFrame(values, index=["a", "b", "c", "d"], columns=["f1", "f2"]), kind="counts")
    cohort = Cohort(table, pd.DataFrame(index=pd.Index(["a", "b", "c", "d"])))
    with pytest.raises(InputError) as caught:
        run_metrics(cohort, metrics=["braycurtis"])
    assert caught.value.field == "drop_empty_samples" and "b" in str(caught.value.found)
    results = run_metrics(cohort, metrics=["braycurtis"], drop_empty_samples=True)
    assert list(results.table.sample_ids) == ["a", "c", "d"]
    assert results.notes == ("left out 1 of the 4 samples (all values zero): b",)
    # Bray-Curtis of a = (3, 1) and c = (2, 2): 1 - 2 * (2 + 1) / 8
    assert results.distances["braycurtis"].data[0, 1] == pytest.approx(0.25)


@pytest.mark.parametrize(("options", "field"), [
    ({"reference": ("no_such_column", "x")}, "reference"),
    ({"reference": ("group", "no_such_group")}, "reference"),
    ({"subject_column": "no_such_column"}, "subject_column"),
    ({"generalized_alpha": 2.0}, "generalized_alpha"),
    ({"shannon_base": 1.0}, "shannon_base"),
], ids=["reference-column", "reference-value", "subject", "alpha", "base"])
def test_bad_parameters_are_input_errors_naming_the_parameter(example: Cohort,
                                                              options: dict[str, object],
                                                              field: str) -> None:
    with pytest.raises(InputError) as caught:
        run_metrics(example, metrics=["simpson"], **options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_reference_samples_enter_the_dysbiosis_score(example: Cohort) -> None:
    with_reference = run_metrics(example, metrics=["simpson"], reference=("group", "control"))
    assert with_reference.gut_summary["dysbiosis_score"].notna().all()
    assert with_reference.parameters["reference"] == "group=control"
    assert with_reference.parameters["subject"] == "subject"  # the cohort's own


def test_to_dir_writes_every_output_and_records_it(example: Cohort, tmp_path: Path) -> None:
    results = run_metrics(example, metrics=["pielou_e", "jaccard", "unweighted_unifrac"])
    assert isinstance(results, MetricsResults)
    written = results.to_dir(tmp_path, inputs={"table": EXAMPLES / "example-table.tsv",
                                               "tree": None})
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == sorted(["alpha.tsv", "gut_summary.tsv", "metrics.json",
                            *(f"beta/{m}.tsv" for m in ("jaccard", "unweighted_unifrac")),
                            *(f"pcoa/{m}{s}.tsv" for m in ("jaccard", "unweighted_unifrac")
                              for s in ("", "_axes"))])
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert set(record["inputs"]) == {"table"}
    assert sorted(record["outputs"]) == sorted(n for n in names if n != "metrics.json")
    assert record["n_samples"] == 40 and record["settings"]["beta_metrics"] == [
        "jaccard", "unweighted_unifrac"]
    assert "40 samples" in results.summary() and "jaccard" in results.summary()


def test_progress_reports_each_step_then_done(example: Cohort) -> None:
    steps: list[tuple[str, int, int]] = []
    run_metrics(example, metrics=["simpson", "braycurtis"],
                progress=lambda step, done, total: steps.append((step, done, total)))
    assert [s[0] for s in steps] == ["alpha diversity", "beta: braycurtis",
                                     "PCoA: braycurtis", "gut summaries", "done"]
    assert [s[1] for s in steps] == [0, 1, 2, 3, 4] and {s[2] for s in steps} == {4}


def test_a_functional_table_gets_diversity_but_no_taxon_summaries() -> None:
    values = np.array([[30.5, 10.0, 0.0], [12.0, 0.0, 4.25], [8.0, 8.0, 8.0]])
    frame = pd.DataFrame(values, index=["a", "b", "c"], columns=["K00001", "K00002", "K00003"])
    table = replace(ProfileTable.from_dataframe(frame, kind="counts"),
                    feature_type="ko", unit="RPK")
    results = run_metrics(Cohort(table, pd.DataFrame(index=frame.index)),
                          metrics=["braycurtis", "observed_features"])
    assert list(results.gut_summary.columns) == ["notes"]
    assert set(results.gut_summary["notes"]) == {
        "no taxon summaries: the table holds ko features"}
    assert any("gut summaries are taxon measures" in n for n in results.notes)
    # Bray-Curtis of a and b: 1 - 2 * min-sum / total = 1 - 2 * 12 / 56.75
    assert results.distances["braycurtis"].data[0, 1] == pytest.approx(1 - 24 / 56.75)


def test_a_reader_of_the_same_table_feeds_the_blocks_and_changes_no_result(
        example: Cohort, tmp_path: Path) -> None:
    """run_metrics on a back-end with a BIOM reader of the cohort's own table: the tasks
    read the file (alpha, gut summaries, distance bands) and every result equals the
    in-memory run's (alpha, summaries, Jaccard, Aitchison exactly; the rest to 1e-12);
    a reader whose samples differ from the analysed table's (rarefied) is not used."""
    from gutaxis.compute import LocalBackend
    from gutaxis.io.biom import write_biom
    from gutaxis.io.biom_blocks import open_biom_blocks

    write_biom(example.table, tmp_path / "t.biom")
    reader = open_biom_blocks(tmp_path / "t.biom", block=7)
    reference = ("group", "control")
    expected = run_metrics(example, reference=reference)
    found = run_metrics(example, reference=reference, backend=LocalBackend(), reader=reader)
    assert found.compute["read_by_blocks"] is True and expected.compute["backend"] == "local"
    pd.testing.assert_frame_equal(found.alpha, expected.alpha, check_exact=True)
    pd.testing.assert_frame_equal(found.gut_summary, expected.gut_summary, check_exact=True)
    assert list(found.distances) == list(expected.distances)
    for metric, dm in expected.distances.items():
        exact = metric in ("jaccard", "aitchison")
        np.testing.assert_allclose(found.distances[metric].data, dm.data, rtol=0,
                                   atol=0 if exact else 1e-12, err_msg=metric)
    rarefied = run_metrics(example, metrics=["observed_features"], rarefy=100,
                           backend=LocalBackend(), reader=reader)
    assert rarefied.compute["read_by_blocks"] is False

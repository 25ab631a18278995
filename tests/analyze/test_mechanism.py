"""The mechanism step on a real functional table: the HUMAnN2 KEGG-ortholog profiles of 109
Indian stool metagenomes (tests/reference/omixer, see make_reference.sh there), with the
gut-brain modules computed from them (KO route) or taken from Omixer-RPM's own output
(module-table route). The metadata (``ko_study`` in tests/conftest.py) hold the real
sample-name series and a simulated pain and CRP with a planted module effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.analyze import DEFAULTS, merge_config
from gutaxis.analyze.mechanism import (
    INFERRED,
    MEASURED,
    markers_in,
    mechanism_skip_reason,
    run_mechanism,
)
from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError


def config(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    base = {"input": {"table": "x", "metadata": "meta.tsv"},
            "design": {"outcome": "pain", "covariates": ["series"], "seed": 1},
            "association": {"min_prevalence": 0.0}, "mediation": {"boot": 400},
            "mechanism": {"module_sets": ["gbm"]}}
    for section, keys in sections.items():
        base.setdefault(section, {}).update(keys)
    return merge_config(DEFAULTS, base)


@pytest.fixture(scope="module")
def module_cohort(ko_study: Any) -> Cohort:
    """Omixer-RPM's own GBM table as a module table (a ``gutaxis modules`` output)."""
    frame = ko_study.modules
    table = ProfileTable(sp.csr_array(frame.to_numpy()), frame.index, frame.columns,
                         feature_type="module", unit="RPK")
    return Cohort(table, ko_study.metadata.loc[frame.index])


@pytest.fixture(scope="module")
def ko_cohort(ko_study: Any) -> Cohort:
    pytest.importorskip("gutaxis.gut.modules")
    frame = pd.read_csv(ko_study.ko_path, sep="\t", index_col=0)
    frame = frame.drop(index=["UNMAPPED", "UNGROUPED"]).T  # HUMAnN's unassigned reads
    table = ProfileTable(sp.csr_array(frame.to_numpy()), frame.index, frame.columns,
                         feature_type="ko", unit="RPK")
    return Cohort(table, ko_study.metadata.loc[frame.index])


@pytest.fixture(scope="module", params=["ko", "module"])
def found(request: pytest.FixtureRequest) -> Any:
    cohort = request.getfixturevalue(f"{request.param}_cohort")
    return run_mechanism(cohort, config(), "pain")


def test_module_scan_coefficients_equal_statsmodels_ols(found: Any, ko_study: Any) -> None:
    import statsmodels.formula.api as smf

    (scan,) = found.scans
    assert scan.evidence == MEASURED
    rows = scan.outcome_rows("pain").set_index("feature")
    assert set(rows.index) == set(ko_study.modules.columns)  # the modules present somewhere
    for module in (ko_study.planted, "MGB015", rows.index[-1]):
        data = ko_study.metadata.assign(y=ko_study.log2_modules[module])
        fit = smf.ols("y ~ pain + C(series, Treatment('C_M'))", data=data).fit()
        assert rows.loc[module, "coef"] == pytest.approx(fit.params["pain"], abs=1e-8)
        assert rows.loc[module, "stderr"] == pytest.approx(fit.bse["pain"], abs=1e-8)


def test_planted_module_is_found_and_its_mediation_through_crp_recovered(
        found: Any, ko_study: Any) -> None:
    (scan,) = found.scans
    rows = scan.outcome_rows("pain").sort_values("qval", kind="stable")
    assert rows.iloc[0]["feature"] == ko_study.planted and rows.iloc[0]["qval"] < 1e-6
    (path,) = [p for p in found.paths if p.feature == ko_study.planted]
    assert path.marker == "crp" and path.contrast == "a doubling of relative abundance"
    effects = path.mediation.effects.set_index("effect")
    acme, ade = effects.loc["acme"], effects.loc["ade"]
    planted = ko_study.a * ko_study.b
    assert acme["ci_low"] < planted < acme["ci_high"]  # the 95% interval covers it
    assert acme["estimate"] == pytest.approx(planted, abs=0.35)
    assert ade["ci_low"] < ko_study.c < ade["ci_high"]


def test_modules_are_named_from_their_definitions(found: Any, ko_study: Any) -> None:
    (scan,) = found.scans
    assert scan.names[ko_study.planted] == "Acetate degradation"
    frame = found.to_frame()
    assert list(frame.columns[:4]) == ["scan", "evidence", "feature", "name"]
    assert set(frame["feature"]) <= set(scan.results.table["feature"])


def test_results_are_written_in_the_association_columns(found: Any, tmp_path: Path) -> None:
    found.to_dir(tmp_path)
    (scan,) = found.scans
    written = pd.read_csv(tmp_path / f"scan-{scan.key}.tsv", sep="\t")
    assert list(written.columns) == list(scan.results.table.columns)
    paths = pd.read_csv(tmp_path / "mediation.tsv", sep="\t")
    assert {"feature", "marker", "effect", "estimate", "ci_low", "ci_high"} <= set(paths)
    assert set(paths["marker"]) == {"crp"}


def test_markers_are_the_barrier_columns_found_or_those_named(module_cohort: Cohort) -> None:
    meta = module_cohort.metadata.assign(zonulin=1.0 + np.arange(len(module_cohort.metadata)))
    assert markers_in(meta, config()) == ["zonulin", "crp"]
    assert markers_in(meta, config(mechanism={"markers": ["zonulin"]})) == ["zonulin"]
    with pytest.raises(InputError, match="mechanism marker not in the metadata"):
        markers_in(meta, config(mechanism={"markers": ["lbp"]}))


def test_without_function_or_marker_the_step_says_why(module_cohort: Cohort) -> None:
    taxa = ProfileTable(sp.csr_array(np.ones((module_cohort.n_samples, 2))),
                        module_cohort.sample_ids, ["a", "b"])
    cohort = Cohort(taxa, module_cohort.metadata.drop(columns="crp"))
    assert "no functional table" in str(mechanism_skip_reason(cohort, config()))
    assert mechanism_skip_reason(module_cohort, config()) is None


def test_a_stratified_function_table_is_refused(module_cohort: Cohort) -> None:
    table = module_cohort.table
    strata = pd.DataFrame({"function": table.feature_ids, "taxon": "g__Bacteroides"},
                          index=table.feature_ids)
    stratified = Cohort(ProfileTable(table.values, table.sample_ids, table.feature_ids,
                                     feature_type="module", unit="RPK", strata=strata),
                        module_cohort.metadata)
    with pytest.raises(DataKindError, match="unstratified"):
        run_mechanism(stratified, config(), "pain")


def test_inferred_guilds_stand_in_for_modules_and_say_so() -> None:
    pytest.importorskip("gutaxis.gut.guilds")
    from gutaxis.cli.metrics import example_paths
    from gutaxis.io import read_cohort

    paths = example_paths()
    cohort = read_cohort(paths["table"], paths["metadata"], taxonomy=paths["taxonomy"])
    cfg = config(design={"outcome": "pain_nrs", "covariates": ["age"]},
                 mechanism={"markers": ["crp_mg_l"]}, mediation={"boot": 50})
    found = run_mechanism(cohort, cfg, "pain_nrs")
    assert found.inferred and [s.evidence for s in found.scans] == [INFERRED]
    assert all(name.endswith("(inferred)") for name in found.scans[0].names.values())
    assert any("inferred from taxonomy" in c for c in found.caveats)
    assert len(found.paths) == 3  # the three smallest q, through the one marker


def test_a_function_table_beside_a_taxon_table(ko_study: Any, tmp_path: Path) -> None:
    """``input.function_table``: a plain TSV of KO rows (ids tell what they are) for all but
    nine of the samples of a (simulated, stated) taxon table."""
    pytest.importorskip("gutaxis.gut.modules")
    from gutaxis.analyze import run_analysis

    ko = pd.read_csv(ko_study.ko_path, sep="\t", index_col=0).drop(index=["UNMAPPED",
                                                                          "UNGROUPED"])
    ko.iloc[:, 9:].rename_axis("feature_id").to_csv(tmp_path / "ko.tsv", sep="\t")
    rng = np.random.default_rng(3)
    taxa = pd.DataFrame(rng.poisson(50, (20, len(ko.columns))), columns=ko.columns,
                        index=pd.Index([f"ASV{i}" for i in range(20)], name="feature_id"))
    taxa.to_csv(tmp_path / "taxa.tsv", sep="\t")
    ko_study.metadata.to_csv(tmp_path / "meta.tsv", sep="\t")
    cfg = config(input={"table": str(tmp_path / "taxa.tsv"), "metadata": str(tmp_path / "meta.tsv"),
                        "function_table": str(tmp_path / "ko.tsv")},
                 checks={"min_depth": 1}, community={"permutations": 9}, mediation={"boot": 50})
    result = run_analysis(cfg)
    assert "mechanism" not in result.skipped and result.feature_type == "taxon"
    mechanism = result.mechanism
    assert [s.key for s in mechanism.scans] == ["gbm"]
    assert mechanism.scans[0].results.spec.n_samples_input == len(ko.columns) - 9
    assert "9 analysed sample(s) have no functional profile" in " ".join(mechanism.notes)


def test_a_marker_that_cannot_mediate_is_said_and_the_rest_runs(module_cohort: Cohort) -> None:
    cohort = Cohort(module_cohort.table, module_cohort.metadata.assign(il6=2.0))  # constant
    found = run_mechanism(cohort, config(mechanism={"markers": ["crp", "il6"]},
                                         mediation={"boot": 50}), "pain")
    assert {p.marker for p in found.paths} == {"crp"}
    assert any("-> il6 not run" in n for n in found.notes)


def test_on_a_dask_cluster_the_step_gives_the_local_results(ko_cohort: Cohort,
                                                            dask_backend: Any) -> None:
    """The module scans (LM, feature chunks: >= 2 per worker) and the mediation bootstrap
    run as tasks on a LocalCluster of 2 worker processes; the tables are the local run's
    to 1e-9 relative: the LM scans do not depend on the chunking and the bootstrap's
    replicates are drawn in the caller and evaluated batch for batch, but the workers'
    single-threaded BLAS and this process's threaded one may round differently (seen
    under OPENBLAS_CORETYPE=Haswell; identical on other kernels)."""
    from distributed import get_task_stream

    cfg = config(mechanism={"module_sets": ["gbm", "gmm"]}, mediation={"boot": 300})
    local = run_mechanism(ko_cohort, cfg, "pain")
    with get_task_stream(client=dask_backend.client) as stream:
        remote = run_mechanism(ko_cohort, cfg, "pain", backend=dask_backend)
    ran = [str(task["key"]).split("-")[0] for task in stream.data]
    assert ran.count("_abundance_task") >= 2 * 4  # both scans, >= 2 chunks per worker
    assert ran.count("_batches_of") >= len(local.paths) >= 3  # every bootstrap
    assert [s.key for s in remote.scans] == ["gbm", "gmm"]

    def same(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
        # rows ordered by q-value: order by their labels, so ties cannot swap them
        pd.testing.assert_frame_equal(got.sort_values(keys).reset_index(drop=True),
                                      expected.sort_values(keys).reset_index(drop=True),
                                      rtol=1e-9, atol=1e-12)

    scan_keys = ["model", "feature", "metadata", "value"]
    for got, expected in zip(remote.scans, local.scans, strict=True):
        same(got.results.table, expected.results.table, scan_keys)
    pd.testing.assert_frame_equal(remote.to_frame(), local.to_frame(), rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(remote.paths_frame(), local.paths_frame(), rtol=1e-9,
                                  atol=1e-12)
    assert remote.notes == local.notes

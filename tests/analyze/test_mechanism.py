"""The mechanism step on a real functional table: the HUMAnN2 KEGG-ortholog profiles of 109
Indian stool metagenomes (tests/reference/omixer, see make_reference.sh there), with
the gut-brain modules computed from them or taken from Omixer-RPM's own output.

The metadata are built here from real information only: ``series`` is the sample-name
series of the published table (names ``C<n>_M`` vs the ``H...`` names), stated as
nothing more than that. ``pain`` and ``crp`` are simulated (seeded) with a planted
effect of one module: ``crp = A x + e1``, ``pain = B crp + C x + e2`` where ``x`` is the
module's log2 relative abundance (TSS over the modules Omixer-RPM reports, zeros replaced
by half the smallest positive value), so the effect mediated by CRP per doubling of
the module is ``A_PATH * B_PATH``.
"""

from __future__ import annotations

import re
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

REFERENCE = Path(__file__).parents[1] / "reference" / "omixer"
PLANTED = "MGB047"  # acetate degradation, a gut-brain module present in every sample
A_PATH, B_PATH, C_PATH = 1.5, 1.0, 0.5  # crp per doubling; pain per crp; direct
SEED = 20261205


def ko_table() -> ProfileTable:
    """The real KO table (RPK), without HUMAnN's UNMAPPED and UNGROUPED rows."""
    frame = pd.read_csv(REFERENCE / "indian_ko_modules.tsv.gz", sep="\t", index_col=0)
    frame = frame.drop(index=["UNMAPPED", "UNGROUPED"]).T
    return ProfileTable(sp.csr_array(frame.to_numpy()), frame.index, frame.columns,
                        feature_type="ko", unit="RPK")


def omixer_modules(name: str = "gbm-1.0") -> pd.DataFrame:
    """Omixer-RPM's module abundances (cut-off 0.66), samples x modules."""
    return pd.read_csv(REFERENCE / f"{name}_c0.66_abundance.tsv.gz", sep="\t", index_col=0).T


def log2_relative(frame: pd.DataFrame) -> pd.DataFrame:
    """TSS, then log2 with each column's zeros replaced by half its smallest positive
    value (MaAsLin 2's LOG), computed here with pandas, not with gutaxis."""
    rel = frame.div(frame.sum(axis=1), axis=0)
    floor = rel.where(rel > 0).min(axis=0) / 2
    return np.log2(rel.where(rel > 0, floor, axis=1))


def metadata(samples: pd.Index) -> pd.DataFrame:
    """The metadata of ``samples`` (drawn in sorted sample order, whatever the order asked)."""
    x = log2_relative(omixer_modules())[PLANTED].sort_index()
    x = x - x.mean()
    rng = np.random.default_rng(SEED)
    crp = A_PATH * x + rng.normal(0.0, 1.0, len(x))
    pain = B_PATH * crp + C_PATH * x + rng.normal(0.0, 1.0, len(x))
    series = ["C_M" if re.fullmatch(r"C\d+_M", s) else "H" for s in x.index]
    meta = pd.DataFrame({"series": series, "crp": crp, "pain": pain},
                        index=pd.Index(x.index, name="sample_id"))
    return meta.loc[samples]


def config(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    base = {"input": {"table": "x", "metadata": "meta.tsv"},
            "design": {"outcome": "pain", "covariates": ["series"], "seed": 1},
            "association": {"min_prevalence": 0.0}, "mediation": {"boot": 400},
            "mechanism": {"module_sets": ["gbm"]}}
    for section, keys in sections.items():
        base.setdefault(section, {}).update(keys)
    return merge_config(DEFAULTS, base)


@pytest.fixture(scope="module")
def module_cohort() -> Cohort:
    """Omixer-RPM's own GBM table as a module table (a ``gutaxis modules`` output)."""
    frame = omixer_modules()
    table = ProfileTable(sp.csr_array(frame.to_numpy()), frame.index, frame.columns,
                         feature_type="module", unit="RPK")
    return Cohort(table, metadata(frame.index))


@pytest.fixture(scope="module")
def ko_cohort() -> Cohort:
    pytest.importorskip("gutaxis.gut.modules")
    table = ko_table()
    return Cohort(table, metadata(pd.Index(table.sample_ids)))


@pytest.fixture(scope="module", params=["ko", "module"])
def found(request: pytest.FixtureRequest) -> Any:
    cohort = request.getfixturevalue(f"{request.param}_cohort")
    return run_mechanism(cohort, config(), "pain")


def test_module_scan_coefficients_equal_statsmodels_ols(found: Any) -> None:
    import statsmodels.formula.api as smf

    (scan,) = found.scans
    assert scan.evidence == MEASURED
    rows = scan.outcome_rows("pain").set_index("feature")
    reference = omixer_modules()
    values = log2_relative(reference.loc[:, (reference > 0).any()])  # the modules tested
    meta = metadata(reference.index)
    for module in (PLANTED, "MGB015", rows.index[-1]):
        data = meta.assign(y=values[module].reindex(meta.index))
        fit = smf.ols("y ~ pain + C(series, Treatment('C_M'))", data=data).fit()
        assert rows.loc[module, "coef"] == pytest.approx(fit.params["pain"], abs=1e-8)
        assert rows.loc[module, "stderr"] == pytest.approx(fit.bse["pain"], abs=1e-8)


def test_planted_module_is_found_and_its_mediation_through_crp_recovered(found: Any) -> None:
    (scan,) = found.scans
    rows = scan.outcome_rows("pain")
    assert rows.iloc[0]["feature"] == PLANTED and rows.iloc[0]["qval"] < 1e-6
    (path,) = [p for p in found.paths if p.feature == PLANTED]
    assert path.marker == "crp" and path.contrast == "a doubling of relative abundance"
    acme = path.mediation.effects.set_index("effect").loc["acme"]
    assert acme["ci_low"] < A_PATH * B_PATH < acme["ci_high"]  # covers the planted effect
    assert acme["estimate"] == pytest.approx(A_PATH * B_PATH, abs=0.35)
    ade = path.mediation.effects.set_index("effect").loc["ade"]
    assert ade["ci_low"] < C_PATH < ade["ci_high"]


def test_modules_are_named_from_their_definitions(found: Any) -> None:
    (scan,) = found.scans
    assert scan.names[PLANTED] != PLANTED and scan.names[PLANTED]
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
    assert all("inferred" in name for name in found.scans[0].names.values())
    assert any("inferred from taxonomy" in c for c in found.caveats)

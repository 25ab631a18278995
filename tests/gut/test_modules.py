"""Gut-brain and gut metabolic modules against Omixer-RPM, the authors' own tool.

References (tests/reference/omixer): Omixer-RPM 1.1 (the jar of omixerRpm 0.3.3, default
options) on a real HUMAnN2 KO table of 109 stool metagenomes for GBM 1.0 and GMM 1.07
at cutoffs 0.66 and 0.5 (make_reference.sh), and on synthetic definitions and profiles
that exercise every rule of its best path, including its README's worked example
(synthetic/make_synthetic.py). Tolerances: abundance 1e-9 relative (Omixer-RPM prints
Java doubles; the medians of two middle values differ from numpy's in the last bit);
coverage 1e-12 where the module is present (Omixer-RPM writes 0 below the cutoff).
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.modules import (
    TIDY_COLUMNS,
    ModuleDefinition,
    ModuleSet,
    ModuleSetInfo,
    module_profile,
    module_set,
    module_sets,
    parse_omixer_definitions,
    scoring,
)
from gutaxis.io import read_delimited

OMIXER = Path(__file__).resolve().parents[1] / "reference" / "omixer"
SYNTHETIC = OMIXER / "synthetic"
ABUNDANCE_RTOL = 1e-9
COVERAGE_RTOL = 1e-12


def read_ko_table(path: Path) -> ProfileTable:
    """A KO table as Omixer-RPM reads it: one line per ortholog, samples as columns."""
    return read_delimited(path, orientation="samples-columns", kind="counts")


def omixer_matrices(prefix: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Omixer-RPM's modules x samples abundance and coverage matrices (``-e 2``)."""
    read = lambda suffix: pd.read_csv(f"{prefix}_{suffix}.tsv" + (  # noqa: E731
        ".gz" if prefix.parent == OMIXER else ""), sep="\t", index_col=0)
    return read("abundance"), read("coverage")


def assert_matches_omixer(result, abundance: pd.DataFrame, coverage: pd.DataFrame,
                          cutoff: float) -> None:  # type: ignore[no-untyped-def]
    mine_ab = result.abundance.to_dataframe().T
    mine_cov = result.coverage.to_dataframe().T
    # Omixer-RPM writes a module only when some sample reaches the cutoff, 0 elsewhere
    ref_ab = abundance.reindex(index=mine_ab.index, columns=mine_ab.columns).fillna(0.0)
    ref_cov = coverage.reindex(index=mine_ab.index, columns=mine_ab.columns).fillna(0.0)
    assert set(abundance.index) <= set(mine_ab.index)
    assert set(abundance.columns) == set(mine_ab.columns)
    np.testing.assert_allclose(mine_ab.to_numpy(), ref_ab.to_numpy(), rtol=ABUNDANCE_RTOL,
                               atol=0)
    present = mine_cov.to_numpy() >= cutoff
    np.testing.assert_array_equal(present, ref_cov.to_numpy() > 0)
    np.testing.assert_allclose(mine_cov.to_numpy()[present], ref_cov.to_numpy()[present],
                               rtol=COVERAGE_RTOL, atol=0)
    np.testing.assert_array_equal(result.present.T.to_numpy(), present)


@pytest.fixture(scope="module")
def indian_ko() -> ProfileTable:
    return read_ko_table(OMIXER / "indian_ko_modules.tsv.gz")


@pytest.mark.parametrize("name,version", [("gbm", "1.0"), ("gmm", "1.07")])
@pytest.mark.parametrize("cutoff", [0.66, 0.5])
def test_matches_omixer_rpm_on_109_humann2_ko_profiles(indian_ko: ProfileTable, name: str,
                                                        version: str, cutoff: float) -> None:
    result = module_profile(indian_ko, set=name, version=version, coverage=cutoff)
    abundance, coverage = omixer_matrices(OMIXER / f"{name}-{version}_c{cutoff}")
    assert len(abundance) >= 40  # the reference is not trivially small
    assert_matches_omixer(result, abundance, coverage, cutoff)


def test_small_chunks_give_omixer_rpm_values_too(indian_ko: ProfileTable,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scoring, "CHUNK_BYTES", 1)  # one sample per chunk
    done: list[int] = []
    result = module_profile(indian_ko, set="gmm", coverage=0.66, progress=done.append)
    assert done == [1] * indian_ko.n_samples
    assert_matches_omixer(result, *omixer_matrices(OMIXER / "gmm-1.07_c0.66"), 0.66)


@pytest.fixture(scope="module")
def synthetic_set() -> ModuleSet:
    text = (SYNTHETIC / "definitions.txt").read_text()
    return ModuleSet.from_omixer(text, name="synthetic", source="definitions.txt")


@pytest.mark.parametrize("cutoff", [0.66, 0.5, 0.25])
def test_matches_omixer_rpm_on_synthetic_complexes_alternatives_and_shared_orthologs(
        synthetic_set: ModuleSet, cutoff: float) -> None:
    table = read_ko_table(SYNTHETIC / "ko_table.tsv")
    result = module_profile(table, set=synthetic_set, coverage=cutoff)
    abundance, coverage = omixer_matrices(SYNTHETIC / f"c{cutoff}")
    assert {"X001", "X002", "X003", "X004", "X005"} <= set(abundance.index)
    assert_matches_omixer(result, abundance, coverage, cutoff)


def test_readme_worked_example_scores_the_best_path_by_its_median(
        synthetic_set: ModuleSet) -> None:
    # Omixer-RPM's README: path A (10, 8, 5, 2, missing) beats B; coverage 4/5. Its
    # default (median) estimator prints 6.5 = (5 + 8) / 2 (synthetic/c*_abundance.tsv);
    # the README's "5" is path A's sum over all five steps, 25 / 5.
    table = read_ko_table(SYNTHETIC / "ko_table.tsv")
    result = module_profile(table, set=synthetic_set, coverage=0.66)
    column = result.abundance.feature_position("X005")
    assert np.all(result.abundance.dense()[:, column] == 6.5)
    assert np.all(result.coverage.dense()[:, column] == 0.8)


# ----------------------------------------------------------- closed forms, by hand
def one_module_set(*steps: str) -> ModuleSet:
    """A set of one module from Omixer-RPM step lines."""
    text = "M1\tdemo\n" + "\n".join(steps) + "\n///\n"
    return ModuleSet.from_omixer(text, name="demo")


def score(values: dict[str, float], *steps: str, cutoff: float = 0.0) -> tuple[float, float]:
    table = ProfileTable.from_dataframe(pd.DataFrame(values, index=["S1"]))
    result = module_profile(table, set=one_module_set(*steps), coverage=cutoff)
    return result.abundance.dense().item(), result.coverage.dense().item()


def test_a_complex_is_the_mean_of_its_members_missing_ones_counting_zero() -> None:
    # step 1: (6 + 0) / 2 = 3 beats 2; step 2: 10; median of 3 and 10
    assert score({"K00001": 6, "K00003": 2, "K00004": 10},
                 "K00001,K00002\tK00003", "K00004") == (6.5, 1.0)


def test_an_even_number_of_observed_steps_takes_the_mean_of_the_middle_two() -> None:
    assert score({"K00001": 1, "K00002": 4, "K00003": 9, "K00004": 100},
                 "K00001", "K00002", "K00003", "K00004") == (6.5, 1.0)


def test_an_ortholog_in_two_steps_counts_in_both() -> None:
    # steps: 7, max(7, 2) = 7, 1 -> median 7; coverage 3/3
    assert score({"K00009": 7, "K00010": 2, "K00011": 1},
                 "K00009", "K00009\tK00010", "K00011") == (7.0, 1.0)


def test_below_the_cutoff_abundance_is_zero_and_coverage_is_kept() -> None:
    assert score({"K00001": 5}, "K00001", "K00002", "K00003", cutoff=0.66) == (0.0, 1 / 3)
    assert score({"K00001": 5}, "K00001", "K00002", "K00003", cutoff=1 / 3) == (5.0, 1 / 3)


def test_humann_renamed_ko_ids_are_kegg_orthologs() -> None:
    assert score({"K00001: alcohol dehydrogenase": 4.0, "UNMAPPED": 50.0},
                 "K00001") == (4.0, 1.0)


def omixer_best_path(counts: dict[str, float], steps: tuple) -> tuple[float, float]:  # type: ignore[type-arg]
    """Omixer-RPM's algorithm as its source states it (ModuleAbundanceCoverage-
    MedianMaximizer): every path, coverage then abundance, first best kept."""
    best: tuple[float, float] | None = None
    for path in itertools.product(*steps):
        values = [sum(counts.get(o, 0.0) for o in alt) / len(alt) for alt in path]
        observed = [v for v in values if v > 0]
        cov = len(observed) / len(path)
        abundance = statistics.median(observed) if observed else float("nan")
        if best is None or cov > best[1] or (cov == best[1] and abundance > best[0]):
            best = (abundance, cov)
    assert best is not None
    return best


ko_ids = st.sampled_from([f"K{i:05d}" for i in range(1, 9)])
steps_strategy = st.lists(st.lists(st.lists(ko_ids, min_size=1, max_size=3), min_size=1,
                                   max_size=3), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(steps=steps_strategy,
       counts=st.dictionaries(ko_ids, st.floats(0.0, 1e6, allow_nan=False) | st.just(0.0)))
def test_closed_form_equals_the_best_of_all_paths(steps: list, counts: dict) -> None:  # type: ignore[type-arg]
    definition = ModuleDefinition("M1", "m", tuple(tuple(tuple(a) for a in s) for s in steps))
    one = ModuleSet(ModuleSetInfo("p", "1", "p", "-", "-", "-", 1), (definition,))
    frame = pd.DataFrame({**{f"K{i:05d}": 0.0 for i in range(1, 9)}, **counts}, index=["S"])
    result = module_profile(ProfileTable.from_dataframe(frame), set=one, coverage=0.0)
    expected_ab, expected_cov = omixer_best_path(counts, definition.steps)
    assert result.coverage.dense().item() == pytest.approx(expected_cov, rel=1e-12)
    if expected_cov > 0:
        assert result.abundance.dense().item() == pytest.approx(expected_ab, rel=1e-12)
    else:
        assert result.abundance.dense().item() == 0.0


# --------------------------------------------------------------------- the results
def test_results_keep_the_unit_and_report_unknown_ids(indian_ko: ProfileTable) -> None:
    rpk = replace(indian_ko, feature_type="ko", unit="RPK")
    result = module_profile(rpk, set="gbm")
    assert result.unknown_ids == ("UNMAPPED", "UNGROUPED")
    assert (result.abundance.feature_type, result.abundance.unit,
            result.abundance.kind) == ("module", "RPK", "counts")
    assert (result.coverage.feature_type, result.coverage.unit,
            result.coverage.kind) == ("module", "coverage", "transformed")
    assert result.abundance.shape == (109, 56)
    assert (result.set_name, result.version, result.cutoff) == ("gbm", "1.0", 0.66)
    assert result.n_ko_features == 425
    summary = result.summary()
    assert "left out 2 feature ids that are neither a KEGG ortholog nor named by a module: " \
        "UNMAPPED, UNGROUPED" in summary and "VIB" in summary
    frame = result.to_frame()
    assert tuple(frame.columns) == TIDY_COLUMNS and len(frame) == 109 * 56
    row = frame[(frame["sample_id"] == "HAK") & (frame["module_id"] == "MGB005")].iloc[0]
    assert row["module_name"] == "Tryptophan synthesis"
    assert row["abundance"] == result.abundance.dense()[
        0, result.abundance.feature_position("MGB005")]
    assert result.modules.loc["MGB001", ["n_steps", "ko_steps"]].tolist() == [2, 1]
    assert (result.modules["n_samples_present"]
            == result.present.sum(axis=0).reindex(result.modules.index)).all()


# ----------------------------------------------------------------------- the sets
def test_shipped_sets_carry_source_licence_and_citation() -> None:
    infos = {(s.name, s.version): s for s in module_sets()}
    assert set(infos) == {("gbm", "1.0"), ("gmm", "1.07")}
    gbm, gmm = infos["gbm", "1.0"], infos["gmm", "1.07"]
    assert (gbm.n_modules, gmm.n_modules) == (56, 103)
    assert "10.1038/s41564-018-0337-x" in gbm.citation
    assert "10.1038/nmicrobiol.2016.88" in gmm.citation
    for info in (gbm, gmm):
        assert "184f1cc99aefed722e20eb00eda082348a064c4e" in info.source
        assert "GNU General Public License v3.0" in info.licence
        assert "Academic Non-commercial" in info.licence and "VIB" in info.licence
    # MF0103 as printed in Omixer-RPM's README (mucin degradation)
    mucin = next(m for m in module_set("gmm").modules if m.module_id == "MF0103")
    assert mucin.steps[2] == (("K01132",), ("K01135",), ("K01137",), ("K01205",))
    assert module_set("GMM", "1.07") is module_set("gmm")


def test_unknown_set_or_version_lists_the_shipped_ones() -> None:
    with pytest.raises(InputError, match=r"unknown module set.*gbm 1\.0, gmm 1\.07"):
        module_set("kegg")
    with pytest.raises(InputError, match=r"no version '2\.0'.*\['1\.07'\]"):
        module_set("gmm", "2.0")


def test_omixer_format_errors_name_the_line() -> None:
    with pytest.raises(InputError, match=r"row 1: a module starts with its id and name"):
        parse_omixer_definitions("K00001\n///\n", source="defs.txt")
    with pytest.raises(InputError, match="row 2: empty ortholog id"):
        parse_omixer_definitions("M1\tname\nK00001,\n///\n", source="defs.txt")
    with pytest.raises(InputError, match="module id defined twice"):
        parse_omixer_definitions("M1\ta\nK00001\n///\nM1\tb\nK00002\n///\n")
    with pytest.raises(InputError, match="no module definitions"):
        parse_omixer_definitions("\n")


# -------------------------------------------------------------------- bad tables
def ko_frame() -> pd.DataFrame:
    return pd.DataFrame({"K00001": [1.0, 0.0], "K00002": [3.0, 2.0]}, index=["A", "B"])


@pytest.mark.parametrize("cutoff", [-0.1, 1.5, True])
def test_a_cutoff_outside_zero_one_is_refused(cutoff: float) -> None:
    table = ProfileTable.from_dataframe(ko_frame())
    with pytest.raises(InputError, match="coverage cutoff must be a fraction"):
        module_profile(table, coverage=cutoff)


def test_a_taxon_table_is_refused() -> None:
    taxa = ProfileTable.from_dataframe(pd.DataFrame({"g__Bacteroides": [5.0]}, index=["A"]))
    with pytest.raises(DataKindError, match=r"needs a table of KEGG orthologs.*no KEGG"):
        module_profile(taxa)


def test_a_pathway_table_is_refused_even_with_ko_like_ids() -> None:
    table = replace(ProfileTable.from_dataframe(ko_frame()), feature_type="pathway")
    with pytest.raises(DataKindError, match="features of type 'pathway'"):
        module_profile(table)


def stratified_table(path: Path) -> ProfileTable:
    """Omixer-RPM's taxon-annotated table (taxon, KO, samples) as a stratified table."""
    frame = pd.read_csv(path, sep="\t")
    ids = frame["KO"] + "|" + frame["Taxon"]
    strata = pd.DataFrame({"function": frame["KO"].to_numpy(),
                           "taxon": frame["Taxon"].to_numpy()}, index=ids)
    values = frame.drop(columns=["Taxon", "KO"])
    return ProfileTable(sp.csr_array(values.to_numpy().T), values.columns.to_numpy(),
                        ids.to_numpy(), feature_type="ko", strata=strata)


@pytest.mark.parametrize("cutoff", [0.66, 0.5])
def test_per_taxon_modules_match_omixer_rpm(synthetic_set: ModuleSet, cutoff: float) -> None:
    table = stratified_table(SYNTHETIC / "taxon_ko_table.tsv")
    result = module_profile(table, set=synthetic_set, coverage=cutoff)
    read = lambda what: pd.read_csv(  # noqa: E731
        SYNTHETIC / f"taxon_c{cutoff}_{what}.tsv", sep="\t").assign(
        feature=lambda f: f["Module"] + "|" + f["Taxon"]).set_index("feature").drop(
        columns=["Taxon", "Module"])
    abundance, coverage = read("abundance"), read("coverage")
    assert sorted(result.abundance.feature_ids) == sorted(abundance.index)
    assert len(abundance) > 100
    mine = result.abundance.to_dataframe().T.loc[abundance.index, abundance.columns]
    np.testing.assert_allclose(mine.to_numpy(), abundance.to_numpy(), rtol=ABUNDANCE_RTOL,
                               atol=0)
    cover = result.coverage.to_dataframe().T.loc[abundance.index, abundance.columns]
    present = cover.to_numpy() >= cutoff
    np.testing.assert_array_equal(present, coverage.to_numpy() > 0)
    np.testing.assert_allclose(cover.to_numpy()[present], coverage.to_numpy()[present],
                               rtol=COVERAGE_RTOL, atol=0)
    assert result.abundance.is_stratified
    assert result.abundance.strata.loc["R008|taxon_0"].tolist() == ["R008", "taxon_0"]
    tidy = result.to_frame()
    assert tidy.columns.tolist()[:4] == ["sample_id", "module_id", "taxon", "module_name"]
    assert (tidy["coverage"] > 0).all()


def test_per_taxon_modules_of_one_taxon_are_its_community_modules(
        synthetic_set: ModuleSet) -> None:
    table = stratified_table(SYNTHETIC / "taxon_ko_table.tsv")
    one = table.subset_features(table.strata["taxon"].to_numpy() == "taxon_3")
    per_taxon = module_profile(one, set=synthetic_set, coverage=0.5)
    community = module_profile(one.unstratified(), set=synthetic_set, coverage=0.5)
    kept = per_taxon.abundance.strata["function"].to_numpy()
    assert sorted(kept) == sorted(community.modules.index[community.present.any(axis=0)])
    assert len(kept) > 10
    np.testing.assert_allclose(per_taxon.abundance.dense(),
                               community.abundance.subset_features(kept).dense(), rtol=1e-15)
    coverage = per_taxon.coverage.dense()
    assert ((coverage > 0) & (coverage < 0.5)).any()  # true coverage below the cutoff kept
    np.testing.assert_allclose(coverage, community.coverage.subset_features(kept).dense(),
                               rtol=1e-15)


def test_clr_values_are_refused() -> None:
    table = ProfileTable.from_dataframe(ko_frame()).clr()
    with pytest.raises(DataKindError, match="module inference needs counts or relative"):
        module_profile(table)


def test_shipped_sets_write_back_to_omixer_rpm_format_unchanged() -> None:
    for name in ("gbm", "gmm"):
        shipped = module_set(name)
        again = ModuleSet.from_omixer(shipped.to_omixer(), name=name)
        assert again.modules == shipped.modules


def test_an_all_zero_sample_has_no_module_and_an_empty_table_no_rows() -> None:
    frame = pd.DataFrame({"K00001": [0.0, 2.0], "K00002": [0.0, 3.0]}, index=["zero", "S"])
    result = module_profile(ProfileTable.from_dataframe(frame), set=one_module_set(
        "K00001", "K00002"), coverage=0.5)
    np.testing.assert_array_equal(result.coverage.dense(), [[0.0], [1.0]])
    np.testing.assert_array_equal(result.abundance.dense(), [[0.0], [2.5]])
    empty = ProfileTable.from_dataframe(frame.iloc[:0])
    assert module_profile(empty, set="gmm").abundance.shape == (0, 103)

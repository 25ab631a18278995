"""HUMAnN tables read as functional ProfileTables, checked against HUMAnN's own published
test outputs (tests/io/data/README.md) parsed independently here with the csv module."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.alpha import chao1
from gutaxis.io import detect_table_format, read_cohort, read_humann, read_table

DATA = Path(__file__).parent / "data" / "humann"
#: HUMAnN's rows for unassigned abundance, named here independently of the reader.
UNASSIGNED = {"UNMAPPED", "UNINTEGRATED", "UNGROUPED", "READS_UNMAPPED"}
#: Values are parsed twice from the same text (pandas' C parser in the reader, Python's
#: float() here): equal up to one unit in the last place.
PARSE_RTOL = 1e-15

HUMANN2_SAMPLES = [f"{s}_knead_paired_subsampled_cat" for s in (
    "A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "PD_3", "iGEM-16", "iGEM-18", "iGEM-4",
    "iGEM-9")]
CASES = [
    # file, feature_type, unit, kind, sample ids, has community rows, has strata
    ("demo_genefamilies.tsv.gz", "gene_family", "RPK", "counts", ["demo"], True, True),
    ("demo_pathabundance.tsv", "pathway", "RPK", "counts", ["demo"], True, True),
    ("demo_pathcoverage_with_names.tsv", "pathway", "coverage", "transformed",
     ["HUMAnN_test"], True, True),
    ("multi_sample_genefamilies.tsv", "gene_family", "RPK", "counts", ["sample1", "sample2"],
     True, True),
    ("regroup_table-builtin_uniref50_ko_output.txt", "ko", "RPK", "counts",
     ["Sample1", "Sample2"], True, True),
    ("regroup_table-builtin_uniref50_ec_output.txt", "ec", "RPK", "counts",
     ["Sample1", "Sample2"], True, True),
    ("renorm_table-input.txt", "function", "RPK", "counts", ["1", "2"], True, True),
    ("renorm_table-cpm_output.txt", "function", "CPM", "relative", ["1", "2"], True, True),
    ("renorm_table-relab_output.txt", "function", "relab", "relative", ["1", "2"], True, True),
    ("rename_table-builtin_ko_output.txt", "ko", "RPK", "counts", ["Sample1", "Sample2"],
     True, True),
    ("rename_table-builtin_pathways_output.txt", "pathway", "RPK", "counts", ["HUMAnN_test"],
     True, True),
    ("gene_families_uniref50_with_names.tsv", "gene_family", "CPM", "relative",
     ["HUMAnN_test"], True, True),
    ("humann2_unstrat_example.tsv.gz", "gene_family", "RPK", "counts",
     HUMANN2_SAMPLES,
     True, False),
    ("humann2_strat_example.tsv.gz", "gene_family", "RPK", "counts",
     HUMANN2_SAMPLES,
     False, True),
    ("humann2_path_test_A1.tsv.gz", "pathway", "RPK", "counts", ["A1"], True, True),
]
COMMUNITY = [pytest.param(c, id=c[0]) for c in CASES if c[5]]
STRATIFIED = [pytest.param(c, id=c[0]) for c in CASES if c[6]]


def file_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header cells and data rows, split on tabs (no pandas)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        rows = [row for row in csv.reader(fh, delimiter="\t") if row]
    return rows[0], rows[1:]


def expected_frame(path: Path, *, stratified: bool) -> pd.DataFrame:
    """features x samples as HUMAnN wrote them: names cut at ': ', unassigned rows out."""
    _, rows = file_rows(path)
    kept: dict[str, list[float]] = {}
    for row in rows:
        function, bar, taxon = row[0].partition("|")
        function = function.split(": ")[0]
        if function in UNASSIGNED or bool(bar) != stratified:
            continue
        kept[f"{function}|{taxon}" if bar else function] = [float(v) for v in row[1:]]
    return pd.DataFrame(kept).T


@pytest.mark.parametrize("case", COMMUNITY)
def test_community_rows_read_with_their_type_unit_and_values(case: tuple) -> None:
    name, feature_type, unit, kind, samples, _, _ = case
    table = read_humann(DATA / name)
    assert (table.feature_type, table.unit, table.kind) == (feature_type, unit, kind)
    assert list(table.sample_ids) == samples
    assert not table.is_stratified and table.is_functional
    expected = expected_frame(DATA / name, stratified=False)
    assert list(table.feature_ids) == list(expected.index)
    np.testing.assert_allclose(table.dense().T, expected.to_numpy(), rtol=PARSE_RTOL, atol=0)


@pytest.mark.parametrize("case", STRATIFIED)
def test_stratified_rows_split_into_function_and_taxon(case: tuple) -> None:
    name, feature_type, unit, kind, samples, _, _ = case
    table = read_humann(DATA / name, stratified=True)
    assert (table.feature_type, table.unit, table.kind) == (feature_type, unit, kind)
    assert list(table.sample_ids) == samples and table.is_stratified
    expected = expected_frame(DATA / name, stratified=True)
    assert list(table.feature_ids) == list(expected.index)
    np.testing.assert_allclose(table.dense().T, expected.to_numpy(), rtol=PARSE_RTOL, atol=0)
    assert table.strata is not None
    functions, taxa = zip(*(i.split("|") for i in expected.index), strict=True)
    assert list(table.strata["function"]) == list(functions)
    assert list(table.strata["taxon"]) == list(taxa)


def test_unclassified_is_a_taxon_like_any_other() -> None:
    table = read_humann(DATA / "gene_families_uniref50_with_names.tsv", stratified=True)
    assert table.strata is not None
    by_function = table.strata.groupby("function")["taxon"].apply(list)
    assert by_function["UniRef50_Q197D8"] == ["unclassified", "bug1", "bug2"]


@pytest.mark.parametrize("name", [
    "demo_genefamilies.tsv.gz", "multi_sample_genefamilies.tsv",
    "regroup_table-builtin_uniref50_ko_output.txt",
    "regroup_table-builtin_uniref50_ec_output.txt", "gene_families_uniref50_with_names.tsv",
])
def test_gene_family_strata_sum_to_humanns_community_rows(name: str) -> None:
    """Gene families, KOs and ECs are additive over taxa: HUMAnN's community row is the
    sum of its function|taxon rows (to the 10 decimals HUMAnN prints)."""
    community = read_humann(DATA / name)
    summed = read_humann(DATA / name, stratified=True).unstratified()
    assert set(summed.feature_ids) == set(community.feature_ids)
    ordered = summed.subset_features(list(community.feature_ids))
    np.testing.assert_allclose(ordered.dense(), community.dense(), rtol=1e-6, atol=0)
    assert ordered.unit == community.unit and ordered.feature_type == community.feature_type


def test_split_gene_family_tables_sum_to_each_other() -> None:
    """humann2_strat_example (stratified rows only) against humann2_unstrat_example
    (community rows only) of the same 13 HUMAnN 2 runs."""
    summed = read_humann(DATA / "humann2_strat_example.tsv.gz", stratified=True).unstratified()
    community = read_humann(DATA / "humann2_unstrat_example.tsv.gz")
    ordered = summed.subset_features(list(community.feature_ids))
    np.testing.assert_allclose(ordered.dense(), community.dense(), rtol=1e-6, atol=0)


def test_pathway_abundance_is_not_the_sum_over_taxa() -> None:
    """Where the sum does not hold: a pathway can be more complete in the community than
    in any taxon, so HUMAnN's community abundance differs from the sum of its strata."""
    community = read_humann(DATA / "demo_pathabundance.tsv")
    summed = read_humann(DATA / "demo_pathabundance.tsv", stratified=True).unstratified()
    shared = sorted(set(summed.feature_ids) & set(community.feature_ids))
    a = community.subset_features(shared).dense()
    b = summed.subset_features(shared).dense()
    assert not np.allclose(a, b, rtol=1e-6)


def test_unassigned_rows_are_not_features() -> None:
    for name in ("demo_genefamilies.tsv.gz", "demo_pathabundance.tsv",
                 "rename_table-builtin_pathways_output.txt",
                 "gene_families_uniref50_with_names.tsv"):
        for stratified in (False, True):
            table = read_humann(DATA / name, stratified=stratified)
            functions = {str(f).split("|")[0] for f in table.feature_ids}
            assert not functions & UNASSIGNED, name


def test_names_from_rename_table_are_cut_from_the_ids() -> None:
    ko = read_humann(DATA / "rename_table-builtin_ko_output.txt", stratified=True)
    assert list(ko.feature_ids) == ["K01838|bug1", "K01838|bug2"]
    pathways = read_humann(DATA / "rename_table-builtin_pathways_output.txt")
    assert "PWY-7208" in set(pathways.feature_ids)
    assert not any(": " in str(f) for f in pathways.feature_ids)


def test_gzip_and_plain_text_read_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "demo_genefamilies.tsv"
    plain.write_bytes(gzip.decompress((DATA / "demo_genefamilies.tsv.gz").read_bytes()))
    a, b = read_humann(plain), read_humann(DATA / "demo_genefamilies.tsv.gz")
    assert list(a.feature_ids) == list(b.feature_ids)
    assert (a.values != b.values).nnz == 0


@pytest.mark.parametrize("name", ["renorm_table-cpm_output.txt", "renorm_table-relab_output.txt",
                                  "gene_families_uniref50_with_names.tsv"])
def test_compositional_tables_are_refused_where_counts_are_needed(name: str) -> None:
    table = read_humann(DATA / name)
    assert table.kind == "relative"
    with pytest.raises(DataKindError, match="rarefaction needs counts; found 'a table of "
                                            "relative values'"):
        table.rarefy(10, seed=1)
    with pytest.raises(DataKindError, match="Chao1 needs counts"):
        chao1(table)


def test_rpk_values_are_not_read_counts() -> None:
    table = read_humann(DATA / "demo_genefamilies.tsv.gz")
    with pytest.raises(DataKindError,
                       match="Chao1 needs whole-number read counts; found 'a table of RPK"):
        table.require_integer_counts(action="Chao1")


def test_cpm_keeps_its_scale() -> None:
    table = read_humann(DATA / "renorm_table-cpm_output.txt")
    np.testing.assert_allclose(table.sample_totals(), [1e6, 1e6], rtol=1e-6)


def test_read_table_recognises_every_humann_fixture() -> None:
    for name, feature_type, unit, *_ in CASES:
        assert detect_table_format(DATA / name) == "humann", name
        stratified = name == "humann2_strat_example.tsv.gz"
        table = read_table(DATA / name, stratified=stratified)
        assert (table.feature_type, table.unit) == (feature_type, unit)
        assert table.is_stratified == stratified


def test_read_cohort_matches_sample_ids_without_humanns_suffixes(tmp_path: Path) -> None:
    meta = tmp_path / "metadata.tsv"
    meta.write_text("sample_id\tgroup\nsample2\tb\nsample1\ta\n", encoding="utf-8")
    path = DATA / "multi_sample_genefamilies.tsv"
    cohort = read_cohort(path, meta)
    assert list(cohort.table.sample_ids) == ["sample1", "sample2"]
    assert list(cohort.metadata["group"]) == ["a", "b"]
    strata = read_cohort(path, meta, stratified=True).table
    assert strata.is_stratified and strata.n_features == 25


def test_read_table_refuses_a_kind_the_unit_contradicts() -> None:
    with pytest.raises(InputError, match="the table holds CPM values, which are relative"):
        read_table(DATA / "renorm_table-cpm_output.txt", kind="counts")


# ------------------------------------------------------------------------------ bad input
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_stratified_only_file_read_for_community_totals(tmp_path: Path) -> None:
    with pytest.raises(DataKindError, match=r"only stratified .* rows, no community totals; "
                                            r"found '14 stratified rows'"):
        read_humann(DATA / "humann2_strat_example.tsv.gz")


def test_community_only_file_read_for_strata() -> None:
    with pytest.raises(DataKindError, match=r"holds no stratified .* found '14 community rows'"):
        read_humann(DATA / "humann2_unstrat_example.tsv.gz", stratified=True)


def test_mixed_units_across_the_columns_of_a_merged_file(tmp_path: Path) -> None:
    path = write(tmp_path, "joined.tsv", "# Gene Family\ta_Abundance-RPKs\tb_Abundance-CPM\n"
                 "UniRef90_A\t1.5\t2.5\n")
    with pytest.raises(InputError, match="row 1: sample columns in different units; found "
                                         "'b_Abundance-CPM, a_Abundance-RPKs'"):
        read_humann(path)


def test_non_numeric_cell_names_its_line_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "gf.tsv", "# Gene Family\ts1_Abundance-RPKs\ts2_Abundance-RPKs\n"
                 "UniRef90_A\t1.5\t2.5\nUniRef90_B\t3\tn/a\n")
    with pytest.raises(InputError, match="row 3, column 's2_Abundance-RPKs': non-numeric "
                                         "value in the row of 'UniRef90_B'; found 'n/a'"):
        read_humann(path)


def test_negative_cell_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "gf.tsv", "# Gene Family\ts1\nUniRef90_A\t-1\n")
    with pytest.raises(InputError, match="negative value in the row of 'UniRef90_A'"):
        read_humann(path)


def test_duplicate_function_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "ko.tsv", "# Gene Family\ts1\nK00001\t1\nK00002\t2\nK00001\t3\n")
    with pytest.raises(InputError, match="row 4: function listed twice; found 'K00001'"):
        read_humann(path)


def test_duplicate_after_names_are_cut(tmp_path: Path) -> None:
    path = write(tmp_path, "ko.tsv", "# Gene Family\ts1\nK00001: alcohol dehydrogenase\t1\n"
                 "K00001\t3\n")
    with pytest.raises(InputError, match="function listed twice"):
        read_humann(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file is empty"):
        read_humann(write(tmp_path, "empty.tsv", ""))


def test_header_without_rows(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="table has a header but no rows"):
        read_humann(write(tmp_path, "h.tsv", "# Gene Family\ts1_Abundance-RPKs\n"))


def test_function_taxon_gene_rows_are_refused() -> None:
    with pytest.raises(InputError, match=re.escape("rows with two '|'")):
        read_humann(DATA / "merge_output.tsv")


def test_a_unit_the_file_contradicts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the file states another unit; found 'CPM'"):
        read_humann(DATA / "demo_genefamilies.tsv.gz", unit="CPM")
    with pytest.raises(InputError, match="unknown unit"):
        read_humann(DATA / "demo_genefamilies.tsv.gz", unit="TPM")


def test_unit_given_for_a_file_that_says_none(tmp_path: Path) -> None:
    path = write(tmp_path, "pathabundance.tsv", "# Pathway\ts1\nPWY-1\t12.5\n")
    assert read_humann(path).unit == "RPK"
    assert read_humann(path, unit="CPM").kind == "relative"


def test_unknown_ids_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "ko.tsv", "# Gene Family\ts1_Abundance-RPKs\nUNGROUPED\t9\n"
                 "K00001\t1\nK0000X\t2\nCOG0001\t3\n")
    table = read_humann(path)
    assert list(table.feature_ids) == ["K00001", "K0000X", "COG0001"]
    assert table.feature_type == "gene_family"  # no id type is a majority: the header's
    mostly_ko = write(tmp_path, "ko2.tsv", "#\ts1\nK00001\t1\nK00002\t2\nCOG0001\t3\n")
    assert read_humann(mostly_ko).feature_type == "ko"


def test_the_real_humann2_ko_table_of_the_module_reference() -> None:
    """The 109-sample HUMAnN2 KO table behind the Omixer-RPM reference (saved by the
    PICRUSt2 authors under a 'function' header, with HUMAnN's UNMAPPED and UNGROUPED rows)
    reads as HUMAnN's: KEGG orthologs in RPK, the two unassigned rows left out."""
    path = Path(__file__).parents[1] / "reference" / "omixer" / "indian_ko_modules.tsv.gz"
    assert detect_table_format(path) == "humann"
    table = read_table(path)
    assert (table.feature_type, table.unit, table.kind) == ("ko", "RPK", "counts")
    header, rows = file_rows(path)
    kept = [r for r in rows if r[0] not in UNASSIGNED]
    assert table.sample_ids.tolist() == header[1:] and len(header) == 110
    assert table.feature_ids.tolist() == [r[0] for r in kept]
    expected = np.array([[float(v) for v in r[1:]] for r in kept])
    np.testing.assert_allclose(table.dense().T, expected, rtol=PARSE_RTOL, atol=0)


def test_a_lineage_table_under_a_hash_header_is_not_taken_for_humann(tmp_path: Path) -> None:
    path = write(tmp_path, "taxa.tsv", "#taxon\tS1\tS2\nk__Bacteria|p__Firmicutes\t3\t4\n")
    assert detect_table_format(path) == "delimited"
    gene_families = write(tmp_path, "gf.tsv", "#\tS1\nA\t3\nA|g__Roseburia\t3\n")
    assert detect_table_format(gene_families) == "humann"


def test_a_table_of_unassigned_rows_only(tmp_path: Path) -> None:
    """As demo_pathabundance_with_names.tsv of HUMAnN's tests: nothing but UNMAPPED and
    UNINTEGRATED."""
    path = write(tmp_path, "pathabundance.tsv",
                 "# Pathway\tHUMAnN_test_Abundance\nUNMAPPED\t0.0\nUNINTEGRATED\t0.0\n")
    with pytest.raises(InputError, match="no function rows besides the unassigned ones; "
                                         "found '2 rows named"):
        read_humann(path)


def test_a_column_named_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "gf.tsv", "# Gene Family\ts1\ts1\nUniRef90_A\t1\t2\n")
    with pytest.raises(InputError, match="column name repeated in the header; found 's1'"):
        read_humann(path)

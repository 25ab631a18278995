"""PICRUSt2 outputs read as functional ProfileTables, checked against PICRUSt2's own
published test outputs (tests/io/data/README.md) parsed independently with the csv module."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import DataKindError, InputError
from gutaxis.io import detect_table_format, read_picrust2, read_table

DATA = Path(__file__).parent / "data" / "picrust2"
PARSE_RTOL = 1e-15  # the same text parsed twice: equal up to one unit in the last place

WIDE = [
    # file, feature_type, unit, kind, stratified
    ("pred_metagenome_unstrat.tsv.gz", "ec", "predicted", "counts", False),
    ("pred_metagenome_unstrat_simple.tsv.gz", "ec", "predicted", "counts", False),
    ("exp_path_abun_unstrat.tsv.gz", "pathway", "predicted", "counts", False),
    ("exp_path_cov_unstrat.tsv.gz", "pathway", "coverage", "transformed", False),
    ("ko_unstrat_exp.txt.gz", "ko", "predicted", "counts", False),
    ("metacyc_unstrat_exp.txt.gz", "pathway", "predicted", "counts", False),
    ("per_seq_contrib/pred_metagenome_unstrat.tsv.gz", "ec", "predicted", "counts", False),
    ("per_seq_contrib/exp_unstrat_pathabun_per_seq_output.tsv.gz", "pathway", "predicted",
     "counts", False),
    ("pred_metagenome_strat.tsv.gz", "ec", "predicted", "counts", True),
    ("exp_path_abun_strat.tsv.gz", "pathway", "predicted", "counts", True),
    ("ec_strat_exp.txt.gz", "ec", "predicted", "counts", True),
    ("picrust2_strat_tmp.tsv.gz", "ec", "predicted", "counts", True),
]
LONG = [
    # file, feature_type, value column
    ("expected_metagenome_contrib.txt.gz", "ec", "taxon_function_abun"),
    ("metagenome_contrib_test.tsv.gz", "ec", "taxon_function_abun"),
    ("metagenome_contrib_legacy.tsv.gz", "ec", "CountContributedByOTU"),
    ("per_seq_contrib/pred_metagenome_strat.tsv.gz", "ec", "taxon_function_abun"),
    ("per_seq_contrib/exp_per_seq_contrib_strat_pathabun.tsv.gz", "pathway",
     "taxon_function_abun"),
]
NOT_SAMPLES = {"function", "pathway", "description", "sequence", "seq"}
UNASSIGNED = {"UNMAPPED", "UNGROUPED"}


def file_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = [row for row in csv.reader(fh, delimiter="\t") if row]
    return rows[0], rows[1:]


def expected_wide(path: Path) -> tuple[list[str], pd.DataFrame]:
    """Sample ids and features x samples, from the text: the function (and sequence) as
    the id, the description column left out, PICRUSt2's UNMAPPED/UNGROUPED rows out."""
    header, rows = file_rows(path)
    samples = [i for i, name in enumerate(header) if name.lower() not in NOT_SAMPLES]
    taxon = next((i for i, name in enumerate(header) if name in ("sequence", "seq")), None)
    kept = {}
    for row in rows:
        if row[0] in UNASSIGNED:
            continue
        key = row[0] if taxon is None else f"{row[0]}|{row[taxon]}"
        kept[key] = [float(row[i]) for i in samples]
    return [header[i] for i in samples], pd.DataFrame(kept).T


@pytest.mark.parametrize("case", WIDE, ids=[c[0] for c in WIDE])
def test_wide_tables_read_with_their_type_unit_and_values(case: tuple) -> None:
    name, feature_type, unit, kind, stratified = case
    table = read_picrust2(DATA / name, stratified=stratified)
    assert (table.feature_type, table.unit, table.kind) == (feature_type, unit, kind)
    samples, expected = expected_wide(DATA / name)
    assert list(table.sample_ids) == samples
    assert list(table.feature_ids) == list(expected.index)
    np.testing.assert_allclose(table.dense().T, expected.to_numpy(), rtol=PARSE_RTOL, atol=0)
    assert table.is_stratified == stratified
    if stratified:
        assert table.strata is not None
        assert list(table.strata["function"] + "|" + table.strata["taxon"]) == list(
            expected.index)


@pytest.mark.parametrize("case", LONG, ids=[c[0] for c in LONG])
def test_contribution_tables_read_as_sample_by_function_taxon(case: tuple) -> None:
    name, feature_type, value_column = case
    table = read_picrust2(DATA / name, stratified=True)
    assert (table.feature_type, table.unit, table.kind) == (feature_type, "predicted", "counts")
    header, rows = file_rows(DATA / name)
    legacy = "Gene" in header
    s, f, t = ((header.index("Sample"), header.index("Gene"), header.index("OTU")) if legacy
               else (header.index("sample"), header.index("function"), header.index("taxon")))
    v = header.index(value_column)
    expected = pd.Series({(r[s], f"{r[f]}|{r[t]}"): float(r[v]) for r in rows}).unstack(
        fill_value=0.0)
    assert sorted(table.sample_ids) == sorted(expected.index)
    assert sorted(table.feature_ids) == sorted(expected.columns)
    got = table.to_dataframe().loc[expected.index, expected.columns]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=PARSE_RTOL, atol=0)
    assert table.strata is not None
    assert set(table.strata["taxon"]) == {r[t] for r in rows}


@pytest.mark.parametrize(("strat", "unstrat", "rtol"), [
    ("expected_metagenome_contrib.txt.gz", "pred_metagenome_unstrat_simple.tsv.gz", 1e-12),
    ("pred_metagenome_strat.tsv.gz", "pred_metagenome_unstrat.tsv.gz", 1e-12),
    ("per_seq_contrib/pred_metagenome_strat.tsv.gz",
     "per_seq_contrib/pred_metagenome_unstrat.tsv.gz", 1e-9),
    ("exp_path_abun_strat.tsv.gz", "exp_path_abun_unstrat.tsv.gz", 1e-8),
    ("per_seq_contrib/exp_per_seq_contrib_strat_pathabun.tsv.gz",
     "per_seq_contrib/exp_unstrat_pathabun_per_seq_output.tsv.gz", 1e-8),
])
def test_contributions_sum_to_picrust2s_unstratified_table(strat: str, unstrat: str,
                                                           rtol: float) -> None:
    """PICRUSt2's stratified values are additive over sequences (its pathway abundances
    too, unlike HUMAnN's): each pair comes from the same PICRUSt2 test inputs. rtol: the
    files print 10 (pathways) to 17 significant digits."""
    summed = read_picrust2(DATA / strat, stratified=True).unstratified()
    community = read_picrust2(DATA / unstrat)
    assert sorted(summed.feature_ids) == sorted(community.feature_ids)
    got = summed.subset_features(list(community.feature_ids)).subset_samples(
        list(community.sample_ids))
    np.testing.assert_allclose(got.dense(), community.dense(), rtol=rtol, atol=0)


def test_description_column_is_not_a_sample() -> None:
    table = read_picrust2(DATA / "ko_unstrat_exp.txt.gz")
    assert list(table.sample_ids) == ["samp1", "samp2"]
    assert "other" in set(table.feature_ids)  # an id that is no KO is kept, not an error


def test_unassigned_rows_of_a_converted_table_are_not_features() -> None:
    table = read_picrust2(DATA / "picrust2_strat_tmp.tsv.gz", stratified=True)
    assert table.strata is not None
    assert not set(table.strata["function"]) & UNASSIGNED
    assert "ALL" not in set(table.strata["taxon"])


def test_predicted_copies_are_not_read_counts() -> None:
    table = read_picrust2(DATA / "pred_metagenome_unstrat.tsv.gz")
    with pytest.raises(DataKindError, match="rarefaction needs whole-number read counts; "
                                            "found 'a table of predicted values'"):
        table.rarefy(10, seed=1)


def test_read_table_recognises_every_picrust2_fixture() -> None:
    for name, feature_type, unit, _, stratified in WIDE:
        assert detect_table_format(DATA / name) == "picrust2", name
        table = read_table(DATA / name, stratified=stratified)
        assert (table.feature_type, table.unit) == (feature_type, unit)
    for name, feature_type, _ in LONG:
        assert detect_table_format(DATA / name) == "picrust2", name
        assert read_table(DATA / name, stratified=True).feature_type == feature_type


def test_a_humann_table_in_picrust2_layout_is_read_as_humanns() -> None:
    """convert_table.py's HUMAnN-to-PICRUSt2 output keeps HUMAnN's UNMAPPED and UNGROUPED
    rows: they say the numbers are HUMAnN's (RPK), not predictions."""
    path = DATA / "picrust2_unstrat_tmp1.tsv.gz"
    assert detect_table_format(path) == "humann"
    table = read_table(path)
    assert (table.feature_type, table.unit) == ("ec", "RPK")
    assert not set(table.feature_ids) & UNASSIGNED


# ------------------------------------------------------------------------------ bad input
def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_stratified_file_read_for_community_totals() -> None:
    with pytest.raises(DataKindError, match=r"only stratified .* found '30 stratified rows'"):
        read_picrust2(DATA / "pred_metagenome_strat.tsv.gz")
    with pytest.raises(DataKindError, match="found 'a contribution table'"):
        read_picrust2(DATA / "expected_metagenome_contrib.txt.gz")


def test_unstratified_file_read_for_strata() -> None:
    with pytest.raises(DataKindError, match=r"holds no stratified .* found '3 community rows'"):
        read_picrust2(DATA / "pred_metagenome_unstrat.tsv.gz", stratified=True)


def test_duplicate_function_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "pred_metagenome_unstrat.tsv",
                 "function\ts1\nK00001\t1\nK00001\t2\n")
    with pytest.raises(InputError, match="row 3: function listed twice; found 'K00001'"):
        read_picrust2(path)


def test_duplicate_contributions(tmp_path: Path) -> None:
    path = write(tmp_path, "pred_metagenome_contrib.tsv",
                 "sample\tfunction\ttaxon\ttaxon_function_abun\n"
                 "s1\tK00001\tASV1\t2\ns1\tK00001\tASV2\t2\ns1\tK00001\tASV1\t5\n")
    with pytest.raises(InputError, match=re.escape(
            "row 4: sample x function x taxon listed twice; found 's1|K00001|ASV1'")):
        read_picrust2(path, stratified=True)


def test_non_numeric_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "pred_metagenome_unstrat.tsv",
                 "function\tdescription\ts1\ts2\nK00001\tadh\t1\t2\nK00002\tx\tNA\t3\n")
    with pytest.raises(InputError, match="row 3, column 's1': non-numeric value in the row of "
                                         "'K00002'; found 'NA'"):
        read_picrust2(path)


def test_short_row(tmp_path: Path) -> None:
    path = write(tmp_path, "pred_metagenome_unstrat.tsv",
                 "function\ts1\ts2\nK00001\t1\t2\nK00002\t1\n")
    with pytest.raises(InputError, match=re.escape(
            "row 3, column 's2': empty cell (or a row shorter than the header) in the row of "
            "'K00002'")):
        read_picrust2(path)


def test_long_row(tmp_path: Path) -> None:
    first = write(tmp_path, "a.tsv", "function\ts1\nK00001\t1\t2\n")
    with pytest.raises(InputError, match="row 2: a row has more cells than the header"):
        read_picrust2(first)
    later = write(tmp_path, "b.tsv", "function\ts1\nK00001\t1\nK00002\t1\t2\n")
    with pytest.raises(InputError, match="rows of unequal length; found 'Expected 2 fields "
                                         "in line 3, saw 3'"):
        read_picrust2(later)


def test_not_a_picrust2_table(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tsv", "feature_id\ts1\nASV1\t1\n")
    with pytest.raises(InputError, match="not a PICRUSt2 table; found \"'feature_id'\""):
        read_picrust2(path)


def test_stratified_is_refused_for_other_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tsv", "feature_id\ts1\nASV1\t1\n")
    with pytest.raises(InputError, match="only HUMAnN and PICRUSt2 tables are stratified"):
        read_table(path, stratified=True)


def test_unit_can_be_stated(tmp_path: Path) -> None:
    path = write(tmp_path, "table.tsv", "pathway\ts1\nPWY-1\t0.5\n")
    assert read_picrust2(path).unit == "predicted"
    assert read_picrust2(path, unit="coverage").kind == "transformed"

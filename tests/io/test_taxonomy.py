"""Taxonomy readers: per-rank tables, QIIME 2 Taxon strings, lineage parsing."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.profile import RANKS
from gutaxis.errors import InputError
from gutaxis.io import parse_lineages, read_taxonomy, write_taxonomy
from gutaxis.io.lineages import clean_rank_values


def test_comment_lines_before_the_header_are_skipped_and_counted(write_text) -> None:
    path = write_text("t.tsv", "# made by a script\n\nFeature ID\tTaxon\tConfidence\n"
                      "A\td__Bacteria; p__Firmicutes\t0.9\nB\td__Bacteria\thigh\n")
    with pytest.raises(InputError, match=r"row 5, column 'Confidence'"):
        read_taxonomy(path)
    path.write_text("# made by a script\nFeature ID\tTaxon\nA\td__Bacteria; p__Firmicutes\n")
    assert read_taxonomy(path).loc["A", "phylum"] == "Firmicutes"


@pytest.mark.realdata
def test_fibromyalgia_per_rank_table(fibromyalgia_dir: Path) -> None:
    path = fibromyalgia_dir / "taxonomy.tsv.gz"
    taxa = read_taxonomy(path)
    assert taxa.shape == (6993, 7)
    assert list(taxa.columns) == list(RANKS)
    assert taxa.index.name == "feature_id"
    with gzip.open(path, "rt", newline="") as fh:  # reference: the csv module
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for rank in RANKS:
        expected = [np.nan if r[rank] in ("0", "Unassigned") else r[rank] for r in rows]
        got = taxa[rank].tolist()
        assert [g if isinstance(g, str) else None for g in got] == [
            e if isinstance(e, str) else None for e in expected
        ]


def test_qiime_taxonomy_tsv_silva_and_greengenes(write_text) -> None:
    path = write_text(
        "taxonomy.tsv",
        "Feature ID\tTaxon\tConfidence\n"
        "a\td__Bacteria; p__Firmicutes; c__Clostridia; o__Lachnospirales; "
        "f__Lachnospiraceae; g__Roseburia; s__Roseburia_intestinalis\t0.99\n"
        "b\tk__Bacteria; p__Bacteroidetes; c__; o__; f__; g__; s__\t0.7\n"
        "c\tUnassigned\t0.5\n",
    )
    taxa = read_taxonomy(path)
    assert taxa.loc["a", "kingdom"] == "Bacteria"  # SILVA domain read as kingdom
    assert taxa.loc["a", "species"] == "Roseburia_intestinalis"
    assert taxa.loc["b", "phylum"] == "Bacteroidetes"
    assert taxa.loc["b", ["class", "genus"]].isna().all()
    assert taxa.loc["c", list(RANKS)].isna().all()
    assert taxa["confidence"].tolist() == [0.99, 0.7, 0.5]


def test_lineages_without_prefixes_are_placed_by_position() -> None:
    taxa = parse_lineages(pd.Series(["Bacteria;Firmicutes;Bacilli"], index=["x"]))
    assert taxa.loc["x", ["kingdom", "phylum", "class"]].tolist() == [
        "Bacteria", "Firmicutes", "Bacilli"]
    assert taxa.loc["x", "order"] is np.nan or pd.isna(taxa.loc["x", "order"])


def test_per_rank_csv_with_domain_header(write_text) -> None:
    path = write_text("tax.csv", "asv,Domain,Phylum,Genus\nA1,Bacteria,Firmicutes,NA\n")
    taxa = read_taxonomy(path)
    assert taxa.loc["A1", "kingdom"] == "Bacteria"
    assert pd.isna(taxa.loc["A1", "genus"])
    assert pd.isna(taxa.loc["A1", "family"])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Feature ID\tTaxon\nA\tk__B\nA\tk__C\n", "duplicate feature ids"),
        ("Feature ID\tcolour\nA\tred\n", "no taxonomy columns"),
        ("Feature ID\nA\n", "feature id column and taxonomy columns"),
        ("Feature ID\tTaxon\tConfidence\nA\tk__B\thigh\n", "confidence is not a number"),
    ],
)
def test_bad_taxonomy_is_refused(write_text, text, match) -> None:
    path = write_text("t.tsv", text)
    with pytest.raises(InputError, match=match) as info:
        read_taxonomy(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("row", "match"),
    [("B\td__Bacteria\thigh\n", "row 4, column 'Confidence'"),
     ("\td__Bacteria\t0.5\n", "row 4, column 'Feature ID'")],
)
def test_bad_row_is_named_by_its_file_line_past_a_types_row(write_text, row, match) -> None:
    path = write_text("t.tsv", "Feature ID\tTaxon\tConfidence\n#q2:types\tcategorical\t"
                      "numeric\nA\td__Bacteria\t0.9\n" + row)
    with pytest.raises(InputError, match=match):
        read_taxonomy(path)


@pytest.mark.realdata
def test_write_taxonomy_round_trip(fibromyalgia_dir: Path, tmp_path: Path) -> None:
    taxa = read_taxonomy(fibromyalgia_dir / "taxonomy.tsv.gz")
    write_taxonomy(taxa, tmp_path / "t.tsv.gz")
    pd.testing.assert_frame_equal(read_taxonomy(tmp_path / "t.tsv.gz"), taxa)


# a name: not an unassigned marker, and not underscores alone (see the test below)
_name = st.text("ABCDEFGHIJabcdefghij_-", min_size=1, max_size=8).filter(
    lambda s: s.lower() not in ("na", "nan", "none", "unassigned", "unclassified")
    and s.strip("_") != ""
)


@pytest.mark.parametrize(("lineage", "genus"), [
    ("d__Bacteria; g____", None), ("d__Bacteria; g_____", None),
    ("d__Bacteria; g___A", "_A"), ("d__Bacteria; g__Clostridium_sensu_stricto_1",
                                   "Clostridium_sensu_stricto_1"),
    ("d__Bacteria; g__-", "-")])
def test_a_rank_named_by_underscores_alone_is_unassigned(lineage, genus) -> None:
    # hypothesis found 'g____' read as unassigned while 'g_____' kept '___' as a name
    value = parse_lineages(pd.Series([lineage], index=["f"])).loc["f", "genus"]
    assert (value if isinstance(value, str) else None) == genus
    cell = clean_rank_values(pd.Series([lineage.split("; ")[1]])).iloc[0]
    assert (cell if isinstance(cell, str) else None) == genus


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), _name), min_size=7, max_size=7))
def test_prefixed_lineage_round_trips(names) -> None:
    lineage = "; ".join(f"{r[0]}__{n or ''}" for r, n in zip(RANKS, names, strict=True))
    taxa = parse_lineages(pd.Series([lineage], index=["f"]))
    assert [v if isinstance(v, str) else None for v in taxa.loc["f"].tolist()] == names

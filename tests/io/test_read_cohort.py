"""read_cohort: the real cohorts load as they are; mismatches name both files."""

from __future__ import annotations

from pathlib import Path

import pytest

from gutaxis.errors import InputError
from gutaxis.instruments import read_record
from gutaxis.io import read_cohort


@pytest.mark.realdata
def test_fibromyalgia_cohort_with_taxonomy_and_tree(fibromyalgia_dir: Path) -> None:
    cohort = read_cohort(
        fibromyalgia_dir / "feature-table.tsv.gz",
        fibromyalgia_dir / "metadata.tsv",
        taxonomy=fibromyalgia_dir / "taxonomy.tsv.gz",
        tree=fibromyalgia_dir / "tree.nwk",
    )
    table = cohort.table
    assert table.shape == (101, 6993)
    assert table.kind == "counts"
    assert table.taxonomy is not None and table.taxonomy.shape == (6993, 7)
    assert table.tree is not None
    assert list(cohort.metadata.index) == list(table.sample_ids)
    assert cohort.column("group").value_counts()["ctl"] == 51


@pytest.mark.realdata
def test_hmp2_cohort_orientation_from_metadata(hmp2_dir: Path) -> None:
    cohort = read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv",
                         subject_column="subject", time_column="collection")
    assert cohort.table.shape == (1595, 87)
    assert cohort.table.kind == "relative"
    assert cohort.subjects().nunique() == cohort.metadata["subject"].nunique()


def test_samples_missing_from_metadata_name_both_files(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\tS2\tS3\tS4\nA\t1\t2\t3\t4\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\nS2\t40\n")
    with pytest.raises(InputError) as info:
        read_cohort(table, meta)
    text = str(info.value)
    assert "2 of the 4 samples" in text
    assert str(table) in text and str(meta) in text
    assert "S3, S4" in text


def test_no_ids_in_common_is_refused(write_text) -> None:
    table = write_text("table.tsv", "ID\tX1\tX2\nA\t1\t2\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    with pytest.raises(InputError, match=r"none of the metadata's sample ids .* belong together"):
        read_cohort(table, meta)


def test_a_biom_table_with_no_sample_in_the_metadata_names_both_files(
        write_text, tmp_path) -> None:
    import pandas as pd

    from gutaxis.data import ProfileTable
    from gutaxis.io import write_biom

    table = tmp_path / "t.biom"
    frame = pd.DataFrame([[1, 2], [3, 4]], index=["A", "B"], columns=["f1", "f2"])
    write_biom(ProfileTable.from_dataframe(frame), table)
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    with pytest.raises(InputError, match=r"none of the 2 sample ids of .*t\.biom is in the "
                       "metadata; do the two files belong together") as info:
        read_cohort(table, meta)
    assert "meta.tsv" in str(info.value)


def test_not_strict_leaves_out_samples_without_metadata_and_says_which(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\tS2\tS3\nA\t1\t2\t3\nB\t2\t0\t1\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\nS3\t40\n")
    with pytest.warns(UserWarning, match="left out 1 of the 3 samples .* S2"):
        cohort = read_cohort(table, meta, strict=False)
    assert list(cohort.table.sample_ids) == ["S1", "S3"]
    assert cohort.metadata["age"].tolist() == [30, 40]
    with pytest.raises(InputError, match=r"1 of the 3 samples .* have no row"):
        read_cohort(table, meta)


def test_features_missing_from_taxonomy(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\nA\t1\nB\t2\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    taxonomy = write_text("tax.tsv", "Feature ID\tTaxon\nA\tk__Bacteria\n")
    with pytest.raises(InputError, match="1 of the 2 table features have no taxonomy") as info:
        read_cohort(table, meta, taxonomy=taxonomy)
    assert str(taxonomy) in str(info.value)


def test_features_missing_from_tree(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\nA\t1\nB\t2\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    tree = write_text("tree.nwk", "(A:1,C:2);\n")
    with pytest.raises(InputError, match="missing 1 feature") as info:
        read_cohort(table, meta, tree=tree)
    assert "B" in str(info.value)


def test_unknown_metadata_column(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\nA\t1\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    with pytest.raises(InputError, match="metadata column not found"):
        read_cohort(table, meta, subject_column="subject")


def test_tree_from_a_qza_artifact(write_text, tmp_path: Path, qza) -> None:
    table = write_text("table.tsv", "feature_id\tS1\nA\t1\nB\t2\n")
    meta = write_text("meta.tsv", "sample_id\tage\nS1\t30\n")
    tree = qza(tmp_path / "tree.qza", "Phylogeny[Rooted]", "NewickDirectoryFormat",
               {"tree.nwk": b"((A:1,B:2):0.5,C:1);\n"})
    cohort = read_cohort(table, meta, tree=tree)
    assert cohort.table.tree is not None
    assert sorted(cohort.table.tree.tip_names) == ["A", "B", "C"]


RECORD = """kind\trecord_id\tsubject\ttime\tinstrument\tname\tvalue\treported_value\treported_unit
sample\tS1\tp1\t2024-03-01T09:00:00+00:00\t\t\t\t\t
sample\tS2\tp1\t2024-03-10T10:00:00+01:00\t\t\t\t\t
sample\tS3\tp2\t2024-03-02T09:00:00Z\t\t\t\t\t
administration\ta1\tp1\t2024-03-01T08:00:00Z\tnrs\t\t\t\t
response\ta1\tp1\t2024-03-01T08:00:00Z\tnrs\tpain\t6\t\t
score\ta1\tp1\t2024-03-01T08:00:00Z\tnrs\tpain\t6\t\t
administration\ta2\tp2\t2024-03-09T08:00:00Z\tnrs\t\t\t\t
response\ta2\tp2\t2024-03-09T08:00:00Z\tnrs\tpain\t3\t\t
score\ta2\tp2\t2024-03-09T08:00:00Z\tnrs\tpain\t3\t\t
lab\tl1\tp1\t2024-03-08T08:00:00Z\t\tcrp\t\t0.4\tmg/dL
"""


def test_a_record_file_comes_with_the_cohort(write_text) -> None:
    """Pain at the sample's date (within a day): S1 6 (1 h before), S2 none (p1's only
    score is 9 days earlier), S3 none (p2's is 7 days later). CRP within 7 days before:
    S2 4 mg/L (0.4 mg/dL two days before), S1 and S3 none."""
    table = write_text("table.tsv", "feature_id\tS1\tS2\tS3\nA\t1\t2\t3\n")
    meta = write_text("meta.tsv", "sample_id\tsubject\nS1\tp1\nS2\tp1\nS3\tp2\n")
    record = write_text("record.tsv", RECORD)
    cohort = read_cohort(table, meta, subject_column="subject", record=read_record(record))
    assert cohort.record.subjects == ["p1", "p2"]
    cohort = cohort.add_from_record("nrs.pain", within="1D", name="pain").add_from_record(
        "crp", rule="last_before", within="7D")
    assert cohort.metadata["pain"].fillna(-1).tolist() == [6.0, -1, -1]
    assert cohort.metadata["crp"].fillna(-1).tolist() == [-1, 4.0, -1]
    assert cohort.subset_samples(["S3"]).record.subjects == ["p2"]


def test_a_bad_record_file_is_named_before_the_cohort_is_read(write_text) -> None:
    """The record is read (and its answers checked) by the instruments' reader, which
    names the file, row and field; read_cohort takes the record already read."""
    record = write_text("record.tsv", RECORD.replace("\tnrs\tpain\t6", "\tnrs\tpain\t11"))
    with pytest.raises(InputError, match=r"record\.tsv.*row 6, field 'pain': answer above"):
        read_record(record)


def test_an_unscored_record_says_so(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\nA\t1\n")
    meta = write_text("meta.tsv", "sample_id\tsubject\nS1\tp1\n")
    unscored = "".join(line + "\n" for line in RECORD.splitlines()
                       if not line.startswith("score"))
    cohort = read_cohort(table, meta, subject_column="subject",
                         record=read_record(write_text("record.tsv", unscored)))
    with pytest.raises(InputError, match=r"no scores of nrs@11 in the record; found 'nrs.pain'"):
        cohort.add_from_record("nrs.pain")


def test_a_table_alone_gives_a_cohort_without_metadata_columns(write_text) -> None:
    table = write_text("table.tsv", "feature_id\tS1\tS2\tS3\nA\t1\t2\t3\nB\t4\t0\t1\n")
    cohort = read_cohort(table, None)
    assert list(cohort.sample_ids) == ["S1", "S2", "S3"]
    assert list(cohort.metadata.index) == ["S1", "S2", "S3"]
    assert cohort.metadata.columns.empty and cohort.source is None

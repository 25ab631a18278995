"""Sample metadata against scikit-bio's QIIME 2 metadata reader, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skbio.metadata import SampleMetadata

from gutaxis.errors import InputError
from gutaxis.io import read_metadata

Q2_TEXT = (
    "# a comment before the header\n"
    "#SampleID\tbody_site\tvisit\tdepth\tph\tnotes\n"
    "#q2:types\tcategorical\tcategorical\tnumeric\tnumeric\tcategorical\n"
    "# a comment among the rows\n"
    "S1\tgut\t1\t100\t6.5\tok\n"
    "\n"
    "S2\tgut\t2\t200\t\tNA\n"
    "S3\ttongue\t3\t150\t7.25\t\n"
)


def _skbio(path: Path) -> pd.DataFrame:
    return SampleMetadata.load(str(path)).to_dataframe()


@pytest.mark.realdata
def test_hmp2_metadata_agrees_with_scikit_bio(hmp2_dir: Path) -> None:
    path = hmp2_dir / "HMP2_metadata.tsv"
    ours = read_metadata(path)
    ref = _skbio(path)
    assert ours.shape == (1595, 11)
    assert ours.index.name == "sample_id"
    assert list(ours.index) == list(ref.index)
    for name in ref.columns:
        theirs = ref[name]
        if pd.api.types.is_numeric_dtype(theirs):
            np.testing.assert_array_equal(ours[name].to_numpy(dtype=float), theirs.to_numpy())
        elif (theirs == "NA").any():
            # QIIME 2 keeps the text "NA"; gutaxis reads it as missing
            assert ours[name].isna().to_numpy().tolist() == (theirs == "NA").tolist()
        else:
            assert ours[name].tolist() == theirs.tolist()
    assert ours["age"].dtype == np.float64
    assert int(ours["age"].isna().sum()) == 19  # README: 19 samples have no age
    assert ours["collection"].dtype == np.int64
    assert set(ours["diagnosis"]) == {"nonIBD", "UC", "CD"}


@pytest.mark.realdata
def test_fibromyalgia_metadata_as_documented(fibromyalgia_dir: Path) -> None:
    meta = read_metadata(fibromyalgia_dir / "metadata.tsv")
    assert meta.shape == (101, 4)
    counts = meta["group"].value_counts().to_dict()
    assert counts == {"ctl": 51, "fbm_21_25": 18, "fbm_12_20": 16, "fbm_26_31": 16}
    assert meta["covariate_age"].dtype == np.int64
    assert meta["covariate_imc"].dtype == np.float64
    assert set(meta["covariate_sii"]) == {"y", "n"}


def test_q2_types_comments_and_missing_agree_with_scikit_bio(write_text) -> None:
    path = write_text("meta.tsv", Q2_TEXT)
    ours = read_metadata(path)
    ref = _skbio(path)
    assert list(ours.index) == ["S1", "S2", "S3"] == list(ref.index)
    assert ours["visit"].tolist() == ["1", "2", "3"]  # declared categorical
    assert ours["depth"].dtype == np.float64 or ours["depth"].dtype == np.int64
    np.testing.assert_array_equal(ours["depth"].to_numpy(dtype=float), ref["depth"])
    np.testing.assert_array_equal(ours["ph"].to_numpy(dtype=float), ref["ph"])
    assert ours["notes"].isna().tolist() == [False, True, True]
    assert ref["notes"].isna().tolist() == [False, False, True]  # skbio keeps "NA" as text


def test_insdc_missing_scheme(write_text) -> None:
    path = write_text(
        "m.tsv",
        "id\tage\n#q2:types\tnumeric\n#q2:missing\tINSDC:missing\nA\t30\nB\tnot collected\n",
    )
    ages = read_metadata(path)["age"]
    assert ages.dtype == np.float64
    assert ages.isna().tolist() == [False, True]


def test_plain_csv_with_any_id_header(write_text) -> None:
    path = write_text("m.csv", "participant,bmi,sex\nP1,22.5,F\nP2,30,M\n")
    meta = read_metadata(path)
    assert list(meta.index) == ["P1", "P2"]
    assert meta["bmi"].tolist() == [22.5, 30.0]
    assert meta["sex"].tolist() == ["F", "M"]


def test_id_column_option(write_text) -> None:
    path = write_text("m.tsv", "age\tsample\n30\tA\n40\tB\n")
    meta = read_metadata(path, id_column="sample")
    assert list(meta.index) == ["A", "B"]
    assert meta["age"].tolist() == [30, 40]


@pytest.mark.parametrize(
    ("text", "match", "row", "column"),
    [
        ("id\tx\nA\t1\nB\t2\nA\t3\n", "duplicated sample id", None, "id"),
        ("id\tx\nA\t1\n\t2\n", "empty sample id", 3, "id"),
        ("id\tx\n#q2:types\tfloat\nA\t1\n", "unknown column type", None, "x"),
        ("id\tx\n#q2:types\tnumeric\nA\t1\nB\tlow\n", "declared numeric", 4, "x"),
        ("id\tx\n", "header but no rows", 1, None),
        ("id\tx\tx\nA\t1\t2\n", "repeated in the header", 1, "x"),
        ("id,x\nA,1,2\n", "wrong number of cells", 2, None),
        ("# only comments\n", "no header line", None, None),
    ],
    ids=["dup-ids", "empty-id", "bad-type", "text-in-numeric", "no-rows", "dup-column",
         "ragged", "no-header"],
)
def test_bad_metadata_is_refused(write_text, text, match, row, column) -> None:
    name = "m.csv" if "," in text else "m.tsv"
    path = write_text(name, text)
    with pytest.raises(InputError, match=match) as info:
        read_metadata(path)
    err = info.value
    assert err.source == str(path)
    assert err.row == row
    assert err.column == column


def test_duplicate_ids_are_named_with_their_lines(write_text) -> None:
    path = write_text("m.tsv", "id\tx\nA\t1\nB\t2\nA\t3\n")
    with pytest.raises(InputError) as info:
        read_metadata(path)
    assert "'A' (lines 2, 4)" in str(info.value)


def test_empty_metadata_file(write_text) -> None:
    with pytest.raises(InputError, match="file is empty"):
        read_metadata(write_text("m.tsv", ""))


@settings(max_examples=40, deadline=None)
@given(
    ints=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=8),
    data=st.data(),
)
def test_typed_columns_round_trip(tmp_path_factory, ints, data) -> None:
    n = len(ints)
    floats = data.draw(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
                                min_size=n, max_size=n))
    words = data.draw(st.lists(st.one_of(st.none(), st.text("abcxyz ", min_size=1,
                                                            max_size=5).map(str.strip)
                                         .filter(lambda w: w not in ("", "nan"))),
                               min_size=n, max_size=n).filter(
        lambda ws: any(w is not None for w in ws)))
    frame = pd.DataFrame({"count": ints, "level": floats, "group": words},
                         index=pd.Index([f"S{i}" for i in range(n)], name="sample_id"))
    path = tmp_path_factory.mktemp("meta") / "m.tsv"
    frame.to_csv(path, sep="\t", na_rep="", float_format=lambda v: repr(float(v)))
    back = read_metadata(path)
    assert back["count"].dtype == np.int64
    assert back["count"].tolist() == ints
    expected_levels = [np.nan if v is None else v for v in floats]
    np.testing.assert_array_equal(back["level"].to_numpy(dtype=float), expected_levels)
    assert [None if pd.isna(w) else w for w in back["group"]] == words

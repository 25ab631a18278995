"""The lab CSV reader: units converted exactly, times to UTC, errors naming line and column."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.io.labs import LAB_TABLE_COLUMNS, read_lab_csv

GOOD = ("subject,time,analyte,value,unit\n"
        "P1,2024-03-01T08:00:00+01:00,CRP,0.5,mg/dL\n"
        "P1,2024-03-01T08:00:00Z,hs-CRP,1.2,mg/L\n"
        "P1,2024-03-02T09:30:00-05:00,calprotectin,80,mg/kg\n"
        "P1,2024-03-03T10:00:00Z,esr,12,mm/h\n")


def write(tmp_path: Path, text: str, name: str = "labs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_results_are_converted_to_canonical_units_and_utc(tmp_path: Path) -> None:
    labs = read_lab_csv(write(tmp_path, GOOD))
    assert list(labs.columns) == list(LAB_TABLE_COLUMNS)
    assert labs["analyte"].tolist() == ["crp", "hs_crp", "calprotectin", "esr"]
    # 0.5 mg/dL = 5 mg/L; 80 mg/kg = 80 ug/g
    assert labs["value"].tolist() == [5.0, 1.2, 80.0, 12.0]
    assert labs["unit"].tolist() == ["mg/L", "mg/L", "ug/g", "mm/h"]
    assert labs["reported_value"].tolist() == [0.5, 1.2, 80.0, 12.0]
    assert labs["time"].tolist() == [pd.Timestamp("2024-03-01T07:00:00Z"),
                                     pd.Timestamp("2024-03-01T08:00:00Z"),
                                     pd.Timestamp("2024-03-02T14:30:00Z"),
                                     pd.Timestamp("2024-03-03T10:00:00Z")]
    assert set(labs["subject"]) == {"P1"}


def test_tab_separated_and_gzipped_files_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "labs.tsv.gz"
    path.write_bytes(gzip.compress(GOOD.replace(",", "\t").encode()))
    pd.testing.assert_frame_equal(read_lab_csv(path), read_lab_csv(write(tmp_path, GOOD)))


def test_times_without_an_offset_need_the_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "time,analyte,value,unit\n2024-07-01T08:00:00,il6,3,pg/mL\n")
    with pytest.raises(InputError) as caught:
        read_lab_csv(path)
    assert str(caught.value).startswith(f"{path}, row 2, column 'time': a time without")
    labs = read_lab_csv(path, timezone="Europe/Berlin")  # CEST, UTC+2
    assert labs.loc[0, "time"] == pd.Timestamp("2024-07-01T06:00:00Z")
    assert labs.loc[0, "subject"] == ""


@pytest.mark.parametrize(("row", "where", "words"), [
    ("2024-03-01T08:00:00Z,crp,1,mm/h", "row 3, field 'unit'", "cannot convert mm/h"),
    ("2024-03-01T08:00:00Z,ferritin,1,ng/mL", "row 3, field 'analyte'", "unknown lab analyte"),
    ("2024-03-01T08:00:00Z,crp,high,mg/L", "row 3, field 'value'", "not a finite number"),
    ("2024-03-01T08:00:00Z,crp,,mg/L", "row 3, column 'value'", "value is missing"),
    ("2024-03-01T08:00:00Z,crp,1,", "row 3, column 'unit'", "unit is missing"),
    ("01/03/2024,crp,1,mg/L", "row 3, column 'time'", "not a time"),
])
def test_a_bad_row_is_named_with_its_line_and_column(tmp_path: Path, row: str, where: str,
                                                     words: str) -> None:
    text = "time,analyte,value,unit\n2024-03-01T08:00:00Z,crp,1,mg/L\n" + row + "\n"
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        read_lab_csv(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, {where}"), message
    assert words in message


def test_a_missing_column_or_an_empty_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1: missing column\(s\): unit"):
        read_lab_csv(write(tmp_path, "time,analyte,value\n2024-03-01T08:00:00Z,crp,1\n"))
    with pytest.raises(InputError, match="no lab results"):
        read_lab_csv(write(tmp_path, "time,analyte,value,unit\n"))
    with pytest.raises(InputError, match="file is empty"):
        read_lab_csv(write(tmp_path, ""))

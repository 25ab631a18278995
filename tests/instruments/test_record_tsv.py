"""The record TSV and the wide questionnaire CSV: layout, hand-written files, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.instruments.record import score_record
from gutaxis.instruments.record_tsv import (
    RECORD_COLUMNS,
    read_record,
    read_responses_wide,
    write_record,
)

HEADER = "\t".join(RECORD_COLUMNS)


def tsv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "record.tsv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def row(**cells: str) -> str:
    return "\t".join(cells.get(c, "") for c in RECORD_COLUMNS)


def test_hand_written_record_with_local_offsets(tmp_path: Path) -> None:
    path = tsv(tmp_path,
               row(kind="response", record_id="d1", subject="p1",
                   time="2024-03-01T08:00:00+01:00", instrument="nrs", name="pain", value="4"),
               row(kind="lab", record_id="l1", subject="p1", time="2024-03-01T08:00:00+01:00",
                   name="CRP", reported_value="0.4", reported_unit="mg/dl"),
               row(kind="sample", record_id="s1", subject="p1", time="2024-03-02T09:00:00Z"))
    m = score_record(read_record(path))
    assert m.administrations[["administration_id", "instrument"]].values.tolist() == [
        ["d1", "nrs@11"]]
    assert m.administrations["time"].iloc[0] == pd.Timestamp("2024-03-01T07:00Z")
    assert m.scores["value"].tolist() == [4.0]
    assert m.labs[["value", "unit", "reported_unit"]].values.tolist() == [[4.0, "mg/L", "mg/dL"]]
    out = write_record(m, tmp_path / "again.tsv").read_text().splitlines()
    assert out[0] == HEADER
    assert out[1].split("\t")[:6] == ["administration", "d1", "p1",
                                      "2024-03-01T07:00:00+00:00", "", "nrs@11"]


def test_times_without_offset_need_a_timezone(tmp_path: Path) -> None:
    path = tsv(tmp_path, row(kind="sample", record_id="s1", subject="p1",
                             time="2024-03-02 09:00"))
    with pytest.raises(InputError, match=r"record.tsv, row 2, column 'time': a time without a "
                                         r"timezone"):
        read_record(path)
    assert read_record(path, timezone="Europe/London").samples["time"].iloc[0] == pd.Timestamp(
        "2024-03-02T09:00Z")


@pytest.mark.parametrize(("rows", "message"), [
    ([row(kind="diary", record_id="x", subject="p", time="2024-03-01T08:00Z")],
     r"row 2, column 'kind': unknown record kind; found 'diary'"),
    ([row(kind="response", record_id="d1", subject="p", time="2024-03-01T08:00Z",
          instrument="nrs", name="pain", value="4"),
      row(kind="response", record_id="d1", subject="q", time="2024-03-01T08:00Z",
          instrument="nrs", name="pain", value="5")],
     r"row 3, column 'record_id': rows of one administration disagree"),
    ([row(kind="response", record_id="d1", subject="p", time="2024-03-01T08:00Z",
          instrument="nrs", name="worst", value="4")],
     r"row 2, field 'worst': unknown item for nrs@11"),
    ([row(kind="response", record_id="d1", subject="p", time="2024-03-01T08:00Z",
          instrument="odi@9", name="q1", value="4")],
     r"row 2, field 'instrument': unknown version of odi"),
    ([row(kind="lab", record_id="l", subject="p", time="2024-03-01T08:00Z", name="esr",
          reported_value="12", reported_unit="mg/L")],
     r"row 2, field 'unit': Erythrocyte sedimentation rate"),
    ([row(kind="score", record_id="d1", subject="p", time="2024-03-01T08:00Z",
          instrument="nrs", name="pain", value="lots")],
     r"row 2, field 'value': score value is not a number"),
    ([row(kind="intervention", record_id="i", subject="p", time="2024-03-01T08:00Z",
          name="probiotic", value="ten")],
     r"row 2, field 'dose': dose is not a number"),
])
def test_bad_rows_are_named_by_line(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_record(tsv(tmp_path, *rows))


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    ok = row(kind="sample", record_id="s1", subject="p1", time="2024-03-02T09:00:00Z")
    naive = row(kind="sample", record_id="s2", subject="p1", time="2024-03-02 09:00")
    with pytest.raises(InputError, match=r"row 5, column 'time': a time without a timezone"):
        read_record(tsv(tmp_path, "", ok, "", naive, ""))
    wide = tmp_path / "answers.csv"
    wide.write_text("subject_id,administered_at,pain\n\np1,2024-03-01T08:00:00Z,3\n"
                    ",,\np1,2024-03-02T08:00:00Z,11\n")
    with pytest.raises(InputError, match=r"answers.csv, row 5, field 'pain': answer above"):
        read_responses_wide(wide, instrument="nrs")


def test_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"row 1, column 'subject': record file lacks a column"):
        read_record(tsv(tmp_path, "response\td1", header="kind\trecord_id"))


def test_wide_responses_csv_one_row_per_administration(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("subject_id,administered_at,instrument,pain,q3_worst_pain,q4_least_pain,"
                    "q5_average_pain,q6_pain_now\n"
                    "p1,2024-03-01T08:00:00+01:00,nrs,6,,,,\n"
                    "p1,2024-03-02T08:00:00+01:00,bpi-sf,,7,2,5,4\n")
    m = read_responses_wide(path)
    table = m.score_table().sort_values(["time", "score"])
    table = table[table["score"].isin(["pain", "severity", "worst_pain"])]
    assert table[["instrument", "score", "value"]].values.tolist() == [
        ["nrs@11", "pain", 6.0], ["bpi-sf@2009", "severity", 4.5],
        ["bpi-sf@2009", "worst_pain", 7.0]]
    bad = tmp_path / "bad.csv"
    bad.write_text("subject_id,administered_at,pain\np1,2024-03-01T08:00:00Z,11\n")
    with pytest.raises(InputError, match=r"bad.csv, row 2, field 'pain': answer above"):
        read_responses_wide(bad, instrument="nrs")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("subject_id,administered_at,pain,mood\np1,2024-03-01T08:00:00Z,3,2\n")
    with pytest.raises(InputError, match=r"row 2, field 'mood': unknown item for nrs@11"):
        read_responses_wide(unknown, instrument="nrs")

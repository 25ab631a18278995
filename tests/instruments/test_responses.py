"""Reading questionnaire responses from CSV: row errors, file errors, timestamps."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError, InstrumentError
from gutaxis.instruments import get_instrument
from gutaxis.instruments.responses import (
    format_value,
    parse_timestamp,
    read_responses,
    response_template,
    score_columns,
    score_record,
    score_responses,
)

HEADER = "subject_id,administered_at,p_average_pain,e_enjoyment_of_life,g_general_activity"


def write(tmp_path: Path, text: str, name: str = "peg.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_template_lists_meta_columns_then_items_in_manual_order() -> None:
    assert ",".join(response_template("peg")) == HEADER
    assert response_template("odi")[2:4] == ["pain_intensity", "personal_care"]


def test_valid_rows_are_read_and_scored(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\ns1,2024-03-01T09:30:00+01:00,6,5,7\n"
                           "s2,,3,4,4\n")
    data = read_responses(path, "peg")
    assert [r.row for r in data.rows] == [2, 3]
    first = data.rows[0]
    assert first.administered_at is not None
    assert first.administered_at.utcoffset() == timedelta(hours=1)
    scored, errors = score_responses(data)
    assert errors == []
    assert [s.score.values["peg"] for s in scored] == [6.0, pytest.approx(11 / 3)]


def test_row_errors_name_row_field_value_and_keep_other_rows(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n"
                           "s1,2024-03-01T09:30:00Z,6,5,7\n"
                           "s2,2024-03-01,6,5,7\n"                # date without timezone
                           "s3,2024-03-01T09:30:00Z,6,11,7\n"     # out of range
                           ",2024-03-01T09:30:00Z,1,1,1\n"        # no subject
                           "s5,2024-03-01T09:30:00Z,1,1\n")       # short row
    data = read_responses(path, "peg")
    assert [r.subject_id for r in data.rows] == ["s1"]
    by_row = {e.row: e for e in data.errors}
    assert set(by_row) == {3, 4, 5, 6}
    assert by_row[3].field == "administered_at" and "timezone" in by_row[3].reason
    assert by_row[3].found == "2024-03-01"
    assert by_row[4].field == "e_enjoyment_of_life" and by_row[4].found == "11"
    assert by_row[4].expected == "an integer from 0 to 10"
    assert f"{path}, row 4, field 'e_enjoyment_of_life'" in by_row[4].message
    assert by_row[5].field == "subject_id"
    assert "cells" in by_row[6].reason


def test_empty_cells_are_missing_answers_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\ns1,,6,,7\n\n")
    data = read_responses(path, "peg")
    score = score_responses(data)[0][0].score
    assert score.values["peg"] is None
    assert score.missing_items == ("e_enjoyment_of_life",)


def test_absent_item_columns_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "subject_id,tjc28,sjc28,crp_mg_l\ns1,9,4,15\n")
    data = read_responses(path, "das28-crp")
    assert data.absent_items == ("gh_mm",)
    assert score_responses(data)[0][0].score.values["das28_crp4"] is None


@pytest.mark.parametrize(("text", "match"), [
    ("", "empty"),
    ("subject_id,administered_at,p_average_pain,pain\n", "unknown column"),
    ("administered_at,p_average_pain\n", "no subject_id"),
    ("subject_id,p_average_pain,p_average_pain\n", "duplicated"),
])
def test_bad_files_raise_input_errors(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        read_responses(write(tmp_path, text), "peg")


def test_unknown_column_error_names_column_and_lists_items(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError) as info:
        read_responses(write(tmp_path, "subject_id,pain\n"), "peg")
    assert info.value.column == "pain" and "p_average_pain" in str(info.value)


def test_non_utf8_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("subject_id,p_average_pain\nJosé,3\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_responses(path, "peg")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\ns1,,1,2,3\n").encode("utf-8"))
    assert len(read_responses(path, "peg").rows) == 1


@pytest.mark.parametrize("text", ["2024-03-01T09:30:00Z", "2024-03-01T09:30:00+05:30",
                                  "2024-03-01 09:30-04:00"])
def test_timestamps_with_timezone_are_accepted(text: str) -> None:
    assert parse_timestamp(text).tzinfo is not None


@pytest.mark.parametrize("text", ["2024-03-01", "2024-03-01T09:30:00", "yesterday",
                                  "01/03/2024"])
def test_timestamps_without_timezone_or_not_iso_are_rejected(text: str) -> None:
    with pytest.raises(InstrumentError, match="administered_at"):
        parse_timestamp(text)


def test_score_record_has_every_column_and_formats_values(tmp_path: Path) -> None:
    path = write(tmp_path, "subject_id,pain_intensity,personal_care,lifting,walking,"
                           "sitting,standing,sleeping,social_life,travelling\n"
                           "s1,2,2,2,2,2,2,2,1,1\n", name="odi.csv")
    scored, _ = score_responses(read_responses(path, "odi"))
    record = score_record(scored[0])
    assert list(record) == score_columns(get_instrument("odi"))
    assert record["disability"] == "35.555556"
    assert record["disability_band"] == "moderate disability"
    assert record["missing_items"] == "sex_life"
    assert record["missing_rule_applied"] == "true"


@pytest.mark.parametrize(("value", "text"), [(None, ""), (32.0, "32"), (4.5, "4.5"),
                                             (320 / 9, "35.555556")])
def test_format_value(value: float | None, text: str) -> None:
    assert format_value(value) == text


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    data = read_responses(write(tmp_path, HEADER + "\n"), "peg")
    assert data.rows == () and data.errors == ()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 10) | st.none(), st.integers(0, 10) | st.none(),
                               st.integers(0, 10) | st.none()), min_size=1, max_size=8))
def test_csv_round_trip_scores_like_direct_scoring(tmp_path_factory: pytest.TempPathFactory,
                                                   rows: list[tuple[int | None, ...]]) -> None:
    inst = get_instrument("peg")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(response_template(inst))
    for i, values in enumerate(rows):
        writer.writerow([f"s{i}", "2024-01-01T00:00:00Z",
                         *("" if v is None else v for v in values)])
    path = tmp_path_factory.mktemp("rt") / "peg.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    scored, errors = score_responses(read_responses(path, inst))
    assert errors == []
    for values, result in zip(rows, scored, strict=True):
        direct = inst.score(dict(zip(inst.item_ids, values, strict=True)))
        assert result.score == direct


def test_score_frame_scores_a_wide_dataframe_and_keeps_the_index() -> None:
    import math

    import pandas as pd

    from gutaxis.instruments.responses import score_frame

    frame = pd.DataFrame({"subject": ["a", "b", "c"],
                          "pain_intensity": [2, 2, 5], "personal_care": [2, 2, 5],
                          "lifting": [2, 2, 5], "walking": [2, 2, 5], "sitting": [2, 2, 5],
                          "standing": [2, 2, 5], "sleeping": [1, 2, None],
                          "sex_life": [1, None, None], "social_life": [1, 1, None],
                          "travelling": [1, 1, 5]}, index=["v1", "v2", "v3"])
    scores = score_frame(frame, "odi")
    assert list(scores.index) == ["v1", "v2", "v3"]
    assert scores.loc["v1", "disability"] == 32
    assert scores.loc["v2", "disability"] == pytest.approx(320 / 9)
    assert bool(scores.loc["v2", "missing_rule_applied"])
    assert math.isnan(scores.loc["v3", "disability"])            # 3 sections missing
    assert scores.loc["v1", "disability_band"] == "moderate disability"
    assert scores["band_sets"].tolist() == ["disability=fairbank-2000"] * 3


def test_score_frame_errors_name_the_row_label() -> None:
    import pandas as pd

    from gutaxis.instruments.responses import score_frame

    with pytest.raises(InstrumentError, match="row s9, field 'p_average_pain'"):
        score_frame(pd.DataFrame({"p_average_pain": [11]}, index=["s9"]), "peg")
    with pytest.raises(InstrumentError, match="no column"):
        score_frame(pd.DataFrame({"x": [1]}), "peg")

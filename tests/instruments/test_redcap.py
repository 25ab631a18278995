"""REDCap import: events, repeating instruments, local times, mapping, positioned errors.

The fixture ``tests/reference/redcap/pain_clinic_export.csv`` follows REDCap's raw export
layout (see its README for the hand-worked expected values).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.instruments.record_tsv import read_record, write_record
from gutaxis.instruments.redcap import (
    RedcapForm,
    RedcapMapping,
    RedcapTable,
    infer_mapping,
    read_redcap,
)


@pytest.fixture
def export(reference_dir: Path) -> Path:
    return reference_dir / "redcap" / "pain_clinic_export.csv"


@pytest.fixture
def mapping(reference_dir: Path) -> RedcapMapping:
    return RedcapMapping.from_json(reference_dir / "redcap" / "pain_clinic_mapping.json")


def scores_of(record: object, admin: str) -> dict[str, float]:
    table = record.scores  # type: ignore[attr-defined]
    rows = table[table["administration_id"] == admin]
    return dict(zip(rows["score"], rows["value"], strict=True))


def test_export_is_read_with_events_repeats_and_hand_worked_scores(
        export: Path, mapping: RedcapMapping) -> None:
    m = read_redcap(export, timezone="Europe/Berlin", mapping=mapping)
    assert m.subjects == ["101", "102"]
    assert len(m.administrations) == 7 and len(m.labs) == 4 and len(m.samples) == 3
    base = scores_of(m, "redcap/101/baseline_arm_1/bpi_sf")
    assert base["severity"] == 4.5
    assert base["interference"] == pytest.approx(39 / 7, abs=1e-12)
    assert scores_of(m, "redcap/101/week4_arm_1/bpi_sf")["interference"] == pytest.approx(
        20 / 7, abs=1e-12)
    no_item_9 = scores_of(m, "redcap/102/baseline_arm_1/bpi_sf")
    assert "interference" not in no_item_9
    assert (no_item_9["severity"], no_item_9["worst_pain"]) == (1.5, 3.0)
    nrs = m.score_table().query("instrument == 'nrs@11'")
    assert nrs["value"].tolist() == [6.0, 5.0, 3.0, 2.0]


def test_local_times_cross_the_dst_change_correctly(export: Path,
                                                    mapping: RedcapMapping) -> None:
    m = read_redcap(export, timezone="Europe/Berlin", mapping=mapping)
    times = m.administrations.set_index("administration_id")["time"]
    assert times["redcap/101/baseline_arm_1/nrs/1"] == pd.Timestamp("2024-03-28T07:00Z")
    assert times["redcap/101/week4_arm_1/nrs/1"] == pd.Timestamp("2024-04-02T06:00Z")
    # the non-repeating BPI takes the event's visit date (local midnight)
    assert times["redcap/101/baseline_arm_1/bpi_sf"] == pd.Timestamp("2024-03-27T23:00Z")


def test_labs_are_converted_and_repeat_rows_inherit_the_visit_date(
        export: Path, mapping: RedcapMapping) -> None:
    labs = read_redcap(export, timezone="Europe/Berlin", mapping=mapping).labs
    assert labs[["analyte", "value", "unit", "reported_value", "reported_unit"]].values.tolist() \
        == [["crp", 8.1, "mg/L", 0.81, "mg/dL"], ["calprotectin", 200.0, "ug/g", 0.2, "mg/g"],
            ["hs_crp", 3.1, "mg/L", 3.1, "mg/L"], ["esr", 12.0, "mm/h", 12.0, "mm/h"]]
    assert labs["time"].iloc[3] == pd.Timestamp("2024-03-28T23:00Z")


def test_intervention_and_sample_links(export: Path, mapping: RedcapMapping) -> None:
    m = read_redcap(export, timezone="Europe/Berlin", mapping=mapping)
    iv = m.interventions.iloc[0]
    assert (iv["type"], iv["product"], iv["dose"], iv["dose_unit"]) == (
        "probiotic", "L. rhamnosus GG", 10.0, "10*9.[CFU]/d")
    assert iv["start"] == pd.Timestamp("2024-03-29T07:00Z") and pd.isna(iv["stop"])
    assert m.samples["sample_id"].tolist() == ["S101A", "S101B", "S102A"]


def test_record_round_trips_through_tsv(export: Path, mapping: RedcapMapping,
                                        tmp_path: Path) -> None:
    m = read_redcap(export, timezone="Europe/Berlin", mapping=mapping)
    back = read_record(write_record(m, tmp_path / "record.tsv"))
    for name in ("administrations", "responses", "scores", "labs", "interventions",
                 "samples"):
        pd.testing.assert_frame_equal(getattr(m, name), getattr(back, name))


def test_default_mapping_finds_forms_named_after_instruments(export: Path) -> None:
    mapping = infer_mapping(pd.read_csv(export, nrows=0).columns)
    assert [(f.form, f.instrument, f.time_field) for f in mapping.forms] == [
        ("nrs", "nrs@11", "nrs_date"), ("bpi_sf", "bpi-sf@2009", "bpi_sf_date")]


def test_missing_timezone_is_an_error_naming_line_and_field(export: Path,
                                                            mapping: RedcapMapping) -> None:
    with pytest.raises(InputError, match=r"pain_clinic_export.csv, row 3, column 'nrs_date': "
                                         r"a time without a timezone; found '2024-03-28 08:00'"):
        read_redcap(export, mapping=RedcapMapping(forms=mapping.forms[:1]))


@pytest.fixture
def edited(export: Path, tmp_path: Path) -> Callable[[str, str], Path]:
    """The fixture with one text replacement applied."""

    def edit(old: str, new: str) -> Path:
        text = export.read_text()
        assert old in text
        path = tmp_path / "export.csv"
        path.write_text(text.replace(old, new, 1))
        return path

    return edit


@pytest.mark.parametrize(("old", "new", "message"), [
    (",2024-03-30 08:00,5,", ",2024-03-30 08:00,11,",
     r"row 4, field 'pain': answer above the allowed range; found '11'"),
    (",CRP,0.81,mg/dL,", ",CRP,0.81,mm/h,", r"row 5, field 'unit': C-reactive protein: "
                                            r"cannot convert mm/h"),
    (",CRP,0.81,mg/dL,", ",CRP,0.81,furlongs,", r"row 5, field 'unit': unknown unit"),
    (",CRP,0.81,mg/dL,", ",RBC,0.81,mg/dL,", r"row 5, field 'analyte': unknown lab analyte; "
                                             r"found 'RBC'"),
    (",2024-03-28 08:00,6,", ",,6,", r"row 3, column 'nrs_date': date is missing"),
    (",2024-03-28 08:00,6,", ",28.03.2024,6,", r"row 3, column 'nrs_date': not a time"),
])
def test_bad_cells_are_named_by_line_and_field(edited: Callable[[str, str], Path],
                                               mapping: RedcapMapping, old: str, new: str,
                                               message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_redcap(edited(old, new), timezone="Europe/Berlin", mapping=mapping)


def test_unknown_item_field_and_unknown_instrument(edited: Callable[[str, str], Path],
                                                   mapping: RedcapMapping) -> None:
    path = edited("nrs_pain,", "nrs_worst,")
    with pytest.raises(InputError, match=r"row 1, column 'nrs_worst': field maps to no item "
                                         r"of nrs@11; found 'worst'"):
        read_redcap(path, timezone="Europe/Berlin", mapping=mapping)
    form = RedcapForm(form="nrs", instrument="pain-o-meter", time_field="nrs_date")
    bad = RedcapMapping(forms=(form,))
    with pytest.raises(InputError, match=r"field 'instrument': unknown instrument; "
                                         r"found 'pain-o-meter'"):
        read_redcap(path, timezone="Europe/Berlin", mapping=bad)
    absent = RedcapMapping(forms=(RedcapForm(form="nrs", instrument="nrs", time_field="nrs_when",
                                                  items={"nrs_pain": "pain"}),))
    with pytest.raises(InputError, match=r"column 'nrs_when': field of form 'nrs' not in the "
                                         r"export"):
        read_redcap(edited("nrs_complete", "nrs_complete"), timezone="Europe/Berlin",
                    mapping=absent)


def test_table_mapping_needs_its_columns(export: Path) -> None:
    table = RedcapTable(form="lab", table="labs",
                        fields={"time": "visit_date", "analyte": "lab_analyte"})
    spec = RedcapMapping(tables=(table,))
    with pytest.raises(InputError, match=r"export.csv, field 'reported_value': mapping of "
                                         r"form 'lab' lacks a column"):
        read_redcap(export, timezone="Europe/Berlin", mapping=spec)


def test_mapping_json_errors(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text('{"forms": [{"form": "nrs"}]}')
    with pytest.raises(InputError, match="not a REDCap mapping"):
        RedcapMapping.from_json(path)


def test_classic_project_without_events_or_repeats(tmp_path: Path) -> None:
    path = tmp_path / "classic.csv"
    path.write_text("record_id,nrs_date,nrs_pain,nrs_complete\n"
                    "a,2024-03-01T08:00:00+01:00,4,2\nb,2024-03-02T08:00:00Z,,0\n")
    m = read_redcap(path)
    assert m.administrations["administration_id"].tolist() == ["redcap/a/nrs"]
    assert np.array_equal(m.scores["value"].to_numpy(), [4.0])


def test_survey_timestamp_as_time_and_not_completed_surveys(tmp_path: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text("record_id,redcap_survey_identifier,nrs_timestamp,nrs_pain,nrs_complete\n"
                    "a,,2024-03-01 08:00:00,4,2\nb,,[not completed],5,0\n")
    mapping = infer_mapping(pd.read_csv(path, nrows=0).columns)
    assert [(f.form, f.time_field) for f in mapping.forms] == [("nrs", "nrs_timestamp")]
    with pytest.raises(InputError, match=r"row 3, column 'nrs_timestamp': date is missing"):
        read_redcap(path, timezone="UTC")


def test_form_repeating_in_one_event_only(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("record_id,redcap_event_name,redcap_repeat_instrument,"
                    "redcap_repeat_instance,nrs_date,nrs_pain,nrs_complete\n"
                    "1,screening_arm_1,,,2024-03-01T08:00:00Z,7,2\n"
                    "1,diary_arm_1,nrs,1,2024-03-02T08:00:00Z,6,2\n"
                    "1,diary_arm_1,nrs,2,2024-03-03T08:00:00Z,5,2\n")
    m = read_redcap(path)
    assert m.administrations["administration_id"].tolist() == [
        "redcap/1/screening_arm_1/nrs", "redcap/1/diary_arm_1/nrs/1",
        "redcap/1/diary_arm_1/nrs/2"]
    assert m.scores["value"].tolist() == [6.0, 5.0, 7.0]


def test_byte_order_mark_crlf_and_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfrecord_id,nrs_date,nrs_pain,nrs_complete\r\n"
                     b"a,2024-03-01T08:00:00+01:00,4,2\r\n")
    assert read_redcap(path).scores["value"].tolist() == [4.0]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,nrs_date,nrs_pain,nrs_complete\nJos\xe9,".encode("latin-1")
                      + b"2024-03-01T08:00:00Z,4,2\n")
    with pytest.raises(InputError, match=r"latin.csv, row 2: not UTF-8 text"):
        read_redcap(latin)


@pytest.mark.parametrize(("header", "why"), [
    ("sample_id,group,age", r"no instrument status \('<form>_complete'\) column"),
    ("subject_id,administered_at,pain", r"no instrument status"),
    ("redcap_event_name,record_id,nrs_date,nrs_pain,nrs_complete",
     r"column 'redcap_event_name': not a REDCap export: the first column is not the record"),
    ("nrs_complete,nrs_date,nrs_pain", r"the first column is not the record id field"),
])
def test_a_csv_that_is_not_a_redcap_export_is_refused_saying_why(
        tmp_path: Path, header: str, why: str) -> None:
    path = tmp_path / "other.csv"
    path.write_text(header + "\n" + ",".join(["1"] * header.count(",")) + ",2\n")
    with pytest.raises(InputError, match=why) as info:
        read_redcap(path, timezone="UTC")
    assert info.value.source == str(path) and info.value.row == 1


def test_an_export_without_any_known_instrument_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text("record_id,visit_date,visit_weight,visit_complete\n1,2024-03-01,70,2\n")
    with pytest.raises(InputError, match=r"nothing to import: no form .* registry instrument"
                       r"; found 'forms visit'"):
        read_redcap(path, timezone="UTC")

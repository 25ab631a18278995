"""The bridge from the clinic's tables to the engine, and the de-identification: values
joined to samples against what was seeded, the date shift against its definition."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pandas as pd
import pytest
from clinic_fixtures import Clinic
from research_seed import DIARY_DAYS, Seeded, seed_cohort

from gutaxis.app.research.deid import MAX_SHIFT_DAYS, date_offset_days
from gutaxis.app.research.record import ClinicRecord, load_record


@pytest.fixture
def seeded(sqlite_clinic: Clinic) -> Seeded:
    return seed_cohort(sqlite_clinic, n_subjects=6)


def _load(clinic: Clinic, secret: str | None = None) -> ClinicRecord:
    with clinic.state.db.read() as session:
        return load_record(session, secret=secret)


def test_offset_is_the_hmac_of_the_pseudonym_in_range_and_stable() -> None:
    digest = hmac.new(b"k", b"gutaxis-date-shift\x00P-ABCDEF", hashlib.sha256).digest()
    expected = int.from_bytes(digest[:8], "big") % 361 - 180
    assert date_offset_days("k", "P-ABCDEF") == expected
    offsets = [date_offset_days("secret", f"P-{i:06d}") for i in range(3000)]
    assert min(offsets) == -MAX_SHIFT_DAYS and max(offsets) == MAX_SHIFT_DAYS
    assert abs(sum(offsets) / len(offsets)) < 10  # centred on 0 (sd of the mean ~1.9)
    assert [date_offset_days("secret", f"P-{i:06d}") for i in range(50)] == offsets[:50]
    assert sum(date_offset_days("other", f"P-{i:06d}") == o
               for i, o in enumerate(offsets[:300])) < 10  # the key matters


def test_samples_carry_the_seeded_diary_means_scores_labs_and_interventions(
        sqlite_clinic: Clinic, seeded: Seeded) -> None:
    record = _load(sqlite_clinic)
    meta = record.sample_metadata
    assert len(meta) == sum(len(v) for v in seeded.samples.values()) == 12
    assert record.profile is not None and record.profile.n_samples == 12
    assert set(record.profile.sample_ids) == set(meta.index)
    for pid, samples in seeded.samples.items():
        for visit, sid in enumerate(samples, start=1):
            row = meta.loc[f"S{sid}"]
            pain = seeded.pain[sid]
            assert row["subject"] == record.subjects[pid]
            assert row["pain_mean_14d"] == pain  # 14 days of the same pain
            assert row["fibre_servings_mean_14d"] == pytest.approx(seeded.fibre[sid])
            assert row["gi_bloating_mean_14d"] == 3 and row["sleep_hours_mean_14d"] == 7
            assert row["nrs_pain"] == pain and row["bristol_type"] == 4
            assert row["peg_peg"] == pytest.approx((pain + 5 + 4) / 3)  # PEG: item mean
            assert row["crp"] == pytest.approx(seeded.crp[sid])
            on_probiotic = visit == 2 and seeded.patients.index(pid) % 2 == 0
            assert row["intervention_active"] == int(on_probiotic)
    assert len(record.diary) == 12 * DIARY_DAYS
    assert "notes" not in record.diary.columns


def test_pain_window_is_the_14_days_ending_on_the_collection_day(
        sqlite_clinic: Clinic) -> None:
    from gutaxis.app.db.models import DiaryEntry, MicrobiomeSample, Upload

    pid = sqlite_clinic.add_patient("Win Dow")
    collected = dt.datetime(2026, 5, 20, 8, 0, tzinfo=dt.UTC)
    with sqlite_clinic.state.db.write() as session:
        upload = Upload(kind="microbiome", filename="t.tsv", content=b"x", sha256="0" * 64)
        session.add(upload)
        session.flush()
        session.add(MicrobiomeSample(patient_id=pid, sample_label="s", collected_at=collected,
                                     upload_id=upload.id, value_kind="counts",
                                     profile={"a": 5, "b": 7}))
        # day -14 (outside), days -13..0 (inside: pains 0..13 capped at 10), day +1 (outside)
        for back in range(-1, 15):
            pain = 10 if back in (-1, 14) else min(10, 13 - back)
            session.add(DiaryEntry(patient_id=pid, day=collected.date() - dt.timedelta(back),
                                   pain=pain))
    meta = _load(sqlite_clinic).sample_metadata
    inside = [min(10, 13 - back) for back in range(14)]
    assert meta.iloc[0]["pain_mean_14d"] == pytest.approx(sum(inside) / 14)


def test_deidentified_times_move_by_the_patients_offset_and_keep_every_interval(
        sqlite_clinic: Clinic, seeded: Seeded) -> None:
    plain = _load(sqlite_clinic)
    shifted = _load(sqlite_clinic, secret=sqlite_clinic.state.secret)
    offsets = {s: date_offset_days(sqlite_clinic.state.secret, s)
               for s in plain.subjects.values()}
    assert shifted.offsets == offsets and len(set(offsets.values())) > 1
    for name, key, columns in (("administrations", "administration_id", ["time"]),
                               ("labs", "lab_id", ["time"]),
                               ("samples", "sample_id", ["time"]),
                               ("interventions", "intervention_id", ["start"])):
        a = getattr(plain.measurements, name).set_index(key)
        b = getattr(shifted.measurements, name).set_index(key).loc[a.index]
        assert len(a) > 0
        for column in columns:
            moved = (b[column] - a[column]) / pd.Timedelta(days=1)
            assert moved.tolist() == [offsets[s] for s in a["subject"]]
    days = (pd.to_datetime(shifted.diary["day"]) - pd.to_datetime(plain.diary["day"])).dt.days
    assert days.tolist() == [offsets[s] for s in plain.diary["subject"]]
    # the sample's joined values do not depend on the shift
    columns = ["pain_mean_14d", "nrs_pain", "crp", "intervention_active"]
    pd.testing.assert_frame_equal(plain.sample_metadata[columns],
                                  shifted.sample_metadata[columns])


def test_free_text_answers_stay_in_the_identified_record_only(
        sqlite_clinic: Clinic, seeded: Seeded) -> None:
    def treatments(record: ClinicRecord) -> list[str]:
        answers = record.measurements.responses
        return answers[answers["item"] == "q7_treatments"]["answer"].tolist()

    assert treatments(_load(sqlite_clinic)) == ["physiotherapy, ask Zelda Quixote00"]
    shifted = _load(sqlite_clinic, secret="k")
    assert treatments(shifted) == []
    assert "q3_worst_pain" in set(shifted.measurements.responses["item"])

"""A small clinic cohort for the research tests: patients with identities, diaries,
questionnaires, labs, interventions and microbiome samples drawn by gutaxis.simulate."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from clinic_fixtures import Clinic

from gutaxis.app.db.models import (
    DiaryEntry,
    Intervention,
    LabResult,
    MicrobiomeSample,
    QuestionnaireResponse,
    Upload,
)

#: Identifying values seeded; none may appear in a de-identified response.
IDENTITIES: tuple[dict[str, Any], ...] = tuple(
    {"name": f"Zelda Quixote{i:02d}", "date_of_birth": dt.date(1940 + i, 3, 17),
     "email": f"zelda{i:02d}@example.org", "phone": f"+44 7700 9000{i:02d}",
     "medical_record_number": f"MRN-77{i:04d}"} for i in range(60))
FIRST_VISIT = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)
VISIT_GAP = dt.timedelta(days=35)
DIARY_DAYS = 14


@dataclass
class Seeded:
    """What was seeded: patient ids, their sample ids and the pain given before each."""

    patients: list[int]
    samples: dict[int, list[int]] = field(default_factory=dict)  # patient -> sample ids
    pain: dict[int, int] = field(default_factory=dict)  # sample id -> diary pain
    fibre: dict[int, float] = field(default_factory=dict)  # sample id -> fibre servings
    crp: dict[int, float] = field(default_factory=dict)  # sample id -> CRP 2 days before

    def forbidden(self) -> list[bytes]:
        """Identifying strings of the seeded patients, as they would appear in bytes."""
        out: list[bytes] = []
        for who in IDENTITIES[:len(self.patients)]:
            dob = who["date_of_birth"]
            out += [who["name"].encode(), who["email"].encode(), who["phone"].encode(),
                    who["medical_record_number"].encode(), dob.isoformat().encode(),
                    dob.strftime("%Y%m%d").encode()]
        return out


def seed_cohort(clinic: Clinic, *, n_subjects: int = 12, visits: int = 2,
                n_features: int = 30, seed: int = 3) -> Seeded:
    """Patients with identities and, per visit, a sample (simulated counts), the 14 diary
    days ending on its collection day (pain = the simulated pain rounded, fibre), a PEG
    questionnaire, a CRP result and, for even patients, a probiotic from visit 2."""
    from gutaxis.simulate import simulate_cohort

    sim = simulate_cohort(n_subjects=n_subjects, visits=visits, n_features=n_features,
                          seed=seed)
    table, meta = sim.cohort.table, sim.cohort.metadata
    frame = table.to_dataframe()
    subjects = list(dict.fromkeys(meta["subject"]))
    patients = [clinic.add_patient(IDENTITIES[i]["name"],
                                   date_of_birth=IDENTITIES[i]["date_of_birth"],
                                   email=IDENTITIES[i]["email"], phone=IDENTITIES[i]["phone"],
                                   medical_record_number=IDENTITIES[i]["medical_record_number"],
                                   timezone="Europe/Berlin" if i % 2 else "UTC")
                for i in range(len(subjects))]
    seeded = Seeded(patients=patients)
    taxonomy = {str(f): str(f) for f in table.feature_ids}
    with clinic.state.db.write() as session:
        upload = Upload(kind="microbiome", filename="table.tsv", content=b"simulated",
                        sha256=hashlib.sha256(b"simulated").hexdigest(), summary={})
        session.add(upload)
        session.flush()
        for sample_id, row in meta.iterrows():
            pid = patients[subjects.index(row["subject"])]
            visit = int(row["visit"])
            at = FIRST_VISIT + (visit - 1) * VISIT_GAP
            counts = {str(k): float(v) for k, v in frame.loc[sample_id].items() if v}
            sample = MicrobiomeSample(patient_id=pid, sample_label=str(sample_id),
                                      collected_at=at, upload_id=upload.id,
                                      value_kind="counts", profile=counts, taxonomy=taxonomy,
                                      panel={})
            session.add(sample)
            session.flush()
            pain = int(min(10, max(0, round(float(row["pain"])))))
            fibre = round(float(row["fibre"]), 1)
            seeded.samples.setdefault(pid, []).append(sample.id)
            seeded.pain[sample.id], seeded.fibre[sample.id] = pain, fibre
            seeded.crp[sample.id] = float(row["crp"])
            for back in range(DIARY_DAYS):
                session.add(DiaryEntry(
                    patient_id=pid, day=at.date() - dt.timedelta(days=back), pain=pain,
                    pain_sites=["neck"], bristol=4, gi_symptoms={"bloating": 3},
                    fibre_servings=fibre, probiotic_taken=False, sleep_hours=7.0,
                    notes=f"secret note of {IDENTITIES[patients.index(pid)]['name']}"))
            session.add(QuestionnaireResponse(
                patient_id=pid, instrument="peg@2009", time=at - dt.timedelta(days=1),
                answers={"p_average_pain": pain, "e_enjoyment_of_life": 5,
                         "g_general_activity": 4}, scores={}))
            session.add(LabResult(patient_id=pid, time=at - dt.timedelta(days=2),
                                  analyte="crp", value=float(row["crp"]), unit="mg/L",
                                  reported_value=float(row["crp"]), reported_unit="mg/L"))
            if visit == 1 and pid == patients[0]:  # free text that names the patient
                session.add(QuestionnaireResponse(
                    patient_id=pid, instrument="bpi-sf@2009", time=at, scores={},
                    answers={"q3_worst_pain": pain, "q7_treatments":
                             f"physiotherapy, ask {IDENTITIES[0]['name']}"}))
            if visit == 2 and patients.index(pid) % 2 == 0:
                session.add(Intervention(patient_id=pid, type="probiotic",
                                         product="L. rhamnosus GG", dose=10.0,
                                         dose_unit="CFU", start=(at - VISIT_GAP / 2).date()))
    return seeded

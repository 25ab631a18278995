"""Speed of the longitudinal record: the cohort join against R data.table, and the
throughput of the record's I/O (no peer tool reads REDCap into FHIR offline).

Prints seconds and, for the join, the ratio data.table / gutaxis (> 1: gutaxis faster).
The join is timed inside each tool (R's ``system.time`` around the rolling join only;
Python's ``perf_counter`` around :meth:`Measurements.at_samples`), best of 3.

    python benchmarks/bench_record.py [n_subjects] [samples_per_subject] [diary_per_sample]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from bench_io import best_of  # benchmarks/ is on sys.path when run as a script
from gutaxis.data import Cohort, ProfileTable
from gutaxis.instruments.fhir import to_fhir_bundle
from gutaxis.instruments.record import record_from_answers, score_record
from gutaxis.instruments.record_tsv import read_record, write_record

T0 = pd.Timestamp("2024-01-01T00:00:00Z")
R_JOIN = r"""
suppressPackageStartupMessages(library(data.table))
args <- commandArgs(trailingOnly = TRUE)
diary <- fread(args[1]); samples <- fread(args[2])
setkey(diary, subject, t)
best <- Inf
for (i in 1:3) {
  took <- system.time({
    hit <- diary[samples, on = .(subject, t), roll = "nearest",
                 .(pain = x.pain, gap = abs(x.t - i.t))]
    hit[gap > 7 * 86400, pain := NA]
  })[["elapsed"]]
  best <- min(best, took)
}
cat(best, sum(!is.na(hit$pain)), "\n")
"""


def simulate(n_subjects: int, per_subject: int, per_sample: int, seed: int = 7
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    subjects = np.repeat(np.arange(n_subjects), per_subject).astype(str)
    seconds = (np.tile(np.arange(per_subject), n_subjects) * 14 * 86400
               + rng.integers(0, 3600, len(subjects)))
    samples = pd.DataFrame({"sample_id": [f"s{i}" for i in range(len(subjects))],
                            "subject": subjects, "t": seconds})
    n = per_sample * len(samples)
    pick = rng.integers(0, len(samples), n)
    diary = pd.DataFrame({"subject": subjects[pick],
                          "t": seconds[pick] + rng.integers(-12 * 86400, 12 * 86400, n),
                          "pain": rng.integers(0, 11, n)})
    return samples, diary.drop_duplicates(["subject", "t"]).reset_index(drop=True)


def main() -> None:
    sizes = [2000, 10, 3]
    sizes[: len(sys.argv) - 1] = [int(a) for a in sys.argv[1:4]]
    n_subjects, per_subject, per_sample = sizes
    samples, diary = simulate(n_subjects, per_subject, per_sample)
    ids = [f"d{i}" for i in range(len(diary))]
    start = time.perf_counter()
    record = score_record(record_from_answers(
        administrations=pd.DataFrame({"administration_id": ids, "subject": diary["subject"],
                                      "time": T0 + pd.to_timedelta(diary["t"], unit="s"),
                                      "instrument": "nrs"}),
        responses=pd.DataFrame({"administration_id": ids, "item": "pain",
                                "answer": diary["pain"]}),
        samples=samples.assign(time=T0 + pd.to_timedelta(samples["t"], unit="s"))[
            ["sample_id", "subject", "time"]]))
    built = time.perf_counter() - start
    table = ProfileTable(sp.csr_array(np.ones((len(samples), 1))), samples["sample_id"], ["f"])
    cohort = Cohort(table, samples.set_index("sample_id")[["subject"]],
                    subject_column="subject")
    ours = best_of(lambda: record.at_samples(cohort, "nrs.pain", tolerance="7D"))
    matched = int(record.at_samples(cohort, "nrs.pain", tolerance="7D").notna().sum())
    print(f"{len(samples):,} samples, {len(diary):,} diary entries "
          f"(validated and scored in {built:.2f} s)")
    with tempfile.TemporaryDirectory() as folder:
        d, s, script = (Path(folder) / n for n in ("diary.tsv", "samples.tsv", "join.R"))
        diary.to_csv(d, sep="\t", index=False)
        samples.to_csv(s, sep="\t", index=False)
        script.write_text(R_JOIN)
        try:
            out = subprocess.run(["Rscript", str(script), str(d), str(s)], check=True,
                                 capture_output=True, text=True).stdout.split()
            theirs, r_matched = float(out[0]), int(out[1])
            print(f"join, nearest within 7 days: gutaxis {ours:.3f} s, data.table "
                  f"{theirs:.3f} s, ratio {theirs / ours:.2f} (matched {matched:,} vs "
                  f"{r_matched:,})")
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"join: gutaxis {ours:.3f} s; R data.table not run ({exc})")
        path = Path(folder) / "record.tsv"
        write = best_of(lambda: write_record(record, path), 1)
        read = best_of(lambda: read_record(path), 1)
        print(f"record TSV ({path.stat().st_size / 1e6:.1f} MB): write {write:.2f} s, "
              f"read + validate {read:.2f} s")
    small = score_record(record_from_answers(administrations=record.administrations.iloc[:5000],
                         responses=record.responses[record.responses["administration_id"]
                                                    .isin(record.administrations
                                                          ["administration_id"].iloc[:5000])],
                         samples=record.samples))
    for mode in ("none", "shapes", "full"):
        took = best_of(lambda m=mode: to_fhir_bundle(small, validate=m), 1)  # type: ignore[misc]
        print(f"FHIR Bundle of 5,000 administrations ({len(small.scores):,} scores), "
              f"validate={mode}: {took:.2f} s")


if __name__ == "__main__":
    main()

"""Omixer-RPM's own output on small synthetic inputs that exercise every rule of its
best path: complexes (comma), alternatives (tab), an even number of observed steps
(median = mean of the two middle values), an ortholog named in two steps, non-KO ids,
zeros, and coverage just below and above the cutoffs.

Run from this folder with the jar of omixerRpm 0.3.3 (github.com/omixer/omixer-rpmR,
inst/java/omixer-rpm.jar; Java 17 ran it)::

    python make_synthetic.py /path/to/omixer-rpm.jar

It writes (seeded, so the inputs are the same on every run):

- ``definitions.txt``: 40 random modules in Omixer-RPM's format (1-8 steps, 1-4
  alternatives, complexes of 1-3 ids from 60 KOs and 3 COG ids), then 5 hand-made
  ones (X005 is the README's example);
- ``ko_table.tsv``: 25 samples x 63 ids (+ the README's 9 KOs), about half zeros, values
  with decimals;
- ``c<cutoff>_{abundance,coverage}.tsv``: the jar's matrices (``-e 2``) at cutoffs 0.66,
  0.5 and 0.25, default options otherwise;
- ``taxon_ko_table.tsv``: 6 taxa x 30 ids x 12 samples, taxon-annotated (``-a 2``), and
  ``taxon_c<cutoff>_{abundance,coverage}.tsv``: the jar's per-taxon matrices at 0.66 and
  0.5.

Everything here is generated (no third-party data) except module X005 and its
profile, the worked example of Omixer-RPM's README (github.com/raeslab/omixer-rpm); licence
of the rest as gutaxis (MIT).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HAND_MADE = """X001\tcomplex or single
K00001,K00002\tK00003
K00004
///
X002\tfour steps, even median
K00005
K00006
K00007
K00008
///
X003\tortholog in two steps
K00009
K00009\tK00010
K00011
///
X004\tCOG step
COG0001
K00012
K00013,K00014,K00015
///
X005\tOmixer-RPM README example (upper glycolysis)
K00844\tK00845
K01810\tK06859\tK13810\tK15916
K00850\tK16370
K01622\tK01623\tK01624\tK11645\tK16305\tK16306
K01803
///
"""
#: The README's example profile, the same in every sample.
README_PROFILE = {"K00844": 10, "K00845": 3, "K06859": 7, "K13810": 8, "K01804": 12,
                  "K01622": 2, "K16370": 5, "K00703": 12, "K00863": 15}


def write_inputs(rng: np.random.Generator) -> None:
    kos = [f"K{i:05d}" for i in range(1, 61)]
    ids = [*kos, "COG0001", "COG0002", "COG0003"]
    lines = []
    for m in range(40):
        lines.append(f"R{m:03d}\trandom module {m}")
        for _ in range(rng.integers(1, 9)):
            alts = [",".join(rng.choice(ids, size=rng.integers(1, 4), replace=False))
                    if rng.random() < 0.3 else str(rng.choice(ids))
                    for _ in range(rng.integers(1, 5))]
            lines.append("\t".join(alts))
        lines.append("///")
    (HERE / "definitions.txt").write_text("\n".join(lines) + "\n" + HAND_MADE)
    samples = [f"S{j:02d}" for j in range(25)]
    values = np.round(rng.lognormal(3, 1.5, size=(len(ids), len(samples))), 3)
    values[rng.random(values.shape) < 0.5] = 0.0
    rows = ["entry\t" + "\t".join(samples)]
    rows += [i + "\t" + "\t".join(repr(float(v)) for v in row)
             for i, row in zip(ids, values, strict=True)]
    rows += [f"{ko}\t" + "\t".join([f"{v}.0"] * len(samples))
             for ko, v in README_PROFILE.items()]
    (HERE / "ko_table.tsv").write_text("\n".join(rows) + "\n")


def write_stratified(rng: np.random.Generator) -> None:
    """``taxon_ko_table.tsv``: 6 taxa x 30 of the ids each, 12 samples, Omixer-RPM's
    taxon-annotated layout (taxon, ortholog, values); about 40 % zeros."""
    ids = [*(f"K{i:05d}" for i in range(1, 61)), "COG0001", "COG0002", "COG0003"]
    samples = [f"S{j:02d}" for j in range(12)]
    rows = ["Taxon\tKO\t" + "\t".join(samples)]
    for t in range(6):
        for ko in sorted(rng.choice(ids, size=30, replace=False)):
            values = np.round(rng.lognormal(2, 1.2, size=len(samples)), 3)
            values[rng.random(len(samples)) < 0.4] = 0.0
            rows.append(f"taxon_{t}\t{ko}\t" + "\t".join(repr(float(v)) for v in values))
    (HERE / "taxon_ko_table.tsv").write_text("\n".join(rows) + "\n")


def main(jar: str) -> None:
    write_inputs(np.random.default_rng(20261205))
    write_stratified(np.random.default_rng(20261206))
    for cutoff in ("0.66", "0.5"):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["java", "-jar", jar, "-i", str(HERE / "taxon_ko_table.tsv"),
                            "-a", "2", "-d", str(HERE / "definitions.txt"), "-c", cutoff,
                            "-e", "2", "-o", tmp], check=True, capture_output=True)
            shutil.copy(Path(tmp) / "modules.tsv", HERE / f"taxon_c{cutoff}_abundance.tsv")
            shutil.copy(Path(tmp) / "modules-coverage.tsv",
                        HERE / f"taxon_c{cutoff}_coverage.tsv")
    for cutoff in ("0.66", "0.5", "0.25"):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["java", "-jar", jar, "-i", str(HERE / "ko_table.tsv"), "-d",
                            str(HERE / "definitions.txt"), "-c", cutoff, "-e", "2", "-o",
                            tmp], check=True, capture_output=True)
            shutil.copy(Path(tmp) / "modules.tsv", HERE / f"c{cutoff}_abundance.tsv")
            shutil.copy(Path(tmp) / "modules-coverage.tsv", HERE / f"c{cutoff}_coverage.tsv")


if __name__ == "__main__":
    main(sys.argv[1])

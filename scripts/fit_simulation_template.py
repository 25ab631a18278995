"""Fit the simulation template shipped in gutaxis.simulate from the fibromyalgia cohort.

How: reads the shared fibromyalgia table (101 samples x 6,993 ASVs, SILVA taxonomy), sums
it to genus, keeps the 150 most prevalent named genera and writes their zero-inflated
log-normal marginals, copula correlation and the depth quantiles (no sample-level data) to
src/gutaxis/simulate/data/fibromyalgia-genus.json.

    PYTHONPATH=src python scripts/fit_simulation_template.py [DATA_FOLDER]

DATA_FOLDER defaults to $GUTAXIS_SHARED_DATA/fibromyalgia or ../shared/data/fibromyalgia.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gutaxis.io import read_cohort
from gutaxis.simulate.template import fit_template

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("GUTAXIS_SHARED_DATA", ROOT.parent / "shared" / "data"))
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "fibromyalgia"
    cohort = read_cohort(folder / "feature-table.tsv.gz", folder / "metadata.tsv",
                         taxonomy=folder / "taxonomy.tsv.gz")
    template = fit_template(cohort, rank="genus", n_features=150,
                            source="fibromyalgia cohort (biomehub, PRJNA1458247), genus level")
    out = ROOT / "src" / "gutaxis" / "simulate" / "data" / "fibromyalgia-genus.json"
    template.write(out)
    print(template.summary(), "->", out)


if __name__ == "__main__":
    main()

"""Write the fibromyalgia distance matrices the vegan fixtures are computed on.

Run from the repository root: ``PYTHONPATH=src python tests/reference/vegan/make_distances.py``
(needs the shared fibromyalgia folder, or GUTAXIS_SHARED_DATA pointing above it).
"""

from __future__ import annotations

import os
from pathlib import Path

from gutaxis.gut.beta import beta_diversity
from gutaxis.io import read_cohort
from gutaxis.io.matrix import write_distance_matrix

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("GUTAXIS_SHARED_DATA", "/work/shared/data"))


def main() -> None:
    folder = SHARED / "fibromyalgia"
    cohort = read_cohort(folder / "feature-table.tsv.gz", folder / "metadata.tsv",
                         tree=folder / "tree.nwk")
    for metric in ("braycurtis", "unweighted_unifrac"):
        write_distance_matrix(beta_diversity(cohort.table, metric),
                              HERE / f"fibromyalgia_{metric}.tsv")
    cohort.metadata.to_csv(HERE / "fibromyalgia_metadata.tsv", sep="\t",
                           index_label="sample_id")


if __name__ == "__main__":
    main()

"""Build ``references.json``: quantile grids of every panel metric in two public cohorts.

Run from the repository root (the data folder defaults to ``../shared/data``)::

    python -m gutaxis.app.samples.reference.make_reference /work/shared/data

- ``fibromyalgia_16s_controls``: the 51 controls (``group == ctl``) of the fibromyalgia
  severity 16S cohort (V3-V4, QIIME 2 DADA2 ASVs, SILVA 138 taxonomy; GitHub
  ``biomehub/fibromyalgia-severity-microbiome``, GPL-3.0; BioProject PRJNA1458247).
  Read counts; observed richness rarefied to :data:`RAREFY_DEPTH` reads.
- ``hmp2_nonibd``: the non-IBD samples of HMP2 / IBDMDB (MetaPhlAn 2 species relative
  abundances as shipped with MaAsLin 2, MIT; Lloyd-Price et al. 2019). Several samples per
  subject. Their profiles are shipped too (``hmp2_nonibd_profiles.tsv.gz``): an uploaded
  profile's HMP2 dysbiosis score is its median Bray-Curtis distance to them, and the grid
  of ``dysbiosis_score`` holds the reference samples' own scores (each against the samples
  of the other subjects, as Lloyd-Price et al. computed them).

Each metric gets 101 quantiles (0, 1, ..., 100 %) by ``numpy.quantile`` (linear
interpolation, Hyndman & Fan type 7) over the reference samples where it is defined.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Reads per sample for observed richness in 16S tables (the shallowest control has 7,295).
RAREFY_DEPTH = 7000
#: Percent levels of the shipped grid.
GRID_LEVELS = tuple(range(101))
OUT = Path(__file__).with_name("references.json")


def grid(values: Any) -> dict[str, Any]:
    """``{"n", "quantiles"}`` of the finite ``values`` (101 levels, linear)."""
    import numpy as np

    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return {"n": 0, "quantiles": []}
    levels = np.asarray(GRID_LEVELS, dtype=np.float64) / 100.0
    return {"n": int(finite.size), "quantiles": [float(q) for q in np.quantile(finite, levels)]}


def fibromyalgia_controls(data: Path) -> Any:
    """The control samples of the fibromyalgia cohort as a ProfileTable (with taxonomy)."""
    import pandas as pd

    from gutaxis.io import read_cohort

    folder = data / "fibromyalgia"
    cohort = read_cohort(folder / "feature-table.tsv.gz", folder / "metadata.tsv",
                         taxonomy=folder / "taxonomy.tsv.gz")
    groups = pd.Series(cohort.metadata["group"]).astype(str).to_numpy()
    return cohort.table.subset_samples(groups == "ctl")


def hmp2_nonibd(data: Path) -> tuple[Any, int, list[str]]:
    """The non-IBD HMP2 samples (relative abundances), how many subjects they come from
    and the subject of each sample."""
    import pandas as pd

    from gutaxis.io import read_cohort

    folder = data / "hmp2"
    cohort = read_cohort(folder / "HMP2_taxonomy.tsv.gz", folder / "HMP2_metadata.tsv",
                         orientation="samples-rows")
    meta = cohort.metadata
    keep = (pd.Series(meta["diagnosis"]).astype(str) == "nonIBD").to_numpy()
    subject_of = pd.Series(meta["subject"])[keep].astype(str).tolist()
    return cohort.table.subset_samples(keep), len(set(subject_of)), subject_of


#: The HMP2 non-IBD profiles shipped for the dysbiosis score of uploaded samples.
HMP2_PROFILES = "hmp2_nonibd_profiles.tsv.gz"


def write_profiles(table: Any, path: Path) -> None:
    """``table`` as gzipped TSV, byte for byte the same on every run (no gzip time stamp)."""
    import gzip
    import tempfile

    from gutaxis.io import write_tsv

    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "profiles.tsv"
        write_tsv(table, plain)
        path.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=9, mtime=0))


def build(data: Path, out_folder: Path) -> dict[str, Any]:
    """The whole ``references.json`` document (and the HMP2 profiles, written into
    ``out_folder``)."""
    import numpy as np

    from gutaxis.app.samples.metrics import METRIC_NAMES, SHANNON_BASE, sample_metrics
    from gutaxis.gut.summaries import dysbiosis_score

    def metrics_of(table: Any, depth: int | None) -> dict[str, Any]:
        frame = sample_metrics(table, depth=depth)
        return {name: grid(frame[name].to_numpy()) for name in METRIC_NAMES}

    controls = fibromyalgia_controls(data)
    nonibd, subjects, subject_of = hmp2_nonibd(data)
    write_profiles(nonibd, out_folder / HMP2_PROFILES)
    # each reference sample scored against the reference samples of the other subjects
    own_scores = dysbiosis_score(nonibd, np.ones(nonibd.n_samples, dtype=bool),
                                 subjects=subject_of)
    return {
        "_about": "Quantile grids (101 levels, numpy.quantile linear) of the gut-health "
                  "panel's metrics in public reference cohorts; built by make_reference.py.",
        "shannon_base": SHANNON_BASE,
        "references": {
            "fibromyalgia_16s_controls": {
                "name": "Fibromyalgia-severity cohort, healthy controls (16S)",
                "n": int(controls.n_samples),
                "source": "biomehub/fibromyalgia-severity-microbiome (GitHub, commit "
                          "da052e261bdc), BioProject PRJNA1458247",
                "method": "16S rRNA V3-V4 amplicons, QIIME 2 DADA2 ASVs, SILVA 138 "
                          "taxonomy; read counts",
                "licence": "GPL-3.0",
                "value_kind": "counts",
                "rarefied_depth": RAREFY_DEPTH,
                "subjects": int(controls.n_samples),
                "metrics": metrics_of(controls, RAREFY_DEPTH),
            },
            "hmp2_nonibd": {
                "name": "HMP2 / IBDMDB, non-IBD participants (shotgun, MetaPhlAn 2)",
                "n": int(nonibd.n_samples),
                "source": "Lloyd-Price et al. 2019, Nature 569:655; profiles as shipped "
                          "with MaAsLin 2 (biobakery/Maaslin2, commit 02ba5133bd20)",
                "method": "shotgun metagenomics, MetaPhlAn 2 species relative abundances",
                "licence": "MIT",
                "value_kind": "relative",
                "rarefied_depth": None,
                "subjects": subjects,
                "profiles_file": HMP2_PROFILES,
                "metrics": {**metrics_of(nonibd, None),
                            "dysbiosis_score": grid(own_scores.to_numpy())},
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    document = build(args.data, args.out.parent)
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    for key, ref in document["references"].items():
        print(f"{key}: n={ref['n']} ({ref['subjects']} subjects) -> {args.out}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

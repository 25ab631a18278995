"""Which gut genera go with fibromyalgia and its severity? A reproducible scan.

Data: 16S profiles of 50 fibromyalgia patients in three severity bands and 51 controls
(``../shared/data/fibromyalgia``; see its README). ASVs are summed to genera with the
SILVA taxonomy; genera present in more than 10% of samples are kept (MaAsLin 2's
default filter), then TSS + LOG (log2, zeros replaced by half the genus's smallest
share). Three models, each adjusted for age, body-mass index and irritable bowel
syndrome (``covariate_sii``):

1. ``fm``: fibromyalgia (any band) vs control (LM);
2. ``severity``: the band as an ordered score, control 0, 12-20 -> 1, 21-25 -> 2,
   26-31 -> 3 (LM; a per-band linear trend across all 101 people);
3. ``fm`` again, MaAsLin 3 style: presence/absence (logistic) beside abundance among
   the samples where the genus is present.

Prints the top associations of each with 95% confidence intervals; writes each scan's
``all_results.tsv``, ``significant_results.tsv``, ``model.json`` and figures.

Usage: ``python examples/fibromyalgia_associate.py [--data DIR] [--out DIR] [--top 10]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.data.cohort import Cohort
from gutaxis.io import read_cohort
from gutaxis.report import write_association_plots
from gutaxis.report.association_plots import short_name
from gutaxis.stats import associate
from gutaxis.stats.association_results import AssociationResults

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fibromyalgia"
COVARIATES = ["covariate_age", "covariate_imc", "covariate_sii"]
SEVERITY_SCORE = {"ctl": 0, "fbm_12_20": 1, "fbm_21_25": 2, "fbm_26_31": 3}


def genus_cohort(folder: Path) -> Cohort:
    """The cohort at genus level with ``fm`` (control/FM) and ``severity`` (0-3) added."""
    cohort = read_cohort(folder / "feature-table.tsv.gz", folder / "metadata.tsv",
                         taxonomy=folder / "taxonomy.tsv.gz")
    meta = cohort.metadata.copy()
    meta["fm"] = np.where(meta["group"] == "ctl", "control", "FM")
    meta["severity"] = meta["group"].map(SEVERITY_SCORE).astype(float)
    return Cohort(cohort.table.aggregate("genus"), meta)


def with_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    """Add 95% confidence limits: t quantile with the fit's df (normal for z tests)."""
    df = rows["df"].to_numpy(dtype=float)
    quantile = np.where(np.isfinite(df), stats.t.ppf(0.975, np.where(np.isfinite(df), df, 1)),
                        stats.norm.ppf(0.975))
    return rows.assign(ci_low=rows["coef"] - quantile * rows["stderr"],
                       ci_high=rows["coef"] + quantile * rows["stderr"])


def report(title: str, results: AssociationResults, *, top: int, focus: str) -> None:
    """Print the scan's summary and its ``top`` rows for the variable ``focus``."""
    print(f"\n== {title}\n{results.summary()}")
    rows = results.table[(results.table["metadata"] == focus) & results.table["pval"].notna()]
    rows = with_intervals(rows.head(top))
    shown = pd.DataFrame({
        "genus": rows["feature"].map(short_name), "model": rows["model"],
        "term": rows["value"], "coef [95% CI]": [
            f"{c:+.2f} [{lo:+.2f}, {hi:+.2f}]"
            for c, lo, hi in zip(rows["coef"], rows["ci_low"], rows["ci_high"], strict=True)],
        "p": rows["pval"].map("{:.1e}".format), "q": rows["qval"].map("{:.3f}".format),
        "present": rows["n_nonzero"].astype(str) + "/" + rows["n"].astype(str)})
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(shown.to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("fibromyalgia_associate_results"))
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    cohort = genus_cohort(args.data)
    scans = {
        "fm_vs_control": ("FM vs control + age + BMI + IBS (LM, TSS + LOG)", "fm",
                          {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}),
        "severity_score": ("severity score 0-3 + age + BMI + IBS (LM, TSS + LOG)", "severity",
                           {"fixed": ["severity", *COVARIATES]}),
        "fm_maaslin3": ("FM vs control, MaAsLin 3 style (prevalence + nonzero abundance)", "fm",
                        {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"},
                         "prevalence_model": True}),
    }
    for name, (title, focus, kwargs) in scans.items():  # three scans
        results = associate(cohort, **kwargs)
        report(title, results, top=args.top, focus=focus)
        results.to_dir(args.out / name)
        write_association_plots(results, args.out / name / "figures", top=args.top)
    print(f"\nresults in {args.out}/")


if __name__ == "__main__":
    main()

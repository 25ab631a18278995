"""Association scan speed: gutaxis vs a per-feature statsmodels OLS loop, on real data.

Prints:

1. the LM scan of the fibromyalgia ASV table (101 samples; every ASV present in more
   than ``--min-prevalence`` of the samples, thousands at the default 0.01), TSS + LOG,
   ``asv ~ group(FM vs control) + age + BMI + IBS``: the model fits of ``associate()``
   against ``statsmodels.api.OLS(y, X).fit()`` once per feature on the same ``Y`` and
   ``X``; the ratio (statsmodels time / gutaxis time, > 1 means gutaxis is faster) and the
   largest relative difference of the estimates;
2. the whole ``associate()`` call (filter, normalise, transform, fit, correct) on the
   same table;
3. the MaAsLin 3-style variant (abundance on nonzero samples + prevalence logistic);
4. the full HMP2 LMM scan of the MaAsLin 2 fixture model (1,595 samples, 87 species,
   random intercepts for site and subject), with and without the prevalence model
   (``--skip-hmp2-prevalence`` skips the slow second one).

BLAS runs single-threaded for both sides (threadpoolctl): on a shared machine
OpenBLAS threads oversubscribe the cores and make small matrix products ~10x slower.

Usage: ``python benchmarks/bench_associate.py [--min-prevalence 0.01] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from gutaxis.data.cohort import Cohort
from gutaxis.io import read_cohort
from gutaxis.stats import associate
from gutaxis.stats.associate import filter_features, transform_table
from gutaxis.stats.design import build_design
from gutaxis.stats.models.linear import fit_ols

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FM_FIXED = ["fm", "covariate_age", "covariate_imc", "covariate_sii"]
HMP2_FIXED = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics",
              "age"]


def best_of(repeat: int, func: Callable[[], Any]) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` calls, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):  # timing loop
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def fibromyalgia_asvs() -> Cohort:
    folder = DATA / "fibromyalgia"
    cohort = read_cohort(folder / "feature-table.tsv.gz", folder / "metadata.tsv")
    meta = cohort.metadata.copy()
    meta["fm"] = np.where(meta["group"] == "ctl", "control", "FM")
    return Cohort(cohort.table, meta)


def statsmodels_loop(Y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The peer: one statsmodels OLS per feature, as a per-feature R/Python scan does."""
    coef = np.empty((Y.shape[1], X.shape[1]))
    for j in range(Y.shape[1]):  # the per-feature loop being compared against
        coef[j] = sm.OLS(Y[:, j], X).fit().params
    return coef


def bench_lm(cohort: Cohort, min_prevalence: float, repeat: int) -> None:
    keep = filter_features(cohort.table.values, min_prevalence=min_prevalence,
                           min_abundance=0.0, min_variance=0.0)
    raw = cohort.table.subset_features(keep).dense()
    Y = transform_table(raw, normalization="TSS", transform="LOG")
    X = build_design(cohort.metadata, fixed=FM_FIXED, reference={"fm": "control"}).matrix
    t_ours, fit = best_of(repeat, lambda: fit_ols(Y, X))
    t_peer, coef = best_of(1, lambda: statsmodels_loop(Y, X))
    in_se = np.max(np.abs(fit.coef - coef) / fit.stderr)
    big = np.abs(coef) > 1e-3 * fit.stderr  # relative error is meaningless at coef ~ 0
    rel = np.max(np.abs(fit.coef - coef)[big] / np.abs(coef[big]))
    print(f"1. LM fits, {Y.shape[1]} ASVs x {Y.shape[0]} samples x {X.shape[1]} parameters: "
          f"gutaxis {t_ours * 1e3:.1f} ms, statsmodels loop {t_peer:.2f} s, "
          f"ratio {t_peer / t_ours:.0f}x;\n   max |coef difference| {in_se:.1e} standard errors, "
          f"max relative difference {rel:.1e} (coefficients > 1e-3 SE)")
    kwargs = {"fixed": FM_FIXED, "reference": {"fm": "control"}, "min_prevalence": min_prevalence,
              "median_comparison_abundance": False}  # MaAsLin 2 peers test against 0
    t_scan, res = best_of(repeat, lambda: associate(cohort, **kwargs))
    print(f"2. whole associate() scan ({res.spec.n_features_tested} features): "
          f"{t_scan * 1e3:.0f} ms; ratio vs the statsmodels fits alone {t_peer / t_scan:.0f}x")
    t_prev, res = best_of(repeat, lambda: associate(cohort, prevalence_model=True, **kwargs))
    print(f"3. MaAsLin 3-style scan (nonzero-sample LM + prevalence logistic, "
          f"{len(res.table)} rows): {t_prev:.2f} s")


def bench_hmp2(skip_prevalence: bool) -> None:
    folder = DATA / "hmp2"
    cohort = read_cohort(folder / "HMP2_taxonomy.tsv.gz", folder / "HMP2_metadata.tsv")
    kwargs = {"fixed": HMP2_FIXED, "random": ["site", "subject"],
              "reference": {"diagnosis": "nonIBD"}, "transform": "AST",
              "median_comparison_abundance": False}
    t_lmm, res = best_of(1, lambda: associate(cohort, **kwargs))
    print(f"4. HMP2 LMM scan, {res.spec.n_features_tested} species x "
          f"{res.spec.n_samples_used} samples, (1|site) + (1|subject): {t_lmm:.2f} s, "
          f"{len(res.significant())} rows with q <= 0.25")
    if skip_prevalence:
        return
    t_prev, res = best_of(1, lambda: associate(cohort, prevalence_model=True, **kwargs))
    print(f"   with the prevalence model (logistic mixed, MaAsLin 3 style): {t_prev:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-prevalence", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-hmp2-prevalence", action="store_true")
    args = parser.parse_args()
    with threadpool_limits(limits=1):
        bench_lm(fibromyalgia_asvs(), args.min_prevalence, args.repeat)
        bench_hmp2(args.skip_hmp2_prevalence)


if __name__ == "__main__":
    main()

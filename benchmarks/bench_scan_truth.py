"""The association scan against planted truth: precision, recall and FDR at q < 0.1.

Each dataset is ``gutaxis.simulate.simulate_cohort`` (120 subjects, one visit, the 150
genera of the shipped fibromyalgia template, 10 planted taxa with log2 fold change
``±effect`` per pain point, seed = dataset number). The scan is
``gutaxis.stats.associate`` with MaAsLin 3's defaults (TSS, LOG, prevalence filter 0.1,
logistic prevalence model beside the abundance model on nonzero samples), fixed effects
``pain, fibre, age, sex, bmi``, once with the median comparison of the abundance
coefficients (MaAsLin 3's default) and once without (tested against zero, MaAsLin 2).
A discovery is a feature whose ``pain`` abundance q-value is < 0.1. Per setting it prints
the mean over datasets of precision (1 - FDP; 1 when nothing is found), recall and
FDP, with the standard error of the mean FDP, as MaAsLin 3's benchmark tabulates them.

With ``--visits V`` each subject gives V samples (shared latent microbiome, subject random
intercept in pain) and the scan adds ``subject`` as a random intercept (an LMM per feature).

Usage: ``python benchmarks/bench_scan_truth.py [--datasets 20] [--effects 0.25,0.5,1,2]
[--subjects 120] [--visits 1]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--effects", default="0.25,0.5,1,2")
    parser.add_argument("--subjects", type=int, default=120)
    parser.add_argument("--visits", type=int, default=1,
                        help="samples per subject; > 1 adds a subject random intercept")
    args = parser.parse_args()
    from gutaxis.simulate import simulate_cohort
    from gutaxis.stats import associate

    effects = [float(e) for e in args.effects.split(",")]
    random = ["subject"] if args.visits > 1 else []
    print(f"{args.datasets} datasets per effect, {args.subjects} subjects x {args.visits} "
          f"visit(s), random {random or 'none'}, q < 0.1\n")
    print("| log2 FC per pain point | median comparison | precision | recall | FDR "
          "(mean FDP ± SE) | discoveries | CPU s / scan |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for effect in effects:
        sims = [simulate_cohort(n_subjects=args.subjects, visits=args.visits,
                                effect_size=effect, n_diary=0, seed=seed)
                for seed in range(args.datasets)]
        for median in (True, False):
            fdp, recall, found_n, cpu = [], [], [], 0.0
            for sim in sims:
                t0 = time.process_time()
                res = associate(sim.cohort, fixed=["pain", "fibre", "age", "sex", "bmi"],
                                random=random, prevalence_model=True, warn_prevalence=False,
                                median_comparison_abundance=median)
                cpu += time.process_time() - t0
                tab = res.table
                tab = tab[(tab["metadata"] == "pain") & (tab["model"] == "abundance")]
                found = set(tab["feature"][tab["qval"] < 0.1])
                planted = set(sim.truth["feature"][sim.truth["effect"] != 0])
                fdp.append(len(found - planted) / max(1, len(found)))
                recall.append(len(found & planted) / len(planted))
                found_n.append(len(found))
            f = np.array(fdp)
            se = f.std(ddof=1) / np.sqrt(len(f))
            print(f"| {effect:g} | {'on' if median else 'off'} | {1 - f.mean():.3f} | "
                  f"{np.mean(recall):.3f} | {f.mean():.3f} ± {se:.3f} | "
                  f"{np.mean(found_n):.1f} | {cpu / len(sims):.2f} |", flush=True)


if __name__ == "__main__":
    main()

"""Classifier speed: gutaxis ``classify`` vs the textbook scikit-learn nested CV.

Fibromyalgia (any ``fbm_*`` band) vs control on the genus table of
``../shared/data/fibromyalgia`` (101 samples, 318 genera), lasso, 5 outer folds, seed 1.
The peer is the same pipeline (prevalence filter, log, scaling, L1 logistic over the same
C grid) tuned by ``GridSearchCV`` (3 grouped inner folds, AUROC) inside the same
``StratifiedGroupKFold`` outer splits: the usual way to write it. gutaxis fits each inner
training part's preparation once and shares it across grid points; both choose the same
C in every fold, so their out-of-fold predictions (and AUROC) agree.

Prints CPU seconds per repeat (process time, so other load does not count) and the
ratio peer / gutaxis (> 1: gutaxis faster), and the two AUROCs.

Usage: ``python benchmarks/bench_classify.py [--repeats 2]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("GUTAXIS_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data")
            ) / "fibromyalgia"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold

    from gutaxis.io import read_cohort
    from gutaxis.stats.classify import auroc, classify
    from gutaxis.stats.classify.nested import CrossValidationPlan
    from gutaxis.stats.classify.outcome import classifier_inputs
    from gutaxis.stats.classify.steps import build_pipeline

    cohort = read_cohort(DATA / "feature-table.tsv.gz", DATA / "metadata.tsv",
                         taxonomy=DATA / "taxonomy.tsv.gz")
    cohort = cohort.with_table(cohort.table.aggregate("genus"))
    positive = "fbm_12_20,fbm_21_25,fbm_26_31"
    start = time.process_time()
    ours = classify(cohort, "group", positive=positive, repeats=args.repeats, seed=1)
    ours_cpu = time.process_time() - start

    data = classifier_inputs(cohort, "group", positive=positive, covariates=(), folds=5,
                             need_subject_outcomes=False)
    plan = CrossValidationPlan(model="lasso", n_features=data.X.shape[1], n_covariates=0,
                               folds=5, repeats=args.repeats, inner_folds=3, transform="log",
                               min_prevalence=0.1, seed=1)
    start = time.process_time()
    peer = np.full((len(data.y), args.repeats), np.nan)
    for r, seed in enumerate(plan.repeat_seeds()):
        pipeline, grid = build_pipeline("lasso", n_features=data.X.shape[1], n_covariates=0,
                                        transform="log", min_prevalence=0.1, seed=int(seed))
        outer = StratifiedGroupKFold(5, shuffle=True, random_state=int(seed))
        for k, (train, test) in enumerate(outer.split(data.X, data.y, data.subjects)):
            inner = StratifiedGroupKFold(3, shuffle=True, random_state=int(seed) + 1 + k)
            search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=inner)
            search.fit(data.X[train], data.y[train], groups=data.subjects[train])
            peer[test, r] = search.predict_proba(data.X[test])[:, 1]
    peer_cpu = time.process_time() - start
    print(f"gutaxis classify: {ours_cpu / args.repeats:.2f} s CPU per repeat, "
          f"AUROC {ours.metric('auroc'):.4f}")
    print(f"GridSearchCV nested CV: {peer_cpu / args.repeats:.2f} s CPU per repeat, "
          f"AUROC {float(np.mean(auroc(data.y, peer))):.4f}")
    print(f"ratio (GridSearchCV / gutaxis): {peer_cpu / ours_cpu:.2f}")


if __name__ == "__main__":
    main()

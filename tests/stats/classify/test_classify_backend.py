"""The classifier on a Dask LocalCluster (two worker processes): the repeats of the nested
cross-validation and the permutation test give the local run's predictions, importances,
null AUROCs and p-value exactly (same seed): each repeat depends only on its seed and the
permuted outcomes are drawn in the client. Real data: fibromyalgia vs control, genus level
(101 samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from assoc_data import fibromyalgia_genus

from gutaxis.stats.classify import classify

pytest.importorskip("sklearn")


def test_permutations_on_dask_equal_local(fibromyalgia_dir: Path, dask_backend) -> None:
    cohort = fibromyalgia_genus(fibromyalgia_dir)
    kwargs = {"positive": "FM", "folds": 3, "repeats": 3, "inner_folds": 2, "seed": 3,
              "permutations": 4, "min_prevalence": 0.5}
    local = classify(cohort, "fm", **kwargs)
    remote = classify(cohort, "fm", **kwargs, backend=dask_backend)
    assert np.unique(local.null_auroc).size > 1  # four different permutations ran
    np.testing.assert_array_equal(remote.null_auroc, local.null_auroc)
    pd.testing.assert_frame_equal(remote.performance, local.performance, check_exact=True)
    np.testing.assert_array_equal(remote.predictions["probability"],
                                  local.predictions["probability"])
    assert local.predictions["probability"].nunique() > 10  # three repeats of real fits
    pd.testing.assert_frame_equal(remote.importance, local.importance, check_exact=True)

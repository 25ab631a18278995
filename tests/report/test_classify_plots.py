"""Classifier figures: the ROC points are scikit-learn's, and every figure is written."""

from __future__ import annotations

import numpy as np
import pytest

from gutaxis.report.classify_plots import roc_points

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("decimals", [None, 1])
def test_roc_points_equal_sklearn_roc_curve(decimals: int | None) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=80).astype(float)
    p = rng.random(80) + 0.3 * y
    if decimals is not None:
        p = np.round(p, decimals)  # ties enter together
    fpr, tpr = roc_points(y, p)
    ref_fpr, ref_tpr, _ = sklearn_metrics.roc_curve(y, p, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, ref_tpr, atol=1e-12)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids
    assert area == pytest.approx(sklearn_metrics.roc_auc_score(y, p),
                                                   abs=1e-12)

"""The scan's values built chunk by chunk from the sparse table (``gutaxis.stats.scan_values``)
equal the dense normalisations of ``gutaxis.stats.normalize`` (MaAsLin 2's definitions,
themselves tested against MaAsLin 2), and a scan too large for one pass runs by chunks with
the one-pass table and without ever building the dense samples x features values.

Tolerances: the per-sample numbers are sums over a row taken in another order (sparse
nonzeros vs dense row), so TSS and CLR agree to 1e-15 relative, not bit for bit; the
transforms are the same code on the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from assoc_data import COVARIATES, fibromyalgia_genus

import gutaxis.stats.scan_chunks as scan_chunks
from gutaxis.stats import associate
from gutaxis.stats.normalize import normalize, transform
from gutaxis.stats.scan_values import (
    ModelledValues,
    SampleScaling,
    ScanValues,
    column_chunks,
    features_to_test,
)


@pytest.fixture(scope="module")
def fibromyalgia(fibromyalgia_dir: Path):
    return fibromyalgia_genus(fibromyalgia_dir)


@pytest.mark.parametrize("method", ["TSS", "CLR", "NONE"])
def test_scaling_equals_the_dense_normalisation(fibromyalgia, method: str) -> None:
    counts = fibromyalgia.table.values
    dense = counts.toarray()
    got = SampleScaling.fit(counts, method).apply(dense)
    np.testing.assert_allclose(got, normalize(dense, method=method), rtol=1e-15, atol=1e-15)


def test_factors_multiply_each_sample() -> None:
    raw = np.array([[1.0, 3.0], [2.0, 0.0]])
    got = SampleScaling.fit(sp.csr_array(raw), "TSS", np.array([10.0, 0.5])).apply(raw)
    np.testing.assert_array_equal(got, [[10.0, 30.0], [1.0, 0.0]])


def test_a_zero_sample_stays_zero_under_tss() -> None:
    raw = np.array([[0.0, 0.0], [1.0, 1.0]])
    got = SampleScaling.fit(raw, "TSS").apply(raw)
    np.testing.assert_array_equal(got, [[0.0, 0.0], [0.5, 0.5]])


def test_chunks_of_values_are_the_columns_of_the_whole(fibromyalgia) -> None:
    counts = sp.csc_array(fibromyalgia.table.values)
    rows = np.arange(0, counts.shape[0], 2)
    values = ScanValues(counts, SampleScaling.fit(counts, "TSS"), "LOG", rows)
    whole, present = values.columns()
    want = transform(normalize(counts.toarray(), method="TSS"), method="LOG")[rows]
    np.testing.assert_allclose(whole, want, rtol=1e-14)
    np.testing.assert_array_equal(present, counts.toarray()[rows] > 0)
    for part in column_chunks(counts.shape[0], counts.shape[1], chunk_bytes=8 * 101 * 7):
        y, _ = values.part(part).columns()
        np.testing.assert_array_equal(y, whole[:, part])


def test_maaslin3_filters_by_chunks_equal_one_dense_pass(fibromyalgia) -> None:
    counts = fibromyalgia.table.values
    normalised = normalize(counts.toarray(), method="TSS")
    nonzero = normalised != 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(nonzero, normalised, 0).sum(0) / nonzero.sum(0)
        spread = np.where(nonzero, (normalised - mean) ** 2, 0).sum(0) / (nonzero.sum(0) - 1)
    want = ((normalised > 1e-4).sum(0) > 0.1 * counts.shape[0]) & (
        np.nan_to_num(spread) > 1e-6)
    got = features_to_test(counts, min_prevalence=0.1, min_abundance=1e-4, min_variance=1e-6,
                           prevalence_model=True, normalization="TSS")
    assert 0 < got.sum() < counts.shape[1]
    np.testing.assert_array_equal(got, want)


def test_modelled_values_by_feature_and_whole() -> None:
    counts = sp.csc_array(np.array([[0.0, 2.0], [1.0, 2.0], [3.0, 0.0]]))
    values = ScanValues(counts, SampleScaling.fit(counts, "NONE"), "NONE", np.arange(3))
    modelled = ModelledValues(["a", "b", "c"], ["f", "g"], values, nonzero_only=True)
    assert modelled.shape == (3, 2)
    pd.testing.assert_series_equal(
        modelled["g"], pd.Series([2.0, 2.0, np.nan], index=pd.Index(["a", "b", "c"],
                                                                    name="sample_id"), name="g"))
    np.testing.assert_array_equal(modelled.to_numpy(), [[np.nan, 2], [1, 2], [3, np.nan]])
    with pytest.raises(KeyError):
        modelled["nope"]


@pytest.mark.parametrize("prevalence_model", [False, True])
def test_a_scan_too_large_for_one_pass_runs_by_chunks_with_the_same_table(
        fibromyalgia, monkeypatch, prevalence_model: bool) -> None:
    kwargs: dict[str, Any] = {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"},
                              "prevalence_model": prevalence_model,
                              "median_comparison_abundance": False}
    one_pass = associate(fibromyalgia, **kwargs)
    widths: list[int] = []
    columns = ScanValues.columns

    def recorded(self: ScanValues, part: Any = slice(None)) -> Any:
        y, present = columns(self, part)
        widths.append(y.shape[1])
        return y, present

    monkeypatch.setattr(ScanValues, "columns", recorded)
    monkeypatch.setattr(scan_chunks, "ONE_PASS_BYTES", 0)
    monkeypatch.setattr(scan_chunks, "FEATURE_CHUNK_BYTES", 8 * 101 * 40)  # 40 features
    chunked = associate(fibromyalgia, **kwargs)
    assert max(widths) <= 40 and len(widths) >= 4  # never the 160 features at once
    numbers = ["coef", "stderr", "pval", "qval"]
    if prevalence_model:  # the logistic engine iterates a chunk's features together
        pd.testing.assert_frame_equal(chunked.table[numbers], one_pass.table[numbers],
                                      rtol=1e-9, atol=1e-12)
    else:  # LM: each feature's OLS is its own
        pd.testing.assert_frame_equal(chunked.table, one_pass.table, check_exact=True)


def test_the_median_threshold_scales_columns_over_each_features_samples(fibromyalgia) -> None:
    """MaAsLin 3's median-comparison threshold is per unit of a non-binary design column,
    whose spread is taken over the samples each feature's abundance model used: the
    sparse presence the scan passes gives pandas' per-feature standard deviations."""
    from gutaxis.stats.association_table import _column_scales
    from gutaxis.stats.design import build_design

    design = build_design(fibromyalgia.metadata, fixed=["fm", *COVARIATES],
                          reference={"fm": "control"})
    counts = sp.csc_array(fibromyalgia.table.values)[np.flatnonzero(design.rows)]
    got = _column_scales(design, sp.csc_array(counts > 0))
    x = pd.DataFrame(design.matrix[:, 1:])
    dense = counts.toarray() > 0
    for j in range(0, counts.shape[1], 17):
        want = x[dense[:, j]].std(ddof=1).to_numpy()
        binary = ((x == 0) | (x == 1)).all().to_numpy()
        np.testing.assert_allclose(got[j][~binary], want[~binary], rtol=1e-12)
        assert np.isnan(got[j][binary]).all()
    kwargs: dict[str, Any] = {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"},
                              "prevalence_model": True}
    plain = associate(fibromyalgia, **kwargs).table
    held = associate(fibromyalgia, **kwargs, median_comparison_abundance_threshold=0.5).table
    keys = ["model", "feature", "metadata", "value"]
    plain, held = (t[t.model == "abundance"].set_index(keys).sort_index() for t in (plain, held))
    assert ((held.pval == 1) & (plain.pval < 1)).any()  # near the median: p = 1

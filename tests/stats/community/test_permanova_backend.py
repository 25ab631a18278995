"""PERMANOVA's (and PERMDISP's) permutations on a Dask LocalCluster (two worker
processes) give the local run's answers bit for bit: the same F, the same permuted F and
the same p-values, on vegan's own permutations (so also vegan 2.6-4's adonis2 p-values)
and on seeded ones."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest
import vegan_fixtures as vf

from gutaxis.compute import LocalBackend
from gutaxis.stats.community import permanova, permdisp

#: the module (the package's ``permanova`` attribute is the function)
PERMANOVA_MODULE = importlib.import_module("gutaxis.stats.community.permanova")
FIBRO = "group + covariate_age + covariate_imc + covariate_sii"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 240 // k permutations (101 samples, k basis columns): the 999
    permutations are dozens of batches in 4 tasks, the last batch short."""
    monkeypatch.setattr(PERMANOVA_MODULE, "BATCH_ELEMENTS", 101 * 240)


@pytest.mark.parametrize("by", ["terms", "margin"])
def test_dask_equals_local_and_adonis2_on_vegans_permutations(dask_backend, small_batches,
                                                              by) -> None:
    args = (vf.distances("fibromyalgia_braycurtis"), vf.metadata("fibromyalgia"))
    kwargs = {"formula": FIBRO, "by": by, "permutations": vf.permutations("fibromyalgia")}
    local = permanova(*args, **kwargs)
    remote = permanova(*args, **kwargs, backend=dask_backend)
    # F to reassociation (workers run single-threaded BLAS; 2e-15 seen), p-values exactly
    np.testing.assert_allclose(remote.f_permuted, local.f_permuted, rtol=1e-12, atol=0)
    np.testing.assert_allclose(remote.table["f"], local.table["f"], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(remote.table["pval"], local.table["pval"])
    expected = vf.table(f"adonis2_fibromyalgia_braycurtis_{by}")  # vegan's own p-values
    np.testing.assert_array_equal(remote.table["pval"].to_numpy()[:-2],
                                  expected["pval"].to_numpy()[:-2])


def test_seeded_permutations_are_drawn_once_whatever_the_backend(dask_backend,
                                                                 small_batches) -> None:
    args = (vf.distances("fibromyalgia_braycurtis"), vf.metadata("fibromyalgia"))
    kwargs = {"formula": "group + covariate_age", "permutations": 999, "seed": 7}
    local = permanova(*args, **kwargs)
    chunked = permanova(*args, **kwargs, backend=LocalBackend())
    remote = permanova(*args, **kwargs, backend=dask_backend)
    for res in (chunked, remote):
        np.testing.assert_allclose(res.f_permuted, local.f_permuted, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(res.table["pval"], local.table["pval"])
    assert remote.f_permuted.shape == (999, 2)
    assert np.unique(remote.f_permuted[:, 0]).size > 900  # 999 distinct permutations ran


def test_no_permutations_is_no_task(dask_backend) -> None:
    res = permanova(vf.distances("fibromyalgia_braycurtis"), vf.metadata("fibromyalgia"),
                    formula="group", permutations=0, backend=dask_backend)
    assert res.f_permuted.shape == (0, 1)


def test_permdisp_on_dask_equals_local(dask_backend) -> None:
    """Vegan's permutations (one batch at n = 101): F and p equal bit for bit."""
    args = (vf.distances("fibromyalgia_braycurtis"), vf.metadata("fibromyalgia"))
    kwargs = {"column": "group", "permutations": vf.permutations("fibromyalgia")}
    local = permdisp(*args, **kwargs)
    remote = permdisp(*args, **kwargs, backend=dask_backend)
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    assert remote.permutations == local.permutations == 999

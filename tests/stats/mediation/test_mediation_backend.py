"""The mediation bootstraps on a Dask LocalCluster (two worker processes) give the local
run's estimates, replicates and intervals exactly (same seed): the replicates are drawn in
the client and cut at the same batches on the workers. Real data: the fibromyalgia
cohort (101 samples) at genus level."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from assoc_data import fibromyalgia_genus

from gutaxis.stats.mediation import mediate, mediate_taxa


@pytest.fixture(scope="module")
def cohort(fibromyalgia_dir: Path):
    return fibromyalgia_genus(fibromyalgia_dir)


@pytest.mark.parametrize("ci", ["percentile", "bca"])
def test_bootstrap_on_dask_equals_local(cohort, dask_backend, ci: str) -> None:
    """1,000 replicates = 4 batches of 250, one task each."""
    kwargs = {"exposure": "covariate_age", "mediators": ["covariate_imc"],
              "outcome": "severity", "n_draws": 1000, "seed": 11, "ci": ci}
    local = mediate(cohort.metadata, **kwargs)
    remote = mediate(cohort.metadata, **kwargs, backend=dask_backend)
    pd.testing.assert_frame_equal(remote.effects, local.effects, check_exact=True)


def test_taxon_bootstrap_on_dask_equals_local(cohort, dask_backend) -> None:
    kwargs = {"exposure": "fm", "treated": "FM", "outcome": "covariate_imc",
              "covariates": ["covariate_age"], "n_draws": 1000, "seed": 5}
    local = mediate_taxa(cohort, **kwargs)
    remote = mediate_taxa(cohort, **kwargs, backend=dask_backend)
    assert remote.effects["mediator"].nunique() > 50  # every kept genus
    pd.testing.assert_frame_equal(remote.effects, local.effects, check_exact=True)

"""Taxa as mediators: the batched scan equals one mediation per taxon."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data.cohort import Cohort
from gutaxis.data.profile import ProfileTable
from gutaxis.stats import fit_ols
from gutaxis.stats.mediation import mediate, mediate_taxa
from gutaxis.stats.mediation.taxa import taxa_values


def _cohort(seed: int = 0, n: int = 80, taxa: int = 12) -> Cohort:
    rng = np.random.default_rng(seed)
    t = np.repeat([0.0, 1.0], n // 2)
    age = rng.normal(50, 10, size=n)
    logits = rng.normal(size=(n, taxa))
    logits[:, 0] += 1.5 * t                     # taxon 0 carries the exposure's effect
    counts = rng.poisson(40 * np.exp(logits)).astype(float)
    clr0 = np.log(counts[:, 0] + 0.5) - np.log(counts + 0.5).mean(axis=1)
    pain = 0.8 * clr0 + 0.2 * t + 0.01 * age + rng.normal(size=n)
    ids = [f"s{i}" for i in range(n)]
    table = ProfileTable(sp.csr_array(counts), np.array(ids),
                         np.array([f"taxon{j}" for j in range(taxa)]))
    meta = pd.DataFrame({"fibre": np.where(t == 1, "high", "low"), "age": age, "pain": pain},
                        index=pd.Index(ids, name="sample_id"))
    return Cohort(table, meta)


def test_each_taxon_equals_a_single_mediator_analysis_with_the_same_seed() -> None:
    cohort = _cohort()
    scan = mediate_taxa(cohort, exposure="fibre", treated="high", outcome="pain",
                        covariates=["age"], n_draws=300, seed=3)
    values, names, _ = taxa_values(cohort.table, rank=None, min_prevalence=0.1,
                                   transform="clr")
    for j in (0, 5):
        meta = cohort.metadata.assign(taxon=values[:, j])
        one = mediate(meta, exposure="fibre", treated="high", mediators=["taxon"],
                      outcome="pain", covariates=["age"], n_draws=300, seed=3)
        block = scan.effects[scan.effects["mediator"] == names[j]].set_index("effect")
        mine = one.effects.set_index("effect")
        for col in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(block[col], mine.loc[block.index, col], rtol=1e-8,
                                       atol=1e-10)
        ade = block.loc["ade"]
        assert ade["pval"] == mine.loc["ade", "pval"]


def test_path_p_values_are_the_ols_t_tests_and_the_planted_taxon_passes() -> None:
    cohort = _cohort(1)
    scan = mediate_taxa(cohort, exposure="fibre", treated="high", outcome="pain",
                        covariates=["age"], n_draws=0)
    values, _, _ = taxa_values(cohort.table, rank=None, min_prevalence=0.1, transform="clr")
    meta = cohort.metadata
    t = (meta["fibre"] == "high").to_numpy(float)
    X = np.column_stack([np.ones(len(t)), t, meta["age"]])
    a_fit = fit_ols(values, X)
    np.testing.assert_allclose(scan.paths["p_a"], a_fit.pval[:, 1], rtol=1e-8)
    b_fit = fit_ols(meta["pain"].to_numpy()[:, None], np.column_stack([X, values[:, 3]]))
    assert scan.paths["p_b"].iloc[3] == pytest.approx(b_fit.pval[0, 3], rel=1e-8)
    assert list(scan.passing()["mediator"]) == ["taxon0"]
    assert scan.paths["p_joint"].equals(np.maximum(scan.paths["p_a"], scan.paths["p_b"]))


def test_the_acme_rows_carry_the_joint_significance_test() -> None:
    scan = mediate_taxa(_cohort(2), exposure="fibre", treated="high", outcome="pain",
                        n_draws=100, seed=0)
    acme = scan.effects[scan.effects["effect"] == "acme"]
    np.testing.assert_allclose(acme["pval"], scan.paths["p_joint"])
    np.testing.assert_allclose(acme["qval"], scan.paths["qval"])
    assert list(scan.to_frame().columns[:2]) == ["mediator", "effect"]

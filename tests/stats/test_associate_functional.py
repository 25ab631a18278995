"""The association scan on functional tables (hand-built, small): RPK and CPM abundances take
TSS + LOG as taxa do; a coverage table is scanned as it is (NONE) and its coefficients are
statsmodels OLS on the raw coverage values (to 1e-10); TSS on coverage and a table
stratified by taxon are refused with a :class:`DataKindError`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data import Cohort, ProfileTable
from gutaxis.errors import DataKindError
from gutaxis.stats import associate

N = 30
KOS = ["K00001", "K00002", "K01895", "K00003"]


def functional_cohort(unit: str, kind: str) -> Cohort:
    rng = np.random.default_rng(7)
    pain = rng.normal(5.0, 2.0, N)
    values = rng.gamma(2.0, 50.0, (N, len(KOS))) * np.exp(0.2 * pain)[:, None] ** [0, 1, 0, 0]
    if unit == "coverage":
        values = np.clip(values / values.max(axis=0), 0.0, 1.0)
    elif kind == "relative":
        values = 1e6 * values / values.sum(axis=1, keepdims=True)  # CPM keeps its 1e6 scale
    ids = [f"s{i}" for i in range(N)]
    table = ProfileTable(sp.csr_array(values), ids, KOS, kind=kind,  # type: ignore[arg-type]
                         feature_type="pathway" if unit == "coverage" else "ko", unit=unit)
    meta = pd.DataFrame({"pain": pain}, index=pd.Index(ids, name="sample_id"))
    return Cohort(table, meta)


@pytest.mark.parametrize(("unit", "kind"), [("RPK", "counts"), ("CPM", "relative")])
def test_ko_abundances_are_scanned_with_tss_and_log(unit: str, kind: str) -> None:
    results = associate(functional_cohort(unit, kind), fixed=["pain"], min_prevalence=0.0)
    rows = results.table.set_index("feature")
    assert set(rows.index) == set(KOS)  # the function ids, as given
    assert rows.loc["K00002", "qval"] == rows["qval"].min()  # the one planted


def test_a_coverage_table_is_scanned_as_it_is() -> None:
    import statsmodels.api as sm

    cohort = functional_cohort("coverage", "transformed")
    results = associate(cohort, fixed=["pain"], normalization="NONE", transform="NONE",
                        min_prevalence=0.0, median_comparison_abundance=False)
    rows = results.table.set_index("feature")
    x = sm.add_constant(cohort.metadata["pain"].to_numpy())
    for k, ko in enumerate(KOS):
        fit = sm.OLS(cohort.table.dense()[:, k], x).fit()
        assert rows.loc[ko, "coef"] == pytest.approx(fit.params[1], abs=1e-10)
        assert rows.loc[ko, "pval"] == pytest.approx(fit.pvalues[1], rel=1e-8)


@pytest.mark.parametrize("normalization", ["TSS", "CLR"])
def test_coverage_with_tss_or_clr_is_refused(normalization: str) -> None:
    cohort = functional_cohort("coverage", "transformed")
    with pytest.raises(DataKindError, match="coverage table is scanned as it is"):
        associate(cohort, fixed=["pain"], normalization=normalization, transform="NONE")


def test_a_stratified_table_is_refused() -> None:
    cohort = functional_cohort("RPK", "counts")
    table = cohort.table
    strata = pd.DataFrame({"function": table.feature_ids, "taxon": "unclassified"},
                          index=table.feature_ids)
    stratified = ProfileTable(table.values, table.sample_ids, table.feature_ids,
                              feature_type="ko", unit="RPK", strata=strata)
    with pytest.raises(DataKindError, match="association scan needs an unstratified"):
        associate(cohort.with_table(stratified), fixed=["pain"])

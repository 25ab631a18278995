"""PERMANOVA equals vegan 2.6-4's adonis2 (tests/reference/vegan): sums of squares, R² and
F to 1e-8; p-values identical on vegan's own permutations, and within Monte-Carlo error
(:func:`vegan_fixtures.mc_bound`) on gutaxis's seeded permutations."""

from __future__ import annotations

import numpy as np
import pytest
import vegan_fixtures as vf

from gutaxis.stats.community import permanova

FIBRO = "group + covariate_age + covariate_imc + covariate_sii"
CASES = [
    # fixture, distances, cohort, formula, by, permutation file, strata, blocks
    ("dune_terms", "dune_braycurtis", "dune", "Management + A1 + Use", "terms", "dune_free",
     None, None),
    ("dune_margin", "dune_braycurtis", "dune", "Management + A1 + Use", "margin", "dune_free",
     None, None),
    ("dune_interaction_terms", "dune_braycurtis", "dune", "Management * A1", "terms",
     "dune_free", None, None),
    ("dune_interaction_margin", "dune_braycurtis", "dune", "Management * A1", "margin",
     "dune_free", None, None),
    ("dune_factors_interaction", "dune_braycurtis", "dune", "Management * Moisture", "terms",
     "dune_free", None, None),
    ("dune_strata", "dune_braycurtis", "dune", "A1 + Management", "terms", "dune_strata_Use",
     "Use", None),
    ("dune_blocks", "dune_braycurtis", "dune", "A1", "terms", "dune_blocks_plot", None,
     "plot"),
    *[(f"fibromyalgia_{m}_{by}", f"fibromyalgia_{m}", "fibromyalgia", FIBRO, by,
       "fibromyalgia", None, None)
      for m in ("braycurtis", "unweighted_unifrac") for by in ("terms", "margin")],
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("name", "dist", "cohort", "formula", "by", "perm", "strata",
                          "blocks"), CASES, ids=IDS)
def test_table_equals_adonis2_on_its_permutations(name, dist, cohort, formula, by, perm,
                                                  strata, blocks) -> None:
    expected = vf.table(f"adonis2_{name}")
    res = permanova(vf.distances(dist), vf.metadata(cohort), formula=formula, by=by,
                    permutations=vf.permutations(perm), strata=strata, blocks=blocks)
    got = res.to_frame()
    assert got["term"].tolist() == expected["term"].tolist()
    assert got["df"].tolist() == expected["df"].tolist()
    for column in ("sum_of_squares", "r2", "f"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-8, atol=1e-12,
                                   err_msg=column)
    # the same permutations give the same counts: identical p-values
    np.testing.assert_array_equal(got["pval"].to_numpy(), expected["pval"].to_numpy())


@pytest.mark.parametrize(("name", "dist", "cohort", "formula", "by", "perm", "strata",
                          "blocks"), CASES, ids=IDS)
def test_seeded_pvalues_within_monte_carlo_error_of_adonis2(
        name, dist, cohort, formula, by, perm, strata, blocks) -> None:
    expected = vf.table(f"adonis2_{name}")["pval"].dropna().to_numpy()
    res = permanova(vf.distances(dist), vf.metadata(cohort), formula=formula, by=by,
                    permutations=vf.NPERM, seed=20261205, strata=strata, blocks=blocks)
    got = res.table["pval"].dropna().to_numpy()
    for ours, theirs in zip(got, expected, strict=True):
        assert abs(ours - theirs) <= vf.mc_bound((ours + theirs) / 2), (ours, theirs)

"""PERMDISP equals vegan 2.6-4's betadisper, anova and permutest (tests/reference/vegan).

Centroid: distances to 1e-10, the ANOVA table to 1e-8, permutest's p identical on vegan's
permutations. Spatial median: vegan finds it by BFGS (``optim``'s default relative
tolerance 1e-8 on the sum of distances), gutaxis by Weiszfeld's iterations to 1e-12, so
distances agree to 1e-4 (found: at most 5e-5) and F to 1e-3 relative (found: 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest
import vegan_fixtures as vf

from gutaxis.stats.community import permdisp

CASES = [("dune", "dune_braycurtis", "dune", "Management", "dune_free"),
         *[(f"fibromyalgia_{m}", f"fibromyalgia_{m}", "fibromyalgia", "group", "fibromyalgia")
           for m in ("braycurtis", "unweighted_unifrac")]]
TOLERANCE = {"centroid": (1e-10, 1e-8), "median": (1e-4, 1e-3)}


@pytest.mark.parametrize("centre", ["centroid", "median"])
@pytest.mark.parametrize(("name", "dist", "cohort", "column", "perm"), CASES,
                         ids=[c[0] for c in CASES])
def test_permdisp_equals_betadisper(name, dist, cohort, column, perm, centre) -> None:
    dist_tol, f_tol = TOLERANCE[centre]
    res = permdisp(vf.distances(dist), vf.metadata(cohort), column=column, centre=centre,
                   permutations=vf.permutations(perm))
    expected = vf.table(f"betadisper_{name}_{centre}_distances").set_index("sample_id")
    np.testing.assert_allclose(res.distances.loc[expected.index], expected["distance"],
                               atol=dist_tol, rtol=0)
    anova = vf.table(f"betadisper_{name}_{centre}_anova")
    got = res.to_frame()
    assert got["df"].tolist() == anova["df"].tolist()
    np.testing.assert_allclose(got["f"][0], anova["f"][0], rtol=f_tol)
    np.testing.assert_allclose(got["pval_f"][0], anova["pval_f"][0], rtol=f_tol)
    np.testing.assert_allclose(got["sum_of_squares"], anova["sum_of_squares"], rtol=f_tol,
                               atol=dist_tol)
    p_vegan = vf.table(f"betadisper_{name}_{centre}_permutest")["pval"][0]
    if centre == "centroid":
        assert got["pval"][0] == p_vegan
    else:  # F differs in the 5th digit: a permuted F may fall on the other side
        assert abs(got["pval"][0] - p_vegan) <= 2 / (vf.NPERM + 1)


@pytest.mark.parametrize(("name", "dist", "cohort", "column", "perm"), CASES,
                         ids=[c[0] for c in CASES])
def test_seeded_permdisp_p_within_monte_carlo_error(name, dist, cohort, column, perm) -> None:
    res = permdisp(vf.distances(dist), vf.metadata(cohort), column=column,
                   permutations=vf.NPERM, seed=7)
    theirs = vf.table(f"betadisper_{name}_centroid_permutest")["pval"][0]
    ours = res.table["pval"][0]
    assert abs(ours - theirs) <= vf.mc_bound((ours + theirs) / 2)


def test_group_distances_are_the_group_means() -> None:
    res = permdisp(vf.distances("dune_braycurtis"), vf.metadata("dune"), column="Management",
                   permutations=0)
    groups = vf.metadata("dune")["Management"].loc[res.distances.index]
    np.testing.assert_allclose(res.group_distances,
                               res.distances.groupby(groups.to_numpy()).mean())
    assert np.isnan(res.table["pval"][0])
    assert "Management" in res.summary()

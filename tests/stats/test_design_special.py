"""Designs with MaAsLin 3's group and ordered predictors, and the level orders users give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.stats.design import build_design
from gutaxis.stats.models.linear import fit_ols

BANDS = ["ctl", "mild", "moderate", "severe"]


def _meta(seed: int = 0, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "band": np.resize(BANDS, n), "age": rng.normal(50, 10, size=n),
        "site": rng.choice(["A", "B", "C"], size=n), "sex": rng.choice(["F", "M"], size=n),
        "subject": np.repeat(np.arange(n // 2), 2),
    }, index=[f"s{i}" for i in range(n)])


def test_ordered_coefficients_are_differences_of_consecutive_level_means():
    meta = _meta()
    design = build_design(meta, fixed=[], ordered=["band"], levels={"band": BANDS})
    y = np.random.default_rng(1).normal(size=(len(meta), 3))
    means = pd.DataFrame(y).groupby(meta["band"].to_numpy()).mean().loc[BANDS].to_numpy()
    fit = fit_ols(y, design.matrix)
    np.testing.assert_allclose(fit.coef[:, 1:], np.diff(means, axis=0).T, rtol=1e-10)
    assert [(t.metadata, t.value, t.name) for t in design.terms] == [
        ("band", "mild", "bandmild"), ("band", "moderate", "bandmoderate"),
        ("band", "severe", "bandsevere")]
    # column k is 1 from level k on
    rank = meta["band"].map({b: i for i, b in enumerate(BANDS)}).to_numpy()
    np.testing.assert_array_equal(design.matrix[:, 1:], rank[:, None] >= np.arange(1, 4))


def test_ordered_uses_a_pandas_categorical_order_when_no_levels_are_given():
    meta = _meta()
    meta["band"] = pd.Categorical(meta["band"], categories=BANDS, ordered=True)
    design = build_design(meta, fixed=["age"], ordered=["band"])
    assert design.levels["band"] == tuple(BANDS)
    assert design.ordered_effects == ("band",)


def test_special_predictors_come_after_the_fixed_effects_groups_first():
    design = build_design(_meta(), fixed=["age"], ordered=["band"], group=["site"],
                          levels={"band": BANDS}, random=["subject"])
    assert [t.metadata for t in design.terms] == ["age", "site", "site", "band", "band", "band"]
    assert design.formula() == "y ~ age + group(site) + ordered(band) + (1 | subject)"
    np.testing.assert_array_equal(design.columns_of("site"), [2, 3])


def test_a_group_variable_needs_no_reference_but_accepts_one():
    meta = _meta()
    assert build_design(meta, fixed=["age"], group=["site"]).levels["site"] == ("A", "B", "C")
    with_ref = build_design(meta, fixed=["age"], group=["site"], reference={"site": "C"})
    assert with_ref.levels["site"] == ("C", "A", "B")


def test_levels_set_the_reference_of_a_fixed_variable():
    design = build_design(_meta(), fixed=["site"], levels={"site": ["B", "A", "C"]})
    assert [t.name for t in design.terms] == ["siteA", "siteC"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fixed": ["band"], "ordered": ["band"]}, "both a fixed and an ordered effect"),
    ({"fixed": ["age"], "group": ["band"], "ordered": ["band"]},
     "both a group and an ordered effect"),
    ({"fixed": ["age"], "group": ["subject"], "random": ["subject"]}, "random"),
    ({"fixed": ["age"], "ordered": ["band"], "reference": {"band": "ctl"}}, "level order"),
    ({"fixed": ["age"], "ordered": ["band"], "levels": {"band": BANDS[:3]}},
     "values not listed: severe"),
    ({"fixed": ["age"], "ordered": ["band"], "levels": {"band": [*BANDS, "extreme"]}},
     "listed but absent: extreme"),
    ({"fixed": ["age"], "ordered": ["band"], "levels": {"band": [*BANDS, "ctl"]}},
     "listed twice"),
    ({"fixed": ["age"], "levels": {"band": BANDS}}, "not in the model"),
    ({"fixed": ["site"], "levels": {"site": ["B", "A", "C"]}, "reference": {"site": "A"}},
     "disagree"),
    ({"fixed": ["age"], "ordered": ["nothere"]}, "not found"),
    ({"fixed": ["age"], "ordered": ["band"]}, "needs its level order"),
])
def test_bad_special_predictor_options_say_what_was_expected(kwargs, message):
    with pytest.raises(InputError, match=message):
        build_design(_meta(), **kwargs)


def test_numbers_are_ordered_numerically_without_levels():
    meta = _meta().assign(score=lambda m: m["band"].map({b: i for i, b in enumerate(BANDS)}))
    design = build_design(meta, fixed=[], ordered=["score"])
    assert design.levels["score"] == ("0", "1", "2", "3")


def test_a_model_of_special_predictors_only_is_allowed_but_not_an_empty_one():
    assert build_design(_meta(), fixed=[], group=["site"]).p == 3
    with pytest.raises(InputError, match="at least one fixed effect"):
        build_design(_meta(), fixed=[])

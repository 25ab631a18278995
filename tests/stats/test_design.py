"""Design matrices: against patsy's treatment coding on real metadata, and every input
error a user can make."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gutaxis.errors import InputError
from gutaxis.stats.design import build_design, r_level_order


@pytest.fixture(scope="module")
def hmp2_meta(hmp2_dir):
    return pd.read_csv(hmp2_dir / "HMP2_metadata.tsv", sep="\t", index_col=0)


def test_hmp2_design_matches_patsy_treatment_coding(hmp2_meta):
    fixed = ["diagnosis", "dysbiosisnonIBD", "dysbiosisUC", "dysbiosisCD", "antibiotics", "age"]
    design = build_design(hmp2_meta, fixed=fixed, random=["site", "subject"],
                          reference={"diagnosis": "nonIBD"})
    complete = hmp2_meta[[*fixed, "site", "subject"]].dropna()
    expected = patsy.dmatrix(
        "C(diagnosis, Treatment('nonIBD')) + dysbiosisnonIBD + dysbiosisUC + dysbiosisCD"
        " + antibiotics + age", complete, return_type="dataframe")
    assert design.n == len(complete) == 1576
    np.testing.assert_array_equal(design.matrix, expected.to_numpy())
    assert [t.name for t in design.terms] == ["diagnosisCD", "diagnosisUC", "dysbiosisnonIBDYes",
                                              "dysbiosisUCYes", "dysbiosisCDYes",
                                              "antibioticsYes", "age"]
    assert [(t.metadata, t.value) for t in design.terms][:2] == [("diagnosis", "CD"),
                                                                 ("diagnosis", "UC")]
    assert design.terms[-1].value == "age"
    assert design.levels["diagnosis"] == ("nonIBD", "CD", "UC")
    assert design.group_names == ("site", "subject")
    assert design.groups[1].max() + 1 == complete["subject"].nunique()
    assert list(design.sample_ids) == list(complete.index)


def test_standardize_matches_r_scale_over_all_samples(hmp2_meta):
    design = build_design(hmp2_meta, fixed=["age", "diagnosis"], standardize=True,
                          reference={"diagnosis": "nonIBD"})
    age = hmp2_meta["age"]
    expected = ((age - age.mean()) / age.std(ddof=1)).dropna().to_numpy()
    np.testing.assert_allclose(design.matrix[:, 1], expected, rtol=1e-14)
    assert design.scaling["age"] == pytest.approx((age.mean(), age.std(ddof=1)))


def _meta():
    return pd.DataFrame({
        "group": ["a", "B", "b", "a", "B", "b", "a", "b"],
        "x": [1.0, 2.0, 3.5, 4.0, 5.0, 6.0, 7.5, 8.0],
        "flag": [True, False, True, False, True, False, True, True],
        "code": [1, 2, 1, 2, 3, 3, 1, 2],
    }, index=[f"s{i}" for i in range(8)])


def test_level_order_follows_r_locale_collation():
    assert r_level_order(pd.Series(["b", "B", "a", "C"])) == ["a", "b", "B", "C"]
    assert r_level_order(pd.Series([10, 9, 100])) == ["9", "10", "100"]
    assert r_level_order(pd.Series([True, False])) == ["FALSE", "TRUE"]
    cat = pd.Series(pd.Categorical(["lo", "hi", "mid"], categories=["lo", "mid", "hi"]))
    assert r_level_order(cat) == ["lo", "mid", "hi"]


def test_two_level_variable_defaults_to_its_first_level():
    design = build_design(_meta(), fixed=["flag"])
    assert design.levels["flag"] == ("FALSE", "TRUE")
    assert design.terms[0].name == "flagTRUE"


def test_reference_on_a_numeric_column_makes_it_categorical():
    design = build_design(_meta(), fixed=["code"], reference={"code": "2"})
    assert design.levels["code"] == ("2", "1", "3")
    assert [t.value for t in design.terms] == ["1", "3"]


def test_complete_cases_drop_rows_with_any_missing_value():
    meta = _meta()
    meta.loc["s2", "x"] = np.nan
    design = build_design(meta, fixed=["x", "flag"])
    assert design.n == 7 and "s2" not in design.sample_ids
    assert design.rows.tolist() == [True, True, False, True, True, True, True, True]


def test_missing_fixed_column_lists_the_existing_ones():
    with pytest.raises(InputError, match="one of group, x, flag, code") as err:
        build_design(_meta(), fixed=["x", "agee"], source="meta.tsv")
    assert "agee" in str(err.value) and "meta.tsv" in str(err.value)


def test_reference_that_is_not_a_level_lists_the_levels():
    with pytest.raises(InputError, match="one of a, b, B"):
        build_design(_meta(), fixed=["group"], reference={"group": "c"})


def test_three_levels_need_a_reference():
    with pytest.raises(InputError, match="name its reference level"):
        build_design(_meta(), fixed=["group"])


def test_reference_for_a_variable_not_in_the_model():
    with pytest.raises(InputError, match="not a fixed effect"):
        build_design(_meta(), fixed=["x"], reference={"group": "a"})


def test_all_missing_covariate_is_refused():
    meta = _meta()
    meta["empty"] = np.nan
    with pytest.raises(InputError, match="all missing"):
        build_design(meta, fixed=["x", "empty"])


def test_more_parameters_than_samples():
    meta = _meta().iloc[:3]
    with pytest.raises(InputError, match="more model parameters than samples"):
        build_design(meta, fixed=["x", "group"], reference={"group": "a"})


def test_collinear_covariates_are_named():
    meta = _meta()
    meta["x2"] = 2 * meta["x"] + 1
    with pytest.raises(InputError, match="rank-deficient") as err:
        build_design(meta, fixed=["x", "x2", "flag"])
    assert "x2" in str(err.value) or "x" in str(err.value)


def test_all_zero_covariate_is_named_as_aliased():
    meta = _meta()
    meta["zero"] = 0.0
    with pytest.raises(InputError, match="rank-deficient") as err:
        build_design(meta, fixed=["x", "zero"])
    assert "found 'zero'" in str(err.value)


def test_single_level_after_complete_cases():
    meta = _meta()
    meta["one"] = "same"
    with pytest.raises(InputError, match="fewer than two levels"):
        build_design(meta, fixed=["x", "one"])


def test_no_fixed_effect():
    with pytest.raises(InputError, match="at least one fixed effect"):
        build_design(_meta(), fixed=[])


def test_infinite_covariate():
    meta = _meta()
    meta.loc["s1", "x"] = np.inf
    with pytest.raises(InputError, match="infinite") as err:
        build_design(meta, fixed=["x"])
    assert "s1" in str(err.value)


def test_formula_text():
    design = build_design(_meta(), fixed=["x", "flag"], random=["group"])
    assert design.formula() == "y ~ x + flag + (1 | group)"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["u", "v", "w"]), min_size=6, max_size=30),
       st.sampled_from(["u", "v", "w"]))
def test_property_indicator_columns_partition_the_non_reference_rows(labels, ref):
    meta = pd.DataFrame({"g": labels, "z": np.arange(len(labels), dtype=float)},
                        index=[f"s{i}" for i in range(len(labels))])
    levels = set(labels)
    assume(ref in levels and len(levels) >= 2)
    design = build_design(meta, fixed=["g"], reference={"g": ref})
    indicators = design.matrix[:, 1:]
    np.testing.assert_array_equal(indicators.sum(axis=1), (np.array(labels) != ref).astype(float))
    assert design.levels["g"][0] == ref


def test_random_effect_with_one_group_is_refused():
    meta = _meta()
    meta["site"] = "only"
    with pytest.raises(InputError, match="at least two groups"):
        build_design(meta, fixed=["x"], random=["site"])


def test_random_effect_with_one_sample_per_group_is_refused():
    meta = _meta()
    meta["id"] = meta.index
    with pytest.raises(InputError, match="repeated groups"):
        build_design(meta, fixed=["x"], random=["id"])


def test_a_single_column_name_is_not_split_into_letters():
    design = build_design(_meta(), fixed="x", random="group")
    assert [t.name for t in design.terms] == ["x"] and design.group_names == ("group",)


def test_a_variable_both_fixed_and_random_is_refused_by_name():
    with pytest.raises(InputError, match="both a fixed and a random effect") as caught:
        build_design(_meta(), fixed=["x", "group"], random=["group"])
    assert caught.value.column == "group"

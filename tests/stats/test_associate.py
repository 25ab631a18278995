"""The association scan end to end: against R (MaAsLin 2's pipeline with lm and p.adjust)
on the fibromyalgia cohort at genus level, and every degenerate case a scan must survive."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
from assoc_data import COVARIATES, fibromyalgia_genus, r_lm
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data import Cohort, ProfileTable
from gutaxis.errors import InputError
from gutaxis.stats import associate, associate_outcomes
from gutaxis.stats.association_results import RESULT_COLUMNS, read_results

# The references (R's lm / lmerTest, MaAsLin 2) test coefficients against zero: the scans
# here turn MaAsLin 3's median comparison (gutaxis's default) off.
associate = partial(associate, median_comparison_abundance=False)

TOL = {"rtol": 1e-10, "atol": 1e-13}
R_MODELS = {
    "fm_log": ({"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}, "TSS", "LOG"),
    "severity_log": ({"fixed": ["severity", *COVARIATES]}, "TSS", "LOG"),
    "fm_ast": ({"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}, "TSS", "AST"),
    "fm_clr": ({"fixed": ["fm", *COVARIATES], "reference": {"fm": "control"}}, "CLR", "NONE"),
}


@pytest.fixture(scope="module")
def cohort(fibromyalgia_dir):
    return fibromyalgia_genus(fibromyalgia_dir)


@pytest.fixture(scope="module")
def reference(reference_dir):
    return r_lm(reference_dir)


@pytest.mark.parametrize("model", sorted(R_MODELS))
def test_scan_matches_r_lm_and_p_adjust(cohort, reference, model):
    kwargs, norm, trans = R_MODELS[model]
    res = associate(cohort, normalization=norm, transform=trans, **kwargs)
    ref = reference[reference["model"] == model]
    ours = res.table.assign(term=lambda t: np.where(
        t["metadata"] == t["value"], t["metadata"], t["metadata"] + t["value"]))
    merged = ref.merge(ours, on=["feature", "term"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(ref) == len(res.table) == 160 * 4
    for col in ("coef", "stderr", "pval", "qval"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], **TOL, err_msg=col)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])
    assert res.table["error"].isna().all()


def test_results_table_layout_and_order(cohort):
    res = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    table = res.table
    assert tuple(table.columns) == RESULT_COLUMNS
    assert table["qval"].is_monotonic_increasing
    assert set(table["model"]) == {"abundance"}
    sii = table[table["metadata"] == "covariate_sii"]
    assert set(sii["value"]) == {"y"}
    age = table[table["metadata"] == "covariate_age"]
    assert set(age["value"]) == {"covariate_age"}
    assert (table["n"] == 101).all()
    assert (table["n_nonzero"] <= table["n"]).all() and (table["n_nonzero"] > 10).all()


def test_to_frame_gives_every_row_as_a_copy(cohort):
    res = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    frame = res.to_frame()
    assert tuple(frame.columns) == RESULT_COLUMNS
    pd.testing.assert_frame_equal(frame, res.table)
    frame.loc[0, "coef"] = np.nan
    assert np.isfinite(res.table.loc[0, "coef"])


def test_significant_uses_the_threshold_inclusively(cohort):
    res = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    q = res.table["qval"].to_numpy()
    assert len(res.significant()) == int((q <= 0.25).sum())
    cut = float(np.sort(q)[5])
    assert len(res.significant(cut)) == int((q <= cut).sum()) >= 6
    assert res.significant()["qval"].is_monotonic_increasing


def test_spec_and_provenance(cohort):
    res = associate(cohort, fixed=["severity", *COVARIATES])
    spec = res.spec
    assert spec.formula == "y ~ severity + covariate_age + covariate_imc + covariate_sii"
    assert spec.reference == {"covariate_sii": "n"}
    assert spec.n_samples_input == spec.n_samples_used == 101
    assert spec.n_features_input == 318 and spec.n_features_tested == 160
    assert spec.input_hash.startswith("sha256:") and len(spec.input_hash) == 71
    assert any("Mallick" in c for c in spec.citations)
    again = associate(cohort, fixed=["severity", *COVARIATES])
    assert again.spec.input_hash == spec.input_hash
    pd.testing.assert_frame_equal(again.table, res.table)


def test_to_dir_writes_the_three_files_and_reads_back(cohort, tmp_path):
    res = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    written = res.to_dir(tmp_path / "out")
    assert [p.name for p in written] == ["all_results.tsv", "significant_results.tsv",
                                         "model.json"]
    back = read_results(tmp_path / "out" / "all_results.tsv")
    np.testing.assert_allclose(back["coef"], res.table["coef"], rtol=1e-15)
    assert len(read_results(tmp_path / "out" / "significant_results.tsv")) == len(
        res.significant())
    model = json.loads((tmp_path / "out" / "model.json").read_text())
    assert model["reference"] == {"fm": "control", "covariate_sii": "n"}
    assert model["n_samples_used"] == 101 and model["gutaxis_version"]


def test_standardize_rescales_numeric_coefficients_only(cohort):
    plain = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    scaled = associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"},
                       standardize=True)
    key = ["feature", "metadata", "value"]
    merged = plain.table.merge(scaled.table, on=key, suffixes=("", "_z"))
    age_sd = cohort.metadata["covariate_age"].std(ddof=1)
    age = merged[merged["metadata"] == "covariate_age"]
    np.testing.assert_allclose(age["coef_z"], age["coef"] * age_sd, rtol=1e-9)
    np.testing.assert_allclose(merged["pval_z"], merged["pval"], rtol=1e-8)


# ----------------------------------------------------------------- degenerate inputs
def _small_cohort(n=24, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(20, size=(n, 5)).astype(float)
    counts[:, 3] = 0.0
    counts[: n // 2, 3] = 7.0          # feature 3: present only in the first half
    meta = pd.DataFrame({
        "group": np.repeat(["a", "b"], n // 2),
        "age": rng.normal(50, 10, n),
        "subject": np.tile([f"p{i}" for i in range(n // 4)], 4),
    }, index=[f"s{i}" for i in range(n)])
    table = ProfileTable.from_dataframe(pd.DataFrame(counts, index=meta.index,
                                                     columns=[f"f{i}" for i in range(5)]))
    return Cohort(table, meta)


def test_constant_feature_after_transform_is_reported_with_a_reason():
    cohort = _small_cohort()
    # f3 is 7 in group a, 0 in group b: hiding group b's rows (missing age) leaves it
    # constant on the complete cases (no TSS, which would make it vary with depth)
    meta = cohort.metadata.copy()
    meta.loc[meta["group"] == "b", "age"] = np.nan
    meta["sex"] = np.tile(["F", "M"], len(meta) // 2)
    res = associate(Cohort(cohort.table, meta), fixed=["age", "sex"],
                    normalization="NONE", min_prevalence=0.0)
    bad = res.table[res.table["feature"] == "f3"]
    assert len(bad) == 2 and bad["coef"].isna().all()
    assert bad["error"].str.contains("constant feature").all()
    assert not bad["converged"].any()
    assert res.table.loc[res.table["feature"] != "f3", "error"].isna().all()
    assert res.table.loc[res.table["feature"] != "f3", "converged"].all()


def test_status_columns_flag_a_separated_prevalence_fit_and_survive_the_tsv(tmp_path):
    """f3 is present exactly in group a: its prevalence term is separated (a data
    property), so its row says so in a boolean column, not only in the error text, and
    keeps its augmented estimate (as MaAsLin 3 reports it)."""
    res = associate(_small_cohort(), fixed=["group"], random=["subject"],
                    prevalence_model=True, min_prevalence=0.0)
    table = res.table
    for column in ("converged", "singular", "separated"):
        assert table[column].dtype == bool
    prevalence = table[table["model"] == "prevalence"].set_index("feature")
    assert prevalence.loc["f3", "separated"] and prevalence.loc["f3", "converged"]
    assert np.isfinite(prevalence.loc["f3", "coef"])
    assert prevalence.loc["f3", "error"].startswith("separation: presence is predicted "
                                                    "exactly by (Intercept), groupb (augmented")
    others = prevalence.drop(index="f3")
    assert not others["separated"].any()  # present everywhere: no model, not separated
    assert not others["converged"].any() and others["error"].str.contains("present in all").all()
    abundance = table[table["model"] == "abundance"].set_index("feature")
    assert abundance.drop(index="f3")["converged"].all()  # f3 is constant (7) where present
    assert not abundance.loc["f3", "converged"]
    # the terminal summary names the kinds of flag in words (no "degenerate")
    flagged_line = res.summary().splitlines()[-1]
    assert flagged_line.startswith(f"features with a flagged fit: {table['feature'].nunique()}")
    assert "separation 1" in flagged_line and "degenerate" not in res.summary()
    res.to_dir(tmp_path)
    back = read_results(tmp_path / "all_results.tsv")
    assert tuple(back.columns) == RESULT_COLUMNS
    for column in ("converged", "singular", "separated"):
        assert back[column].dtype == bool
        assert back[column].tolist() == table[column].tolist()


def test_filters_are_strict_and_on_the_input_values():
    cohort = _small_cohort()
    res = associate(cohort, fixed=["group"], min_prevalence=0.5)
    assert "f3" not in set(res.table["feature"])  # present in exactly 50%: not > 50%
    res = associate(cohort, fixed=["group"], min_prevalence=0.49)
    assert "f3" in set(res.table["feature"])


def test_no_feature_left_is_an_input_error():
    with pytest.raises(InputError, match="no feature passes the filters"):
        associate(_small_cohort(), fixed=["group"], min_abundance=1e6)


def test_bad_fraction_is_an_input_error():
    with pytest.raises(InputError, match="min_prevalence"):
        associate(_small_cohort(), fixed=["group"], min_prevalence=10)


def test_scan_refuses_clr_input_tables():
    cohort = _small_cohort()
    clr = Cohort(cohort.table.clr(), cohort.metadata)
    with pytest.raises(InputError, match="counts or relative"):
        associate(clr, fixed=["group"])


def test_outcomes_scan_with_missing_values_matches_statsmodels():
    import statsmodels.formula.api as smf

    cohort = _small_cohort()
    rng = np.random.default_rng(3)
    outcomes = pd.DataFrame({"shannon": rng.normal(3, 0.5, 24),
                             "ratio": rng.normal(0, 1, 24)}, index=cohort.sample_ids)
    outcomes.iloc[[2, 5], 0] = np.nan
    res = associate_outcomes(cohort, outcomes, fixed=["group", "age"])
    data = cohort.metadata.join(outcomes)
    ols = smf.ols("shannon ~ group + age", data=data).fit()
    row = res.table.query("feature == 'shannon' and metadata == 'group'").iloc[0]
    assert row["n"] == 22
    assert row["coef"] == pytest.approx(ols.params["group[T.b]"], rel=1e-10)
    assert row["pval"] == pytest.approx(ols.pvalues["group[T.b]"], rel=1e-9)


def test_outcomes_scan_refuses_repeated_ids_and_infinite_values():
    cohort = _small_cohort()
    outcomes = pd.DataFrame({"shannon": np.linspace(2.0, 4.0, 24)}, index=cohort.sample_ids)
    with pytest.raises(InputError, match="more than one outcome row"):
        associate_outcomes(cohort, pd.concat([outcomes, outcomes.iloc[:1]]), fixed=["group"])
    outcomes.iloc[3, 0] = np.inf
    with pytest.raises(InputError, match="infinite outcome value") as info:
        associate_outcomes(cohort, outcomes, fixed=["group"])
    assert "row s3" in str(info.value) and "shannon" in str(info.value)


# ------------------------------------------------------- MaAsLin 3 prevalence model
@pytest.fixture(scope="module")
def with_prevalence(cohort):
    pytest.importorskip("gutaxis.stats.models.logistic_mixed",
                        reason="the logistic engine has not landed")
    return associate(cohort, fixed=["fm", *COVARIATES], reference={"fm": "control"},
                     prevalence_model=True)


TERM_ORDER = ["FM", "covariate_age", "covariate_imc", "y"]


def _in_term_order(rows):
    return rows.set_index("value").loc[TERM_ORDER]


def _design_matrix(cohort):
    from gutaxis.stats.design import build_design

    return build_design(cohort.metadata, fixed=["fm", *COVARIATES],
                        reference={"fm": "control"}).matrix


def test_prevalence_model_matches_statsmodels_augmented_logistic(cohort, with_prevalence):
    """MaAsLin 3 augments every sample with a success and a failure of weight (p-1)/(2n)."""
    import statsmodels.api as sm

    X = _design_matrix(cohort)
    n, p = X.shape
    weight = (p - 1) / (2 * n)
    table = with_prevalence.table
    prev = table[(table["model"] == "prevalence") & table["converged"]]
    features = prev["feature"].unique()[::6]
    assert len(features) >= 20
    separated = prev.loc[prev["separated"], "feature"].unique()  # estimates kept: the same
    features = np.union1d(features, separated[:3])
    for feature in features:  # the reference fits one feature at a time
        y = (cohort.table.subset_features([feature]).dense()[:, 0] > 0).astype(float)
        fit = sm.GLM(np.concatenate([y, np.ones(n), np.zeros(n)]), np.vstack([X, X, X]),
                     family=sm.families.Binomial(),
                     var_weights=np.concatenate([np.ones(n), np.full(2 * n, weight)])).fit(
                         tol=1e-14)
        ours = _in_term_order(prev[prev["feature"] == feature])
        np.testing.assert_allclose(ours["coef"], fit.params[1:], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours["stderr"], fit.bse[1:], rtol=1e-6)
        np.testing.assert_allclose(ours["pval"], fit.pvalues[1:], rtol=1e-5, atol=1e-12)


def test_scan_fits_are_fit_results_with_r_names_and_wald_intervals(cohort):
    """The scan's model blocks are FitResults: R's coefficient names, statsmodels' intervals."""
    import statsmodels.api as sm

    from gutaxis.stats.design import build_design
    from gutaxis.stats.scan_prevalence import fit_prevalence as _fit_prevalence

    design = build_design(cohort.metadata, fixed=["fm", *COVARIATES], reference={"fm": "control"})
    present = cohort.table.dense()[design.rows] > 0
    n, p = design.matrix.shape
    cols = np.flatnonzero((present.sum(axis=0) > n // 4) & (present.sum(axis=0) < n))[:4]
    res = _fit_prevalence(present[:, cols], design).results
    assert res.terms == ("fmFM", "covariate_age", "covariate_imc", "covariate_siiy")
    assert res.statistic_name == "z" and res.converged.all()
    X, weight = design.matrix, (p - 1) / (2 * n)
    for k, col in enumerate(cols):
        y = present[:, col].astype(float)
        fit = sm.GLM(np.concatenate([y, np.ones(n), np.zeros(n)]), np.vstack([X, X, X]),
                     family=sm.families.Binomial(),
                     var_weights=np.concatenate([np.ones(n), np.full(2 * n, weight)])).fit(
                         tol=1e-14)
        np.testing.assert_allclose(res.conf_int()[k], np.asarray(fit.conf_int())[1:],
                                   rtol=1e-6)


def test_abundance_model_uses_nonzero_samples_only(cohort, with_prevalence):
    import statsmodels.api as sm

    X = _design_matrix(cohort)
    table = with_prevalence.table
    abundance = table[(table["model"] == "abundance") & table["error"].isna()]
    feature = abundance["feature"].iloc[0]
    raw = cohort.table.subset_features([feature]).dense()[:, 0]
    # MaAsLin 3's order: TSS over every feature of the table, then the filter
    totals = cohort.table.dense().sum(axis=1)
    rows = raw > 0
    fit = sm.OLS(np.log2(raw[rows] / totals[rows]), X[rows]).fit()
    ours = _in_term_order(abundance[abundance["feature"] == feature])
    assert (ours["n"] == rows.sum()).all() and (ours["n_nonzero"] == rows.sum()).all()
    np.testing.assert_allclose(ours["coef"], fit.params[1:], rtol=1e-10)
    np.testing.assert_allclose(ours["pval"], fit.pvalues[1:], rtol=1e-9)


def test_prevalence_rows_sit_beside_abundance_rows_and_share_one_correction(with_prevalence):
    table = with_prevalence.table
    assert set(table["model"]) == {"abundance", "prevalence"}
    assert len(table) == 2 * 160 * 4
    from statsmodels.stats.multitest import multipletests

    tested = table["pval"].notna().to_numpy()
    expected = multipletests(table["pval"].to_numpy()[tested], method="fdr_bh")[1]
    np.testing.assert_allclose(table["qval"].to_numpy()[tested], expected, rtol=1e-12)
    assert table["qval"].isna().to_numpy()[~tested].all()
    assert with_prevalence.spec.abundance_model.endswith("nonzero samples")
    assert any("Nickols" in c for c in with_prevalence.spec.citations)


def test_features_present_everywhere_have_no_prevalence_fit_and_say_why(with_prevalence):
    table = with_prevalence.table
    everywhere = table[(table["model"] == "prevalence") & (table["n_nonzero"] == table["n"])]
    assert len(everywhere) > 0
    assert everywhere["coef"].isna().all()
    assert everywhere["error"].str.contains("present in all 101 samples").all()
    assert not everywhere["converged"].any() and not everywhere["separated"].any()


def test_abundance_fit_on_too_few_nonzero_samples_is_reported(with_prevalence):
    table = with_prevalence.table
    bad = table[(table["model"] == "abundance") & table["error"].notna()]
    assert len(bad) > 0 and bad["coef"].isna().all()
    # as R refuses them: too few samples, collinear, or a categorical variable left with one
    # level (or without its reference level) among the feature's nonzero samples
    assert bad["error"].str.contains(
        "rank-deficient|degrees of freedom|one level only|reference level").all()


# --------------------------------------------------------------- LMM orchestration
@pytest.fixture(scope="module")
def repeated_measures(reference_dir):
    """72 synthetic samples of 18 subjects (data and lmer results in tests/reference)."""
    data = pd.read_csv(reference_dir / "associate" / "repeated_measures.tsv", sep="\t",
                       index_col=0)
    features = [c for c in data.columns if c.startswith("f")]
    table = ProfileTable.from_dataframe(data[features])
    cohort = Cohort(table, data[["group", "age", "subject"]])
    lmer = pd.read_csv(reference_dir / "associate" / "repeated_measures_lmer.tsv", sep="\t")
    return cohort, lmer


def test_mixed_scan_matches_lmer_and_flags_the_constant_feature(repeated_measures):
    pytest.importorskip("gutaxis.stats.models.linear_mixed", reason="the LMM engine has not landed")
    cohort, lmer = repeated_measures
    res = associate(cohort, fixed=["group", "age"], random=["subject"], normalization="NONE",
                    transform="LOG", min_prevalence=0.0)
    assert "f5" not in set(res.table["feature"])  # constant input: the variance filter
    ours = res.table.assign(term=lambda t: np.where(t["value"] == "age", "age",
                                                    "group" + t["value"]))
    merged = lmer.merge(ours, on=["feature", "term"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == 10 and merged["error"].isna().all()
    for col in ("coef", "stderr", "df", "pval"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=1e-6, err_msg=col)


def test_mixed_scan_reports_a_feature_constant_on_the_samples_used(repeated_measures):
    pytest.importorskip("gutaxis.stats.models.linear_mixed", reason="the LMM engine has not landed")
    cohort, _ = repeated_measures
    meta = cohort.metadata.copy()
    values = cohort.table.to_dataframe()
    values["f5"] = np.where(meta["age"] < 45, 9.0, 5.0)  # constant where age is known
    meta.loc[meta["age"] < 45, "age"] = np.nan
    res = associate(Cohort(ProfileTable.from_dataframe(values), meta), fixed=["group", "age"],
                    random=["subject"], normalization="NONE", transform="LOG",
                    min_prevalence=0.0)
    f5 = res.table[res.table["feature"] == "f5"]
    assert len(f5) == 2 and f5["coef"].isna().all()
    assert f5["error"].str.contains("constant feature").all()
    assert res.table.loc[res.table["feature"] != "f5", "coef"].notna().all()


def test_modelled_values_leave_out_absent_samples_under_the_prevalence_model(
        cohort, with_prevalence):
    values = with_prevalence.values
    raw = cohort.table.subset_features(list(values.columns)).dense()
    np.testing.assert_array_equal(np.isnan(values.to_numpy()), raw == 0)


# ------------------------------------------------------------------ properties
@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["LOG", "AST", "NONE"]))
def test_property_tss_scan_ignores_depth_and_sample_order(seed, trans):
    rng = np.random.default_rng(seed)
    n, m = 30, 8
    counts = rng.poisson(rng.uniform(0.5, 30, m), size=(n, m)).astype(float)
    meta = pd.DataFrame({"g": rng.choice(["u", "v"], n), "x": rng.normal(size=n)},
                        index=[f"s{i}" for i in range(n)])
    meta.iloc[:2, 0] = ["u", "v"]
    frame = pd.DataFrame(counts, index=meta.index, columns=[f"f{j}" for j in range(m)])
    base = associate(Cohort(ProfileTable.from_dataframe(frame), meta), fixed=["g", "x"],
                     transform=trans, min_prevalence=0.0)
    depth = rng.integers(1, 50, n)[:, None]
    order = rng.permutation(n)
    other = Cohort(ProfileTable.from_dataframe((frame * depth).iloc[order]), meta.iloc[order])
    again = associate(other, fixed=["g", "x"], transform=trans, min_prevalence=0.0)
    key = ["feature", "metadata", "value"]
    merged = base.table.merge(again.table, on=key, suffixes=("", "_2"))
    assert len(merged) == len(base.table)
    for col in ("coef", "stderr", "pval", "qval"):
        np.testing.assert_allclose(merged[f"{col}_2"], merged[col], rtol=1e-8, atol=1e-12)

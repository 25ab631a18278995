"""MaAsLin 3's group and ordered predictors against plain R doing what MaAsLin 3 0.99.1 does
(tests/reference/maaslin3_terms/make_terms_reference.R): anova(lm) and anova(glm, "LRT")
sequential tests, lmerTest::contest, glmer likelihood-ratio tests and multcomp::glht
level-vs-previous contrasts, on the fibromyalgia cohort (LM, logistic GLM) and HMP2
(random intercept per subject: LMM, logistic GLMM)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
from assoc_data import fibromyalgia_genus
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm

from gutaxis.data import ProfileTable
from gutaxis.data.cohort import Cohort
from gutaxis.io import read_cohort
from gutaxis.stats import associate
from gutaxis.stats.design import build_design
from gutaxis.stats.models.linear import fit_ols
from gutaxis.stats.special_terms import ols_group_tests

# The references (R's lm/anova, glht, lmerTest's contest, MaAsLin 3 runs without the median
# comparison) test against zero: the scans here turn the median comparison off.
associate = partial(associate, median_comparison_abundance=False)

SEVERITY = {"group": ["ctl", "fbm_12_20", "fbm_21_25", "fbm_26_31"]}
DIAGNOSIS = {"diagnosis": ["nonIBD", "UC", "CD"]}
KEY = ["model", "feature", "metadata", "value"]


def _reference(reference_dir, name: str) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "maaslin3_terms" / name, sep="\t")


def _merge(ref: pd.DataFrame, results, models: dict[str, str]) -> pd.DataFrame:
    """Reference rows of ``models`` (gutaxis model -> fixture model) beside gutaxis's rows."""
    ours = results.table.assign(model=results.table["model"].map(models))
    wanted = ref[ref["model"].isin(models.values())]
    merged = wanted.merge(ours, on=KEY, how="left", suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(wanted)
    return merged


def _close(merged: pd.DataFrame, column: str, rtol: float) -> None:
    """Every finite reference value matched within ``rtol``; the only gaps are features
    present in every sample (no prevalence model, as in MaAsLin 3)."""
    ref, ours = merged[f"{column}_r"].to_numpy(float), merged[column].to_numpy(float)
    both = np.isfinite(ref) & np.isfinite(ours)
    missing = np.isfinite(ref) & ~np.isfinite(ours)
    assert merged.loc[missing, "error"].str.startswith("present in all").all()
    np.testing.assert_allclose(ours[both], ref[both], rtol=rtol, atol=1e-300)


# --------------------------------------------------------------------- fibromyalgia
@pytest.fixture(scope="module")
def fibro(fibromyalgia_dir, reference_dir):
    ref = _reference(reference_dir, "fibromyalgia_terms.tsv")
    cohort = fibromyalgia_genus(fibromyalgia_dir)
    genera = list(dict.fromkeys(ref["feature"]))
    cohort = Cohort(cohort.table.subset_features(genera), cohort.metadata)
    common = {"prevalence_model": True, "min_prevalence": 0.0, "levels": SEVERITY}
    grouped = associate(cohort, fixed=["covariate_age"], group=["group", "covariate_sii"],
                        **common)
    ordered = associate(cohort, fixed=["covariate_age", "covariate_sii"], ordered=["group"],
                        **common)
    return ref, grouped, ordered


@pytest.mark.realdata
def test_lm_group_is_rs_sequential_anova_f_to_1e9(fibro):
    ref, grouped, _ = fibro
    merged = _merge(ref, grouped, {"abundance": "lm_group"})
    assert len(merged) == 100 and merged["pval"].notna().all()
    _close(merged, "pval", 1e-9)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])  # residual df
    assert merged["coef"].isna().all() and merged["stderr"].isna().all()


@pytest.mark.realdata
def test_glm_group_is_rs_sequential_likelihood_ratio_test_to_1e6(fibro):
    ref, grouped, _ = fibro
    merged = _merge(ref, grouped, {"prevalence": "glm_group"})
    _close(merged, "pval", 1e-6)
    assert merged["df"].isna().all()


@pytest.mark.realdata
def test_lm_ordered_rows_are_glht_level_vs_previous_contrasts_to_1e9(fibro):
    ref, _, ordered = fibro
    merged = _merge(ref, ordered, {"abundance": "lm_ordered"})
    assert len(merged) == 150
    for column in ("coef", "stderr", "pval"):
        _close(merged, column, 1e-9)
    np.testing.assert_array_equal(merged["df"], merged["df_r"])


@pytest.mark.realdata
def test_glm_ordered_rows_are_glht_contrasts_to_1e6(fibro):
    # R's glm stops at epsilon 1e-14 but its vcov uses the previous iteration's weights
    for column in ("coef", "stderr", "pval"):
        _close(_merge(fibro[0], fibro[2], {"prevalence": "glm_ordered"}), column, 1e-6)


@pytest.mark.realdata
def test_group_rows_replace_level_rows_and_enter_the_q_values(fibro):
    _, grouped, _ = fibro
    table = grouped.table
    assert set(table["value"][table["metadata"] == "group"]) == {"group"}
    counts = table.groupby(["model", "metadata"]).size()
    assert (counts == 50).all()  # one row per feature, variable and model
    assert table["qval"].notna().sum() == table["pval"].notna().sum()
    assert grouped.spec.group_effects == ("group", "covariate_sii")
    assert "group(group)" in grouped.spec.formula


# ---------------------------------------------------------------------------- HMP2
@pytest.fixture(scope="module")
def hmp2_scans(hmp2_dir, reference_dir):
    ref = _reference(reference_dir, "hmp2_terms.tsv")
    cohort = read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv")
    common = {"fixed": ["age", "antibiotics"], "random": ["subject"], "levels": DIAGNOSIS,
              "prevalence_model": True, "min_prevalence": 0.0}
    return (ref, associate(cohort, group=["diagnosis"], **common),
            associate(cohort, ordered=["diagnosis"], **common))


#: (scan, gutaxis model -> fixture model, rows, rtol per column). LMM: lmer converged
#: tightly, so the fits are the same model (1e-6). GLMM group: both Laplace fits converged
#: tightly in R; the chi-square is a deviance difference, so its p-value carries both fits'
#: ~1e-7 deviance error (measured max 1.1e-5 relative).
HMP2_CASES = {
    "lmm group = lmerTest::contest F, Satterthwaite ddf": (
        1, {"abundance": "lmm_group"}, 87, {"pval": 1e-6, "df": 1e-6}),
    "lmm ordered = contest of each level vs the previous": (
        2, {"abundance": "lmm_ordered"}, 174,
        {"coef": 1e-6, "stderr": 1e-6, "pval": 1e-6, "df": 1e-6}),
    "glmm group = anova(reduced glmer, full glmer) LRT": (
        1, {"prevalence": "glmm_group"}, 11, {"pval": 1e-4}),
}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("case", HMP2_CASES)
def test_hmp2_mixed_model_terms_match_r(hmp2_scans, case):
    scan, models, rows, tolerances = HMP2_CASES[case]
    merged = _merge(hmp2_scans[0], hmp2_scans[scan], models)
    assert len(merged) == rows
    for column, rtol in tolerances.items():
        _close(merged, column, rtol)


@pytest.mark.realdata
@pytest.mark.slow
def test_glmm_ordered_rows_are_glht_contrasts_of_glmer(hmp2_scans):
    # as tests/stats/test_glm.py: glmer's vcov is a finite-difference Hessian (2e-3)
    ref, _, ordered = hmp2_scans
    merged = _merge(ref, ordered, {"prevalence": "glmm_ordered"})
    assert len(merged) == 22 and merged["coef"].notna().all()
    assert np.all(np.abs(merged["coef"] - merged["coef_r"]) <= 2e-3 * merged["stderr_r"])
    np.testing.assert_allclose(merged["stderr"], merged["stderr_r"], rtol=2e-3)


def test_lmm_group_level_absent_from_a_features_rows_is_left_out_as_lmer_does(reference_dir):
    """Synthetic (make_terms_reference.R, part absent_level): f1 and f2 are never present at
    one level of g; lmer drops that column and contest tests the levels present."""
    folder = reference_dir / "maaslin3_terms"
    data = pd.read_csv(folder / "absent_level_data.tsv", sep="\t", index_col="sample_id")
    features = [f"f{j}" for j in range(1, 7)]
    values = np.exp2(data[features]).fillna(0.0)  # log2 abundance of present samples
    cohort = Cohort(ProfileTable.from_dataframe(values, kind="relative"),
                    data[["subject", "g", "x"]])
    scan = associate(cohort, fixed=["x"], random=["subject"], group=["g"],
                     normalization="NONE", transform="LOG", prevalence_model=True,
                     min_prevalence=0.0)
    merged = _merge(pd.read_csv(folder / "absent_level_terms.tsv", sep="\t"), scan,
                    {"abundance": "lmm_group"})
    assert merged["pval"].notna().all() and merged["error"].isna().all()
    for column in ("pval", "df"):
        _close(merged, column, 1e-6)
    x = merged["metadata"] == "x"
    np.testing.assert_allclose(merged.loc[x, "coef"], merged.loc[x, "coef_r"], rtol=1e-6)
    # ordered(g): the same model for x (the absent level's column left out); f1 and f2 get
    # no level rows, as MaAsLin 3 ("Some ordered levels are missing")
    ordered = associate(cohort, fixed=["x"], random=["subject"], ordered=["g"],
                        levels={"g": ["a", "b", "c"]}, normalization="NONE", transform="LOG",
                        prevalence_model=True, min_prevalence=0.0).table
    ordered = ordered[ordered["model"] == "abundance"].set_index(["feature", "metadata"])
    r_x = merged.loc[x].set_index("feature")["coef_r"]
    np.testing.assert_allclose(ordered.xs("x", level="metadata").loc[r_x.index, "coef"], r_x,
                               rtol=1e-6)
    levels = ordered.xs("g", level="metadata")
    assert levels.loc[["f1", "f2"], "coef"].isna().all()
    assert levels.loc[["f3", "f4", "f5", "f6"], "coef"].notna().all()
    assert levels.loc["f1", "error"].str.contains("a level is absent").all()


# --------------------------------------------------------------- closed form, masks
def _toy(seed: int = 3, n: int = 60, m: int = 12):
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame({"k": rng.choice(["p", "q"], size=n),
                         "g": rng.choice(list("abc"), size=n),
                         "h": rng.choice(["u", "v"], size=n)},
                        index=[f"s{i}" for i in range(n)])
    y = rng.normal(size=(n, m)) + (meta["g"] == "c").to_numpy()[:, None]
    mask = rng.random((n, m)) < 0.8
    return meta, y, mask


@pytest.mark.parametrize("masking", ["none", "per feature", "two row sets"])
def test_ols_group_f_matches_statsmodels_type_i_anova(masking):
    meta, y, mask = _toy()
    if masking == "none":
        mask[:] = True
    elif masking == "two row sets":  # the path that fits each distinct row set once
        mask[:, 1::2], mask[:, ::2] = mask[:, [0]], mask[:, [1]]
    design = build_design(meta, fixed=["k"], group=["g", "h"])
    tests = ols_group_tests(y, design, mask=None if masking == "none" else mask)
    for j in range(y.shape[1]):
        rows = mask[:, j]
        frame = meta.loc[rows].assign(y=y[rows, j])
        # all terms categorical, so that patsy keeps them in the order given (sequential)
        table = anova_lm(ols("y ~ C(k) + C(g) + C(h)", frame).fit(), typ=1)
        np.testing.assert_allclose(tests.statistic[j], table["F"].iloc[1:3], rtol=1e-10)
        np.testing.assert_allclose(tests.pvalue[j], table["PR(>F)"].iloc[1:3], rtol=1e-9)
        assert tests.df[j, 0] == table.loc["Residual", "df"]
    assert "F test" in tests.summary()


@pytest.mark.parametrize("masking", ["per feature", "two row sets"])
def test_a_group_level_absent_from_a_features_rows_is_left_out_as_r_lm_does(masking):
    meta, y, mask = _toy()
    without_b = (meta["g"] != "b").to_numpy()
    mask[:, 0] &= without_b  # feature 0 never sees level b: its column is all zero
    if masking == "two row sets":
        mask[:, 1:] = mask[:, [0]]
    design = build_design(meta, fixed=["k"], group=["g", "h"])
    tests = ols_group_tests(y, design, mask=mask)
    fit = fit_ols(y, design.matrix, mask=mask, level_rows=design.level_rows())
    frame = meta.loc[mask[:, 0]].assign(y=y[mask[:, 0], 0])
    reference = ols("y ~ C(k) + C(g) + C(h)", frame).fit()
    table = anova_lm(reference, typ=1)
    np.testing.assert_allclose(tests.pvalue[0], table["PR(>F)"].iloc[1:3], rtol=1e-9)
    np.testing.assert_array_equal(tests.num_df[0], [1, 1])
    assert tests.df[0, 0] == table.loc["Residual", "df"] == fit.df[0]
    assert np.isnan(fit.coef[0, 2]) and np.isnan(fit.pval[0, 2])  # level b
    np.testing.assert_allclose(fit.coef[0, [0, 1, 3, 4]], reference.params, rtol=1e-9)
    np.testing.assert_allclose(fit.stderr[0, [0, 1, 3, 4]], reference.bse, rtol=1e-9)


def test_a_level_of_a_plain_fixed_effect_still_makes_the_fit_rank_deficient():
    meta, y, mask = _toy()
    mask[:, 0] &= (meta["g"] != "b").to_numpy()
    fit = fit_ols(y, build_design(meta, fixed=["k", "g"], reference={"g": "a"}).matrix,
                  mask=mask)
    assert "rank-deficient" in fit.messages[0] and np.isnan(fit.coef[0]).all()


# ------------------------------------------- MaAsLin 3 itself (tests/reference/maaslin3)
def _maaslin3_run(reference_dir, name: str) -> pd.DataFrame:
    """A full MaAsLin 3 0.99.1 run on the fibromyalgia ASVs (made by another branch's
    tests/reference/maaslin3/make_fixtures.R: ``~ group(group) + covariate_age`` or
    ``~ ordered(group) + covariate_age``, min_prevalence 0.1, no median comparison)."""
    path = reference_dir / "maaslin3" / name
    if not path.is_file():
        pytest.skip(f"{path} not present (made by make_fixtures.R)")
    return pd.read_csv(path, sep="\t")


def _r_name(feature: str) -> str:
    """R's make.names for an ASV hash: a leading digit gets an ``X``."""
    return f"X{feature}" if feature[:1].isdigit() else feature


@pytest.fixture(scope="module")
def fibro_asvs(fibromyalgia_dir):
    """The ASV table as MaAsLin 3 normalises it: TSS over every ASV, before filtering."""
    return read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                       fibromyalgia_dir / "metadata.tsv")


def _against_maaslin3(cohort, ref, **special):
    ids = {_r_name(f): f for f in cohort.table.feature_ids}
    table = cohort.table.relative().subset_features([ids[f] for f in dict.fromkeys(ref["feature"])])
    ours = associate(Cohort(table, cohort.metadata), fixed=["covariate_age"], levels=SEVERITY,
                     normalization="NONE", transform="LOG", prevalence_model=True,
                     min_prevalence=0.0, standardize=True, **special).table
    ours = ours.assign(feature=ours["feature"].map(_r_name))
    merged = ref.merge(ours, on=["feature", "metadata", "value", "model"], how="left",
                       suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(ref)
    return merged.rename(columns={"pval_individual": "pval_r"})


@pytest.mark.realdata
def test_group_rows_match_maaslin3_also_where_a_level_is_absent(fibro_asvs, reference_dir):
    merged = _against_maaslin3(fibro_asvs, _maaslin3_run(reference_dir, "fibro_group.tsv.gz"),
                               group=["group"])
    # R refuses a factor with one level ("contrasts can be applied only to factors with 2
    # or more levels"): a feature seen in one band only loses its covariate rows in
    # MaAsLin 3; gutaxis leaves the band out and keeps them (the group test is NaN in both)
    extra = merged["pval"].notna() & merged["pval_r"].isna()
    assert merged.loc[extra, "error_r"].str.startswith("contrasts can be applied").all()
    assert not (merged["pval_r"].notna() & merged["pval"].isna()).any()
    tested = merged["pval"].notna() & ~extra
    assert tested.sum() >= 900
    # group tests (F and likelihood-ratio), including the 37 abundance fits that lack a
    # severity band among their nonzero samples: R drops the level's column, so does gutaxis
    group = tested & (merged["metadata"] == "group")
    assert group.sum() == 459
    np.testing.assert_allclose(merged.loc[group, "pval"], merged.loc[group, "pval_r"],
                               rtol=1e-9)
    age = tested & (merged["metadata"] == "covariate_age") & (merged["model"] == "abundance")
    for column in ("coef", "pval"):
        np.testing.assert_allclose(merged.loc[age, column], merged.loc[age, f"{column}_r"],
                                   rtol=1e-9)


@pytest.mark.realdata
def test_ordered_rows_match_maaslin3(fibro_asvs, reference_dir):
    merged = _against_maaslin3(fibro_asvs,
                               _maaslin3_run(reference_dir, "fibro_ordered.tsv.gz"),
                               ordered=["group"])
    extra = merged["pval"].notna() & merged["pval_r"].isna()  # one band only: R refuses
    assert merged.loc[extra, "error_r"].str.startswith("contrasts can be applied").all()
    assert not (merged["pval_r"].notna() & merged["pval"].isna()).any()
    # 37 features lack a band among their nonzero samples: no level rows in MaAsLin 3
    # ("Some ordered levels are missing"), nor in gutaxis, which says so; covariates kept
    lacking = merged["error"].str.contains("a level is absent", na=False)
    assert lacking.any() and merged.loc[lacking & (merged["metadata"] == "group"),
                                        "pval"].isna().all()
    done = merged["pval"].notna() & ~extra
    abundance = done & (merged["model"] == "abundance")
    for column in ("coef", "stderr", "pval"):
        np.testing.assert_allclose(merged.loc[abundance, column],
                                   merged.loc[abundance, f"{column}_r"], rtol=1e-9)
    # MaAsLin 3's glm stops at R's default epsilon 1e-8 and glht uses its vcov, from the
    # previous iteration's weights: standard errors within 2e-4 (measured), coef 7e-7
    prevalence = done & (merged["model"] == "prevalence")
    np.testing.assert_allclose(merged.loc[prevalence, "coef"],
                               merged.loc[prevalence, "coef_r"], rtol=5e-6)
    for column in ("stderr", "pval"):
        np.testing.assert_allclose(merged.loc[prevalence, column],
                                   merged.loc[prevalence, f"{column}_r"], rtol=2e-3)

"""The simulator: shapes, determinism, files, and the planted truth recovered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.io import read_cohort
from gutaxis.simulate import simulate_cohort
from gutaxis.simulate.cohort import DIARY_COLUMNS, FILES, METADATA_COLUMNS
from gutaxis.stats import associate

FIXED = ["pain", "fibre", "age", "sex", "bmi"]


def _scan(sim, *, median_comparison: bool = True) -> tuple[set[str], set[str]]:
    res = associate(sim.cohort, fixed=FIXED, prevalence_model=True, warn_prevalence=False,
                    median_comparison_abundance=median_comparison)
    tab = res.table
    tab = tab[(tab["metadata"] == "pain") & (tab["model"] == "abundance")]
    found = set(tab["feature"][tab["qval"] < 0.1])
    planted = set(sim.truth["feature"][sim.truth["effect"] != 0])
    return found, planted


def test_shapes_columns_and_truth() -> None:
    sim = simulate_cohort(n_subjects=40, visits=3, n_features=80, n_planted=6, seed=3)
    table, meta = sim.cohort.table, sim.cohort.metadata
    assert table.shape == (120, 80) and table.kind == "counts"
    assert tuple(meta.columns) == METADATA_COLUMNS
    assert meta["subject"].nunique() == 40 and set(meta["visit"]) == {1, 2, 3}
    assert sim.cohort.subject_column == "subject"
    assert list(sim.truth.columns) == ["feature", "effect"]
    assert (sim.truth["effect"] != 0).sum() == 6
    assert set(np.abs(sim.truth["effect"][sim.truth["effect"] != 0])) == {1.0}
    assert set(meta["pain_band"]) <= {"mild", "moderate", "severe"}
    assert (meta["fm"] == "yes").equals(meta["pain"] >= 6)
    np.testing.assert_allclose(meta["crp"], np.exp(meta["log_crp"]))
    assert tuple(sim.diary.columns) == DIARY_COLUMNS
    assert table.taxonomy is not None and table.taxonomy["genus"].notna().all()
    med = sim.mediation_truth.set_index("quantity")["value"]
    assert med["total"] == pytest.approx(med["acme"] + med["ade"])
    assert med["acme"] == pytest.approx(med["indirect_richness"] + med["indirect_richness_crp"])
    assert "planted" in sim.summary()


def test_same_seed_same_cohort_other_seed_other() -> None:
    a, b, c = (simulate_cohort(n_subjects=20, seed=s) for s in (5, 5, 6))
    assert (a.cohort.table.values != b.cohort.table.values).nnz == 0
    pd.testing.assert_frame_equal(a.cohort.metadata, b.cohort.metadata)
    pd.testing.assert_frame_equal(a.diary, b.diary)
    assert (a.cohort.table.values != c.cohort.table.values).nnz > 0


def test_write_reads_back_and_refuses_a_used_folder(tmp_path: Path) -> None:
    sim = simulate_cohort(n_subjects=15, visits=2, seed=2)
    out = tmp_path / "sim"
    sim.write(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    back = read_cohort(out / "table.tsv", out / "metadata.tsv", taxonomy=out / "taxonomy.tsv",
                       subject_column="subject")
    assert (back.table.values != sim.cohort.table.values).nnz == 0
    np.testing.assert_array_equal(back.table.feature_ids, sim.cohort.table.feature_ids)
    np.testing.assert_allclose(back.metadata["pain"], sim.cohort.metadata["pain"], rtol=0,
                               atol=0)
    truth = pd.read_csv(out / "truth.tsv", sep="\t")
    pd.testing.assert_frame_equal(truth, sim.truth)
    with pytest.raises(InputError, match="not empty"):
        sim.write(out)
    empty = tmp_path / "empty"
    empty.mkdir()
    sim.write(empty)  # an existing empty folder (a staging folder) is fine
    assert (empty / "truth.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "sim"]  # no leftovers


@pytest.mark.parametrize(("option", "value"), [
    ("n_subjects", 1), ("visits", 0), ("n_planted", 500), ("n_features", 0),
    ("n_diary", 999), ("effect_size", float("nan")),
])
def test_bad_settings_are_input_errors(option: str, value: object) -> None:
    with pytest.raises(InputError, match=option):
        simulate_cohort(**{"n_subjects": 10, option: value})  # type: ignore[arg-type]


def test_total_effect_of_fibre_matches_the_mediation_truth() -> None:
    # pain on fibre and the covariates estimates the total effect; n = 4000 gives a
    # standard error of about 0.015, so 4 SE is 0.06
    sim = simulate_cohort(n_subjects=4000, n_features=150, n_diary=0, seed=11)
    meta = sim.cohort.metadata
    x = np.column_stack([np.ones(len(meta)), meta["fibre"], meta["age"],
                         meta["sex"] == "F", meta["bmi"]]).astype(float)
    coef = np.linalg.lstsq(x, meta["pain"].to_numpy(), rcond=None)[0]
    total = sim.mediation_truth.set_index("quantity")["value"]["total"]
    assert coef[1] == pytest.approx(total, abs=0.06)


def test_diary_intervention_effect() -> None:
    # 60 diaries of 56 days: the B - A mean difference has SE about 0.06 (AR(1) noise
    # with phi 0.5 inflates the variance of a mean by (1 + phi) / (1 - phi) = 3)
    sim = simulate_cohort(n_subjects=60, n_diary=60, seed=4)
    d = sim.diary
    diff = d.groupby("phase")["pain"].mean()
    assert diff["B"] - diff["A"] == pytest.approx(-1.5, abs=0.25)
    lag = d.groupby("subject")["pain"].shift()
    resid = d["pain"] - d.groupby(["subject", "phase"])["pain"].transform("mean")
    rlag = resid.groupby(d["subject"]).shift()
    assert 0.3 < resid.corr(rlag) < 0.7 and lag.notna().any()


def test_planted_taxa_found_at_a_strong_effect() -> None:
    # effect 2 log2 per pain point (z about 8 at n = 120): every seed recalls >= 9 of 10
    recalls = []
    for seed in range(3):
        found, planted = _scan(simulate_cohort(effect_size=2.0, seed=seed),
                               median_comparison=False)
        recalls.append(len(found & planted) / len(planted))
    assert min(recalls) >= 0.9


def test_null_taxa_controlled_at_nominal_fdr() -> None:
    # BH at q < 0.1 on the abundance model (MaAsLin 3 defaults: median comparison on).
    # Mean FDP over 12 seeds must be <= 0.1 + 0.1: the FDP of one dataset (about 10
    # discoveries) has SD <= 0.15, so the mean of 12 has SE <= 0.045 and 0.1 is > 2 SE.
    fdps, recalls = [], []
    for seed in range(100, 112):
        found, planted = _scan(simulate_cohort(effect_size=1.0, seed=seed))
        fdps.append(len(found - planted) / max(1, len(found)))
        recalls.append(len(found & planted) / len(planted))
    assert np.mean(fdps) <= 0.2
    assert np.mean(recalls) >= 0.6


def test_mediation_recovered_with_the_observed_richness() -> None:
    # product of coefficients with richness counted in the reads (/10): at n = 3,000 the
    # SEs are about 0.02; the observed richness misses rare taxa (depth), which
    # attenuates the ACME by about 6%, hence 0.08 for the ACME and 0.06 for the ADE
    sim = simulate_cohort(n_subjects=3000, n_diary=0, seed=21)
    meta = sim.cohort.metadata
    richness = (sim.cohort.table.dense() > 0).sum(axis=1) / 10.0
    cov = np.column_stack([meta["age"], meta["sex"] == "F", meta["bmi"]]).astype(float)

    def ols(y: np.ndarray, *x: np.ndarray) -> np.ndarray:
        design = np.column_stack([np.ones(len(y)), *x, cov])
        return np.linalg.lstsq(design, y, rcond=None)[0]

    fibre = meta["fibre"].to_numpy()
    a = ols(richness, fibre)[1]
    crp = ols(meta["log_crp"].to_numpy(), fibre, richness)
    pain = ols(meta["pain"].to_numpy(), fibre, richness, meta["log_crp"].to_numpy())
    truth = sim.mediation_truth.set_index("quantity")["value"]
    assert a * (pain[2] + crp[2] * pain[3]) == pytest.approx(truth["acme"], abs=0.08)
    assert pain[1] == pytest.approx(truth["ade"], abs=0.06)

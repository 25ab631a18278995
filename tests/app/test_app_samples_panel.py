"""The gut-health panel: the shipped reference grids against the raw reference values
(numpy's quantiles and percentile-of-score), closed forms, and one real sample against
gutaxis.gut's own functions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from clinic_fixtures import Clinic
from scipy import stats

from gutaxis.app.samples.panel import build_panel
from gutaxis.app.samples.references import (
    percentile_from_grid,
    reference_for,
    reference_profiles,
    references,
)
from gutaxis.data.cohort import Cohort
from gutaxis.gut.alpha import observed_features, shannon
from gutaxis.gut.summaries import butyrate_producer_share, md_index, proteobacteria_share
from gutaxis.io import read_cohort
from gutaxis.io.delimited import write_tsv
from gutaxis.io.taxonomy import write_taxonomy

LEVELS = np.arange(101) / 100.0


@pytest.fixture(scope="module")
def fibromyalgia(fibromyalgia_dir: Path) -> Cohort:
    """The fibromyalgia 16S cohort with its taxonomy (read once for this module)."""
    return read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                       fibromyalgia_dir / "metadata.tsv",
                       taxonomy=fibromyalgia_dir / "taxonomy.tsv.gz")


def numpy_percentile_of_score(raw: np.ndarray, value: float) -> float:
    """The level p at which ``np.percentile(raw, p)`` reaches ``value`` (bisection on
    numpy's own quantile function; the middle of the levels it equals it over)."""
    def first(strict: bool) -> float:
        lo, hi = 0.0, 100.0
        for _ in range(60):
            mid = (lo + hi) / 2
            q = np.percentile(raw, mid)
            if q > value or (not strict and q >= value):
                hi = mid
            else:
                lo = mid
        return (lo + hi) / 2
    if value < raw.min():
        return 0.0
    if value > raw.max():
        return 100.0
    return (first(False) + first(True)) / 2


def test_grid_inversion_closed_forms() -> None:
    grid = list(np.linspace(0.0, 10.0, 101))  # q(p) = p / 10
    assert percentile_from_grid(grid, 2.5) == pytest.approx(25.0)
    assert percentile_from_grid(grid, -1.0) == 0.0 and percentile_from_grid(grid, 11) == 100.0
    ties = [0.0] * 41 + list(np.linspace(0.1, 6.0, 60))  # 0 at levels 0..40
    assert percentile_from_grid(ties, 0.0) == pytest.approx(20.0)


@pytest.mark.realdata
def test_the_shipped_16s_grid_is_numpys_quantiles_of_the_controls(
        fibromyalgia: Cohort) -> None:
    cohort = fibromyalgia
    controls = cohort.table.subset_samples((cohort.metadata["group"] == "ctl").to_numpy())
    ref = references()["fibromyalgia_16s_controls"]
    assert ref.n == controls.n_samples == 51
    raw = {"shannon": shannon(controls, base=2).to_numpy(),
           "butyrate_producer_share": butyrate_producer_share(controls).to_numpy(),
           "proteobacteria_share": proteobacteria_share(controls).to_numpy(),
           "md_index": md_index(controls).to_numpy()}
    for name, values in raw.items():
        values = values[np.isfinite(values)]
        grid = ref.grids[name]["quantiles"]
        np.testing.assert_allclose(grid, np.quantile(values, LEVELS), rtol=1e-12)
        probes = np.quantile(values, [0.03, 0.2, 0.37, 0.5, 0.81, 0.96]) * 1.0001
        for value in [*probes, values[0], values.min() - 1, values.max() + 1]:
            from_grid = ref.percentile(name, float(value))
            assert from_grid is not None
            # the grid's resolution is one percentile point
            assert abs(from_grid - numpy_percentile_of_score(values, float(value))) <= 1.0
            # scipy's percentile of score differs by the empirical step at most
            assert abs(from_grid - stats.percentileofscore(values, value, kind="mean")) <= \
                100.0 / len(values) + 1.0


@pytest.mark.realdata
def test_the_hmp2_reference_is_the_non_ibd_samples(hmp2_dir: Path) -> None:
    cohort = read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv",
                         orientation="samples-rows")
    keep = (cohort.metadata["diagnosis"] == "nonIBD").to_numpy()
    nonibd = cohort.table.subset_samples(keep)
    ref = reference_for("relative")
    assert ref.n == nonibd.n_samples and ref.subjects < ref.n
    values = shannon(nonibd, base=2).to_numpy()
    np.testing.assert_allclose(ref.grids["shannon"]["quantiles"], np.quantile(values, LEVELS),
                               rtol=1e-12)
    shipped = reference_profiles("hmp2_nonibd")
    assert shipped is not None
    pd.testing.assert_frame_equal(shipped.to_dataframe(), nonibd.to_dataframe()[
        list(shipped.feature_ids)], check_names=False)


def test_panel_closed_form_and_notes() -> None:
    ref = reference_for("counts")
    # counts 2, 1, 1: H = -(1/2 log2 1/2 + 2 * 1/4 log2 1/4) = 1.5 bits
    panel = build_panel({"shannon": 1.5, "observed_features": 3.0, "md_index": math.nan},
                        rarefied=False, depth=4, nan_notes="md_index: no MD-index taxa present",
                        value_kind="counts", reference=ref, has_taxonomy=False)
    rows = {m["name"]: m for m in panel["metrics"]}
    assert rows["shannon"]["value"] == 1.5 and rows["shannon"]["percentile"] == 0.0
    assert rows["md_index"]["value"] is None and rows["md_index"]["percentile"] is None
    assert rows["md_index"]["note"] == "no MD-index taxa present"
    assert rows["observed_features"]["note"] == "not rarefied"
    text = " ".join(panel["notes"])
    assert "only 51 samples" in text and "fewer than the reference's rarefaction" in text
    assert "No taxonomy" in text
    assert set(panel["reference"]) == {"name", "n", "source", "method"}


@pytest.mark.realdata
def test_one_real_sample_through_the_api_matches_the_engine(
        sqlite_clinic: Clinic, fibromyalgia: Cohort, tmp_path: Path) -> None:
    cohort = fibromyalgia
    one = cohort.table.subset_samples(["fbm_p01"])
    present = np.flatnonzero(np.asarray(one.values.sum(axis=0)).ravel() > 0)
    one = one.subset_features(present)
    write_tsv(one, tmp_path / "fbm_p01.tsv")
    assert one.taxonomy is not None
    write_taxonomy(one.taxonomy, tmp_path / "taxonomy.tsv")
    pid = sqlite_clinic.add_patient("Real Sample")
    sqlite_clinic.add_user("doc", "clinician")
    doc = sqlite_clinic.login("doc")
    response = doc.post(f"/api/v1/patients/{pid}/samples", data={"collected_at": "2019-05-01"},
                        files={"file": ("fbm_p01.tsv", (tmp_path / "fbm_p01.tsv").read_bytes()),
                               "taxonomy": ("taxonomy.tsv",
                                            (tmp_path / "taxonomy.tsv").read_bytes())})
    assert response.status_code == 201, response.text
    panel = {m["name"]: m for m in response.json()["samples"][0]["panel"]["metrics"]}
    table = cohort.table
    assert panel["shannon"]["value"] == pytest.approx(
        shannon(table, base=2)["fbm_p01"], rel=1e-12)
    assert panel["butyrate_producer_share"]["value"] == pytest.approx(
        butyrate_producer_share(table)["fbm_p01"], rel=1e-12)
    assert panel["md_index"]["value"] == pytest.approx(md_index(table)["fbm_p01"], rel=1e-12)
    # richness: rarefied to the reference's depth (7,000 reads, seed 0), as the engine does
    thin = table.subset_samples(["fbm_p01"]).rarefy(7000, seed=0)
    assert panel["observed_features"]["value"] == observed_features(thin)["fbm_p01"]
    assert panel["observed_features"]["value"] < observed_features(table)["fbm_p01"]


@pytest.fixture(scope="module")
def hmp2(hmp2_dir: Path) -> Cohort:
    """The HMP2 species profiles with their metadata (read once for this module)."""
    return read_cohort(hmp2_dir / "HMP2_taxonomy.tsv.gz", hmp2_dir / "HMP2_metadata.tsv",
                       orientation="samples-rows")


@pytest.mark.realdata
def test_the_dysbiosis_grid_is_the_engines_score_of_the_non_ibd_samples(hmp2: Cohort) -> None:
    from gutaxis.gut.summaries import dysbiosis_score

    keep = (hmp2.metadata["diagnosis"] == "nonIBD").to_numpy()
    nonibd = hmp2.table.subset_samples(keep)
    own = dysbiosis_score(nonibd, np.ones(nonibd.n_samples, dtype=bool),
                          subjects=hmp2.metadata["subject"].to_numpy()[keep]).to_numpy()
    grid = reference_for("relative").grids["dysbiosis_score"]
    np.testing.assert_allclose(grid["quantiles"], np.quantile(own, LEVELS), rtol=1e-12)


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::gutaxis.gut.summaries.SummaryWarning")
def test_uploaded_hmp2_samples_get_the_engines_dysbiosis_score_and_flag(
        sqlite_clinic: Clinic, hmp2: Cohort, tmp_path: Path) -> None:
    from gutaxis.gut.summaries import gut_summary

    meta = hmp2.metadata
    reference = (meta["diagnosis"] == "nonIBD").to_numpy()
    summary = gut_summary(hmp2.table, reference=reference, subjects=meta["subject"].to_numpy())
    # patients' samples: the five most and five least dysbiotic CD samples
    cd = summary[(meta["diagnosis"] == "CD").to_numpy()].sort_values("dysbiosis_score")
    chosen = [*cd.index[:5], *cd.index[-5:]]
    write_tsv(hmp2.table.subset_samples(chosen), tmp_path / "cd.tsv")
    times = "sample_id\tcollected_at\n" + "".join(
        f"{s}\t2016-0{i % 9 + 1}-01T09:00:00Z\n" for i, s in enumerate(chosen))
    pid = sqlite_clinic.add_patient("Crohn Example")
    sqlite_clinic.add_user("doc", "clinician")
    response = sqlite_clinic.login("doc").post(
        f"/api/v1/patients/{pid}/samples",
        files={"file": ("cd.tsv", (tmp_path / "cd.tsv").read_bytes()),
               "sample_times": ("times.tsv", times.encode())})
    assert response.status_code == 201, response.text
    flagged = 0
    for sample in response.json()["samples"]:
        assert sample["value_kind"] == "relative"
        rows = {m["name"]: m for m in sample["panel"]["metrics"]}
        expected = summary.loc[sample["sample_label"]]
        assert rows["dysbiosis_score"]["value"] == pytest.approx(
            expected["dysbiosis_score"], rel=1e-9)
        assert rows["md_index"]["value"] == pytest.approx(expected["md_index"], rel=1e-9)
        # above the grid's 90th level <=> the engine's dysbiotic flag (90th percentile of
        # the reference's own scores)
        assert (rows["dysbiosis_score"]["percentile"] > 90) == bool(expected["dysbiotic"])
        flagged += bool(expected["dysbiotic"])
    assert 0 < flagged < len(chosen)

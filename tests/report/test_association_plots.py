"""Association figures: labels, files, and plots of both kinds of variable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gutaxis.data import Cohort, ProfileTable
from gutaxis.report.association_plots import write_association_plots
from gutaxis.report.association_words import short_name
from gutaxis.stats import associate


@pytest.mark.parametrize(("feature", "label"), [
    ("k__Bacteria;p__Firmicutes;c__Clostridia;o__Lachnospirales;f__Lachnospiraceae;g__Dorea",
     "g__Dorea"),
    ("k__Bacteria;p__Firmicutes;c__Clostridia;o__Oscillospirales;f__;g__",
     "o__Oscillospirales;f__;g__"),
    ("k__Bacteria;p__Bacteroidota;c__Bacteroidia;o__Bacteroidales;f__Muribaculaceae;"
     "g__uncultured", "f__Muribaculaceae;g__uncultured"),
    ("Faecalibacterium prausnitzii", "Faecalibacterium prausnitzii"),
])
def test_short_names(feature, label):
    assert short_name(feature) == label


def test_overview_and_top_figures_for_numeric_and_categorical_terms(tmp_path):
    rng = np.random.default_rng(1)
    n = 40
    group = np.repeat(["ctl", "case"], n // 2)
    age = rng.normal(50, 8, n)
    counts = rng.poisson(50, size=(n, 6)).astype(float)
    counts[:, 0] *= np.where(group == "case", 4, 1)   # a planted group effect
    counts[:, 1] *= np.exp((age - 50) / 8)              # a planted age effect
    meta = pd.DataFrame({"group": group, "age": age}, index=[f"s{i}" for i in range(n)])
    table = ProfileTable.from_dataframe(pd.DataFrame(counts, index=meta.index,
                                                     columns=[f"taxon/{i}" for i in range(6)]))
    results = associate(Cohort(table, meta), fixed=["group", "age"],
                        reference={"group": "ctl"})
    written = write_association_plots(results, tmp_path / "figures", top=3)
    names = [p.name for p in written]
    assert names[0] == "overview.png" and "report.html" not in names  # the report is beside
    assert any("group_case" in name for name in names[1:])
    assert any(name.endswith("_age.png") for name in names[1:])
    assert all("/" not in name for name in names)
    assert all(p.stat().st_size > 5_000 for p in written)


def test_forest_draws_the_median_null_dashed_only_when_it_is_not_zero() -> None:
    from gutaxis.report.association_plots import forest_figure

    rows = pd.DataFrame({"coef": [0.4, 0.01], "ci_low": [0.3, -0.02], "ci_high": [0.5, 0.03],
                         "evidence": ["stronger", "stronger"], "feature": ["MGB047", "MGB006"],
                         "metadata": ["pain", "pain"], "value": ["pain", "pain"]})

    def dashed(fig) -> list[float]:  # type: ignore[no-untyped-def]
        return [line.get_xdata()[0] for line in fig.axes[0].lines
                if line.get_linestyle() == "--"]

    assert dashed(forest_figure(rows, xlabel="x", labels=["a", "b"], null=-0.12)) == [-0.12]
    assert dashed(forest_figure(rows, xlabel="x", labels=["a", "b"])) == []
    assert dashed(forest_figure(rows, xlabel="x", labels=["a", "b"], null=0.0)) == []

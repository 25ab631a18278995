"""Forest and funnel plots of a meta-analysis are drawn as PNG files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gutaxis.report.meta_plots import plot_forest, plot_funnel
from gutaxis.stats.meta.analysis import meta_analysis

BCG = Path(__file__).resolve().parents[1] / "reference" / "metafor" / "input_bcg.tsv"
PNG = b"\x89PNG\r\n\x1a\n"


def test_forest_and_funnel_plots_are_pngs_with_subgroups_and_filled_studies(tmp_path):
    results = meta_analysis(pd.read_csv(BCG, sep="\t", dtype=str), measure="RR",
                            method="DL", subgroup="alloc")
    assert results.bias is not None and results.bias.trimfill.k0 == 1  # as metafor
    for plot, name in [(plot_forest, "forest.png"), (plot_funnel, "funnel.png")]:
        path = plot(results, tmp_path / name)
        assert path.read_bytes()[:8] == PNG


def test_plots_of_a_difference_measure_without_bias_tests(tmp_path):
    table = pd.DataFrame({"yi": [0.1, 0.5], "vi": [0.02, 0.03]})
    results = meta_analysis(table, measure="GEN", method="FE")
    assert results.bias is None
    assert plot_forest(results, tmp_path / "f.png").read_bytes()[:8] == PNG
    assert plot_funnel(results, tmp_path / "u.png").read_bytes()[:8] == PNG

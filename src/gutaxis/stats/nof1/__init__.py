"""n-of-1: one subject's outcomes across intervention phases.

Segmented regression (level and slope change) with AR(1) errors fitted by batched GLS
(:func:`fit_gls_ar1`, checked against ``nlme::gls``), the probability of a clinically
important fall (:func:`analyze_nof1`), randomised designs analysed as they were run
(:func:`randomisation_test`, :func:`paired_block_effect`), the everyday-factor scan
(:func:`everyday_factors`) and the pipeline behind ``gutaxis nof1`` (:func:`run_nof1`).
"""

from gutaxis.stats.nof1.analysis import (
    OverReadingWarning,
    ShortSeriesWarning,
    analyze_nof1,
    analyze_phases,
)
from gutaxis.stats.nof1.design import PhaseSeries, prepare_series, segmented_design
from gutaxis.stats.nof1.factors import FactorScan, everyday_factors
from gutaxis.stats.nof1.gls import AR1Fit, IntegratedCoefficient, fit_gls_ar1, integrate_phi
from gutaxis.stats.nof1.pipeline import Nof1Run, read_series, run_nof1
from gutaxis.stats.nof1.randomised import (
    RandomisationTest,
    pair_blocks,
    paired_block_effect,
    randomisation_test,
)
from gutaxis.stats.nof1.record import series_from_record
from gutaxis.stats.nof1.results import Nof1Effect, Nof1Results, OutcomeFit

__all__ = [
    "AR1Fit",
    "FactorScan",
    "IntegratedCoefficient",
    "Nof1Effect",
    "Nof1Results",
    "Nof1Run",
    "OutcomeFit",
    "OverReadingWarning",
    "PhaseSeries",
    "RandomisationTest",
    "ShortSeriesWarning",
    "analyze_nof1",
    "analyze_phases",
    "everyday_factors",
    "fit_gls_ar1",
    "integrate_phi",
    "pair_blocks",
    "paired_block_effect",
    "prepare_series",
    "randomisation_test",
    "read_series",
    "run_nof1",
    "segmented_design",
    "series_from_record",
]

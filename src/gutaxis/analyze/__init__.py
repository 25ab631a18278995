"""The whole analysis of one cohort (``gutaxis analyze``): data checks, diversity,
community, per-feature scan, classifier and mediation, one configuration, one report.

This layer sits above :mod:`gutaxis.report` and below :mod:`gutaxis.cli`.
"""

from gutaxis.analyze.config import DEFAULTS, config_toml, merge_config, read_config
from gutaxis.analyze.pipeline import STEPS, AnalysisResults, run_analysis

__all__ = ["DEFAULTS", "STEPS", "AnalysisResults", "config_toml", "merge_config",
           "read_config", "run_analysis"]

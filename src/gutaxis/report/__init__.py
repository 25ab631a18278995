"""gutaxis.report: figures and documents from results.

Loaded lazily (PEP 562): the HTML report needs no matplotlib unless it draws figures,
so ``gutaxis associate --no-plots`` never imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gutaxis.report.association_plots import (
        plot_association,
        plot_overview,
        write_association_plots,
    )
    from gutaxis.report.association_report import association_html, write_association_report
    from gutaxis.report.classify_plots import (
        plot_calibration,
        plot_importance,
        plot_roc,
        write_classify_plots,
    )
    from gutaxis.report.community_plots import plot_pcoa
    from gutaxis.report.mediation_plots import plot_mediating_taxa, plot_mediation_paths
    from gutaxis.report.nof1_plots import plot_nof1_timeline
    from gutaxis.report.trial_plots import plot_trial

#: Public name -> the module that defines it.
_HOMES = {
    "plot_association": "gutaxis.report.association_plots",
    "plot_overview": "gutaxis.report.association_plots",
    "write_association_plots": "gutaxis.report.association_plots",
    "association_html": "gutaxis.report.association_report",
    "write_association_report": "gutaxis.report.association_report",
    "plot_trial": "gutaxis.report.trial_plots",
    "plot_nof1_timeline": "gutaxis.report.nof1_plots",
    "plot_mediating_taxa": "gutaxis.report.mediation_plots",
    "plot_mediation_paths": "gutaxis.report.mediation_plots",
    "plot_pcoa": "gutaxis.report.community_plots",
    "plot_calibration": "gutaxis.report.classify_plots",
    "plot_importance": "gutaxis.report.classify_plots",
    "plot_roc": "gutaxis.report.classify_plots",
    "write_classify_plots": "gutaxis.report.classify_plots",
}

__all__ = ["association_html", "plot_association", "plot_calibration", "plot_importance",
           "plot_mediating_taxa", "plot_mediation_paths", "plot_nof1_timeline",
           "plot_overview", "plot_pcoa", "plot_roc", "plot_trial", "write_association_plots",
           "write_association_report", "write_classify_plots"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'gutaxis.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

"""gutaxis.report: figures and documents from results."""

from gutaxis.report.association_plots import (
    forest_figure,
    plot_association,
    plot_overview,
    write_association_plots,
)
from gutaxis.report.association_report import (
    association_html,
    confidence_interval,
    write_association_report,
)

__all__ = ["association_html", "confidence_interval", "forest_figure", "plot_association",
           "plot_overview", "write_association_plots", "write_association_report"]

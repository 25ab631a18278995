"""gutaxis.report: figures and documents from results."""

from gutaxis.report.association_plots import (
    plot_association,
    plot_overview,
    write_association_plots,
)
from gutaxis.report.association_report import (
    association_html,
    write_association_report,
)

__all__ = ["association_html", "plot_association",
           "plot_overview", "write_association_plots", "write_association_report"]

"""gutaxis.report: figures and documents from results."""

from gutaxis.report.association_plots import (
    association_html,
    plot_association,
    plot_overview,
    write_association_plots,
)

__all__ = ["association_html", "plot_association", "plot_overview", "write_association_plots"]

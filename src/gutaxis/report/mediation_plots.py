"""Figures of a mediation analysis: the path diagram, and the top taxa of a taxa scan.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.stats.mediation import MediationResults, TaxaMediationResults

_DPI = 120
_BOX = {"boxstyle": "round,pad=0.4", "facecolor": "#f2f2f2", "edgecolor": "#404040"}
_ARROW = {"arrowstyle": "-|>", "color": "#404040", "lw": 1.3, "shrinkA": 28, "shrinkB": 28}


def _positions(results: MediationResults) -> dict[str, tuple[float, float]]:
    k = len(results.mediators)
    where = {results.exposure: (0.08, 0.35), results.outcome: (0.92, 0.35)}
    for j, name in enumerate(results.mediators):
        if results.serial:
            x = 0.3 + 0.4 * (j / max(k - 1, 1)) if k > 1 else 0.5
            where[name] = (x, 0.78)
        else:
            where[name] = (0.5, 0.85 - 0.5 * j / max(k, 1) if k > 1 else 0.8)
    return where


def _effect_line(effects: pd.DataFrame, name: str, label: str, *, draws: int) -> str:
    row = effects.set_index("effect").loc[name]
    # a replicate p of 0 means no replicate fell on the other side of zero: p < 2/R
    p = f"p < {2 / draws:.2g}" if row["pval"] == 0 and draws > 0 else f"p = {row['pval']:.3g}"
    return f"{label} {row['estimate']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}], {p}"


def mediation_figure(results: MediationResults) -> Figure:
    """The path diagram: variables in boxes, arrows labelled with path coefficients
    (log-odds for logistic models), the effects and their intervals below.

    Parameters
    ----------
    results
        A mediation analysis.
    """
    fig = Figure(figsize=(8.0, 5.0), dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    where = _positions(results)
    for name, (x, y) in where.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=9, bbox=_BOX, wrap=True)
    for row in results.paths.itertuples():
        (x0, y0), (x1, y1) = where[str(row.source)], where[str(row.target)]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops=_ARROW)
        scale = " (log-odds)" if row.model == "logistic" else ""
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.03, f"{row.coefficient:.3g}{scale}",
                ha="center", va="bottom", fontsize=8, color="#1f4e79")
    lines = [_effect_line(results.effects, name, label, draws=results.n_draws)
             for name, label in (("acme", "ACME"), ("ade", "ADE"), ("total", "Total"),
                                 ("prop_mediated", "Prop. mediated"))]
    ax.text(0.5, 0.16, "\n".join(lines), ha="center", va="center", fontsize=8.5,
            family="monospace")
    ax.text(0.5, 0.02, f"{results.treated} vs {results.control}; n = {results.n}; "
            f"{results.method} ({results.n_draws}), {results.ci} {results.level:.0%} "
            "intervals", ha="center", va="bottom", fontsize=7.5, color="#606060")
    return fig


def taxa_figure(results: TaxaMediationResults, *, top: int = 20) -> Figure:
    """ACME with its bootstrap interval for the ``top`` taxa with the smallest
    joint-significance p-values; taxa passing the FDR in red.

    Parameters
    ----------
    results
        A taxa-as-mediators scan.
    top
        How many taxa to show.
    """
    order = results.paths.sort_values("p_joint").head(top)
    acme = results.effects[results.effects["effect"] == "acme"].set_index("mediator")
    rows = acme.loc[order["mediator"]]
    fig = Figure(figsize=(8.0, 1.2 + 0.3 * len(rows)), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    passing = (order["qval"] <= results.fdr).to_numpy()
    colours = np.where(passing, "#b2182b", "#404040")
    ax.errorbar(rows["estimate"], y, xerr=[rows["estimate"] - rows["ci_low"],
                                          rows["ci_high"] - rows["estimate"]],
                fmt="none", ecolor="#9e9e9e", lw=1)
    ax.scatter(rows["estimate"], y, c=colours, s=18, zorder=3)
    ax.axvline(0, color="#606060", lw=0.8, ls="--")
    ax.set_yticks(y, [_taxon_label(str(m)) for m in rows.index], fontsize=7)
    ax.set_xlabel(f"ACME of {results.exposure} on {results.outcome} through the taxon")
    ax.set_title(f"Top {len(rows)} of {len(results.paths)} taxa by joint-significance p "
                 f"({int(passing.sum())} shown pass FDR {results.fdr:g})", fontsize=9)
    return fig


def _taxon_label(lineage: str) -> str:
    """The last named rank, with its parent when the last is empty or uncultured."""
    parts = [p for p in lineage.split(";") if p]
    last = parts[-1] if parts else lineage
    name = last.split("__", 1)[-1].strip().lower()
    if len(parts) > 1 and (not name or name.startswith("uncultured")):
        return ";".join(parts[-2:])
    return last


def plot_mediation_paths(results: MediationResults, path: str | Path, *,
                         svg: bool = False) -> list[Path]:
    """Write the path diagram as PNG (and SVG beside it with ``svg=True``).

    Parameters
    ----------
    results
        A mediation analysis.
    path
        The PNG to write.
    svg
        Also write ``path`` with the suffix ``.svg``.
    """
    return _save(mediation_figure(results), Path(path), svg=svg)


def plot_mediating_taxa(results: TaxaMediationResults, path: str | Path, *, top: int = 20,
                        svg: bool = False) -> list[Path]:
    """Write the top-taxa figure (:func:`taxa_figure`) as PNG (and SVG).

    Parameters
    ----------
    results
        A taxa-as-mediators scan.
    path
        The PNG to write.
    top
        How many taxa to show.
    svg
        Also write ``path`` with the suffix ``.svg``.
    """
    return _save(taxa_figure(results, top=top), Path(path), svg=svg)


def _save(fig: Figure, path: Path, *, svg: bool) -> list[Path]:
    fig.savefig(path, format="png")
    written = [path]
    if svg:
        fig.savefig(path.with_suffix(".svg"), format="svg")
        written.append(path.with_suffix(".svg"))
    return written

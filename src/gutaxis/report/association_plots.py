"""Figures of an association scan: a volcano-style overview and, for the top
associations, the feature against the metadata (scatter for a number, boxes for a
categorical variable).

Figures are drawn with matplotlib's object API on an Agg canvas: no global pyplot state,
no display needed, safe in a web worker.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.report.association_words import NOT_SIGNIFICANT, STRONG_EVIDENCE_Q, short_name
from gutaxis.stats.association_results import AssociationResults
from gutaxis.stats.design import level_labels

SIGNIFICANT_COLOUR = "#b2182b"
OTHER_COLOUR = "#9e9e9e"
WEAK_COLOUR = "#ef8a62"
_DPI = 120






def plot_overview(results: AssociationResults, path: str | Path, *, label_top: int = 10) -> Path:
    """Volcano-style overview: coefficient against ``-log10(p)``, one panel per model.

    Points are coloured by evidence (q < 0.05; q up to ``max_significance``; the rest);
    of the ``label_top`` smallest q-values of each panel, the significant ones that do not
    crowd a label drawn before them are labelled with their feature and term.
    Returns the path written.

    Parameters
    ----------
    results
        The association scan.
    path
        Where to write the figure (PNG).
    label_top
        How many of each panel's smallest q-values may be labelled.
    """
    return _save(_overview_figure(results, label_top=label_top), path)


def _overview_figure(results: AssociationResults, *, label_top: int) -> Figure:
    table = results.table.dropna(subset=["coef", "pval"])
    models = [m for m in ("abundance", "prevalence") if (table["model"] == m).any()] or [
        "abundance"]
    fig = Figure(figsize=(7.0, 5.5 * len(models)), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    threshold = results.spec.max_significance
    for k, model in enumerate(models):  # panels stacked: each keeps a readable width
        ax = fig.add_subplot(len(models), 1, k + 1)
        rows = table[table["model"] == model]
        _volcano(ax, rows, threshold, label_top)
        ax.set_title(f"{model} model ({len(rows)} tests)")
    title = f"{results.spec.formula}   [{results.spec.normalization} + {results.spec.transform}]"
    fig.suptitle(textwrap.fill(title, width=100), fontsize=9)
    return fig


def _volcano(ax: Axes, rows: pd.DataFrame, threshold: float, label_top: int) -> None:
    logp = -np.log10(np.clip(rows["pval"].to_numpy(dtype=float), 1e-300, 1.0))
    q = rows["qval"].to_numpy(dtype=float)
    coef = rows["coef"].to_numpy(dtype=float)
    strong_q = min(STRONG_EVIDENCE_Q, threshold)
    classes = ((q > threshold, OTHER_COLOUR, 10, f"q > {threshold:g}"),
               ((q >= strong_q) & (q <= threshold), WEAK_COLOUR, 14,
                f"{strong_q:g} <= q <= {threshold:g}"),
               (q < strong_q, SIGNIFICANT_COLOUR, 14, f"q < {strong_q:g}"))
    for mask, colour, size, label in classes:  # three series: one legend entry each
        ax.scatter(coef[mask], logp[mask], s=size, c=colour, lw=0, alpha=0.8,
                   label=f"{label} ({int(mask.sum())})")
    ax.axvline(0.0, color="black", lw=0.6)
    ax.set_xlabel("coefficient")
    ax.set_ylabel("-log10(p)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), ncol=3, fontsize=8,
              frameon=False, handletextpad=0.2, columnspacing=1.0)
    ax.margins(y=0.12)
    top = rows.assign(logp=logp).nsmallest(label_top, "qval")
    top = top[top["qval"] <= threshold]
    middle = float(np.mean(ax.get_xlim()))
    spread = _spread_out(top["coef"].to_numpy(dtype=float), top["logp"].to_numpy(dtype=float),
                         coef, logp)
    for _, row in top.iloc[spread].iterrows():
        right = row["coef"] > middle  # a label right of the middle extends leftwards
        ax.annotate(f"{short_name(row['feature'])}\n{_term(row)}", (row["coef"], row["logp"]),
                    fontsize=6, xytext=(-3 if right else 3, 3), textcoords="offset points",
                    ha="right" if right else "left")


def _spread_out(x: np.ndarray, y: np.ndarray, all_x: np.ndarray, all_y: np.ndarray,
                *, dx: float = 0.22, dy: float = 0.08) -> list[int]:
    """Positions of the points (in order) that are at least ``dx`` or ``dy`` (fractions of
    the data range) from every point kept before them: labels that do not overlap."""
    span_x = max(float(np.ptp(all_x)) if all_x.size else 1.0, 1e-12)
    span_y = max(float(np.ptp(all_y)) if all_y.size else 1.0, 1e-12)
    kept: list[int] = []
    for i in range(len(x)):  # a handful of labels
        if all(abs(x[i] - x[k]) / span_x > dx or abs(y[i] - y[k]) / span_y > dy
               for k in kept):
            kept.append(i)
    return kept


def forest_figure(rows: pd.DataFrame, *, xlabel: str, labels: list[str] | None = None,
                  null: float | None = None) -> Figure:
    """Forest plot: one line per row of ``rows`` (top first), its ``coef`` as a dot and its
    ``ci_low``..``ci_high`` as a bar; dots coloured by ``evidence`` (``"stronger"`` dark,
    :data:`NOT_SIGNIFICANT` grey, anything else the weak colour).
    ``labels`` name the lines (default: feature and term). ``null``, when the test was not
    against 0 (MaAsLin 3's median comparison), is drawn as a dashed line."""
    n = len(rows)
    fig = Figure(figsize=(7.5, 1.2 + 0.28 * max(n, 1)), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    pos = np.arange(n)[::-1]
    evidence = rows["evidence"].to_numpy()
    strong, none = evidence == "stronger", evidence == NOT_SIGNIFICANT
    coef = rows["coef"].to_numpy(dtype=float)
    spans = np.vstack([coef - rows["ci_low"].to_numpy(dtype=float),
                       rows["ci_high"].to_numpy(dtype=float) - coef])
    for mask, colour, label in ((strong, SIGNIFICANT_COLOUR, "stronger (q < 0.05)"),
                                (~strong & ~none, WEAK_COLOUR, "weak (hypothesis only)"),
                                (none, OTHER_COLOUR, NOT_SIGNIFICANT)):
        if mask.any():  # two series: one legend entry each
            ax.errorbar(coef[mask], pos[mask], xerr=spans[:, mask], fmt="o", ms=4,
                        color=colour, ecolor=colour, elinewidth=1.2, capsize=2, label=label)
    ax.axvline(0.0, color="black", lw=0.6)
    if null is not None and np.isfinite(null) and null != 0.0:
        ax.axvline(null, color=SIGNIFICANT_COLOUR, lw=0.9, ls="--",
                   label=f"median of all features ({null:.2g}): the test's null")
    if labels is None:
        labels = [f"{short_name(r['feature'])}  |  {_term(r)}" for _, r in rows.iterrows()]
    ax.set_yticks(pos, labels, fontsize=8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#e0e0e0", lw=0.6)
    ax.set_axisbelow(True)
    fig.legend(loc="outside upper center", ncol=3, fontsize=8, frameon=False)
    return fig


def plot_association(results: AssociationResults, row: pd.Series, *, path: str | Path) -> Path:
    """One association: the modelled (normalised, transformed) feature values against the
    metadata variable of ``row`` (a row of ``results.table``). Returns the path written.

    Parameters
    ----------
    results
        The association scan.
    row
        The association to draw: a row of ``results.table``.
    path
        Where to write the figure (PNG).
    """
    feature, var = str(row["feature"]), str(row["metadata"])
    y = results.values[feature]
    x = results.covariates.loc[y.index, var]
    fig = Figure(figsize=(5.5, 4.5), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    spec = results.spec
    if var in spec.levels:
        _boxes(ax, x, y, spec.levels[var])
    elif set(pd.unique(x.dropna())) <= {0, 1}:  # a 0/1 indicator reads as two groups
        _boxes(ax, x.map({0: "0", 1: "1"}), y, ("0", "1"))
    else:
        _scatter(ax, x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    ax.set_xlabel(var)
    modelled = [step for step in (spec.normalization, spec.transform) if step != "NONE"]
    ax.set_ylabel(short_name(feature) + (f"\n({' + '.join(modelled)})" if modelled else ""))
    ax.set_title(f"{_term(row)}: coef {row['coef']:.3g} ± {row['stderr']:.2g}, "
                 f"q = {row['qval']:.2g}  [{row['model']}]", fontsize=9)
    return _save(fig, path)


def _scatter(ax: Axes, x: np.ndarray, y: np.ndarray) -> None:
    ax.scatter(x, y, s=14, c="#2166ac", alpha=0.7, lw=0)
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.sum() > 2 and np.ptp(x[finite]) > 0:
        slope, intercept = np.polyfit(x[finite], y[finite], 1)
        grid = np.linspace(x[finite].min(), x[finite].max(), 50)
        ax.plot(grid, intercept + slope * grid, color=SIGNIFICANT_COLOUR, lw=1.2,
                label="marginal least-squares line")
        ax.legend(loc="best", fontsize=7, frameon=False)


def _boxes(ax: Axes, x: pd.Series, y: pd.Series, levels: tuple[str, ...]) -> None:
    labels = level_labels(x).to_numpy()
    values = y.to_numpy(dtype=float)
    groups = [values[(labels == level) & np.isfinite(values)] for level in levels]
    ax.boxplot(groups, tick_labels=list(levels), showfliers=False)
    rng = np.random.default_rng(0)  # fixed jitter: the same figure every run
    for k, values in enumerate(groups):
        ax.scatter(k + 1 + rng.uniform(-0.15, 0.15, len(values)), values, s=10,
                   c="#2166ac", alpha=0.6, lw=0)


def write_association_plots(
    results: AssociationResults, out_dir: str | Path, *, top: int = 10
) -> list[Path]:
    """Write ``overview.png`` and one figure per top significant abundance association
    whose fit is not flagged (``error`` empty; at most ``top``, by q-value) into
    ``out_dir``; return the paths written. The HTML report is
    :func:`gutaxis.report.write_association_report`.

    Parameters
    ----------
    results
        The association scan.
    out_dir
        The folder to write into (created if needed).
    top
        At most this many per-association figures, smallest q-value first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [plot_overview(results, out / "overview.png")]
    hits = results.significant()
    hits = hits[(hits["model"] == "abundance") & hits["error"].isna()].head(top)
    for rank, (_, row) in enumerate(hits.iterrows(), start=1):  # at most `top` figures
        name = f"{rank:02d}_{_slug(short_name(row['feature']))}_{_slug(_term(row))}.png"
        written.append(plot_association(results, row, path=out / name))
    return written


def _term(row: pd.Series) -> str:
    var, value = str(row["metadata"]), str(row["value"])
    return var if var == value else f"{var}={value}"


def _slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:limit] or "feature"


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    fig.savefig(out)
    return out

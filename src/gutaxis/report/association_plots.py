"""Figures of an association scan: a volcano-style overview and, for the top
associations, the feature against the metadata (scatter for a number, boxes for a
categorical variable).

Figures are drawn with matplotlib's object API on an Agg canvas: no global pyplot state,
no display needed, safe in a web worker.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.stats.association_results import AssociationResults
from gutaxis.stats.design import level_labels

SIGNIFICANT_COLOUR = "#b2182b"
OTHER_COLOUR = "#9e9e9e"
_DPI = 120


#: Taxon names that say nothing alone: the parent rank is shown with them.
_VAGUE_NAMES = ("uncultured", "unclassified", "unidentified", "unknown", "metagenome",
                "incertae sedis")


def short_name(feature: str) -> str:
    """A readable label for a feature id: the deepest assigned rank of a lineage id
    (``"...;f__Lachnospiraceae;g__Roseburia"`` -> ``"g__Roseburia"``; an unassigned genus
    -> ``"f__Lachnospiraceae;g__"``; a vague name keeps its parent:
    ``"f__Muribaculaceae;g__uncultured"``), or the id itself."""
    parts = str(feature).split(";")
    if len(parts) == 1:
        return str(feature)
    assigned = [i for i, part in enumerate(parts) if not part.endswith("__") and part]
    if not assigned:
        return str(feature)
    last = assigned[-1]
    if last == len(parts) - 1 and last > 0 and any(
            vague in parts[last].lower() for vague in _VAGUE_NAMES):
        last -= 1
    return parts[last] if last == len(parts) - 1 else ";".join(parts[last:])


def plot_overview(results: AssociationResults, path: str | Path, *, label_top: int = 10) -> Path:
    """Volcano-style overview: coefficient against ``-log10(p)``, one panel per model.

    Points with ``q <= max_significance`` are coloured; of the ``label_top`` smallest
    q-values of each panel, the significant ones are labelled with their feature and term.
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
    fig = Figure(figsize=(6.5 * len(models), 5.5), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    threshold = results.spec.max_significance
    for k, model in enumerate(models):
        ax = fig.add_subplot(1, len(models), k + 1)
        rows = table[table["model"] == model]
        _volcano(ax, rows, threshold, label_top)
        ax.set_title(f"{model} model ({len(rows)} tests)")
    fig.suptitle(f"{results.spec.formula}   [{results.spec.normalization} + "
                 f"{results.spec.transform}]", fontsize=9)
    return fig


def _volcano(ax: Axes, rows: pd.DataFrame, threshold: float, label_top: int) -> None:
    logp = -np.log10(np.clip(rows["pval"].to_numpy(dtype=float), 1e-300, 1.0))
    hit = rows["qval"].to_numpy(dtype=float) <= threshold
    ax.scatter(rows["coef"][~hit], logp[~hit], s=10, c=OTHER_COLOUR, alpha=0.6, lw=0,
               label=f"q > {threshold:g}")
    ax.scatter(rows["coef"][hit], logp[hit], s=14, c=SIGNIFICANT_COLOUR, lw=0,
               label=f"q <= {threshold:g} ({int(hit.sum())})")
    ax.axvline(0.0, color="black", lw=0.6)
    ax.set_xlabel("coefficient")
    ax.set_ylabel("-log10(p)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.margins(y=0.12)
    top = rows.assign(logp=logp).nsmallest(label_top, "qval")
    for _, row in top[top["qval"] <= threshold].iterrows():  # a handful of labels
        ax.annotate(f"{short_name(row['feature'])}\n{_term(row)}", (row["coef"], row["logp"]),
                    fontsize=6, xytext=(3, 3), textcoords="offset points")


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
    else:
        _scatter(ax, x.to_numpy(dtype=float), y.to_numpy(dtype=float))
    ax.set_xlabel(var)
    ax.set_ylabel(f"{short_name(feature)}\n({spec.normalization} + {spec.transform})")
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
    """Write ``overview.png``, ``report.html`` (self-contained) and one figure per top
    significant abundance association whose fit is not flagged (``error`` empty; at most
    ``top``, by q-value) into ``out_dir``; return the paths written.

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
    overview = out / "overview.png"
    png = _png(_overview_figure(results, label_top=10))  # drawn once: file and page
    overview.write_bytes(png)
    report = out / "report.html"
    report.write_text(_html(results, png), encoding="utf-8")
    written = [overview, report]
    hits = results.significant()
    hits = hits[(hits["model"] == "abundance") & hits["error"].isna()].head(top)
    for rank, (_, row) in enumerate(hits.iterrows(), start=1):  # at most `top` figures
        name = f"{rank:02d}_{_slug(short_name(row['feature']))}_{_slug(_term(row))}.png"
        written.append(plot_association(results, row, path=out / name))
    return written


def association_html(results: AssociationResults, *, top: int = 25) -> str:
    """A self-contained HTML page: the model, the overview figure (embedded) and the
    ``top`` significant associations, with links to nothing outside the page.

    Parameters
    ----------
    results
        The association scan to present.
    top
        How many significant associations to list, smallest q-value first.
    """
    return _html(results, _png(_overview_figure(results, label_top=10)), top=top)


def _html(results: AssociationResults, overview_png: bytes, *, top: int = 25) -> str:
    spec = results.spec
    image = base64.b64encode(overview_png).decode("ascii")
    hits = results.significant().head(top)
    shown = pd.DataFrame({
        "feature": hits["feature"].map(short_name), "model": hits["model"],
        "term": [_term(row) for _, row in hits.iterrows()],
        "coef": hits["coef"].map("{:.3g}".format), "stderr": hits["stderr"].map("{:.2g}".format),
        "p": hits["pval"].map("{:.2e}".format), "q": hits["qval"].map("{:.3g}".format),
        "n (nonzero)": hits["n"].astype(str) + " (" + hits["n_nonzero"].astype(str) + ")"})
    facts = "".join(f"<li>{html.escape(line)}</li>" for line in results.summary().splitlines())
    cites = "".join(f"<li>{html.escape(c)}</li>" for c in spec.citations)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>gutaxis association scan"
        "</title><style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
        "</style></head><body><h1>Association scan</h1>"
        f"<ul>{facts}<li>input {html.escape(spec.input_hash)}, gutaxis "
        f"{html.escape(spec.gutaxis_version)}</li></ul>"
        f"<img alt='overview' src='data:image/png;base64,{image}'>"
        f"<h2>Top associations (q &le; {spec.max_significance:g})</h2>"
        + (shown.to_html(index=False, escape=True) if len(shown) else "<p>none</p>")
        + f"<h2>References</h2><ul>{cites}</ul></body></html>\n")


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

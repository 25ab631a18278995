"""Forest and funnel plots of a meta-analysis.

Figures are drawn with matplotlib's object API on an Agg canvas (no pyplot state). Ratio
measures are drawn on the log scale with ratio tick labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.stats.meta.analysis import MetaAnalysis
from gutaxis.stats.meta.effect_sizes import RATIO_MEASURES
from gutaxis.stats.meta.models import MetaFit

STUDY_COLOUR = "#2166ac"
POOLED_COLOUR = "#b2182b"
FILLED_COLOUR = "#9e9e9e"
_DPI = 120
_Z = 1.959963984540054


def plot_forest(results: MetaAnalysis, path: str | Path) -> Path:
    """Forest plot: each study's effect and 95% CI (square sized by weight), the pooled
    estimate (diamond) with its prediction interval (line), and one diamond per subgroup.
    Returns the path written.

    Parameters
    ----------
    results
        The meta-analysis.
    path
        Where to write the figure (PNG).
    """
    studies = results.studies
    pooled = [("Overall", results.overall)]
    pooled += [(f"{results.subgroup_column}={level}", fit)
               for level, fit in results.subgroups.items()]
    rows = studies.k + len(pooled) + 1
    fig = Figure(figsize=(7.5, 1.2 + 0.28 * rows), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    half = _Z * np.sqrt(studies.vi)
    ys = np.arange(rows - 1, rows - 1 - studies.k, -1, dtype=float)
    ax.hlines(ys, studies.yi - half, studies.yi + half, color=STUDY_COLOUR, lw=1)
    sizes = 20 + 180 * results.overall.weights / max(results.overall.weights.max(), 1e-12)
    ax.scatter(studies.yi, ys, s=sizes, marker="s", color=STUDY_COLOUR, zorder=3)
    labels = list(studies.study)
    for i, (label, fit) in enumerate(pooled):
        y = float(len(pooled) - 1 - i)
        _diamond(ax, fit, y)
        labels.append(f"{label} ({fit.method}, k={fit.k})")
    ax.set_yticks(np.concatenate([ys, np.arange(len(pooled) - 1, -1, -1, dtype=float)]))
    ax.set_yticklabels(labels, fontsize=8)
    ax.axvline(0.0, color="black", lw=0.8, ls=":")
    ax.set_ylim(-1, rows)
    _clip_to_studies(ax, studies.yi - half, studies.yi + half, pooled)
    ax.set_xlabel(_axis_label(studies.measure))
    _ratio_ticks(ax, studies.measure)
    ax.set_title(f"Forest plot: {studies.k} studies, I² = {results.overall.i2:.0f}%",
                 fontsize=10)
    return _save(fig, path)


def _diamond(ax: Axes, fit: MetaFit, y: float) -> None:
    low, high = fit.conf_int()[0]
    est = float(fit.coef[0])
    ax.fill([low, est, high, est], [y, y + 0.3, y, y - 0.3], color=POOLED_COLOUR, zorder=3)
    if fit.method != "FE":
        pi_low, pi_high = fit.prediction_interval()
        ax.hlines(y, pi_low, pi_high, color=POOLED_COLOUR, lw=1, zorder=2)


def _clip_to_studies(ax: Axes, lows: np.ndarray, highs: np.ndarray,
                     pooled: list[tuple[str, MetaFit]]) -> None:
    """Fit the x-axis to the studies' intervals and the overall estimate's, so that one
    subgroup of two studies (whose Knapp-Hartung interval can be enormous) does not shrink
    everything else to a point; an interval cut at the edge ends in an arrow head."""
    overall = pooled[0][1]
    ends = [*lows, *highs, *overall.conf_int()[0]]
    if overall.method != "FE":
        ends += list(overall.prediction_interval())
    finite = np.asarray([e for e in ends if np.isfinite(e)])
    if finite.size == 0:
        return
    pad = 0.05 * max(float(np.ptp(finite)), 1e-6)
    low, high = float(finite.min()) - pad, float(finite.max()) + pad
    ax.set_xlim(low, high)
    for i, (_label, fit) in enumerate(pooled):
        y = float(len(pooled) - 1 - i)
        far = [*fit.conf_int()[0]]
        if fit.method != "FE":
            far += list(fit.prediction_interval())
        if min(far) < low:
            ax.plot([low], [y], marker="<", color=POOLED_COLOUR, clip_on=False, zorder=4)
        if max(far) > high:
            ax.plot([high], [y], marker=">", color=POOLED_COLOUR, clip_on=False, zorder=4)


def plot_funnel(results: MetaAnalysis, path: str | Path) -> Path:
    """Funnel plot: effect sizes against their standard errors (inverted axis), the
    pooled estimate with its pseudo 95% limits, and the trim-and-fill studies (open
    circles) when any were filled. Returns the path written.

    Parameters
    ----------
    results
        The meta-analysis.
    path
        Where to write the figure (PNG).
    """
    studies = results.studies
    fig = Figure(figsize=(6.0, 5.0), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    se = np.sqrt(studies.vi)
    top = float(se.max()) * 1.05
    est = float(results.overall.coef[0])
    grid = np.array([0.0, top])
    ax.fill_betweenx(grid, est - _Z * grid, est + _Z * grid, color="#f0f0f0", zorder=0)
    ax.plot(est - _Z * grid, grid, color="black", lw=0.6, ls="--")
    ax.plot(est + _Z * grid, grid, color="black", lw=0.6, ls="--")
    ax.axvline(est, color=POOLED_COLOUR, lw=1)
    ax.scatter(studies.yi, se, color=STUDY_COLOUR, s=24, zorder=3, label="studies")
    if results.bias is not None and results.bias.trimfill.k0 > 0:
        filled = results.bias.trimfill.fit.studies
        k = studies.k
        ax.scatter(filled.yi[k:], np.sqrt(filled.vi[k:]), facecolors="none",
                   edgecolors=FILLED_COLOUR, s=24, zorder=3,
                   label=f"filled by trim-and-fill ({results.bias.trimfill.k0})")
        ax.legend(fontsize=8, loc="best")
    ax.set_ylim(top, 0)
    ax.set_ylabel("standard error")
    ax.set_xlabel(_axis_label(studies.measure))
    _ratio_ticks(ax, studies.measure)
    if results.bias is not None:
        ax.set_title(f"Funnel plot (Egger p = {results.bias.egger_pval:.2g})", fontsize=10)
    return _save(fig, path)


def _axis_label(measure: str) -> str:
    names = {"SMD": "standardized mean difference (Hedges' g)", "MD": "mean difference",
             "ROM": "ratio of means (log scale)", "OR": "odds ratio (log scale)",
             "RR": "risk ratio (log scale)", "RD": "risk difference", "GEN": "effect size"}
    return names.get(measure, measure)


def _ratio_ticks(ax: Axes, measure: str) -> None:
    if measure not in RATIO_MEASURES:
        return
    low, high = ax.get_xlim()
    ratios = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    ticks = np.log(ratios)
    inside = (ticks >= low) & (ticks <= high)
    if inside.sum() > 7:  # a wide range: powers of ten only, so the labels don't collide
        inside &= np.isin(ratios, [0.01, 0.1, 1, 10, 100])
    if inside.sum() < 3:  # a narrow range: ticks at round numbers of the ratio itself
        ratios = np.array([float(f"{r:.2g}") for r in np.exp(np.linspace(low, high, 5))])
        ticks, inside = np.log(ratios), np.ones(len(ratios), dtype=bool)
    ax.set_xticks(ticks[inside])
    ax.set_xticklabels([f"{r:g}" for r in ratios[inside]])
    ax.set_xlim(low, high)


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    fig.savefig(out)
    return out

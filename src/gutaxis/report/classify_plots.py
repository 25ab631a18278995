"""Figures of a classifier run: ROC curves, calibration and feature importances.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display), as
:mod:`gutaxis.report.association_plots`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.report.association_words import short_name
from gutaxis.stats.classify import ClassifierResults

CURVE_COLOUR = "#2166ac"
REPEAT_COLOUR = "#92c5de"
_DPI = 120
#: File types written by :func:`write_classify_plots`.
FORMATS = ("png", "svg")


def roc_points(observed: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False and true positive rates of every threshold, from (0, 0) to (1, 1); tied scores
    enter together.

    Parameters
    ----------
    observed
        ``(n,)`` classes, 0 or 1.
    probability
        ``(n,)`` scores of class 1.
    """
    order = np.argsort(-np.asarray(probability, dtype=float), kind="stable")
    scores = np.asarray(probability, dtype=float)[order]
    hits = np.asarray(observed, dtype=float)[order]
    closes = np.r_[scores[:-1] != scores[1:], True]
    tp = np.cumsum(hits)[closes]
    fp = np.cumsum(1 - hits)[closes]
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def _figure(width: float = 5.5, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_roc(results: ClassifierResults) -> Figure:
    """One ROC curve per repeat (light) and the curve of all repeats pooled (dark).

    Parameters
    ----------
    results
        The classifier run.
    """
    fig = _figure()
    ax = fig.add_subplot()
    frame = results.predictions
    for _, rows in frame.groupby("repeat"):  # one line per repeat (10 by default)
        fpr, tpr = roc_points(rows["observed"].to_numpy(), rows["probability"].to_numpy())
        ax.plot(fpr, tpr, color=REPEAT_COLOUR, lw=0.8, alpha=0.7)
    fpr, tpr = roc_points(frame["observed"].to_numpy(), frame["probability"].to_numpy())
    row = results.performance.set_index("metric").loc["auroc"]
    label = f"mean AUROC {row['estimate']:.3f} ({row['ci_low']:.3f}-{row['ci_high']:.3f})"
    if not np.isnan(row["pval"]):
        label += f", p = {row['pval']:.3g}"
    ax.plot(fpr, tpr, color=CURVE_COLOUR, lw=2, label=label + " (curve: repeats pooled)")
    ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls="--")
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_title(f"{results.spec.model}: {results.spec.positive}", fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_aspect("equal")
    return fig


def plot_calibration(results: ClassifierResults) -> Figure:
    """Observed fraction of positives against mean predicted probability by bin (point
    size by count), with the Brier score.

    Parameters
    ----------
    results
        The classifier run.
    """
    fig = _figure()
    ax = fig.add_subplot()
    table = results.calibration
    ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls="--", label="perfect calibration")
    ax.plot(table["mean_predicted"], table["observed_fraction"], color=CURVE_COLOUR, lw=1)
    sizes = 200 * table["n"] / max(table["n"].max(), 1)
    brier = results.metric("brier")
    ax.scatter(table["mean_predicted"], table["observed_fraction"], s=sizes, c=CURVE_COLOUR,
               label=f"binned predictions (Brier {brier:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed fraction positive")
    ax.set_title("calibration (out-of-fold, all repeats)", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_aspect("equal")
    return fig


def plot_importance(results: ClassifierResults, *, top: int = 20) -> Figure:
    """The ``top`` features by mean absolute importance: mean importance as bars (with
    its standard deviation over outer fits) and, beside each, the fraction of fits that
    selected it.

    Parameters
    ----------
    results
        The classifier run.
    top
        How many features to show.
    """
    rows: pd.DataFrame = results.importance.head(top).iloc[::-1]
    fig = _figure(7.5, 1.2 + 0.28 * max(len(rows), 1))
    ax = fig.add_subplot()
    position = np.arange(len(rows))
    linear = results.spec.model != "rf"
    colours = np.where(rows["importance"] >= 0, "#b2182b", CURVE_COLOUR) if linear else \
        CURVE_COLOUR
    ax.barh(position, rows["importance"], xerr=rows["importance_sd"].fillna(0),
            color=colours, error_kw={"lw": 0.6})
    ax.set_yticks(position, [short_name(str(f)) for f in rows["feature"]], fontsize=7)
    for y, (value, fraction) in enumerate(zip(rows["importance"], rows["selected_fraction"],
                                              strict=True)):
        ax.annotate(f"{fraction:.0%}", (value, y), xytext=(3 if value >= 0 else -3, 0),
                    textcoords="offset points", va="center",
                    ha="left" if value >= 0 else "right", fontsize=6)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("coefficient (log-odds per SD)" if linear else "impurity importance")
    ax.set_title(f"top {len(rows)} features (label: fraction of outer fits selecting it)",
                 fontsize=9)
    return fig


def write_classify_plots(results: ClassifierResults, out_dir: str | Path, *,
                         top: int = 20) -> list[Path]:
    """Write ``roc``, ``calibration`` and ``importance`` figures (PNG and SVG) into
    ``out_dir`` and return the paths.

    Parameters
    ----------
    results
        The classifier run.
    out_dir
        The folder to write into (created if needed).
    top
        Features shown in the importance figure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    figures = {"roc": plot_roc(results), "calibration": plot_calibration(results),
               "importance": plot_importance(results, top=top)}
    for name, fig in figures.items():
        for suffix in FORMATS:
            written.append(out / f"{name}.{suffix}")
            fig.savefig(written[-1])
    return written

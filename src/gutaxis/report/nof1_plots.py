"""The n-of-1 timeline: each outcome over time, phases shaded, washout days marked,
the fitted segments of the segmented regression drawn per phase block.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from gutaxis.stats.nof1.results import Nof1Results, OutcomeFit

_DPI = 120
_PHASE_COLOURS = ("#ffffff", "#d1e5f0", "#fddbc7", "#d9f0d3", "#e7d4e8")
_FIT_COLOUR = "#b2182b"
_POINT_COLOUR = "#4d4d4d"
_WASHOUT_COLOUR = "#bdbdbd"


def plot_nof1_timeline(results: Nof1Results, path: str | Path, *,
                       time_label: str = "time") -> Path:
    """Timeline figure: one panel per outcome, phases shaded, fitted segments drawn.

    Parameters
    ----------
    results
        An n-of-1 analysis with fitted series (:func:`gutaxis.stats.analyze_nof1`).
    path
        Where to write the PNG.
    time_label
        The label of the time axis (e.g. ``day``).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    fits = results.fits
    fig = Figure(figsize=(9.0, 2.6 * max(len(fits), 1) + 0.6), dpi=_DPI,
                 layout="constrained")
    axes = fig.subplots(max(len(fits), 1), 1, sharex=True, squeeze=False)[:, 0]
    phases = list(dict.fromkeys([results.control, *[p for f in fits for p in f.phase]]))
    colours = {p: _PHASE_COLOURS[i % len(_PHASE_COLOURS)] for i, p in enumerate(phases)}
    for ax, fit in zip(axes, fits, strict=False):
        _panel(ax, fit, colours)
    axes[-1].set_xlabel(time_label)
    handles = [Patch(facecolor=colours[p], edgecolor="#999999", label=f"phase {p}")
               for p in phases]
    if results.washout > 0:
        handles.append(Patch(facecolor=_WASHOUT_COLOUR, label="washout (not fitted)"))
    axes[0].legend(handles=handles, loc="upper right", fontsize=8, ncol=len(handles))
    out = Path(path)
    FigureCanvasAgg(fig)
    fig.savefig(out, format="png")
    return out


def _panel(ax: Axes, fit: OutcomeFit, colours: dict[str, str]) -> None:
    """One outcome: shaded phase blocks, points, washout points, fitted segments."""
    t = fit.time
    change = np.flatnonzero(np.r_[True, fit.phase[1:] != fit.phase[:-1], True])
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    for a, b in pairwise(change):
        ax.axvspan(t[a] - step / 2, t[b - 1] + step / 2, color=colours[fit.phase[a]],
                   alpha=0.8, lw=0)
        inside = np.arange(a, b)
        kept = inside[~fit.washout[inside]]
        if len(kept):
            ax.plot(t[kept], fit.fitted[kept], color=_FIT_COLOUR, lw=2)
    ok = np.isfinite(fit.value)
    ax.plot(t[ok & ~fit.washout], fit.value[ok & ~fit.washout], "o", ms=2.5,
            color=_POINT_COLOUR)
    ax.plot(t[ok & fit.washout], fit.value[ok & fit.washout], "o", ms=2.5,
            color=_WASHOUT_COLOUR)
    ax.set_ylabel(fit.outcome)
    ax.margins(x=0)

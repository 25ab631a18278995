"""The figure of a two-arm trial: the outcome from baseline over the visits per arm, the
distribution of the change at the primary visit, and the responders per arm.

Drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from gutaxis.stats.trial import TrialResults

TREATMENT_COLOUR = "#2166ac"
CONTROL_COLOUR = "#b2182b"
_DPI = 120


def plot_trial(results: TrialResults, path: str | Path) -> Path:
    """Three panels: mean outcome (95% CI) from baseline to each visit per arm; change at
    the primary visit per arm (box and points); responders (>= 30%, >= 50%) per arm with
    Wilson intervals. Returns the path written (PNG).

    Parameters
    ----------
    results
        The trial analysis.
    path
        Where to write the figure.
    """
    fig = Figure(figsize=(13.0, 4.4), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    _trajectories(axes[0], results)
    _changes(axes[1], results)
    _responder_bars(axes[2], results)
    better = "lower" if results.lower_is_better else "higher"
    fig.suptitle(f"{results.data.outcome_name}: {results.data.treatment} vs "
                 f"{results.data.control} ({better} is better)", fontsize=11)
    out = Path(path)
    fig.savefig(out)
    return out


def _arms(results: TrialResults) -> tuple[tuple[str, np.ndarray, str], ...]:
    d = results.data
    return ((d.treatment, d.treated, TREATMENT_COLOUR), (d.control, ~d.treated, CONTROL_COLOUR))


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    if n < 2:
        return float(np.mean(values)) if n else np.nan, np.nan
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(values.mean()), float(half)


def _trajectories(ax: Axes, results: TrialResults) -> None:
    d = results.data
    labels = ["baseline", *d.visit_levels]
    for offset, (label, in_arm, colour) in zip((-0.05, 0.05), _arms(results), strict=True):
        first = np.unique(d.subjects[in_arm], return_index=True)[1]
        points = [_mean_ci(d.baseline[in_arm][first])]
        points += [_mean_ci(d.outcome[in_arm & (d.visits == k)])
                   for k in range(len(d.visit_levels))]
        mean, half = np.array(points).T
        ax.errorbar(np.arange(len(labels)) + offset, mean, yerr=half, color=colour, marker="o",
                    capsize=3, label=label)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylabel(f"mean {d.outcome_name} (95% CI)")
    ax.set_title("Baseline to follow-up")
    ax.legend(frameon=False)


def _changes(ax: Axes, results: TrialResults) -> None:
    p = results.primary
    change = p.outcome - p.baseline
    groups = [change[p.treated], change[~p.treated]]
    ax.boxplot(groups, positions=[0, 1], widths=0.5, showfliers=False)
    jitter = np.random.default_rng(0)  # fixed seed: the same figure every run
    for k, (values, (_, _, colour)) in enumerate(zip(groups, _arms(results), strict=True)):
        ax.scatter(k + jitter.uniform(-0.12, 0.12, len(values)), values, s=12, alpha=0.6,
                   color=colour)
    ax.axhline(0.0, color="#666666", lw=0.8, ls="--")
    ax.set_xticks([0, 1], [p.treatment, p.control])
    ax.set_ylabel(f"change at {results.primary_visit}")
    ax.set_title("Change from baseline")


def _responder_bars(ax: Axes, results: TrialResults) -> None:
    width = 0.38
    for k, cut in enumerate(("30", "50")):
        for j, (label, _, colour) in enumerate(_arms(results)):
            e = results.effect(f"responder_{cut}", f"proportion {label}")
            x = k + (j - 0.5) * width
            ax.bar(x, 100 * e.estimate, width=width * 0.95, color=colour,
                   label=label if k == 0 else None)
            ax.errorbar(x, 100 * e.estimate, color="black", capsize=3,
                        yerr=[[100 * (e.estimate - e.ci_low)], [100 * (e.ci_high - e.estimate)]])
        nnt = results.effect(f"responder_{cut}", "nnt")
        ax.text(k, 102, nnt.note.split(" (")[0], ha="center", fontsize=8)
    ax.set_xticks([0, 1], [">= 30% better", ">= 50% better"])
    ax.set_ylim(0, 110)
    ax.set_ylabel("responders, % (95% CI)")
    ax.set_title("Responders")
    ax.legend(frameon=False, loc="upper right", bbox_to_anchor=(1.0, 0.92))

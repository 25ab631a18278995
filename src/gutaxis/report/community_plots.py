"""The figure of a community test: samples in the first two principal coordinates,
coloured by a metadata column (levels of a factor, or a colour scale for a number)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gutaxis.compute import Backend
from gutaxis.data.distance import DistanceMatrix
from gutaxis.gut.distance_store import StoredDistances
from gutaxis.gut.ordination import pcoa
from gutaxis.gut.pcoa_stored import pcoa_stored
from gutaxis.stats.design import is_numeric_column, level_labels, r_level_order

_DPI = 120


def plot_pcoa(distances: DistanceMatrix | StoredDistances, metadata: pd.DataFrame, *,
              path: str | Path, column: str, title: str | None = None,
              backend: Backend | None = None) -> Path:
    """PCoA (first two axes) of ``distances``, samples coloured by ``column``.

    Samples without a value in ``column`` are drawn in grey. Returns the path written.

    Parameters
    ----------
    distances
        The distance matrix; or a store, never loaded: its first two axes are then the
        randomised PCoA (:func:`~gutaxis.gut.pcoa_stored.pcoa_stored`, matrix products by
        bands on ``backend``), equal to the exact axes to far below a point's size.
    metadata
        Sample metadata indexed by sample id (rows for the matrix's samples).
    path
        Where to write the figure (PNG).
    column
        The metadata column that colours the points.
    title
        Figure title (default: the metric and the column).
    backend
        Where a store's bands are read (:mod:`gutaxis.compute`; default: this process).
    """
    with warnings.catch_warnings():  # negative eigenvalues are expected (Bray-Curtis)
        warnings.simplefilter("ignore")
        ordination = (pcoa_stored(distances, n_components=2, backend=backend)
                      if isinstance(distances, StoredDistances) else
                      pcoa(distances, n_components=2))
    coords = ordination.coordinates.to_numpy()[:, :2]
    share = ordination.proportion_explained.to_numpy()[:2]
    values = metadata.reindex(pd.Index(distances.ids))[column]
    fig = Figure(figsize=(6.5, 5.0), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    missing = values.isna().to_numpy()
    if missing.any():
        ax.scatter(coords[missing, 0], coords[missing, 1], s=16, c="#bdbdbd", lw=0,
                   label="missing")
    if is_numeric_column(values):
        points = ax.scatter(coords[~missing, 0], coords[~missing, 1], s=18, lw=0,
                            c=values[~missing].to_numpy(dtype=np.float64), cmap="viridis")
        fig.colorbar(points, ax=ax, label=column)
    else:
        labels = level_labels(values[~missing]).to_numpy()
        for k, level in enumerate(r_level_order(values)):
            at = np.flatnonzero(~missing)[labels == level]
            ax.scatter(coords[at, 0], coords[at, 1], s=18, lw=0, alpha=0.85,
                       color=f"C{k % 10}", label=level)
        ax.legend(title=column, fontsize="small", frameon=False)
    ax.set_xlabel(f"PC1 ({100 * share[0]:.1f}%)")
    ax.set_ylabel(f"PC2 ({100 * share[1]:.1f}%)")
    ax.set_title(title or f"PCoA of {distances.metric or 'distances'} by {column}")
    path = Path(path)
    fig.savefig(path)
    return path

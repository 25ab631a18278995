"""Alpha diversity by sample blocks on a compute back-end.

Every alpha metric of :mod:`gutaxis.gut.alpha` is a function of one sample's row (and the
tree), so the table is cut into blocks of samples, each block is sent to one task, and
the per-block frames are stacked in order: the same numbers as
:func:`~gutaxis.gut.alpha.alpha_diversity` on the whole table, bit for bit. A worker holds
one block (not the whole table).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.compute.backend import Backend, LocalBackend
from gutaxis.compute.blocks import blocks_of
from gutaxis.data.profile import ProfileTable
from gutaxis.gut.alpha import alpha_diversity
from gutaxis.io.biom_blocks import BiomBlocks

__all__ = ["SAMPLE_BLOCK", "alpha_diversity_blocks"]

#: Default samples per task.
SAMPLE_BLOCK = 2_000


def _alpha_block(block: ProfileTable, metrics: list[str], shannon_base: float
                 ) -> tuple[pd.DataFrame, list[tuple[type[Warning], str]]]:
    """Task: the alpha metrics of one block of samples, and the warnings they raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = alpha_diversity(block, metrics=metrics, shannon_base=shannon_base)
    return frame, [(w.category, str(w.message)) for w in caught]


def _alpha_read_block(rows: range, reader: BiomBlocks, metrics: list[str],
                      shannon_base: float) -> tuple[pd.DataFrame, list[tuple[type[Warning], str]]]:
    """Task: read one block of samples from the file, then as :func:`_alpha_block`."""
    return _alpha_block(reader.read(rows), metrics, shannon_base)


def alpha_diversity_blocks(table: ProfileTable | BiomBlocks, *,
                           metrics: Sequence[str] | None = None,
                           shannon_base: float = math.e, backend: Backend | None = None,
                           block: int = SAMPLE_BLOCK) -> pd.DataFrame:
    """:func:`~gutaxis.gut.alpha.alpha_diversity`, run by blocks of ``block`` samples.

    Parameters
    ----------
    table, metrics, shannon_base
        As for :func:`~gutaxis.gut.alpha.alpha_diversity` (checked here first, on the
        first sample, so bad input fails before any task runs). Warnings raised in the
        blocks (e.g. no singletons for ``chao1`` in a block) are issued here, once each.
        ``table`` may be a reader of a BIOM file
        (:func:`~gutaxis.io.biom_blocks.open_biom_blocks`): each task then reads its own
        block of samples from the file (workers must see it), and no process holds the
        whole table.
    backend
        Where the blocks run (default: this process).
    block
        Samples per task (a reader's own blocks are used instead).

    Returns
    -------
    pandas.DataFrame
        Equal to ``alpha_diversity(table, metrics=metrics)``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[1.0, 1.0], [4.0, 0.0], [2.0, 2.0]]),
    ...                  ["a", "b", "c"], ["x", "y"])
    >>> alpha_diversity_blocks(t, metrics=["observed_features"], block=2)[
    ...     "observed_features"].tolist()
    [2.0, 1.0, 2.0]
    """
    reader = table if isinstance(table, BiomBlocks) else None
    if reader is not None:
        first = reader.read(range(0, min(1, reader.n_samples)))
    else:
        assert isinstance(table, ProfileTable)
        first = table.subset_samples(np.arange(min(1, table.n_samples)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = list(alpha_diversity(first, metrics=metrics, shannon_base=shannon_base).columns)
    runner = backend or LocalBackend()
    if reader is not None:
        results = runner.map(_alpha_read_block, reader.blocks(), runner.share(reader), names,
                             shannon_base, step="alpha diversity")
    else:
        assert isinstance(table, ProfileTable)
        pieces = [table.subset_samples(np.arange(rows.start, rows.stop))
                  for rows in blocks_of(table.n_samples, block)]
        results = runner.map(_alpha_block, pieces, names, shannon_base, step="alpha diversity")
        if not results:
            return alpha_diversity(table, metrics=names, shannon_base=shannon_base)
    seen: set[tuple[type[Warning], str]] = set()
    for category, message in (w for _, caught in results for w in caught):
        if (category, message) not in seen:  # once each, pointing at the caller's line
            seen.add((category, message))
            warnings.warn(message, category, stacklevel=2)
    return pd.concat([frame for frame, _ in results])

"""Gut summaries (and the inferred metabolic guilds) by sample blocks on a compute back-end.

Every column of :func:`~gutaxis.gut.summaries.gut_summary` and of
:func:`~gutaxis.gut.guilds.metabolic_guilds` is a function of one sample's row (and the
feature lineages, the same in every block), except three whole-cohort quantities, which
the caller handles:

- the dysbiosis score compares each sample with the *reference* samples: the caller
  gathers the reference samples' proportions (sparse, from the blocks) and the subject
  codes of the whole cohort, and every task gets them once;
- the ``dysbiotic`` flag is a percentile of the reference's own scores: computed in the
  caller on the stacked scores;
- the warning about NaN values counts reasons over all samples: issued by the caller.

So the frame equals the in-memory one bit for bit (tested on the fibromyalgia cohort).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.compute.backend import Backend, LocalBackend
from gutaxis.compute.blocks import BAND_BYTES, blocks_of
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.dysbiosis import _as_relative, _sample_mask, median_reference_distance
from gutaxis.gut.guilds import metabolic_guilds
from gutaxis.gut.summaries import finish_summary, summary_frame
from gutaxis.io.biom_blocks import BiomBlocks

__all__ = ["SAMPLE_BLOCK", "gut_summary_blocks", "with_inferred_guilds"]

#: Default samples per task.
SAMPLE_BLOCK = 2_000


@dataclass(frozen=True)
class _Reference:
    """What the dysbiosis score of any block needs (sent to each worker once)."""

    table: ProfileTable  # the reference samples, as proportions
    owner: np.ndarray  # subject code of every sample of the cohort
    reference_owner: np.ndarray  # ... of every reference sample


def _summary_block(item: tuple[range, ProfileTable | None], reader: BiomBlocks | None,
                   reference: _Reference | None, guilds: bool
                   ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.Series | None]:
    """Task: the per-sample summary of samples ``rows`` (``piece``, or read from
    ``reader``), and the guild shares and notes when ``guilds``."""
    rows, piece = item
    if piece is None:
        assert reader is not None
        piece = reader.read(rows)
    block = piece
    scores = None
    if reference is not None:
        scores = median_reference_distance(_as_relative(block), reference.table,
                                           reference.owner[rows.start:rows.stop],
                                           reference.reference_owner)
    frame = summary_frame(block, scores)
    if not guilds:
        return frame, None, None
    profile = metabolic_guilds(block)
    return frame, profile.shares, profile.notes


def _reference_rows(rows: range, reader: BiomBlocks, mask: np.ndarray) -> ProfileTable:
    """Task: the reference samples among ``rows`` of the file, as proportions."""
    block = _as_relative(reader.read(rows))
    return block.subset_samples(np.flatnonzero(mask[rows.start:rows.stop]))


def gut_summary_blocks(
    table: ProfileTable | BiomBlocks,
    *,
    reference: np.ndarray | Sequence[str] | None = None,
    subjects: np.ndarray | Sequence[object] | None = None,
    guilds: bool = False,
    backend: Backend | None = None,
    block: int = SAMPLE_BLOCK,
) -> pd.DataFrame:
    """:func:`~gutaxis.gut.summaries.gut_summary` by blocks of samples on ``backend``.

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy or named features; or a reader of
        a BIOM file (:func:`~gutaxis.io.biom_blocks.open_biom_blocks`): each task then
        reads its own block (workers must see the file) and no process holds the table.
    reference, subjects
        As for :func:`~gutaxis.gut.summaries.gut_summary` (a mask or the ids of the
        reference samples; one subject per sample).
    guilds
        Also the metabolic-guild shares, as ``gutaxis metrics`` writes them
        (:func:`with_inferred_guilds`).
    backend
        Where the blocks run (default: this process).
    block
        Samples per task (for a reader: at most its own blocks); with a reference, fewer
        when a block's distances to the reference samples would pass 64 MiB.

    Returns
    -------
    pandas.DataFrame
        Equal to ``gut_summary(table, reference=..., subjects=...)`` (with ``guilds``:
        to ``with_inferred_guilds(gut_summary(...), table)[0]``), bit for bit.

    Notes
    -----
    Memory per task: one block of samples, and with a reference the reference samples'
    nonzeros plus a ``block x reference`` float64 matrix of distances. The caller holds
    the ids, the subject codes (one integer per sample), the reference samples'
    nonzeros and the result frame.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> t = ProfileTable(sp.csr_array([[3.0, 1.0], [1.0, 1.0], [0.0, 2.0]]),
    ...                  ["a", "b", "c"], ["Faecalibacterium prausnitzii", "Escherichia coli"])
    >>> gut_summary_blocks(t, block=2)["butyrate_producer_share"].tolist()
    [0.75, 0.5, 0.0]
    """
    reader = table if isinstance(table, BiomBlocks) else None
    ids = np.asarray(table.sample_ids)
    runner = backend or LocalBackend()
    handle = None if reader is None else runner.share(reader)  # sent to each worker once
    mask = None if reference is None else _reference_mask(table, reference, ids)
    shared = None
    if mask is not None:
        shared = runner.share(_gather_reference(table, mask, subjects, runner, handle))
        block = max(1, min(block, BAND_BYTES // (8 * int(mask.sum()))))
    items: list[tuple[range, ProfileTable | None]]
    if reader is not None:
        items = [(rows, None) for rows in blocks_of(reader.n_samples,
                                                    min(reader.block, block))]
    else:
        assert isinstance(table, ProfileTable)
        items = [(rows, table.subset_samples(np.arange(rows.start, rows.stop)))
                 for rows in blocks_of(table.n_samples, block)]
    results = runner.map(_summary_block, items, handle, shared, guilds, step="gut summaries")
    frame = finish_summary(pd.concat([r[0] for r in results]), mask)
    if not guilds:
        return frame
    shares = pd.concat([r[1] for r in results if r[1] is not None])
    notes = pd.concat([r[2] for r in results if r[2] is not None])
    return _merge_guilds(frame, shares, notes)


def _reference_mask(table: ProfileTable | BiomBlocks, reference: np.ndarray | Sequence[str],
                    ids: np.ndarray) -> np.ndarray:
    """The reference samples as a mask (ids or a mask given), refusing an empty set."""
    if isinstance(table, ProfileTable):
        mask = _sample_mask(table, reference, "reference")
    else:  # the ids alone (no values) are enough to place them
        stand_in = ProfileTable(sp.csr_array((ids.size, 1)), ids, np.array(["_"]))
        mask = _sample_mask(stand_in, reference, "reference")
    if not mask.any():
        raise InputError("dysbiosis score needs at least one reference sample",
                         field="reference", found="an empty reference set")
    return mask


def _gather_reference(table: ProfileTable | BiomBlocks, mask: np.ndarray,
                      subjects: np.ndarray | Sequence[object] | None,
                      runner: Backend, handle: object) -> _Reference:
    """The reference samples' proportions (gathered block by block from a reader) and the
    subject codes of the cohort (each sample its own subject without ``subjects``);
    ``handle``: the reader as shared with the workers."""
    n = int(mask.size)
    if subjects is None:
        owner = np.arange(n)
    else:
        raw = np.asarray(subjects, dtype=object)
        if raw.shape != (n,):
            raise InputError("subjects must name one subject per sample", field="subjects",
                             found=raw.shape, expected=f"({n},)")
        owner = pd.factorize(raw)[0]
    if isinstance(table, BiomBlocks):
        pieces = runner.map(_reference_rows, table.blocks(), handle, mask,
                            step="gut summaries (reference samples)")
        values = sp.csr_array(sp.vstack([p.values for p in pieces], format="csr"))
        first = pieces[0]
        ref = ProfileTable(values, table.sample_ids[mask], first.feature_ids, kind=first.kind,
                           taxonomy=first.taxonomy)
    else:
        ref = _as_relative(table).subset_samples(np.flatnonzero(mask))
    return _Reference(ref, owner, owner[mask])


def with_inferred_guilds(summary: pd.DataFrame, table: ProfileTable
                         ) -> tuple[pd.DataFrame, str | None]:
    """The gut summaries with the metabolic-guild shares (``*_inferred``) before ``notes``.

    Functional tables get none (their function is measured: see
    :mod:`gutaxis.gut.modules`); returns the guild lists' version, or ``None``.
    """
    if table.is_functional:
        return summary, None
    guilds = metabolic_guilds(table)
    return _merge_guilds(summary, guilds.shares, guilds.notes), guilds.version


def _merge_guilds(summary: pd.DataFrame, shares: pd.DataFrame, guild_notes: pd.Series
                  ) -> pd.DataFrame:
    ours = summary["notes"].to_numpy(dtype=object)
    theirs = guild_notes.to_numpy(dtype=object)
    notes = np.where(ours == "", theirs, np.where(theirs == "", ours, ours + "; " + theirs))
    frame = pd.concat([summary.drop(columns="notes"), shares], axis=1)
    frame["notes"] = notes.astype(str)
    return frame

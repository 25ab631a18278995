"""The community-test pipeline behind ``gutaxis permanova``: PERMANOVA, optionally PERMDISP
and pairwise PERMANOVA, on one distance matrix (in memory or a Zarr store), written as TSV
files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from gutaxis.compute import Backend
from gutaxis.data.distance import DistanceMatrix
from gutaxis.gut.distance_store import DENSE_LIMIT, StoredDistances
from gutaxis.io.matrix import float_text
from gutaxis.stats.community.pairwise import PairwiseResults, pairwise_permanova
from gutaxis.stats.community.permanova import PermanovaResults, SumsOfSquares, permanova
from gutaxis.stats.community.permdisp import Centre, PermdispResults, permdisp
from gutaxis.version import package_version

#: ``progress(step, done, total)``: the step's name, then permutations (or pairs) done.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CommunityResults:
    """PERMANOVA and, when asked, PERMDISP and pairwise PERMANOVA of one distance matrix.

    Attributes
    ----------
    permanova
        The PERMANOVA table.
    permdisp
        PERMDISP of one column, or ``None``.
    pairwise
        Pairwise PERMANOVA of one column, or ``None``.
    steps_notes
        Notes of the pipeline itself (PERMDISP skipped, or a store loaded for it).
    """

    permanova: PermanovaResults
    permdisp: PermdispResults | None = None
    pairwise: PairwiseResults | None = None
    steps_notes: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """Every note of the parts, then the pipeline's own, once."""
        parts = [self.permanova, self.permdisp, self.pairwise]
        return tuple(dict.fromkeys([*(n for p in parts if p is not None for n in p.notes),
                                    *self.steps_notes]))

    def summary(self) -> str:
        """The parts' summaries, one per line."""
        parts = [self.permanova, self.permdisp, self.pairwise]
        return "\n".join(p.summary() for p in parts if p is not None)

    def to_dir(self, folder: str | Path, *, inputs: dict[str, Path | None]) -> list[Path]:
        """Write ``permanova.tsv`` (and ``permdisp.tsv``, ``permdisp_distances.tsv``,
        ``pairwise.tsv`` when computed) and ``permanova.json`` (settings, version).

        Parameters
        ----------
        folder
            An existing folder.
        inputs
            Input files by role, recorded in the JSON.
        """
        folder = Path(folder)
        written = [_write(self.permanova.table, folder / "permanova.tsv")]
        if self.permdisp is not None:
            written.append(_write(self.permdisp.table, folder / "permdisp.tsv"))
            written.append(_write(self.permdisp.distances.reset_index(),
                                  folder / "permdisp_distances.tsv"))
        if self.pairwise is not None:
            written.append(_write(self.pairwise.table, folder / "pairwise.tsv"))
        pa = self.permanova
        settings = {
            "gutaxis": package_version(), "formula": pa.formula, "by": pa.by, "n": pa.n,
            "permutations": pa.permutations, "seed": pa.seed, "strata": pa.strata,
            "blocks": pa.blocks, "metric": pa.metric,
            "permdisp": None if self.permdisp is None else {
                "column": self.permdisp.column, "centre": self.permdisp.centre},
            "pairwise": None if self.pairwise is None else {
                "column": self.pairwise.column, "correction": self.pairwise.correction},
            "inputs": {k: None if v is None else str(v) for k, v in inputs.items()},
            "notes": list(self.notes),
            "citations": ["Anderson MJ (2001) Austral Ecology 26:32-46",
                          "Anderson MJ (2006) Biometrics 62:245-253",
                          "Oksanen J et al. vegan: Community Ecology Package (adonis2, "
                          "betadisper)"],
        }
        path = folder / "permanova.json"
        path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
        return [*written, path]


def run_community_tests(
    distances: DistanceMatrix | StoredDistances,
    metadata: pd.DataFrame,
    *,
    formula: str,
    by: SumsOfSquares = "terms",
    permutations: int = 999,
    seed: int = 0,
    strata: str | None = None,
    blocks: str | None = None,
    permdisp_column: str | None = None,
    centre: Centre = "centroid",
    pairwise_column: str | None = None,
    correction: str = "BH",
    source: str | None = None,
    progress: Progress | None = None,
    backend: Backend | None = None,
) -> CommunityResults:
    """PERMANOVA of ``formula``, then PERMDISP and pairwise PERMANOVA when columns are named.

    Parameters
    ----------
    distances
        The distance matrix; or a store (:func:`~gutaxis.gut.distance_store.
        open_distance_store`), which PERMANOVA and pairwise PERMANOVA read band by band
        and never load (same tables as in memory: F to 1e-12 relative, p-values equal).
        PERMDISP needs every principal coordinate (an eigendecomposition of the whole
        matrix): up to :data:`~gutaxis.gut.distance_store.DENSE_LIMIT` samples the store is
        loaded for it (the in-memory PERMDISP, noted); above, it is skipped with a note.
    metadata
        Sample metadata indexed by sample id.
    formula, by, permutations, seed, strata, blocks
        As :func:`gutaxis.stats.community.permanova`.
    permdisp_column
        Grouping column of PERMDISP (``None``: skipped).
    centre
        PERMDISP's centre: ``centroid`` or ``median``.
    pairwise_column
        Grouping column of pairwise PERMANOVA (``None``: skipped); its permutations are
        restricted by ``strata`` too.
    correction
        p-value correction over the pairs.
    source
        Names the metadata in errors.
    progress
        Called as ``progress(step, done, total)``.
    backend
        Where the permutations of PERMANOVA, PERMDISP and pairwise PERMANOVA run (and a
        store's bands are read: :mod:`gutaxis.compute`; default: this process); the same
        tables as a local run.

    Returns
    -------
    CommunityResults
    """
    def step(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    main = permanova(distances, metadata, formula=formula, by=by, permutations=permutations,
                     seed=seed, strata=strata, blocks=blocks, source=source,
                     progress=step("PERMANOVA"), backend=backend)
    notes: list[str] = []
    dense = None if permdisp_column is None else _permdisp_distances(distances, notes)
    disp = None if permdisp_column is None or dense is None else permdisp(
        dense, metadata, column=permdisp_column, centre=centre, permutations=permutations,
        seed=seed, source=source, progress=step("PERMDISP"), backend=backend)
    pairs = None if pairwise_column is None else pairwise_permanova(
        distances, metadata, column=pairwise_column, permutations=permutations, seed=seed,
        strata=strata, correction=correction, source=source, progress=step("pairs"),
        backend=backend)
    return CommunityResults(main, disp, pairs, steps_notes=tuple(notes))


def _permdisp_distances(distances: DistanceMatrix | StoredDistances, notes: list[str]
                        ) -> DistanceMatrix | None:
    """The matrix PERMDISP works on: in memory as given; a store loaded whole up to
    :data:`DENSE_LIMIT` samples; ``None`` (skipped, said in ``notes``) above."""
    if not isinstance(distances, StoredDistances):
        return distances
    if distances.n > DENSE_LIMIT:
        notes.append(f"PERMDISP skipped: it needs every principal coordinate of the whole "
                     f"matrix, and the store holds {distances.n:,} samples (more than "
                     f"{DENSE_LIMIT:,} cannot be loaded)")
        return None
    notes.append(f"PERMDISP: the stored matrix ({distances.n:,} samples) was loaded whole "
                 "(PERMDISP needs every principal coordinate)")
    return distances.to_distance_matrix(limit=DENSE_LIMIT)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, sep="\t", index=False, lineterminator="\n", na_rep="",
                 float_format=lambda value: float_text(cast(float, value)))
    return path

"""The metrics pipeline: from a cohort to every diversity output, with provenance.

:func:`run_metrics` is what ``gutaxis metrics`` (and the web app) call: it prepares the
table (aggregate to a rank, leave out empty samples, rarefy), computes the chosen alpha
and beta metrics, a PCoA per distance and the gut-health summaries, and returns a
:class:`MetricsResults` that writes itself to a folder (:meth:`MetricsResults.to_dir`),
as :func:`gutaxis.stats.associate` returns results that do.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import warnings
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.compute import Backend
from gutaxis.data.cohort import Cohort
from gutaxis.data.distance import DistanceMatrix
from gutaxis.data.fingerprint import cohort_hash
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError, preview
from gutaxis.gut.beta import beta_diversity
from gutaxis.gut.distance_store import DENSE_LIMIT, StoredDistances, distance_matrix_to_store
from gutaxis.gut.diversity_metrics import (
    DiversitySettings,
    alpha_table,
    choose_metrics,
    metric_citations,
)
from gutaxis.gut.guilds import GUILD_LABEL, guild_set
from gutaxis.gut.ordination import Ordination, pcoa
from gutaxis.gut.pcoa_stored import pcoa_stored
from gutaxis.gut.summaries import gut_summary
from gutaxis.gut.summary_blocks import gut_summary_blocks, with_inferred_guilds
from gutaxis.io.biom_blocks import BiomBlocks
from gutaxis.version import package_version

__all__ = ["PCOA_AXES", "MetricsResults", "dropped_samples_note", "run_metrics"]

#: Principal coordinates kept per metric (the leading axes; all are rarely read).
PCOA_AXES = 10
#: Aitchison distance's pseudocount (as QIIME 2's default), recorded in the provenance.
AITCHISON_PSEUDOCOUNT = 1.0

#: ``progress(step, done, total)`` is called before each step and once when all are done.
MetricsProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False, kw_only=True)
class MetricsResults:
    """Everything ``gutaxis metrics`` computes, and how.

    Attributes
    ----------
    table
        The table as analysed (after aggregation, dropping and rarefaction).
    settings
        The metrics and their parameters.
    alpha
        One row per sample, one column per alpha metric (QIIME 2 names).
    distances, ordinations
        Per beta metric: the distance matrix and its PCoA (leading :data:`PCOA_AXES`).
        Above :data:`~gutaxis.gut.distance_store.DENSE_LIMIT` samples on a compute
        back-end, a metric has its PCoA (from the store) but no matrix in memory.
    gut_summary
        The gut-health summaries of :func:`gutaxis.gut.gut_summary`, then (taxon tables
        only) the metabolic-guild shares of :func:`gutaxis.gut.guilds.metabolic_guilds`
        in columns ending ``_inferred`` (inferred from taxonomy, not measured function),
        then ``notes``.
    parameters
        The pipeline's own parameters (rank, rarefy, seed, reference, subject, ...).
    notes
        What was done to the input that a person should know (samples left out, a tree
        dropped), in words.
    stores
        On a compute back-end: the Zarr stores of the distance matrices written (folders
        relative to the output folder, ``beta/<metric>.zarr``); empty when run locally.
    compute
        Where the heavy steps ran (``metrics.json``'s ``compute``): ``backend``
        (``local`` or ``dask``), ``scheduler`` (an address, or ``None`` for a
        LocalCluster and local runs), ``workers`` (``None`` for local runs) and
        ``read_by_blocks`` (the workers read the BIOM file themselves).
    """

    table: ProfileTable
    settings: DiversitySettings
    alpha: pd.DataFrame
    distances: dict[str, DistanceMatrix]
    ordinations: dict[str, Ordination]
    gut_summary: pd.DataFrame
    parameters: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: Distance stores written (Zarr folders, relative to the output folder), if any.
    stores: tuple[str, ...] = ()
    compute: dict[str, object] = field(default_factory=lambda: {
        "backend": "local", "scheduler": None, "workers": None, "read_by_blocks": False})

    def summary(self) -> str:
        """One paragraph: what was written and on how much data."""
        done = ", ".join(self.settings.beta_metrics) or "no beta metric"
        return (f"alpha.tsv (shannon_entropy in {entropy_unit(self.settings.shannon_base)}), "
                f"gut_summary.tsv, metrics.json, beta and PCoA for {done} "
                f"({self.table.n_samples} samples, {self.table.n_features} features).")

    def provenance(self, *, inputs: Mapping[str, Path | None] | None = None,
                   outputs: Sequence[str] = ()) -> dict[str, object]:
        """The contents of ``metrics.json``: what was computed, on what, how, what to cite.

        Parameters
        ----------
        inputs
            Files read, by role (``table``, ``tree``, ...): recorded with their SHA-256.
        outputs
            The files written, relative to the output folder.

        ``table_hash`` is :func:`gutaxis.data.fingerprint.cohort_hash` of the table as
        analysed, as ``associate`` records it in ``model.json``.
        """
        cohort = Cohort(self.table, pd.DataFrame(index=pd.Index(self.table.sample_ids)))
        return {
            "method": "gutaxis metrics",
            "gutaxis_version": package_version(),
            "settings": {**self.settings.to_dict(), **self.parameters},
            "shannon_entropy_unit": entropy_unit(self.settings.shannon_base),
            "float_format": "shortest text that reads back to the same float64 (Python repr)",
            "inputs": {name: {"path": str(path), "sha256": file_sha256(path)}
                       for name, path in (inputs or {}).items() if path is not None},
            "table_hash": cohort_hash(cohort),
            "table_kind": self.table.kind,
            "n_samples": self.table.n_samples,
            "n_features": self.table.n_features,
            "outputs": list(outputs),
            "compute": dict(self.compute),
            "citations": list(metric_citations(self.settings)),
        }

    def to_dir(self, path: str | Path, *, inputs: Mapping[str, Path | None] | None = None
               ) -> list[Path]:
        """Write alpha.tsv, beta/, pcoa/, gut_summary.tsv and metrics.json into ``path``.

        Every number is written with one precision, the shortest text that reads back to
        the same float64 (:func:`gutaxis.io.matrix.float_text`). Returns the files written.

        Parameters
        ----------
        path
            The folder to write into (created if needed).
        inputs
            The input files by role (``table``, ``taxonomy``, ``tree``, ``metadata``),
            hashed into ``metrics.json``; ``None`` where a role was not given.
        """
        from gutaxis.io.matrix import write_distance_matrix, write_frame_tsv

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "alpha.tsv"]
        write_frame_tsv(self.alpha, written[0], index_label="sample_id")
        if self.ordinations:
            (out / "beta").mkdir(exist_ok=True)
            (out / "pcoa").mkdir(exist_ok=True)
        for metric, ordination in self.ordinations.items():
            axes = pd.DataFrame({"eigenvalue": ordination.eigenvalues,
                                 "proportion_explained": ordination.proportion_explained})
            files = [out / "pcoa" / f"{metric}.tsv", out / "pcoa" / f"{metric}_axes.tsv"]
            if metric in self.distances:  # above the dense limit: the store only
                files.insert(0, out / "beta" / f"{metric}.tsv")
                write_distance_matrix(self.distances[metric], files[0])
            write_frame_tsv(ordination.coordinates, files[-2], index_label="sample_id")
            write_frame_tsv(axes, files[-1], index_label="axis")
            written += files
        written.append(out / "gut_summary.tsv")
        write_frame_tsv(self.gut_summary, written[-1], index_label="sample_id")
        record = self.provenance(
            inputs=inputs,
            outputs=[*(p.relative_to(out).as_posix() for p in written), *self.stores])
        (out / "metrics.json").write_text(json.dumps(record, indent=2) + "\n")
        return [*written, out / "metrics.json"]


def run_metrics(
    cohort: Cohort,
    *,
    metrics: Sequence[str] | None = None,
    shannon_base: float = 2.0,
    generalized_alpha: float = 0.5,
    rank: str | None = None,
    drop_empty_samples: bool = False,
    rarefy: int | None = None,
    seed: int = 0,
    reference: tuple[str, str] | None = None,
    subject_column: str | None = None,
    progress: MetricsProgress | None = None,
    backend: Backend | None = None,
    store_dir: str | Path | None = None,
    reader: BiomBlocks | None = None,
) -> MetricsResults:
    """Alpha and beta diversity, PCoA and gut-health summaries of every sample.

    Parameters
    ----------
    cohort
        The table (with its taxonomy and tree, if any) and the sample metadata.
    metrics
        Metric names, QIIME 2's (:data:`gutaxis.choices.AlphaMetricName`,
        :data:`gutaxis.choices.BetaMetric`); ``None`` chooses the defaults that apply
        to the table (see :func:`gutaxis.gut.diversity_metrics.choose_metrics`).
    shannon_base
        Logarithm base of ``shannon_entropy`` (2, bits, as QIIME 2; or e).
    generalized_alpha
        ``alpha`` of ``generalized_unifrac``, in [0, 1].
    rank
        Aggregate the features to this rank first (the tree is dropped).
    drop_empty_samples
        Leave out samples whose values are all zero; without it they are an error.
    rarefy
        Rarefy every sample to this many reads first (shallower samples are left out).
    seed
        Seed of the rarefaction.
    reference
        ``(column, value)``: the metadata rows of the dysbiosis score's reference samples.
    subject_column
        Metadata column of subject ids (a sample's own subject is skipped by the
        dysbiosis score); default: the cohort's subject column.
    progress
        Called as ``progress(step, done, total)`` before each step and once at the end.
    backend
        A compute back-end (:mod:`gutaxis.compute`): alpha diversity runs by blocks of
        samples on it and each distance matrix by row bands, written to a Zarr store
        ``store_dir/METRIC.zarr``; the matrix is then read back (same values: Jaccard,
        Aitchison, UniFrac bit for bit, Bray-Curtis to ~1e-16) for the PCoA, or, above
        :data:`~gutaxis.gut.distance_store.DENSE_LIMIT` samples, not read: the PCoA is
        :func:`~gutaxis.gut.pcoa_stored.pcoa_stored` and ``distances`` lacks the metric.
        ``None`` (default): everything in this process, in memory.
    store_dir
        Folder of the distance stores (with a ``backend``; created if needed); ``None``:
        a temporary folder, removed before returning (then the matrices must fit in
        memory). Workers write there: it must be on a filesystem they share.
    reader
        With a ``backend``: a reader of the BIOM HDF5 file the cohort's table was read
        from (:func:`~gutaxis.io.biom_blocks.open_biom_blocks`). When the table as
        analysed is the file's (same samples, features and kind: no ``rank``,
        ``rarefy`` or samples left out), the tasks read their own blocks from it
        (alpha, gut summaries, distance bands) instead of receiving them from this
        process; otherwise it is not used. Same results either way.

    Returns
    -------
    MetricsResults

    Raises
    ------
    InputError
        A parameter out of range, an unknown metric or column, no sample left.
    """
    _check_parameters(shannon_base=shannon_base, generalized_alpha=generalized_alpha)
    table, notes = _prepared_table(cohort.table, rank=rank, drop_empty=drop_empty_samples,
                                   rarefy=rarefy, seed=seed)
    metadata = cohort.metadata.loc[list(table.sample_ids)]
    mask = _reference_mask(metadata, reference)
    subject_column = subject_column or cohort.subject_column
    subjects = None
    if subject_column is not None:
        if subject_column not in metadata.columns:
            raise InputError("subject column not in the metadata", field="subject_column",
                             found=subject_column,
                             expected=_columns_text(metadata))
        subjects = metadata[subject_column].astype(str).to_numpy()
    alpha_names, beta_names = choose_metrics(table, metrics)
    settings = DiversitySettings(alpha_names, beta_names, shannon_base=shannon_base,
                                 generalized_alpha=generalized_alpha)
    step = progress or (lambda name, done, total: None)
    total = 2 + 2 * len(beta_names)
    step("alpha diversity", 0, total)
    source = _block_source(table, reader if table is cohort.table else None, backend)
    alpha = alpha_table(table, settings, backend=backend,
                        source=source if isinstance(source, BiomBlocks) else None)
    distances: dict[str, DistanceMatrix] = {}
    ordinations: dict[str, Ordination] = {}
    stores: list[str] = []
    kept = store_dir is not None  # a temporary folder's stores are not outputs
    with ExitStack() as stack:
        if backend is not None and store_dir is None:
            store_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="gutaxis-"))
        for k, metric in enumerate(beta_names):
            step(f"beta: {metric}", 1 + 2 * k, total)
            if backend is None or store_dir is None:
                distances[metric] = beta_diversity(table, metric,
                                                   generalized_alpha=generalized_alpha)
                step(f"PCoA: {metric}", 2 + 2 * k, total)
                ordinations[metric] = _ordination(distances[metric], metric)
                continue
            stored = _stored_distances(source, metric, Path(store_dir), backend=backend,
                                       generalized_alpha=generalized_alpha)
            stores += [f"{Path(store_dir).name}/{metric}.zarr"] if kept else []
            step(f"PCoA: {metric}", 2 + 2 * k, total)
            if stored.n <= DENSE_LIMIT:
                distances[metric] = stored.to_distance_matrix()
                ordinations[metric] = _ordination(distances[metric], metric)
            else:
                ordinations[metric] = pcoa_stored(stored, n_components=PCOA_AXES,
                                                  backend=backend)
    step("gut summaries", total - 1, total)
    if table.is_functional:
        # taxon shares, ratios and the dysbiosis score describe taxa, not functions
        summary, guilds_version = _functional_note(table), None
        notes.append(f"gut summaries are taxon measures: none for a table of "
                     f"{table.feature_type} features (gutaxis modules profiles KO tables)")
    else:
        summary, guilds_version = _gut_summary(source, mask, subjects, backend)
    step("done", total, total)
    parameters: dict[str, object] = {
        "rank": rank, "rarefy": rarefy, "seed": seed if rarefy is not None else None,
        "reference": None if reference is None else "=".join(reference),
        "subject": subject_column, "aitchison_pseudocount": AITCHISON_PSEUDOCOUNT}
    if guilds_version is not None:
        parameters["metabolic_guilds"] = f"lists v{guilds_version}, {GUILD_LABEL}"
    return MetricsResults(table=table, settings=settings, alpha=alpha, distances=distances,
                          ordinations=ordinations, gut_summary=summary,
                          parameters=parameters, notes=tuple(notes), stores=tuple(stores),
                          compute=_compute_record(backend, read_by_blocks=source is not table))


def _block_source(table: ProfileTable, reader: BiomBlocks | None, backend: Backend | None
                  ) -> ProfileTable | BiomBlocks:
    """``reader``, carrying the table's taxonomy and tree, when its blocks are ``table``'s
    rows (the table as read: not aggregated, rarefied or subset, which the caller checks;
    same samples, features and kind, a plain taxon table) and a back-end runs the blocks;
    else ``table``."""
    if reader is None or backend is None:
        return table
    same = (np.array_equal(reader.sample_ids, table.sample_ids)
            and np.array_equal(reader.feature_ids, table.feature_ids)
            and reader.kind == table.kind and table.feature_type == "taxon"
            and table.unit is None and table.strata is None)
    return replace(reader, taxonomy=table.taxonomy, tree=table.tree) if same else table


def _compute_record(backend: Backend | None, *, read_by_blocks: bool) -> dict[str, object]:
    """``metrics.json``'s ``compute``: where the heavy steps ran."""
    if backend is None or backend.name == "local":
        return {"backend": "local", "scheduler": None, "workers": None,
                "read_by_blocks": read_by_blocks}
    return {"backend": backend.name, "scheduler": getattr(backend, "scheduler", None),
            "workers": backend.n_workers, "read_by_blocks": read_by_blocks}


def _gut_summary(table: ProfileTable | BiomBlocks, reference: np.ndarray | None,
                 subjects: np.ndarray | None, backend: Backend | None
                 ) -> tuple[pd.DataFrame, str | None]:
    """Gut summaries and inferred guilds: in memory, or by blocks of samples on ``backend``
    (the same frame, bit for bit)."""
    if backend is None:
        assert isinstance(table, ProfileTable)
        return with_inferred_guilds(gut_summary(table, reference=reference,
                                                subjects=subjects), table)
    frame = gut_summary_blocks(table, reference=reference, subjects=subjects, guilds=True,
                               backend=backend)
    return frame, guild_set().version


def _functional_note(table: ProfileTable) -> pd.DataFrame:
    return pd.DataFrame(
        {"notes": f"no taxon summaries: the table holds {table.feature_type} features"},
        index=pd.Index(table.sample_ids, name="sample_id"))


def _check_parameters(*, shannon_base: float, generalized_alpha: float) -> None:
    if not (shannon_base > 0 and shannon_base != 1 and math.isfinite(shannon_base)):
        raise InputError("the Shannon logarithm base must be a positive number other than 1",
                         field="shannon_base", found=shannon_base,
                         expected="2 (QIIME 2) or e")
    if not 0.0 <= generalized_alpha <= 1.0:
        raise InputError("generalized UniFrac's alpha out of range", field="generalized_alpha",
                         found=generalized_alpha,
                         expected="a number in [0, 1] (0.5 as QIIME 2)")


def _prepared_table(table: ProfileTable, *, rank: str | None, drop_empty: bool,
                    rarefy: int | None, seed: int) -> tuple[ProfileTable, list[str]]:
    """The table aggregated, without empty samples, rarefied; and notes saying so."""
    notes: list[str] = []
    if rank is not None:
        if table.tree is not None:
            notes.append(f"the tree is dropped after aggregating to {rank}; no Faith PD or "
                         "UniFrac.")
        table = table.aggregate(rank)
    table = _without_empty_samples(table, drop=drop_empty, notes=notes)
    if rarefy is not None:
        before = table.sample_ids
        table = table.rarefy(rarefy, seed=seed)
        notes.append(dropped_samples_note(before, table.sample_ids,
                                          f"fewer than {rarefy} reads"))
        if table.n_samples < 2:
            raise InputError(f"rarefying to {rarefy} reads leaves {table.n_samples} sample(s)",
                             field="rarefy", expected="a depth that keeps at least 2 samples")
    return table, [n for n in notes if n]


def _without_empty_samples(table: ProfileTable, *, drop: bool, notes: list[str]
                           ) -> ProfileTable:
    """``table`` without its all-zero samples when ``drop``; else refuse them by name."""
    empty = table.sample_totals() <= 0
    if not empty.any():
        return table
    if not drop:
        raise InputError(f"{int(empty.sum())} of the {table.n_samples} samples have no reads "
                         "(all values zero); diversity between empty samples is undefined",
                         field="drop_empty_samples", found=preview(table.sample_ids[empty]),
                         expected="samples with at least one nonzero value, or the empty "
                         "ones left out")
    kept = table.drop_empty_samples()
    notes.append(dropped_samples_note(table.sample_ids, kept.sample_ids, "all values zero"))
    if kept.n_samples < 2:
        raise InputError(f"{kept.n_samples} sample(s) left after leaving out the empty ones",
                         field="drop_empty_samples",
                         expected="at least 2 samples with a nonzero value")
    return kept


def _reference_mask(metadata: pd.DataFrame, reference: tuple[str, str] | None
                    ) -> np.ndarray | None:
    """Boolean mask of the samples whose ``column`` is ``value`` (``None`` without one)."""
    if reference is None:
        return None
    column, value = reference
    if column not in metadata.columns:
        raise InputError("reference column not in the metadata", field="reference",
                         found=column, expected=_columns_text(metadata))
    mask = (metadata[column].astype(str) == value).to_numpy()
    if not mask.any():
        levels = sorted(metadata[column].dropna().astype(str).unique())[:10]
        raise InputError(f"no sample has {column} = {value}", field="reference",
                         expected=f"a value among {', '.join(levels)}")
    return mask


def _columns_text(metadata: pd.DataFrame) -> str:
    if not len(metadata.columns):
        return "sample metadata with that column (none was given)"
    return f"one of {', '.join(map(str, metadata.columns))}"


def _stored_distances(table: ProfileTable | BiomBlocks, metric: str, folder: Path, *,
                      backend: Backend, generalized_alpha: float) -> StoredDistances:
    """``metric`` by row bands on ``backend``, written to ``folder/METRIC.zarr``."""
    folder.mkdir(parents=True, exist_ok=True)
    return distance_matrix_to_store(table, metric, folder / f"{metric}.zarr", backend=backend,
                                    pseudocount=AITCHISON_PSEUDOCOUNT,
                                    generalized_alpha=generalized_alpha)


def _ordination(dm: DistanceMatrix, metric: str) -> Ordination:
    """PCoA of ``dm``, its warnings prefixed with the metric's name."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ordination = pcoa(dm, n_components=min(PCOA_AXES, dm.n))
    for w in caught:
        warnings.warn(f"{metric}: {w.message}", w.category, stacklevel=2)
    return ordination


def dropped_samples_note(before: Collection[str], after: Iterable[str], why: str) -> str:
    """``left out N of the M samples (why): a, b, ...``; empty when none was left out."""
    kept = set(after)
    dropped = [s for s in before if s not in kept]
    if not dropped:
        return ""
    return f"left out {len(dropped)} of the {len(before)} samples ({why}): {preview(dropped)}"


def entropy_unit(base: float) -> str:
    """``bits (log base 2)``, ``nats (natural log)`` or ``log base B``."""
    return {2.0: "bits (log base 2)", math.e: "nats (natural log)"}.get(
        base, f"log base {base:g}")


def file_sha256(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()

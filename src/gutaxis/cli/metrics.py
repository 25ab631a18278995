"""``gutaxis metrics``: alpha and beta diversity, PCoA and gut-health summaries.

The command parses its options, reads the cohort (:func:`gutaxis.io.read_cohort`), runs
the engine's pipeline (:func:`gutaxis.gut.pipeline.run_metrics`) and writes its results
safely (:func:`gutaxis.cli.output.output_folder`); the engine is imported when the
command runs, so that ``gutaxis --help`` starts fast.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, get_args

import typer

from gutaxis.choices import AlphaMetricName, BetaMetric, Orientation
from gutaxis.cli.common import (
    Backend,
    DropEmptySamples,
    Force,
    Kind,
    OutFolder,
    PlainHelpCommand,
    Scheduler,
    Strict,
    Workers,
    backend_from_options,
    check_output,
    choice_metavar,
    err_console,
    handle_errors,
    output_folder,
    print_notes,
    progress,
)
from gutaxis.errors import InputError

if TYPE_CHECKING:
    from gutaxis.choices import InputKind
    from gutaxis.io.biom_blocks import BiomBlocks

METRICS_HELP = (
    "Comma-separated metrics, QIIME 2 names: "
    + ", ".join((*get_args(AlphaMetricName), *get_args(BetaMetric)))
    + ". weighted_unifrac is unnormalized, as in QIIME 2. Default: every alpha metric, "
    "braycurtis, jaccard, aitchison and, with a tree, faith_pd, unweighted_unifrac, "
    "weighted_normalized_unifrac and weighted_unifrac.")


def example_paths() -> dict[str, Path]:
    """Files of the synthetic example cohort shipped inside the package."""
    from importlib import resources

    folder = resources.files("gutaxis") / "data" / "examples"
    return {
        "table": Path(str(folder / "example-table.tsv")),
        "taxonomy": Path(str(folder / "example-taxonomy.tsv")),
        "tree": Path(str(folder / "example-tree.nwk")),
        "metadata": Path(str(folder / "example-metadata.tsv")),
    }


def parse_reference(text: str | None) -> tuple[str, str] | None:
    """``COLUMN=VALUE`` -> ``(column, value)``."""
    if text is None:
        return None
    column, sep, value = text.partition("=")
    if not sep:
        raise InputError("--reference must be COLUMN=VALUE", field="--reference", found=text)
    return column, value


def parse_shannon_base(text: str) -> float:
    """``2`` or ``e`` (or another number > 0 other than 1) -> the logarithm base."""
    if text.strip().lower() == "e":
        return math.e
    try:
        base = float(text)
    except ValueError:
        base = math.nan
    if not (base > 0 and base != 1 and math.isfinite(base)):
        raise InputError("--shannon-base must be 2, e or another positive number other than 1",
                         field="--shannon-base", found=text, expected="2 (QIIME 2) or e")
    return base


@handle_errors
def metrics_command(
    out: OutFolder,
    table: Annotated[Path | None, typer.Argument(
        metavar="TABLE", show_default=False,
        help="Microbiome table: BIOM, QIIME 2 .qza, TSV/CSV, MetaPhlAn merged profile, "
        "HUMAnN or PICRUSt2 output (community rows).")
    ] = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="FILE", help="Taxonomy (TSV or .qza).")] = None,
    tree: Annotated[Path | None, typer.Option(
        "--tree", metavar="FILE",
        help="Rooted tree (Newick or .qza) for Faith PD and UniFrac.")] = None,
    metadata: Annotated[Path | None, typer.Option(
        "--metadata", metavar="FILE",
        help="Sample metadata (TSV/CSV, QIIME 2 metadata).")] = None,
    rank: Annotated[str | None, typer.Option(
        "--rank", metavar="RANK",
        help="Aggregate features to this rank first (e.g. genus); drops the tree.")] = None,
    reference: Annotated[str | None, typer.Option(
        "--reference", metavar="COLUMN=VALUE",
        help="Reference samples for the dysbiosis score, e.g. diagnosis=nonIBD.")] = None,
    subject_column: Annotated[str | None, typer.Option(
        "--subject", metavar="COLUMN", help="Metadata column of subject ids (the "
        "dysbiosis score skips a sample's own subject).")] = None,
    orientation: Annotated[Orientation | None, typer.Option(
        "--orientation", metavar=choice_metavar(Orientation),
        help="Table orientation when it cannot be detected.")] = None,
    rarefy: Annotated[int | None, typer.Option(
        "--rarefy", min=1, metavar="DEPTH", help="Rarefy every sample to DEPTH reads first "
        "(samples with fewer are dropped and named); needs counts.")] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed for --rarefy.")] = 0,
    metrics: Annotated[str | None, typer.Option(
        "--metrics", metavar="NAMES", help=METRICS_HELP)] = None,
    generalized_alpha: Annotated[float, typer.Option(
        "--generalized-alpha", metavar="A",
        help="alpha of generalized_unifrac, in [0, 1] (1 = weighted normalized).")] = 0.5,
    shannon_base: Annotated[str, typer.Option(
        "--shannon-base", metavar="BASE",
        help="Logarithm base of shannon_entropy: 2 (bits, as QIIME 2) or e (nats, as "
        "scikit-bio and vegan). Recorded in metrics.json.")] = "2",
    example: Annotated[bool, typer.Option(
        "--example", help="Use the synthetic example cohort shipped with gutaxis.")] = False,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
    kind: Kind = None,
    drop_empty_samples: DropEmptySamples = False,
    strict: Strict = False,
) -> None:
    """Alpha and beta diversity, PCoA and gut summaries.

    Writes into OUT: alpha.tsv (one column per alpha metric, QIIME 2 names),
    beta/METRIC.tsv (distance matrices), pcoa/METRIC.tsv (the 10 leading principal
    coordinates), pcoa/METRIC_axes.tsv (their eigenvalues and proportions explained),
    gut_summary.tsv and metrics.json (settings, version, input hashes, citations).
    gut_summary.tsv also holds metabolic-guild shares (butyrate, propionate,
    tryptophan/indole, GABA, LPS-bearing, mucin-degrading taxa) in columns ending
    _inferred: inferred from taxonomy, not measured function.
    Numbers keep full float64 precision. A summary goes to standard error.
    With --backend dask: alpha and the gut summaries by blocks of samples and each
    distance matrix by row bands on the cluster, also written as a Zarr store
    beta/METRIC.zarr (the workers write it: OUT must be on a filesystem they share);
    a BIOM HDF5 table is read by the workers themselves, block by block (they must see
    the file); above 20,000 samples the square beta/METRIC.tsv is not written and the
    PCoA is randomised, from the store. metrics.json records the back-end used.

    \b
    Examples:
      gutaxis metrics --example --out example-metrics
      gutaxis metrics table.qza --tree rooted-tree.qza --taxonomy taxonomy.qza \\
          --metadata metadata.tsv --reference group=control --out metrics
      gutaxis metrics table.biom --metrics shannon_entropy,braycurtis --out div
      gutaxis metrics table.biom --backend dask --workers 4 --out div-big
    """
    from gutaxis.gut.pipeline import run_metrics
    from gutaxis.io import read_cohort

    check_output(out, folder=True, force=force)  # refuse before any work
    if example:
        if table is not None:
            raise InputError("give either a TABLE or --example, not both", field="TABLE")
        paths = example_paths()
        table, taxonomy, tree, metadata = (paths["table"], paths["taxonomy"], paths["tree"],
                                           paths["metadata"])
        subject_column = subject_column or "subject"
        reference = reference or "group=control"
        err_console().print("Using the synthetic example cohort shipped with gutaxis "
                            "(not real data).")
    if table is None:
        raise InputError("a TABLE (or --example) is needed", field="TABLE")
    base = parse_shannon_base(shannon_base)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        cohort = read_cohort(table, metadata, taxonomy=taxonomy, tree=tree,
                             orientation=orientation, kind=kind, strict=strict)
    print_notes([str(w.message) for w in caught])
    inputs = {"table": table, "taxonomy": taxonomy, "tree": tree, "metadata": metadata}
    with backend_from_options(backend, scheduler, workers) as engine, \
            output_folder(out, force=force) as tmp, progress() as bar, \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        task = bar.add_task("metrics", total=None)
        results = run_metrics(
            cohort, metrics=None if metrics is None else metrics.split(","),
            shannon_base=base, generalized_alpha=generalized_alpha, rank=rank,
            drop_empty_samples=drop_empty_samples, rarefy=rarefy, seed=seed,
            reference=parse_reference(reference), subject_column=subject_column,
            progress=lambda step, done, total: bar.update(task, description=step,
                                                          completed=done, total=total),
            backend=engine, store_dir=None if engine is None else tmp / "beta",
            reader=None if engine is None else _block_reader(table, kind))
        results.to_dir(tmp, inputs=inputs)
    print_notes(list(results.notes))
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console().print(f"warning: {message}", markup=False)
    err_console().print(f"Wrote {out}: {results.summary()}", markup=False)


def _block_reader(table: Path, kind: InputKind | None) -> BiomBlocks | None:
    """A reader of ``table`` by blocks of samples when it is a BIOM HDF5 file (the Dask
    workers then read their own blocks), else ``None``."""
    from gutaxis.io._files import HDF5_MAGIC, head_bytes
    from gutaxis.io.biom_blocks import open_biom_blocks

    if head_bytes(table, 8) != HDF5_MAGIC:
        return None
    return open_biom_blocks(table, kind=kind)


def register(app: typer.Typer) -> None:
    """Add ``metrics`` to the gutaxis app."""
    app.command("metrics", cls=PlainHelpCommand)(metrics_command)

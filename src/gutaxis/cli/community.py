"""``gutaxis permanova``: PERMANOVA (vegan's adonis2), PERMDISP and pairwise PERMANOVA on a
distance matrix (a TSV, or a Zarr distance store read band by band), or on a profile table
with ``--metric``.

The command parses its options, reads the inputs, runs the engine's pipeline
(:func:`gutaxis.stats.community.pipeline.run_community_tests`), draws the PCoA figure
(:func:`gutaxis.report.community_plots.plot_pcoa`) and writes everything at once
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command runs.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gutaxis.choices import BetaMetric, Correction
from gutaxis.cli.common import (
    Backend,
    Force,
    OutFolder,
    PlainHelpCommand,
    Scheduler,
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

if TYPE_CHECKING:  # the engine is imported when the command runs
    from gutaxis.data.distance import DistanceMatrix
    from gutaxis.data.profile import ProfileTable
    from gutaxis.gut.distance_store import StoredDistances

By = Literal["terms", "margin"]
CentreName = Literal["centroid", "median"]


@handle_errors
def permanova_command(
    distance: Annotated[Path, typer.Argument(
        metavar="DISTANCE.tsv", show_default=False,
        help="Square distance matrix TSV (as gutaxis metrics writes in beta/), a distance "
        "store folder (beta/METRIC.zarr, from gutaxis metrics --backend dask; read by "
        "bands, never loaded), or with --metric a microbiome table (BIOM, .qza, TSV/CSV; "
        "functional tables: HUMAnN, PICRUSt2, gutaxis modules' abundance).")],
    metadata: Annotated[Path, typer.Option(
        "--metadata", metavar="FILE", show_default=False,
        help="Sample metadata (TSV/CSV, QIIME 2 metadata); a row for every sample.")],
    formula: Annotated[str, typer.Option(
        "--formula", metavar="TERMS", show_default=False,
        help='Model terms as adonis2 takes them: "group + age", "group * sex" '
        "(a*b = a + b + a:b), \"group + sex + group:sex\". Numbers enter as they are, "
        "other columns as factors (treatment contrasts).")],
    out: OutFolder,
    by: Annotated[By, typer.Option(
        "--by", metavar=choice_metavar(By),
        help="terms: sums of squares added sequentially (order matters); margin: each "
        "term given all others (terms inside an interaction are not tested).")] = "terms",
    strata: Annotated[str | None, typer.Option(
        "--strata", metavar="COLUMN",
        help="Permute only within the levels of COLUMN (e.g. subject, for repeated "
        "measures).")] = None,
    blocks: Annotated[str | None, typer.Option(
        "--blocks", metavar="COLUMN",
        help="Permute whole blocks (the levels of COLUMN, of equal size) as units, e.g. "
        "plots or litters; not with --strata.")] = None,
    permutations: Annotated[int, typer.Option(
        "--permutations", min=0, metavar="N", help="Number of permutations.")] = 999,
    seed: Annotated[int, typer.Option("--seed", metavar="N",
                                      help="Seed of the permutations.")] = 0,
    permdisp: Annotated[str | None, typer.Option(
        "--permdisp", metavar="COLUMN",
        help="Also test equal dispersion of the groups of COLUMN (PERMDISP, betadisper); "
        "writes permdisp.tsv and permdisp_distances.tsv.")] = None,
    centre: Annotated[CentreName, typer.Option(
        "--permdisp-centre", metavar=choice_metavar(CentreName),
        help="PERMDISP centre: centroid, or spatial median (vegan's default).")
    ] = "centroid",
    pairwise: Annotated[str | None, typer.Option(
        "--pairwise", metavar="COLUMN",
        help="Also test every pair of levels of COLUMN (writes pairwise.tsv).")] = None,
    correction: Annotated[Correction, typer.Option(
        "--correction", metavar=choice_metavar(Correction),
        help="p-value correction over the pairs of --pairwise.")] = "BH",
    metric: Annotated[BetaMetric | None, typer.Option(
        "--metric", metavar="NAME",
        help="DISTANCE.tsv is a microbiome table: compute this distance first "
        "(braycurtis, jaccard, aitchison, unweighted_unifrac with --tree, ...).")] = None,
    tree: Annotated[Path | None, typer.Option(
        "--tree", metavar="FILE", help="Rooted tree (Newick or .qza) for UniFrac.")] = None,
    plot: Annotated[bool, typer.Option(
        "--plot/--no-plot", help="Draw pcoa.png, coloured by the first term's column.")
    ] = True,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
) -> None:
    """PERMANOVA (as adonis2), PERMDISP and pairwise tests.

    Writes into OUT: permanova.tsv (term, df, sum_of_squares, r2, f, pval: a row per
    term, then Residual and Total, as adonis2 prints them), permanova.json (settings,
    version, inputs), pcoa.png, and when asked permdisp.tsv, permdisp_distances.tsv and
    pairwise.tsv. Samples with a missing value in a formula (or strata) column are left
    out with a note. A summary goes to standard error.

    A distance store (beta/METRIC.zarr) gives the same files: PERMANOVA and the pairwise
    tests read it band by band (on the cluster with --backend dask), the figure is the
    randomised PCoA of the store, and PERMDISP, which needs the whole matrix, loads it up
    to 20,000 samples and is skipped with a note above.

    \b
    Examples:
      gutaxis permanova metrics/beta/braycurtis.tsv --metadata meta.tsv \\
          --formula "group + age" --permdisp group --pairwise group --out perm
      gutaxis permanova table.biom --metric unweighted_unifrac --tree tree.nwk \\
          --metadata meta.tsv --formula "group * sex" --by margin --out perm-uu
      gutaxis permanova dist.tsv --metadata meta.tsv --formula treatment \\
          --strata subject --permutations 9999 --seed 1 --out perm-paired
      gutaxis permanova metrics/beta/braycurtis.zarr --metadata meta.tsv \\
          --formula "group + age" --backend dask --workers 8 --out perm-big
    """
    from gutaxis.io import read_metadata
    from gutaxis.report.community_plots import plot_pcoa
    from gutaxis.stats.community.formula import parse_formula
    from gutaxis.stats.community.pipeline import run_community_tests

    check_output(out, folder=True, force=force)  # refuse before any work
    terms = parse_formula(formula, field="--formula")
    meta = read_metadata(metadata)
    distances = _read_distances(distance, metadata, metric=metric, tree=tree)
    inputs = {"distance": distance, "metadata": metadata, "tree": tree}
    with backend_from_options(backend, scheduler, workers) as engine:
        with progress() as bar, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = bar.add_task("PERMANOVA", total=None)
            results = run_community_tests(
                distances, meta, formula=formula, by=by, permutations=permutations,
                seed=seed, strata=strata, blocks=blocks, permdisp_column=permdisp,
                centre=centre, pairwise_column=pairwise, correction=correction,
                source=str(metadata), backend=engine,
                progress=lambda step, done, total: bar.update(task, description=step,
                                                              completed=done, total=total))
        print_notes(list(results.notes))
        with output_folder(out, force=force) as tmp:
            results.to_dir(tmp, inputs=inputs)
            if plot:  # a store's PCoA reads its bands on the back-end
                column = terms[0].variables[0]
                plot_pcoa(distances, meta, path=tmp / "pcoa.png", column=column,
                          title=f"PCoA of {distances.metric or distance.name} by {column}",
                          backend=engine)
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console().print(f"warning: {message}", markup=False)
    err_console().print(f"Wrote {out}:\n{results.summary()}", markup=False)


def _read_distances(path: Path, metadata: Path, *, metric: str | None, tree: Path | None
                    ) -> DistanceMatrix | StoredDistances:
    """The distance matrix: read, opened as a store (a folder), or computed from a table
    with ``--metric``."""
    from gutaxis.gut.beta import beta_diversity
    from gutaxis.gut.distance_store import open_distance_store
    from gutaxis.io import read_cohort
    from gutaxis.io.matrix import read_distance_matrix

    if path.is_dir() or path.suffix == ".zarr":
        if metric is not None:
            raise InputError("--metric computes distances from a table, not from a distance "
                             "store", field="--metric", found=str(path),
                             expected="a store without --metric, or a table with it")
        return open_distance_store(path)
    if metric is None:
        if tree is not None:
            raise InputError("--tree is used only with --metric (a table, not a matrix)",
                             field="--tree", expected="--metric NAME with a table")
        return read_distance_matrix(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        cohort = read_cohort(path, metadata, tree=tree, strict=False)
    print_notes([str(w.message) for w in caught])
    from gutaxis.analyze.mechanism import plain_module_table_note

    print_notes([plain_module_table_note(cohort.table) or ""])
    refuse_unfit_table(cohort.table, metric)
    return beta_diversity(cohort.table, metric)


def refuse_unfit_table(table: ProfileTable, metric: str) -> None:
    """Refuse a functional table a distance cannot take: one stratified by taxon (the
    community's functions are wanted, not function x taxon rows) or of coverage values
    (fractions of a pathway detected, not abundances)."""
    from gutaxis.errors import DataKindError

    table.require_unstratified(action=f"{metric} between samples")
    if table.unit == "coverage":
        raise DataKindError(f"{metric} needs abundances, not coverage",
                            found="a coverage table (fraction of each pathway or module "
                                  "detected)",
                            expected="the abundance table (HUMAnN pathabundance, gutaxis "
                                     "modules' abundance)")


def register(app: typer.Typer) -> None:
    """Add ``permanova`` to the gutaxis app."""
    app.command("permanova", cls=PlainHelpCommand)(permanova_command)

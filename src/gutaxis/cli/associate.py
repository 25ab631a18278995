"""``gutaxis associate``: per-feature association scan (MaAsLin 2/3 style)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from gutaxis.choices import Correction, LmmOptimizer, Normalization, Orientation, Transform
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
    note_dropped,
    output_folder,
    print_notes,
    progress,
)
from gutaxis.errors import InputError


def parse_columns(text: str | None, *, option: str) -> list[str]:
    """``"a,b, c"`` -> ``["a", "b", "c"]`` (empty names refused)."""
    if text is None:
        return []
    names = [part.strip() for part in text.split(",")]
    if any(not name for name in names):
        raise InputError("empty column name in a comma-separated list", field=option,
                         found=text, expected="names separated by commas, e.g. age,sex")
    return names


def parse_references(values: list[str] | None) -> dict[str, str]:
    """``["diagnosis=nonIBD", "sex=F,site=A"]`` -> ``{"diagnosis": "nonIBD", ...}``."""
    references: dict[str, str] = {}
    for value in values or []:
        for item in value.split(","):
            var, sep, level = item.partition("=")
            if not sep or not var.strip() or not level.strip():
                raise InputError("a reference is VARIABLE=LEVEL", field="--reference",
                                 found=item, expected="e.g. diagnosis=nonIBD")
            references[var.strip()] = level.strip()
    return references


def parse_levels(values: list[str] | None) -> dict[str, list[str]]:
    """``["group=ctl,mild,severe"]`` -> ``{"group": ["ctl", "mild", "severe"]}`` (one
    variable per value; repeat the option for several)."""
    levels: dict[str, list[str]] = {}
    for value in values or []:
        var, sep, rest = value.partition("=")
        names = [part.strip() for part in rest.split(",")]
        if not sep or not var.strip() or len(names) < 2 or not all(names):
            raise InputError("a level order is VARIABLE=LEVEL1,LEVEL2,...", field="--levels",
                             found=value, expected="e.g. group=ctl,fbm_12_20,fbm_21_25")
        if var.strip() in levels:
            raise InputError("level order given twice for one variable", field="--levels",
                             found=var.strip(), expected="one --levels per variable")
        levels[var.strip()] = names
    return levels


def associate_command(
    table: Annotated[Path, typer.Argument(
        metavar="TABLE", help="Feature table (BIOM, .qza, TSV/CSV, MetaPhlAn; functional "
        "tables: HUMAnN, PICRUSt2, gutaxis modules output).",
        show_default=False)],
    metadata: Annotated[Path, typer.Option(
        "--metadata", metavar="FILE", help="Sample metadata (TSV/CSV, QIIME 2 metadata).",
        show_default=False)],
    out: OutFolder,
    fixed: Annotated[str | None, typer.Option(
        "--fixed", metavar="COLUMNS", help="Fixed effects, comma-separated (may be left out "
        "when --group or --ordered names a variable).", show_default=False)] = None,
    random: Annotated[str | None, typer.Option(
        "--random", metavar="COLUMNS", help="Random-intercept grouping columns, "
        "comma-separated (makes the model an LMM).")] = None,
    reference: Annotated[list[str] | None, typer.Option(
        "--reference", metavar="VAR=LEVEL", help="Reference level of a categorical variable; "
        "repeat or comma-separate. Needed for variables with more than 2 levels.")] = None,
    group: Annotated[str | None, typer.Option(
        "--group", metavar="COLUMNS", help="Categorical variables each tested by one test over "
        "all its levels (MaAsLin 3's group_effects / group(x)): one row per feature and "
        "variable, coef and stderr NA; F test (linear models; sequential, as R's anova, for "
        "LM), likelihood-ratio test (prevalence model). Comma-separated; no reference "
        "needed.")] = None,
    ordered: Annotated[str | None, typer.Option(
        "--ordered", metavar="COLUMNS", help="Categorical variables with ordered levels "
        "(MaAsLin 3's ordered_effects / ordered(x)): each level is tested against the "
        "previous one, one row per level. Give the order with --levels (numbers are "
        "ordered numerically). Comma-separated.")] = None,
    levels: Annotated[list[str] | None, typer.Option(
        "--levels", metavar="VAR=L1,L2,...", help="Level order of a categorical variable, "
        "first level = baseline (reference), e.g. group=ctl,fbm_12_20,fbm_21_25,fbm_26_31; "
        "every level once. Repeat for several variables.")] = None,
    normalization: Annotated[Normalization, typer.Option(
        "--normalization", metavar=choice_metavar(Normalization),
        help="Normalisation of each sample (MaAsLin 2's).")] = "TSS",
    transform: Annotated[Transform, typer.Option(
        "--transform", metavar=choice_metavar(Transform),
        help="Transform of the normalised values (MaAsLin 2's).")] = "LOG",
    min_prevalence: Annotated[float, typer.Option(
        "--min-prevalence", min=0.0, max=1.0, metavar="FRACTION",
        help="Keep features present in more than this fraction of samples.")] = 0.1,
    min_abundance: Annotated[float, typer.Option(
        "--min-abundance", metavar="X",
        help="A feature counts as present where its input value exceeds this.")] = 0.0,
    min_variance: Annotated[float, typer.Option(
        "--min-variance", metavar="X",
        help="Keep features whose input variance exceeds this.")] = 0.0,
    max_significance: Annotated[float, typer.Option(
        "--max-significance", min=0.0, max=1.0, metavar="Q",
        help="q-value threshold of significant_results.tsv.")] = 0.25,
    correction: Annotated[Correction, typer.Option(
        "--correction", metavar=choice_metavar(Correction),
        help="Multiple-testing correction of the p-values.")] = "BH",
    standardize: Annotated[bool, typer.Option(
        "--standardize", help="Z-score numeric fixed effects.")] = False,
    prevalence_model: Annotated[bool, typer.Option(
        "--prevalence-model", help="Also fit presence/absence (logistic) and fit abundance on "
        "each feature's nonzero samples only, as MaAsLin 3 does.")] = False,
    lmm_optimizer: Annotated[LmmOptimizer, typer.Option(
        "--lmm-optimizer", metavar=choice_metavar(LmmOptimizer),
        help="Mixed-model optimiser: newton (fast, exact optimum) or lme4 (lme4's default "
        "stopping point, feature by feature, to reproduce lme4 / MaAsLin 2 output).")
    ] = "newton",
    median_comparison_abundance: Annotated[bool | None, typer.Option(
        "--median-comparison-abundance/--no-median-comparison-abundance",
        help="Test abundance coefficients against the median coefficient of their term "
        "across features (MaAsLin 3's default, for compositional data; off by default with "
        "--unscaled-abundance); --no-... tests against zero (MaAsLin 2).",
        show_default=False)] = None,
    median_comparison_prevalence: Annotated[bool, typer.Option(
        "--median-comparison-prevalence/--no-median-comparison-prevalence",
        help="The same for the prevalence coefficients (MaAsLin 3: off).")] = False,
    median_comparison_abundance_threshold: Annotated[float, typer.Option(
        "--median-comparison-abundance-threshold", min=0.0, metavar="X",
        help="Abundance coefficients closer than this to the median get p = 1.")] = 0.0,
    median_comparison_prevalence_threshold: Annotated[float, typer.Option(
        "--median-comparison-prevalence-threshold", min=0.0, metavar="X",
        help="Prevalence coefficients closer than this to the median get p = 1.")] = 0.0,
    subtract_median: Annotated[bool, typer.Option(
        "--subtract-median", help="Report coefficients minus their term's median.")] = False,
    warn_prevalence: Annotated[bool, typer.Option(
        "--warn-prevalence/--no-warn-prevalence",
        help="Flag prevalence associations that a stronger abundance association may "
        "induce (column induced_by_abundance; MaAsLin 3's warn_prevalence).")] = True,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of the median comparison's simulation.")] = 0,
    strata: Annotated[str | None, typer.Option(
        "--strata", metavar="COLUMN", show_default=False,
        help="Matched-set column (MaAsLin 3's strata_effects): a random intercept per stratum "
        "for abundance, conditional logistic regression within strata for prevalence. Not "
        "with --random.")] = None,
    unscaled_abundance: Annotated[Path | None, typer.Option(
        "--unscaled-abundance", metavar="FILE", show_default=False,
        help="Scaled abundance (MaAsLin 3's unscaled_abundance): a TSV/CSV of sample ids and "
        "one column, named after a spike-in feature of the table or 'total' (total microbial "
        "load). Needs --normalization TSS; every sample needs a value.")] = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="FILE", help="Taxonomy (TSV or .qza).")] = None,
    rank: Annotated[str | None, typer.Option(
        "--rank", metavar="RANK",
        help="Aggregate features to this rank first (needs a taxonomy), e.g. genus.")] = None,
    orientation: Annotated[Orientation | None, typer.Option(
        "--orientation", metavar=choice_metavar(Orientation),
        help="Table orientation when it cannot be detected.")] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write figures/ and draw "
        "the figures of report.html (--no-plots: its tables only).")] = True,
    top: Annotated[int, typer.Option(
        "--top", metavar="N", help="Per-feature figures for this many top associations.")] = 10,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
    kind: Kind = None,
    drop_empty_samples: DropEmptySamples = False,
    strict: Strict = False,
) -> None:
    """Test every feature for association with metadata.

    Fits one model per feature (MaAsLin 2/3 style): a linear model, or a linear mixed
    model with --random. Writes all_results.tsv, significant_results.tsv, model.json,
    report.html (for people) and figures/ into OUT; nothing is written when the input
    is wrong. A summary goes to standard error.

    Abundance coefficients are tested against the median coefficient of their term
    across features (MaAsLin 3's median comparison); --no-median-comparison-abundance
    tests against zero, as MaAsLin 2 does. With --prevalence-model, all_results.tsv also
    has MaAsLin 3's joint p/q-values (pval_joint, qval_joint) and flags. The second
    example runs MaAsLin 3's defaults, the third MaAsLin 2's.

    Functional tables (KEGG orthologs, pathways, modules) are scanned as taxa are, one
    function per row of the results (no --rank); a coverage table needs
    --normalization NONE; a table stratified by taxon is refused.

    \b
    Examples:
      gutaxis associate table.tsv --metadata metadata.tsv --fixed diagnosis,age \\
          --reference diagnosis=nonIBD --out scan
      gutaxis associate table.tsv --metadata metadata.tsv --fixed diagnosis,age \\
          --random subject --reference diagnosis=nonIBD --prevalence-model \\
          --standardize --min-prevalence 0 --max-significance 0.1 --out scan3
      gutaxis associate table.tsv --metadata metadata.tsv --fixed diagnosis,age \\
          --reference diagnosis=nonIBD --no-median-comparison-abundance \\
          --out scan2
      gutaxis associate table.tsv --metadata metadata.tsv --fixed age \\
          --ordered group --levels group=ctl,fbm_12_20,fbm_21_25,fbm_26_31 \\
          --out scan-ord
      gutaxis associate table.tsv --metadata metadata.tsv --fixed antibiotics \\
          --strata subject --prevalence-model --unscaled-abundance load.tsv \\
          --out scan-m3
    """
    from gutaxis.io import read_cohort, read_metadata
    from gutaxis.stats.associate import associate, features_to_test

    fixed_columns = parse_columns(fixed, option="--fixed")  # argument errors before any I/O
    random_columns = parse_columns(random, option="--random")
    references = parse_references(reference)
    group_columns = parse_columns(group, option="--group")
    ordered_columns = parse_columns(ordered, option="--ordered")
    level_orders = parse_levels(levels)
    check_output(out, folder=True, force=force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        cohort = read_cohort(table, metadata, taxonomy=taxonomy,
                             orientation=orientation, kind=kind, strict=strict)
    print_notes([str(w.message) for w in caught])
    from gutaxis.analyze.mechanism import plain_module_table_note

    print_notes([plain_module_table_note(cohort.table) or ""])
    unscaled = None
    if unscaled_abundance is not None:
        unscaled = read_metadata(unscaled_abundance)
        unscaled.attrs["source"] = str(unscaled_abundance)
    if drop_empty_samples:
        kept = cohort.table.drop_empty_samples()
        note_dropped(list(cohort.table.sample_ids), list(kept.sample_ids), "all values zero")
        cohort = cohort.with_table(kept)
    if rank is not None and cohort.table.is_functional:
        print_notes([f"--rank {rank} left out: the table's features are functions "
                     f"({cohort.table.feature_type}), not taxa"])
    elif rank is not None:
        cohort = cohort.with_table(cohort.table.aggregate(rank))
    n_fits = int(features_to_test(cohort.table.values, min_prevalence=min_prevalence,
                                  min_abundance=max(min_abundance, 0.0),
                                  min_variance=max(min_variance, 0.0),
                                  prevalence_model=prevalence_model,
                                  normalization=normalization).sum())
    with backend_from_options(backend, scheduler, workers) as engine, progress() as bar:
        task = bar.add_task("fitting features", total=n_fits)
        results = associate(
            cohort, fixed=fixed_columns, random=random_columns,
            reference=references, normalization=normalization,
            transform=transform, min_prevalence=min_prevalence,
            min_abundance=min_abundance, min_variance=min_variance, standardize=standardize,
            correction=correction, prevalence_model=prevalence_model,
            max_significance=max_significance, lmm_optimizer=lmm_optimizer,
            median_comparison_abundance=median_comparison_abundance,
            median_comparison_prevalence=median_comparison_prevalence,
            median_comparison_abundance_threshold=median_comparison_abundance_threshold,
            median_comparison_prevalence_threshold=median_comparison_prevalence_threshold,
            subtract_median=subtract_median, warn_prevalence=warn_prevalence, seed=seed,
            group=group_columns, ordered=ordered_columns, levels=level_orders,
            strata=strata, unscaled=unscaled, progress=lambda k: bar.advance(task, k),
            backend=engine)
    with output_folder(out, force=force) as tmp:
        results.to_dir(tmp)
        from gutaxis.report.association_report import write_association_report

        write_association_report(results, tmp / "report.html", figures=plots)
        if plots:  # matplotlib is imported only when figures are drawn
            from gutaxis.report import write_association_plots

            write_association_plots(results, tmp / "figures", top=top)
    err_console().print(results.summary(), markup=False)
    err_console().print(f"results in {out}", markup=False)
    err_console().print(f"report: {out / 'report.html'}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``associate`` to the gutaxis app."""
    app.command("associate", cls=PlainHelpCommand)(handle_errors(associate_command))

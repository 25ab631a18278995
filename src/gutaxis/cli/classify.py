"""``gutaxis classify``: predict a binary phenotype from the gut profile, with nested,
subject-grouped, repeated cross-validation (:func:`gutaxis.stats.classify.classify`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from gutaxis.choices import ClassifierModel, Orientation
from gutaxis.cli.associate import parse_columns
from gutaxis.cli.common import (
    Backend,
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


def classify_command(
    table: Annotated[Path, typer.Argument(
        metavar="TABLE", help="Feature table (BIOM, .qza, TSV/CSV, MetaPhlAn, HUMAnN, "
        "PICRUSt2): counts or relative abundances.", show_default=False)],
    metadata: Annotated[Path, typer.Option(
        "--metadata", metavar="FILE", help="Sample metadata (TSV/CSV, QIIME 2 metadata).",
        show_default=False)],
    outcome: Annotated[str, typer.Option(
        "--outcome", metavar="COLUMN", help="Metadata column of the phenotype to predict; "
        "samples without a value are left out.", show_default=False)],
    out: OutFolder,
    positive: Annotated[str | None, typer.Option(
        "--positive", metavar="LEVEL", show_default=False,
        help="The positive class: a level, several comma-separated (positive vs rest), or a "
        "threshold on a numeric outcome such as '>=4' (also >, <=, <). Needed when the "
        "outcome has more than two values; with two, the larger (last sorted) is "
        "positive.")] = None,
    subject: Annotated[str | None, typer.Option(
        "--subject", metavar="COLUMN", help="Metadata column of subject ids: a subject's "
        "samples stay in one fold (default: each sample is its own subject).")] = None,
    covariates: Annotated[str | None, typer.Option(
        "--covariates", metavar="COLUMNS", help="Clinical covariates added to the gut "
        "features, comma-separated (e.g. age,bmi,ibs).", show_default=False)] = None,
    model: Annotated[ClassifierModel, typer.Option(
        "--model", metavar=choice_metavar(ClassifierModel),
        help="L1 (lasso) or elastic-net logistic regression, or random forest.")] = "lasso",
    folds: Annotated[int, typer.Option(
        "--folds", min=2, metavar="K", help="Outer cross-validation folds.")] = 5,
    repeats: Annotated[int, typer.Option(
        "--repeats", min=1, metavar="R", help="Repeats of the outer split.")] = 10,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of splits, models and permutations.")] = 0,
    permutations: Annotated[int, typer.Option(
        "--permutations", min=0, metavar="B", help="Subject-level permutations of the "
        "outcome for the AUROC's p-value, each rerunning the nested cross-validation "
        "(0: no test).")] = 99,
    permutation_repeats: Annotated[int | None, typer.Option(
        "--permutation-repeats", min=1, metavar="R", show_default=False,
        help="Repeats per permutation (default: --repeats); the test compares the mean "
        "AUROC of the first R repeats. Fewer is faster and as valid.")] = None,
    transform: Annotated[str, typer.Option(
        "--transform", metavar="[log|clr]", help="Log of relative abundance, or centred "
        "log-ratio (pseudocount: half the smallest nonzero training value).")] = "log",
    min_prevalence: Annotated[float, typer.Option(
        "--min-prevalence", min=0.0, max=1.0, metavar="FRACTION",
        help="Keep features present in at least this fraction of the training "
        "samples.")] = 0.1,
    rank: Annotated[str | None, typer.Option(
        "--rank", metavar="RANK",
        help="Aggregate features to this rank first (needs a taxonomy), e.g. genus.")] = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="FILE", help="Taxonomy (TSV or .qza).")] = None,
    orientation: Annotated[Orientation | None, typer.Option(
        "--orientation", metavar=choice_metavar(Orientation),
        help="Table orientation when it cannot be detected.")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", min=1, max=2, metavar="N", help="Processes for permutations and random "
        "forest trees.")] = 1,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Write figures/ "
        "(ROC, calibration, importance; PNG and SVG).")] = True,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
    kind: Kind = None,
    strict: Strict = False,
) -> None:
    """Predict a binary phenotype from the gut profile.

    Optionally with clinical covariates (--covariates).

    Nested cross-validation, repeated: outer folds grouped by subject and stratified by
    class; in each outer training part an inner grouped cross-validation tunes the
    model, and every data-dependent step (prevalence filter, pseudocount, scaling) is
    fitted there only. Writes into OUT: performance.tsv (auroc, auprc, brier: mean over
    repeats, 2.5-97.5% over repeats, chance level, permutation p), per_repeat.tsv,
    predictions.tsv (out-of-fold probability of every sample in every repeat),
    importance.tsv (mean importance and how often each feature was selected),
    calibration.tsv, classify.json and figures/. A summary goes to standard error.

    \b
    Examples:
      gutaxis classify table.tsv --metadata metadata.tsv --outcome group \\
          --positive fbm_12_20,fbm_21_25,fbm_26_31 --taxonomy taxonomy.tsv \\
          --rank genus --model enet --seed 1 --out fm-enet
      gutaxis classify table.biom --metadata meta.tsv --outcome pain_score \\
          --positive '>=4' --subject subject --covariates age,bmi --out pain-lasso
      gutaxis classify table.tsv --metadata meta.tsv --outcome crp_high \\
          --model rf --permutations 0 --out crp-rf
    """
    from gutaxis.errors import InputError
    from gutaxis.io import read_cohort
    from gutaxis.stats.classify import classify

    covariate_columns = parse_columns(covariates, option="--covariates")
    if transform not in ("log", "clr"):
        raise InputError("unknown transform", field="--transform", found=transform,
                         expected="log or clr")
    check_output(out, folder=True, force=force)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        cohort = read_cohort(table, metadata, taxonomy=taxonomy, orientation=orientation,
                             subject_column=subject, kind=kind, strict=strict)
    print_notes([str(w.message) for w in caught])
    if rank is not None:
        cohort = cohort.with_table(cohort.table.aggregate(rank))
    with backend_from_options(backend, scheduler, workers) as engine, progress() as bar:
        tasks: dict[str, object] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        results = classify(
            cohort, outcome, positive=positive, covariates=covariate_columns, model=model,
            folds=folds, repeats=repeats, seed=seed, permutations=permutations,
            permutation_repeats=permutation_repeats, transform=transform,  # type: ignore[arg-type]
            min_prevalence=min_prevalence, n_jobs=jobs, progress=advance, backend=engine)
    print_notes(list(results.notes))
    with output_folder(out, force=force) as tmp:
        results.to_dir(tmp)
        if plots:  # matplotlib is imported only when figures are drawn
            from gutaxis.report.classify_plots import write_classify_plots

            write_classify_plots(results, tmp / "figures")
    err_console().print(results.summary(), markup=False)
    err_console().print(f"results in {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``classify`` to the gutaxis app."""
    app.command("classify", cls=PlainHelpCommand)(handle_errors(classify_command))

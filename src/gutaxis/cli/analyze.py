"""``gutaxis analyze``: the whole analysis of one cohort, one configuration, one report;
``gutaxis demo``: the same on a simulated cohort.

The command lays its options over the configuration (:mod:`gutaxis.analyze.config`),
runs the pipeline (:func:`gutaxis.analyze.run_analysis`) with one progress display and
writes every result, ``config.toml`` and ``report.html`` at once
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from gutaxis.cli.associate import parse_columns
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

OutcomeType = Literal["continuous", "binary", "ordinal"]


@handle_errors
def analyze_command(
    out: OutFolder,
    table: Annotated[Path | None, typer.Argument(
        metavar="TABLE", show_default=False,
        help="Microbiome table: BIOM, QIIME 2 .qza, TSV/CSV or MetaPhlAn (or input.table "
        "of --config).")] = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="F", help="Taxonomy (TSV or .qza), for --rank.")] = None,
    tree: Annotated[Path | None, typer.Option(
        "--tree", metavar="F", help="Rooted tree (Newick or .qza): Faith PD, UniFrac.")] = None,
    metadata: Annotated[Path | None, typer.Option(
        "--metadata", metavar="F", help="Sample metadata (TSV/CSV, QIIME 2 metadata).")] = None,
    function_table: Annotated[Path | None, typer.Option(
        "--function-table", metavar="F", help="Functional table of the same samples (HUMAnN "
        "or PICRUSt2 KEGG orthologs, pathways, or gutaxis modules output): the mechanism "
        "step scans its gut-brain and gut-metabolic modules.")] = None,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", metavar="COLUMN", help="Metadata column of the outcome (e.g. pain).")
    ] = None,
    outcome_type: Annotated[OutcomeType | None, typer.Option(
        "--outcome-type", metavar=choice_metavar(OutcomeType),
        help="How the outcome is modelled (default continuous). Ordinal: its levels in "
        "sorted order (or design.levels of the config) as a 0, 1, 2... score. Binary: two "
        "values, the later sorted is positive (or design.positive).",
        show_default=False)] = None,
    covariates: Annotated[str | None, typer.Option(
        "--covariates", metavar="a,b", help="Adjust every model for these columns.")] = None,
    subject: Annotated[str | None, typer.Option(
        "--subject", metavar="COLUMN", help="Subject ids: repeated samples get a random "
        "intercept, permutations stay within subjects, CV folds keep a subject together.")
    ] = None,
    exposure: Annotated[str | None, typer.Option(
        "--exposure", metavar="COLUMN", help="Exposure of the mediation step (runs it).")
    ] = None,
    mediators: Annotated[str | None, typer.Option(
        "--mediators", metavar="CRP,...", help="Mediators (metadata columns, alpha "
        "metrics such as shannon, or features of the table such as K01895 or a module id "
        "MGB047 of a KO table; default shannon).")] = None,
    rank: Annotated[str | None, typer.Option(
        "--rank", metavar="genus", help="Rank of the per-taxon scan and the classifier "
        "(default genus when a taxonomy is given).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="analysis.toml", help="Every parameter of every step (as the "
        "config.toml a run writes); options given here win.")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="N", help="Seed of every random step (default 0).",
        show_default=False)] = None,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
) -> None:
    """Whole analysis of a cohort, with one HTML report.

    Data checks, diversity, composition, taxa, mechanism, classifier and mediation.

    Writes into OUT: report.html (one self-contained page: findings first, methods,
    cohort table, figures, tables, limitations, provenance), config.toml (rerun with
    --config OUT/config.toml for the same results), cohort/ (checks.tsv, dropped.tsv,
    table1.tsv), diversity/ (as gutaxis metrics, plus alpha_association/),
    community/permanova.tsv, association/all_results.tsv, mechanism/ (with a functional
    table or barrier markers such as crp, zonulin, lbp in the metadata: the module scan
    and gut function -> marker -> outcome mediation), classify/ (binary outcome) and
    mediation/ (with --exposure), steps.tsv and analysis.json. A step the data do not
    allow is skipped with the reason in the report; the rest runs.
    --backend, --scheduler and --workers (or the config's [compute] section) run
    the heavy steps on a Dask cluster; the results are the same.

    \b
    Examples:
      gutaxis analyze table.tsv --taxonomy taxonomy.tsv --tree tree.nwk \\
          --metadata metadata.tsv --outcome group --outcome-type ordinal \\
          --covariates age,bmi,ibs --out fm
      gutaxis analyze table.biom --metadata meta.tsv --outcome pain \\
          --covariates age --subject subject --exposure fibre \\
          --mediators crp --out pain
      gutaxis analyze table.biom --function-table humann_ko_unstratified.tsv \\
          --metadata meta.tsv --outcome pain --covariates age --out mech
      gutaxis analyze --config fm/config.toml --out fm-again
      gutaxis analyze table.biom --metadata meta.tsv --outcome pain \\
          --scheduler tcp://10.0.0.5:8786 --out pain-cluster
    """
    from gutaxis.analyze.config import DEFAULTS, merge_config, read_config

    check_output(out, folder=True, force=force)  # refuse before any work
    base = read_config(config) if config is not None else merge_config(DEFAULTS, {})
    given: dict[str, dict[str, Any]] = {
        "input": {"table": _path(table), "taxonomy": _path(taxonomy), "tree": _path(tree),
                  "metadata": _path(metadata), "function_table": _path(function_table)},
        "design": {"outcome": outcome, "outcome_type": outcome_type, "seed": seed,
                   "covariates": _names(covariates, "--covariates"),
                   "subject": subject, "exposure": exposure,
                   "mediators": _names(mediators, "--mediators")},
        "association": {"rank": rank},
        "compute": {"backend": backend or ("dask" if scheduler else None),
                    "scheduler": scheduler, "workers": workers or None},
    }
    if config is None and taxonomy is None and rank is None:
        given["association"]["rank"] = ""
    run_and_write(merge_config(base, given), out, force=force)


def run_and_write(config: dict[str, dict[str, Any]], out: Path, *, force: bool,
                  data: Path | None = None) -> None:
    """Run the analysis with one progress display and write everything into ``out``.

    ``data`` (the demo's simulated input files) is copied into ``out/data`` and the
    written configuration points there.
    """
    import shutil

    from gutaxis.analyze import STEPS, run_analysis

    compute = config["compute"]
    with backend_from_options(compute["backend"], compute["scheduler"],
                              compute["workers"]) as engine, progress() as bar:
        task = bar.add_task("analysis", total=len(STEPS))
        results = run_analysis(config, backend=engine, progress=lambda step, done, total:
                               bar.update(task, description=step, completed=done,
                                          total=total))
    print_notes(list(results.notes))
    with output_folder(out, force=force) as tmp:
        inputs = None
        if data is not None:
            inputs = {role: (tmp / "data" / Path(path).name if path else None)
                      for role, path in results.config["input"].items()}
            shutil.copytree(data, tmp / "data")
            shutil.copyfile(data / "truth.tsv", tmp / "truth.tsv")
            for role, path in results.config["input"].items():
                if path:
                    moved = str(out / "data" / Path(path).name)
                    results.config["input"][role] = moved
                    results.provenance["inputs"][role]["path"] = moved
        results.to_dir(tmp, inputs=inputs)
    err_console().print(results.summary(), markup=False)
    err_console().print(f"report: {out / 'report.html'}", markup=False)


@handle_errors
def demo_command(
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Output folder (a new path, or an earlier gutaxis "
        "output with --force).")] = Path("gutaxis-demo"),
    seed: Annotated[int, typer.Option("--seed", metavar="N",
                                      help="Seed of the simulation and the analysis.")] = 0,
    force: Force = False,
) -> None:
    """Simulate a gut-pain cohort and analyse it end to end.

    Simulates 120 people (150 genera with planted pain associations, fibre -> diversity
    -> CRP -> pain; gutaxis.simulate) and runs gutaxis analyze on them: outcome pain,
    covariates age, sex and BMI, mediation of fibre through observed features. Writes
    into OUT everything gutaxis analyze writes, data/ (the simulated inputs) and
    truth.tsv (each genus's planted effect, log2 fold change per pain point; 0 = none),
    to compare with association/all_results.tsv. Simulated data, not real patients.

    \b
    Examples:
      gutaxis demo --out demo
      gutaxis demo --seed 7 --out demo7
    """
    import tempfile

    from gutaxis.analyze.config import DEFAULTS, merge_config
    from gutaxis.simulate import simulate_cohort

    check_output(out, folder=True, force=force)
    err_console().print("Simulating a gut-pain cohort (not real data)...", markup=False)
    sim = simulate_cohort(seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        sim.write(data)
        config = merge_config(DEFAULTS, {
            "input": {"table": str(data / "table.tsv"), "taxonomy": str(data / "taxonomy.tsv"),
                      "metadata": str(data / "metadata.tsv")},
            "design": {"outcome": "pain", "outcome_type": "continuous",
                       "covariates": ["age", "sex", "bmi"], "exposure": "fibre",
                       "mediators": ["observed_features"], "seed": seed},
        })
        run_and_write(config, out, force=force, data=data)


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def _names(text: str | None, option: str) -> list[str] | None:
    return None if text is None else parse_columns(text, option=option)


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and ``demo`` to the gutaxis app."""
    app.command("analyze", cls=PlainHelpCommand)(analyze_command)
    app.command("demo", cls=PlainHelpCommand)(demo_command)

"""``gutaxis mediate``: exposure -> mediator(s) -> outcome, or every taxon as a mediator.

The command parses its options, reads the metadata (and the table when given), calls the
engine (:mod:`gutaxis.stats.mediation`) and writes its results safely
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command
runs, so that ``gutaxis --help`` starts fast.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

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

if TYPE_CHECKING:
    import pandas as pd

    from gutaxis.compute import Backend as ComputeBackend
    from gutaxis.data.cohort import Cohort

MethodName = Literal["boot", "quasi-bayes"]
CiName = Literal["percentile", "bca"]
VariableKind = Literal["auto", "continuous", "binary"]
TaxaTransformName = Literal["clr", "log_tss"]


@dataclass(frozen=True)
class Analysis:
    """The options every form of the command shares."""

    exposure: str
    outcome: str
    covariates: list[str]
    treated: str | None
    outcome_codes: dict[str, float] | None
    boot: int
    level: float
    seed: int


def split_names(text: str | None, option: str) -> list[str]:
    """``a,b`` -> ``["a", "b"]`` (empty names refused)."""
    if text is None:
        return []
    names = [part.strip() for part in text.split(",")]
    if any(not name for name in names):
        raise InputError("an empty name in a comma-separated list", field=option, found=text,
                         expected="names separated by single commas")
    return names


def parse_codes(text: str | None) -> dict[str, float] | None:
    """``ctl=0,fbm=1`` -> ``{"ctl": 0.0, "fbm": 1.0}``."""
    if text is None:
        return None
    codes: dict[str, float] = {}
    for part in split_names(text, "--outcome-codes"):
        label, sep, number = part.rpartition("=")
        try:
            codes[label] = float(number)
        except ValueError:
            label = ""
        if not sep or not label:
            raise InputError("--outcome-codes must be LABEL=NUMBER,...",
                             field="--outcome-codes", found=part, expected="e.g. ctl=0,fbm=1")
    return codes


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep="\t", index=False, na_rep="NA")


def _read(metadata: Path, table: Path | None, taxonomy: Path | None) -> tuple[
        pd.DataFrame, Cohort | None]:
    from gutaxis.io import read_cohort, read_metadata

    if table is None:
        if taxonomy is not None:
            raise InputError("--taxonomy needs --table", field="--taxonomy")
        return read_metadata(metadata), None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        cohort = read_cohort(table, metadata, taxonomy=taxonomy, strict=False)
    print_notes([str(w.message) for w in caught])
    return cohort.metadata, cohort


@handle_errors
def mediate_command(
    metadata: Annotated[Path, typer.Option(
        "--metadata", metavar="FILE", show_default=False,
        help="Sample metadata (TSV/CSV, QIIME 2 metadata).")],
    exposure: Annotated[str, typer.Option(
        "--exposure", metavar="COLUMN", show_default=False,
        help="Exposure (treatment): numeric (0 = control vs 1 = treated) or two levels "
        "(see --treated).")],
    outcome: Annotated[str, typer.Option(
        "--outcome", metavar="COLUMN", show_default=False,
        help="Outcome. 0/1 is modelled by logistic regression (effects on the probability "
        "scale); labels can be coded with --outcome-codes.")],
    out: OutFolder,
    mediators: Annotated[str | None, typer.Option(
        "--mediators", metavar="M1[,M2]",
        help="Mediator columns, in parallel (or a chain with --serial). An alpha "
        "diversity name (shannon, observed_features, simpson, ...) that is not a metadata "
        "column is computed from --table (Shannon in nats); a feature id of --table (a "
        "taxon, K00001, a pathway, MGB005 of a module table) enters as its log2 relative "
        "abundance; a module id (MGB005, MF0001) with a KO --table as its module's.")] = None,
    serial: Annotated[bool, typer.Option(
        "--serial", help="The mediators form a chain M1 -> M2 -> ... (in the order given).")
    ] = False,
    covariates: Annotated[str | None, typer.Option(
        "--covariates", metavar="A,B", help="Covariates of every model.")] = None,
    table: Annotated[Path | None, typer.Option(
        "--table", metavar="TABLE", help="Microbiome table (BIOM, .qza, TSV/CSV), for "
        "alpha diversity mediators and --taxa-as-mediators.")] = None,
    taxonomy: Annotated[Path | None, typer.Option(
        "--taxonomy", metavar="FILE", help="Taxonomy (TSV or .qza), for --rank.")] = None,
    taxa_as_mediators: Annotated[bool, typer.Option(
        "--taxa-as-mediators", help="Every taxon of --table as a candidate mediator, "
        "with FDR over the taxa (joint-significance test, Benjamini-Hochberg).")] = False,
    rank: Annotated[str | None, typer.Option(
        "--rank", metavar="RANK", help="With --taxa-as-mediators: aggregate to this rank "
        "(e.g. genus) first; needs a taxonomy.")] = None,
    min_prevalence: Annotated[float, typer.Option(
        "--min-prevalence", metavar="F", min=0.0, max=1.0,
        help="With --taxa-as-mediators: keep taxa present in at least this fraction "
        "of the samples.")] = 0.1,
    transform: Annotated[TaxaTransformName, typer.Option(
        "--transform", metavar=choice_metavar(TaxaTransformName),
        help="With --taxa-as-mediators: CLR (pseudocount 0.5) or log of "
        "relative abundance.")] = "clr",
    treated: Annotated[str | None, typer.Option(
        "--treated", metavar="LEVEL", help="The treated level of a two-level exposure "
        "(default: the later level in sorted order, said on standard error).")] = None,
    outcome_codes: Annotated[str | None, typer.Option(
        "--outcome-codes", metavar="LABEL=N,...", help="Numbers for the outcome's labels, "
        "e.g. ctl=0,fbm_12_20=1,fbm_21_25=2,fbm_26_31=3.")] = None,
    outcome_type: Annotated[VariableKind, typer.Option(
        "--outcome-type", metavar=choice_metavar(VariableKind),
        help="auto: 0/1 outcomes are binary (logistic).")] = "auto",
    mediator_type: Annotated[VariableKind, typer.Option(
        "--mediator-type", metavar=choice_metavar(VariableKind),
        help="auto: 0/1 mediators are binary (logistic).")] = "auto",
    boot: Annotated[int, typer.Option(
        "--boot", metavar="N", min=10, help="Bootstrap replicates (or simulation draws "
        "with --method quasi-bayes).")] = 2000,
    method: Annotated[MethodName, typer.Option(
        "--method", metavar=choice_metavar(MethodName),
        help="boot: nonparametric bootstrap; quasi-bayes: coefficients drawn "
        "from their asymptotic normal (R mediation's default).")] = "boot",
    ci: Annotated[CiName, typer.Option(
        "--ci", metavar=choice_metavar(CiName),
        help="Interval: percentile or BCa (bootstrap only).")] = "percentile",
    level: Annotated[float, typer.Option(
        "--level", metavar="L", min=0.5, max=0.999, help="Confidence level.")] = 0.95,
    fdr: Annotated[float, typer.Option(
        "--fdr", metavar="Q", min=0.0, max=1.0,
        help="With --taxa-as-mediators: FDR at which taxa are counted and marked.")] = 0.1,
    sensitivity: Annotated[bool, typer.Option(
        "--sensitivity", help="Also write sensitivity.tsv: ACME over the mediator-outcome "
        "error correlation rho (R medsens; one continuous mediator and outcome).")] = False,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed.")] = 0,
    force: Force = False,
    backend: Backend = None,
    scheduler: Scheduler = None,
    workers: Workers = 0,
) -> None:
    """Mediation: ACME, ADE, total effect, proportion mediated.

    Writes into OUT: effects.tsv (effect, estimate, ci_low, ci_high, pval),
    paths.tsv (the path coefficients), path_diagram.png and .svg, mediation.json
    (settings, n, notes, version) and with --sensitivity sensitivity.tsv (rho, acme,
    ci_low, ci_high; the rho where ACME = 0 is in mediation.json). With
    --taxa-as-mediators effects.tsv has a block of rows per taxon (mediator first and
    a qval column: for acme rows pval is the joint-significance p = max of the two path
    p-values and qval its BH adjustment over taxa; for the other rows bootstrap p and
    BH), taxa_paths.tsv (a, p_a, b, p_b, p_joint, qval) and top_taxa.png.

    \b
    Examples:
      gutaxis mediate --metadata meta.tsv --exposure fibre \\
          --mediators crp --outcome pain --covariates age,bmi --out med
      gutaxis mediate --metadata meta.tsv --table table.qza \\
          --exposure ibs --treated y --mediators shannon --outcome fm \\
          --covariates age,bmi --seed 1 --out med2
      gutaxis mediate --metadata meta.tsv --table table.biom \\
          --exposure diet --mediators shannon,crp --serial \\
          --outcome pain --out chain
      gutaxis mediate --metadata meta.tsv --table table.qza \\
          --taxonomy tax.qza --taxa-as-mediators --rank genus \\
          --exposure fibre --outcome pain --out scan
    """
    check_output(out, folder=True, force=force)  # refuse before any work
    names = split_names(mediators, "--mediators")
    covs = split_names(covariates, "--covariates")
    codes = parse_codes(outcome_codes)
    if taxa_as_mediators:
        if table is None:
            raise InputError("--taxa-as-mediators needs --table", field="--table")
        if names:
            raise InputError("give --mediators or --taxa-as-mediators, not both",
                             field="--mediators")
        if method != "boot" or ci != "percentile" or sensitivity:
            raise InputError("--taxa-as-mediators gives percentile bootstrap intervals only",
                             field="--method/--ci/--sensitivity",
                             found=f"--method {method} --ci {ci}"
                             + (" --sensitivity" if sensitivity else ""),
                             expected="--method boot --ci percentile, no --sensitivity")
    elif not names:
        raise InputError("--mediators (or --taxa-as-mediators) is needed",
                         field="--mediators", expected="one or more mediator columns")
    meta, cohort = _read(metadata, table, taxonomy)
    if cohort is not None:
        cohort.table.require_unstratified(action="mediation")
        if rank is not None and cohort.table.is_functional:
            print_notes([f"--rank {rank} left out: the table's features are functions "
                         f"({cohort.table.feature_type}), not taxa"])
            rank = None
    settings = Analysis(exposure, outcome, covs, treated, codes, boot, level, seed)
    with backend_from_options(backend, scheduler, workers) as engine, progress() as bar:
        task = bar.add_task("bootstrap" if method == "boot" else "simulation", total=boot)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if taxa_as_mediators:
            assert cohort is not None
            _taxa(cohort, out, force=force, settings=settings, rank=rank,
                  min_prevalence=min_prevalence, transform=transform, fdr=fdr,
                  progress=advance, backend=engine)
            return
        _single(meta, cohort, out, force=force, settings=settings, mediators=names,
                serial=serial, outcome_type=outcome_type, mediator_type=mediator_type,
                method=method, ci=ci, sensitivity=sensitivity, source=str(metadata),
                progress=advance, backend=engine)


def _single(meta: pd.DataFrame, cohort: Cohort | None, out: Path, *, force: bool,
            settings: Analysis, mediators: list[str], serial: bool,
            outcome_type: VariableKind, mediator_type: VariableKind, method: MethodName,
            ci: CiName, sensitivity: bool, source: str,
            progress: Callable[[int, int], None],
            backend: ComputeBackend | None = None) -> None:
    from gutaxis.report.mediation_plots import plot_mediation_paths
    from gutaxis.stats.mediation import mediate, mediation_sensitivity
    from gutaxis.stats.mediation.pipeline import metadata_with_table_columns, missing_columns
    from gutaxis.stats.mediation.results import write_mediation

    if cohort is not None:
        meta, made = metadata_with_table_columns(cohort, columns=mediators)
        print_notes([f"mediator {note}" for note in made])
    missing_columns(meta, mediators, source=source, has_table=cohort is not None)
    a = settings
    sens = None
    if sensitivity:
        if len(mediators) != 1:
            raise InputError("--sensitivity needs a single mediator", field="--mediators",
                             found=",".join(mediators))
        sens = mediation_sensitivity(
            meta, exposure=a.exposure, mediator=mediators[0], outcome=a.outcome,
            covariates=a.covariates, treated=a.treated, outcome_codes=a.outcome_codes,
            level=a.level, source=source)
    results = mediate(meta, exposure=a.exposure, mediators=mediators, outcome=a.outcome,
                      covariates=a.covariates, serial=serial, treated=a.treated,
                      outcome_codes=a.outcome_codes, outcome_type=outcome_type,
                      mediator_type=mediator_type, method=method, ci=ci, n_draws=a.boot,
                      level=a.level, seed=a.seed, source=source, progress=progress,
                      backend=backend)
    print_notes(list(results.notes))
    record = {**dataclasses.asdict(settings), "mediators": mediators, "serial": serial,
              "method": method, "ci": ci, "n": results.n, "treated": results.treated,
              "control": results.control, "notes": list(results.notes)}
    if sens is not None:
        record.update(rho_at_zero=sens.rho_at_zero, rho_tilde=sens.rho_tilde)
    with output_folder(out, force=force) as tmp:
        write_mediation(results, tmp, record=record)
        plot_mediation_paths(results, tmp / "path_diagram.png", svg=True)
        if sens is not None:
            _write_table(sens.to_frame(), tmp / "sensitivity.tsv")
    err_console().print(f"Wrote {out}:\n{results.summary()}", markup=False)
    if sens is not None:
        err_console().print(sens.summary(), markup=False)


def _taxa(cohort: Cohort, out: Path, *, force: bool, settings: Analysis,
          rank: str | None, min_prevalence: float, transform: TaxaTransformName, fdr: float,
          progress: Callable[[int, int], None],
          backend: ComputeBackend | None = None) -> None:
    from gutaxis.report.mediation_plots import plot_mediating_taxa
    from gutaxis.stats.mediation import mediate_taxa

    a = settings
    results = mediate_taxa(
        cohort, exposure=a.exposure, outcome=a.outcome, covariates=a.covariates, rank=rank,
        min_prevalence=min_prevalence, transform=transform, treated=a.treated,
        outcome_codes=a.outcome_codes, n_draws=a.boot, level=a.level, fdr=fdr, seed=a.seed,
        progress=progress, backend=backend)
    print_notes(list(results.notes))
    record = {**dataclasses.asdict(settings), "taxa_as_mediators": True, "rank": rank,
              "min_prevalence": min_prevalence, "transform": results.transform, "fdr": fdr,
              "n": results.n, "n_taxa": len(results.paths),
              "n_passing": len(results.passing()), "treated": results.treated,
              "control": results.control, "notes": list(results.notes)}
    with output_folder(out, force=force) as tmp:
        _write_table(results.to_frame(), tmp / "effects.tsv")
        _write_table(results.paths, tmp / "taxa_paths.tsv")
        plot_mediating_taxa(results, tmp / "top_taxa.png", svg=True)
        _write_json(record, tmp / "mediation.json")
    err_console().print(f"Wrote {out}:\n{results.summary()}", markup=False)


def _write_json(record: dict[str, object], path: Path) -> None:
    from gutaxis.version import package_version

    path.write_text(json.dumps({"gutaxis": package_version(), **record}, indent=2,
                               default=str) + "\n", encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add ``mediate`` to the gutaxis app."""
    app.command("mediate", cls=PlainHelpCommand)(mediate_command)

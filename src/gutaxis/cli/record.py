"""The longitudinal record at the command line: REDCap and questionnaire CSV in, tidy
TSV and FHIR R4 out (and back).

``gutaxis import-redcap EXPORT.csv --timezone Europe/Berlin --out record.tsv``
``gutaxis import-responses ANSWERS.csv --instrument nrs --out record.tsv``
``gutaxis export-fhir record.tsv --out bundle.json``
``gutaxis import-fhir bundle.json --out record.tsv``
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gutaxis.cli.common import Force, check_output, err_console, handle_errors, output_file
from gutaxis.data.measurements import Measurements
from gutaxis.errors import InputError
from gutaxis.io.fhir import BASE, check_base_url, read_fhir, write_fhir
from gutaxis.io.record_tsv import read_record, read_responses_wide, write_record
from gutaxis.io.redcap import RedcapMapping, read_redcap

Out = Annotated[Path, typer.Option("--out", "-o", help="Where to write (a new path, or an "
                                   "earlier gutaxis output with --force).", dir_okay=False)]
Timezone = Annotated[str | None, typer.Option(
    "--timezone", help="IANA timezone of times written without a UTC offset "
    "(e.g. Europe/Berlin). Without it such times are an error.")]
Base = Annotated[str, typer.Option("--base", help="Base URL of gutaxis's FHIR identifier "
                                   "and code systems.")]


def _write_record(record: Measurements, out: Path, *, force: bool) -> None:
    with output_file(out, force=force) as staged:
        write_record(record, staged)


def _summary(record: Measurements, out: Path) -> None:
    err_console.print(
        f"{out}: {len(record.subjects)} subjects, {len(record.administrations)} "
        f"administrations, {len(record.scores)} scores, {len(record.labs)} labs, "
        f"{len(record.interventions)} interventions, {len(record.samples)} samples")


@handle_errors
def import_redcap_command(
    export: Annotated[Path, typer.Argument(help="REDCap raw CSV export.", dir_okay=False)],
    out: Out,
    force: Force = False,
    timezone: Timezone = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="JSON mapping of REDCap forms to instruments and tables; default: "
        "forms named after instruments.", dir_okay=False)] = None,
    score: Annotated[bool, typer.Option("--score/--no-score",
                                        help="Score every administration.")] = True,
) -> None:
    """Import a REDCap export (repeating instruments, events) into a record TSV."""
    check_output(out, folder=False, force=force)  # refuse before any work
    spec = RedcapMapping.from_json(mapping) if mapping is not None else None
    record = read_redcap(export, timezone=timezone, mapping=spec, score=score)
    _write_record(record, out, force=force)
    _summary(record, out)


@handle_errors
def import_responses_command(
    answers: Annotated[Path, typer.Argument(help="CSV/TSV, one row per administration, "
                                            "one column per item id.", dir_okay=False)],
    out: Out,
    force: Force = False,
    instrument: Annotated[str | None, typer.Option(
        "--instrument", help="Instrument of every row (else an 'instrument' column).")] = None,
    subject_column: Annotated[str, typer.Option("--subject-column")] = "subject_id",
    time_column: Annotated[str, typer.Option("--time-column")] = "administered_at",
    timezone: Timezone = None,
) -> None:
    """Import questionnaire answers (wide CSV) into a scored record TSV."""
    check_output(out, folder=False, force=force)  # refuse before any work
    record = read_responses_wide(answers, instrument=instrument, subject_column=subject_column,
                                 time_column=time_column, timezone=timezone)
    _write_record(record, out, force=force)
    _summary(record, out)


@handle_errors
def export_fhir_command(
    record: Annotated[Path, typer.Argument(help="Record TSV.", dir_okay=False)],
    out: Out,
    force: Force = False,
    timezone: Timezone = None,
    base: Base = BASE,
    validate: Annotated[str, typer.Option(
        "--validate", help="full: every resource against the FHIR R4 model (about 1-3 ms "
        "each); shapes: one resource per structure plus value checks on all.")] = "full",
) -> None:
    """Export a record TSV as a validated FHIR R4 Bundle (JSON); an empty record gives a
    Bundle without entries."""
    check_output(out, folder=False, force=force)  # refuse before any work
    if validate not in ("full", "shapes"):
        raise InputError("unknown validation mode", field="--validate", found=validate,
                         expected="full or shapes")
    check_base_url(base, field="--base")
    measurements = read_record(record, timezone=timezone)
    with output_file(out, force=force) as staged:
        write_fhir(measurements, staged, base=base,
                   validate="full" if validate == "full" else "shapes")
    _summary(measurements, out)


@handle_errors
def import_fhir_command(
    bundle: Annotated[Path, typer.Argument(help="FHIR R4 Bundle written by gutaxis.",
                                           dir_okay=False)],
    out: Out,
    force: Force = False,
    base: Base = BASE,
) -> None:
    """Read a FHIR R4 Bundle written by gutaxis back into a record TSV."""
    check_base_url(base, field="--base")
    check_output(out, folder=False, force=force)  # refuse before any work
    measurements = read_fhir(bundle, base=base)
    _write_record(measurements, out, force=force)
    _summary(measurements, out)


def register(app: typer.Typer) -> None:
    """Add the record commands to the application."""
    app.command("import-redcap")(import_redcap_command)
    app.command("import-responses")(import_responses_command)
    app.command("export-fhir")(export_fhir_command)
    app.command("import-fhir")(import_fhir_command)

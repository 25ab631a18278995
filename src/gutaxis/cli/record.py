"""The longitudinal record at the command line: REDCap and questionnaire CSV in, tidy
TSV and FHIR R4 out (and back).

``gutaxis import-redcap EXPORT.csv --timezone Europe/Berlin --out record.tsv``
``gutaxis import-responses ANSWERS.csv --instrument nrs --out record.tsv``
``gutaxis export-fhir record.tsv --out bundle.json``
``gutaxis import-fhir bundle.json --out record.tsv``
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gutaxis.cli.common import (
    Force,
    PlainHelpCommand,
    check_output,
    err_console,
    handle_errors,
    output_file,
)
from gutaxis.errors import InputError

if TYPE_CHECKING:
    from gutaxis.data.measurements import Measurements

#: gutaxis's own base URL of FHIR identifier and code systems (``gutaxis.instruments.fhir.BASE``,
#: spelled here so that the help shows it without importing the FHIR module).
DEFAULT_BASE = "https://gutaxis.org/fhir"

Out = Annotated[Path, typer.Option("--out", "-o", metavar="FILE", show_default=False,
                                   help="Where to write (a new path, or an earlier gutaxis "
                                   "output with --force).", dir_okay=False)]
Timezone = Annotated[str | None, typer.Option(
    "--timezone", metavar="ZONE", help="IANA timezone of times written without a UTC offset "
    "(e.g. Europe/Berlin). Without it such times are an error.")]
Base = Annotated[str, typer.Option(
    "--base", metavar="URL", help="Base URL of gutaxis's FHIR identifier and code systems.")]


def _write_record(record: Measurements, out: Path, *, force: bool) -> None:
    from gutaxis.instruments.record_tsv import write_record

    with output_file(out, force=force) as staged:
        write_record(record, staged)


def _summary(record: Measurements, out: Path) -> None:
    err_console().print(
        f"{out}: {len(record.subjects)} subjects, {len(record.administrations)} "
        f"administrations, {len(record.scores)} scores, {len(record.labs)} labs, "
        f"{len(record.interventions)} interventions, {len(record.samples)} samples")
    if len(record.labs):
        from gutaxis.data.labs import analyte_notes

        for line in analyte_notes(sorted(set(record.labs["analyte"].astype(str)))):
            err_console().print(f"note {line}", markup=False, highlight=False)


@handle_errors
def import_redcap_command(
    export: Annotated[Path, typer.Argument(metavar="EXPORT", help="REDCap raw CSV export.",
                                           dir_okay=False, show_default=False)],
    out: Out,
    force: Force = False,
    timezone: Timezone = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", metavar="FILE",
        help="JSON mapping of REDCap forms to instruments and tables; default: "
        "forms named after instruments.", dir_okay=False)] = None,
    score: Annotated[bool, typer.Option("--score/--no-score",
                                        help="Score every administration.")] = True,
) -> None:
    """Import a REDCap export into a record TSV.

    Reads a raw CSV export (repeating instruments and events), scores every
    administration and writes the tidy record TSV to --out; a summary goes to
    standard error.

    \b
    Examples:
      gutaxis import-redcap export.csv --timezone Europe/Berlin --out record.tsv
      gutaxis import-redcap export.csv --mapping forms.json --out record.tsv
    """
    from gutaxis.instruments.redcap import RedcapMapping, read_redcap

    check_output(out, folder=False, force=force)  # refuse before any work
    spec = RedcapMapping.from_json(mapping) if mapping is not None else None
    record = read_redcap(export, timezone=timezone, mapping=spec, score=score)
    _write_record(record, out, force=force)
    _summary(record, out)


@handle_errors
def import_responses_command(
    answers: Annotated[Path, typer.Argument(
        metavar="ANSWERS", help="CSV/TSV, one row per administration, one column per item "
        "id.", dir_okay=False, show_default=False)],
    out: Out,
    force: Force = False,
    instrument: Annotated[str | None, typer.Option(
        "--instrument", metavar="ID",
        help="Instrument of every row (else an 'instrument' column).")] = None,
    subject_column: Annotated[str, typer.Option(
        "--subject-column", metavar="COLUMN", help="Column of subject ids.")] = "subject_id",
    time_column: Annotated[str, typer.Option(
        "--time-column", metavar="COLUMN",
        help="Column of administration times.")] = "administered_at",
    timezone: Timezone = None,
) -> None:
    """Import wide questionnaire answers into a record TSV.

    One row per administration, one column per item id; every administration is
    scored. The record goes to --out, a summary to standard error.

    \b
    Examples:
      gutaxis import-responses answers.csv --instrument nrs --out record.tsv
      gutaxis import-responses mixed.csv --timezone UTC --out record.tsv
    """
    from gutaxis.instruments.record_tsv import read_responses_wide

    check_output(out, folder=False, force=force)  # refuse before any work
    record = read_responses_wide(answers, instrument=instrument, subject_column=subject_column,
                                 time_column=time_column, timezone=timezone)
    _write_record(record, out, force=force)
    _summary(record, out)


@handle_errors
def export_fhir_command(
    record: Annotated[Path, typer.Argument(metavar="RECORD", help="Record TSV.",
                                           dir_okay=False, show_default=False)],
    out: Out,
    force: Force = False,
    timezone: Timezone = None,
    base: Base = DEFAULT_BASE,
    validate: Annotated[str, typer.Option(
        "--validate", metavar="[full|shapes]",
        help="full: every resource against the FHIR R4 model (about 1-3 ms "
        "each); shapes: one resource per structure plus value checks on all.")] = "full",
) -> None:
    """Export a record TSV as a FHIR R4 Bundle (JSON).

    Every resource is validated; an empty record gives a Bundle without entries. A
    summary goes to standard error.

    \b
    Examples:
      gutaxis export-fhir record.tsv --out bundle.json
      gutaxis export-fhir record.tsv --validate shapes --out bundle.json
    """
    from gutaxis.instruments.fhir import check_base_url, write_fhir
    from gutaxis.instruments.record_tsv import read_record

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
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", show_default=False,
                                           help="FHIR R4 Bundle written by gutaxis.",
                                           dir_okay=False)],
    out: Out,
    force: Force = False,
    base: Base = DEFAULT_BASE,
) -> None:
    """Read a gutaxis FHIR R4 Bundle back into a record TSV.

    \b
    Examples:
      gutaxis import-fhir bundle.json --out record.tsv
    """
    from gutaxis.instruments.fhir import check_base_url
    from gutaxis.instruments.fhir_read import read_fhir

    check_base_url(base, field="--base")
    check_output(out, folder=False, force=force)  # refuse before any work
    measurements = read_fhir(bundle, base=base)
    _write_record(measurements, out, force=force)
    _summary(measurements, out)


def register(app: typer.Typer) -> None:
    """Add the record commands to the application."""
    app.command("import-redcap", cls=PlainHelpCommand)(import_redcap_command)
    app.command("import-responses", cls=PlainHelpCommand)(import_responses_command)
    app.command("export-fhir", cls=PlainHelpCommand)(export_fhir_command)
    app.command("import-fhir", cls=PlainHelpCommand)(import_fhir_command)

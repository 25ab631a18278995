"""``gutaxis instruments`` (what can be scored) and ``gutaxis score`` (score a CSV)."""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from gutaxis.cli.common import (
    Force,
    PlainHelpCommand,
    check_output,
    err_console,
    fail,
    handle_errors,
    out_console,
    output_file,
)
from gutaxis.errors import InputError

if TYPE_CHECKING:
    from gutaxis.instruments.base import Instrument

#: Invalid rows printed on standard error before the rest are only counted.
MAX_ERRORS_SHOWN = 20


def licence_status(instrument: Instrument) -> str:
    """Short licence status for listings."""
    return ("open: wording ships" if instrument.wording_may_ship
            else "licensed: scoring only, wording not shipped")


def _range_text(low: float | None, high: float | None) -> str:
    def fmt(v: float | None) -> str:
        if v is None or v == math.inf:
            return ""
        return str(int(v)) if float(v).is_integer() else str(v)

    return "" if low is None and high is None else f"{fmt(low)}-{fmt(high)}"


def describe_instrument(instrument: Instrument) -> None:
    """Print one instrument's items, scores, rules, conventions and licence."""
    from rich.markup import escape
    from rich.table import Table

    out_console().print(f"[bold]{escape(instrument.key)}[/]  {escape(instrument.name)}",
                        markup=True)
    items = Table("item", "topic", "kind", "range", "unit", "scored",
                  title="items (manual's order)")
    for item in instrument.items:
        kind = item.kind + (" (reversed)" if item.id in instrument.reverse_items else "")
        items.add_row(item.id, item.topic, kind, _range_text(item.minimum, item.maximum),
                      item.unit or "", "yes" if item.scored else "no")
    out_console().print(items)
    scores = Table("score", "range", "unit", "LOINC", "bands", "how", title="scores")
    for spec in instrument.scores:
        names = [b.name for b in (spec.bands, *spec.alternative_bands) if b is not None]
        scores.add_row(spec.name, _range_text(spec.minimum, spec.maximum), spec.unit,
                       spec.loinc or "", ", ".join(names), spec.description)
    out_console().print(scores)
    for label, text in (("missing items", instrument.missing_rule),
                        ("citation", instrument.citation), ("licence", instrument.licence),
                        ("scoring version", instrument.scoring_version)):
        out_console().print(f"[bold]{escape(label)}:[/] {escape(text)}", markup=True)
    for convention in instrument.conventions:
        out_console().print(f"[bold]convention:[/] {escape(convention)}", markup=True)


def instruments_command(
    instrument: Annotated[str | None, typer.Argument(
        metavar="INSTRUMENT", show_default=False,
        help="Show one instrument in detail (items, scores, rules, licence).")] = None,
    tsv: Annotated[bool, typer.Option(
        "--tsv", help="Print tab-separated text instead of a table.")] = False,
) -> None:
    """List the instruments gutaxis can score, or describe one.

    The list (id@version, name, items, licence status) or the description goes to
    standard output; --tsv makes it tab-separated text for other programs.

    \b
    Examples:
      gutaxis instruments
      gutaxis instruments odi
      gutaxis instruments --tsv > instruments.tsv
    """
    from rich.table import Table

    from gutaxis.instruments import get_instrument, list_instruments

    if instrument is not None:
        inst = get_instrument(instrument)
        if tsv:
            writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
            writer.writerow(("item", "topic", "kind", "minimum", "maximum", "unit", "scored"))
            for item in inst.items:
                writer.writerow((item.id, item.topic, item.kind,
                                 "" if item.minimum is None else item.minimum,
                                 "" if item.maximum is None else item.maximum,
                                 item.unit or "", str(item.scored).lower()))
        else:
            describe_instrument(inst)
        return
    rows = [(i.key, i.name, str(len(i.items)), licence_status(i)) for i in list_instruments()]
    header = ("instrument", "name", "items", "licence")
    if tsv:
        writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    table = Table(*header, title="gutaxis instruments")
    for row in rows:
        table.add_row(*row)
    out_console().print(table)


def parse_band_options(options: Sequence[str]) -> dict[str, str]:
    """``SCORE=BANDSET`` options -> mapping."""
    chosen: dict[str, str] = {}
    for text in options:
        name, sep, band_set = text.partition("=")
        if not sep or not name or not band_set:
            raise InputError("--bands must be SCORE=BANDSET", field="--bands", found=text)
        chosen[name.strip()] = band_set.strip()
    return chosen


def _write_tsv(handle: TextIO, columns: Sequence[str], records: Iterable[dict[str, str]]
               ) -> None:
    writer = csv.DictWriter(handle, fieldnames=list(columns), delimiter="\t",
                            lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows(records)


def _write_file(path: Path, columns: Sequence[str], records: Iterable[dict[str, str]], *,
                force: bool) -> None:
    with output_file(path, force=force) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        _write_tsv(fh, columns, records)


@handle_errors
def score_command(
    instrument: Annotated[str, typer.Argument(
        metavar="INSTRUMENT", show_default=False,
        help="Instrument id or id@version (see `gutaxis instruments`).")],
    responses: Annotated[Path | None, typer.Argument(
        metavar="RESPONSES", show_default=False,
        help="CSV of responses: subject_id, administered_at, then item ids.")] = None,
    template: Annotated[bool, typer.Option(
        "--template", help="Print the CSV header to fill in and exit.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Scores TSV to write (default: standard output).")] = None,
    errors: Annotated[Path | None, typer.Option(
        "--errors", metavar="FILE", help="Also write the invalid rows to this TSV.")] = None,
    bands: Annotated[list[str] | None, typer.Option(
        "--bands", metavar="SCORE=BANDSET",
        help="Use another band set: SCORE=BANDSET (repeatable).")] = None,
    force: Force = False,
) -> None:
    """Score questionnaire responses from a CSV.

    One output row per administration, on standard output or in --out. An empty cell
    is an unanswered item. Invalid rows are reported on standard error (and in
    --errors) with their row number and field; the valid rows are still scored.

    \b
    Examples:
      gutaxis score odi --template > odi.csv
      gutaxis score odi odi.csv --out odi-scores.tsv --errors odi-invalid.tsv
      gutaxis score nrs pain.csv --bands pain=serlin-1995 > pain-scores.tsv
    """
    from gutaxis.instruments import get_instrument
    from gutaxis.instruments.responses import (
        ERROR_COLUMNS,
        error_record,
        read_responses,
        response_template,
        score_columns,
        score_record,
        score_responses,
    )

    inst = get_instrument(instrument)
    if template:
        if responses is not None:
            raise fail("--template takes no RESPONSES file")
        typer.echo(",".join(response_template(inst)))
        return
    if responses is None:
        raise fail("give a RESPONSES.csv file to score, or --template for its header")
    for path in (out, errors):
        if path is not None:  # refuse before any work
            check_output(path, folder=False, force=force)
    chosen = parse_band_options(bands or [])
    for name, band_set in chosen.items():
        inst.score_spec(name).band_set(band_set)
    data = read_responses(responses, inst)
    if data.absent_items:
        err_console().print(f"note: columns absent, items unanswered in every row: "
                          f"{', '.join(data.absent_items)}", markup=False)
    scored, row_errors = score_responses(data, bands=chosen)
    for error in row_errors[:MAX_ERRORS_SHOWN]:
        err_console().print(f"invalid row: {error.message}", markup=False)
    if len(row_errors) > MAX_ERRORS_SHOWN:
        hint = f"all are in {errors}" if errors else "write them all with --errors FILE"
        err_console().print(f"... and {len(row_errors) - MAX_ERRORS_SHOWN} more invalid "
                          f"row(s); {hint}", markup=False)
    if errors is not None:
        _write_file(errors, ERROR_COLUMNS, (error_record(e) for e in row_errors), force=force)
    if not scored:
        raise fail(f"{responses}: no row could be scored "
                   f"({len(row_errors)} invalid row(s))")
    columns = score_columns(inst)
    records = [score_record(s) for s in scored]
    if out is None:
        _write_tsv(sys.stdout, columns, records)
    else:
        _write_file(out, columns, records, force=force)
    err_console().print(f"scored {len(scored)} row(s) with {inst.key}; "
                      f"{len(row_errors)} invalid row(s)", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``instruments`` and ``score`` to the gutaxis app."""
    app.command("instruments", cls=PlainHelpCommand)(handle_errors(instruments_command))
    app.command("score", cls=PlainHelpCommand)(score_command)


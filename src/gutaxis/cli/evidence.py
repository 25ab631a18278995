"""``gutaxis evidence``: list the curated trial evidence with sources; pool what can be pooled.

The command parses its options, reads the evidence table
(:func:`gutaxis.evidence.load_evidence`), runs the engine's pipeline
(:func:`gutaxis.evidence.evidence_listing`) and writes its results safely
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gutaxis.cli.common import (
    Force,
    OutFolder,
    PlainHelpCommand,
    check_output,
    err_console,
    handle_errors,
    output_folder,
)

if TYPE_CHECKING:
    import pandas as pd

#: Condition keys as the help shows them (the engine validates against
#: :data:`gutaxis.evidence.CONDITIONS`; a test keeps the two equal).
CONDITION_WORDS = ("osteoarthritis", "rheumatoid_arthritis", "fibromyalgia", "low_back_pain",
                   "ibs")
#: Outcome keys as the help shows them (:data:`gutaxis.evidence.OUTCOMES`).
OUTCOME_WORDS = ("pain_intensity", "womac_total", "womac_pain", "das28", "crp", "acr20",
                 "joint_count", "gi_symptom_composite", "ibs_sss_total", "abdominal_pain",
                 "abdominal_pain_frequency")


@handle_errors
def evidence_command(
    out: OutFolder,
    condition: Annotated[str | None, typer.Option(
        "--condition", metavar="CONDITION",
        help="Only this condition: " + ", ".join(CONDITION_WORDS)
        + " (IBS abdominal pain is a separate stratum).")] = None,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", metavar="OUTCOME", help="Only this outcome: "
        + ", ".join(OUTCOME_WORDS) + ".")] = None,
    pool: Annotated[bool, typer.Option(
        "--pool", help="Pool each condition and outcome with enough trials with complete "
        "numbers (random effects, REML with Knapp-Hartung); say why not elsewhere.")
    ] = False,
    min_trials: Annotated[int, typer.Option(
        "--min-trials", min=2, metavar="K",
        help="Fewest usable trials a pooled analysis needs.")] = 3,
    table: Annotated[Path | None, typer.Option(
        "--table", metavar="DIR", help="Read an edited copy of the evidence table (a folder "
        "with contrasts.tsv, numbers.tsv and meta_analyses.tsv) instead of the shipped "
        "one.")] = None,
    force: Force = False,
) -> None:
    """List probiotic trials on pain; pool where data allow.

    Writes into OUT: evidence.tsv (one row per arm contrast: condition, intervention and
    dose, comparator, design, outcome, n and changes per arm, what the source reported,
    risk-of-bias notes and the source of every number), numbers.tsv (one row per number:
    value, unit, status, text as printed, source URL and where in it), meta_analyses.tsv
    (listed, never pooled with the trials) and evidence.json (table version). With --pool
    also pooled.tsv (condition, outcome, k, estimate, CI, prediction interval, I2,
    certainty notes, or the reason it was not pooled) and pooling_decisions.tsv (each
    contrast: usable or why not). A short overview goes to standard error.

    \b
    Examples:
      gutaxis evidence --out evidence
      gutaxis evidence --condition rheumatoid_arthritis --out ra-evidence
      gutaxis evidence --condition ibs --outcome ibs_sss_total --pool \\
          --out ibs-pooled
    """
    from gutaxis.evidence import evidence_listing, load_evidence

    check_output(out, folder=True, force=force)  # refuse before any work
    listing = evidence_listing(load_evidence(table), condition=condition, outcome=outcome,
                               pool=pool, min_trials=min_trials)
    with output_folder(out, force=force) as tmp:
        listing.to_dir(tmp)
    print_overview(listing.overview())
    err_console().print(f"Wrote {out}: {listing.summary()}", markup=False)


def print_overview(frame: pd.DataFrame) -> None:
    """The overview as a table on standard error (standard output stays for data)."""
    from rich.table import Table

    table = Table(*frame.columns, title="evidence by condition and outcome")
    for row in frame.itertuples(index=False):
        table.add_row(*(str(value) for value in row))
    err_console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``evidence`` to the gutaxis app."""
    app.command("evidence", cls=PlainHelpCommand)(evidence_command)

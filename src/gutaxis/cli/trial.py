"""``gutaxis trial``: a two-arm randomised trial with baseline and follow-up.

The command reads the table (CSV or TSV), runs the engine's pipeline
(:func:`gutaxis.stats.trial.analyze_trial`), draws the figure
(:func:`gutaxis.report.trial_plots.plot_trial`) and writes everything safely
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gutaxis.cli.associate import parse_columns
from gutaxis.cli.common import (
    Force,
    OutFolder,
    PlainHelpCommand,
    check_output,
    err_console,
    handle_errors,
    output_folder,
    progress,
)

_COLUMN = "COLUMN"


@handle_errors
def trial_command(
    data: Annotated[Path, typer.Argument(
        metavar="DATA", show_default=False,
        help="The trial table, CSV or TSV: one row per subject, or with --subject and "
        "--visit one row per subject and visit.")],
    arm: Annotated[str, typer.Option(
        "--arm", metavar=_COLUMN, show_default=False, help="Column of the arm (two levels).")],
    baseline: Annotated[str, typer.Option(
        "--baseline", metavar=_COLUMN, show_default=False,
        help="Column of the baseline value (repeated on each visit's row of long data).")],
    followup: Annotated[str, typer.Option(
        "--followup", metavar=_COLUMN, show_default=False,
        help="Column of the outcome at follow-up (at each visit of long data); empty cells "
        "are missing and left out.")],
    out: OutFolder,
    subject: Annotated[str | None, typer.Option(
        "--subject", metavar=_COLUMN, help="Column of subject ids (long data, with --visit).")
    ] = None,
    visit: Annotated[str | None, typer.Option(
        "--visit", metavar=_COLUMN, help="Column of the visit (long data, with --subject): "
        "the mixed model over visits runs. Visits sort naturally (week4 < week12).")] = None,
    treatment: Annotated[str | None, typer.Option(
        "--treatment", metavar="LEVEL", help="The active arm. Default: the second arm level "
        "in sorted order.")] = None,
    control: Annotated[str | None, typer.Option(
        "--control", metavar="LEVEL", help="The comparator arm (with --treatment, picks two "
        "arms of a column with more).")] = None,
    covariates: Annotated[str | None, typer.Option(
        "--covariates", metavar="COLUMNS", help="Comma-separated columns to adjust the ANCOVA "
        "and the mixed model for, e.g. age,sex.")] = None,
    primary_visit: Annotated[str | None, typer.Option(
        "--primary-visit", metavar="VISIT", help="The visit of ANCOVA, change, percent "
        "change, Hedges' g and responders (long data). Default: the last.")] = None,
    lower_is_better: Annotated[bool, typer.Option(
        "--lower-is-better/--higher-is-better", help="Whether a fall in the outcome is an "
        "improvement (pain: yes). Decides who responds.")] = True,
    plots: Annotated[bool, typer.Option(
        "--plots/--no-plots", help="Draw trial.png.")] = True,
    force: Force = False,
) -> None:
    """Two-arm trial: ANCOVA, responders, NNT, mixed model.

    At the primary visit: ANCOVA on follow-up adjusted for baseline, change and percent
    change from baseline, Hedges' g, responders (>= 30% and >= 50% improvement: RD, RR, OR,
    NNT); over several visits, a mixed model (random intercept per subject, arm x visit).

    Writes into OUT: effects.tsv (analysis, contrast, estimate, stderr, ci_low, ci_high,
    df, statistic, pval, n, note: one row per estimate; differences are treatment minus
    control), arms.tsv (per arm and visit: n, means and SDs of baseline, follow-up and
    change), models.tsv (every ANCOVA and mixed-model coefficient), summary.txt and
    trial.png. The summary also goes to standard error.

    \b
    Examples:
      gutaxis trial pain.csv --arm arm --baseline nrs0 --followup nrs12 --out t1
      gutaxis trial visits.tsv --arm arm --baseline nrs0 --followup nrs \\
          --subject id --visit week --covariates age,sex --treatment probiotic \\
          --out t2
      gutaxis trial sf36.csv --arm arm --baseline pcs0 --followup pcs12 \\
          --higher-is-better --out trial
    """
    from gutaxis.stats.trial import analyze_trial, read_trial_table

    check_output(out, folder=True, force=force)  # refuse before any work
    with progress() as bar:
        task = bar.add_task("trial", total=None)
        table = read_trial_table(data)
        results = analyze_trial(
            table, arm=arm, baseline=baseline, followup=followup, subject=subject,
            visit=visit, treatment=treatment, control=control,
            covariates=parse_columns(covariates, option="--covariates"),
            lower_is_better=lower_is_better, primary_visit=primary_visit, source=str(data))
        bar.update(task, description="writing")
        with output_folder(out, force=force) as tmp:
            results.to_dir(tmp)
            summary = results.summary()
            (tmp / "summary.txt").write_text(summary + "\n", encoding="utf-8")
            if plots:
                from gutaxis.report.trial_plots import plot_trial

                plot_trial(results, tmp / "trial.png")
    err_console().print(summary, markup=False)
    err_console().print(f"Wrote {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``trial`` to the gutaxis app."""
    app.command("trial", cls=PlainHelpCommand)(trial_command)

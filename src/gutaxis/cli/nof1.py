"""``gutaxis nof1``: one subject's outcomes across intervention phases.

The command reads a diary CSV/TSV (or one subject of a record TSV), runs the engine's
pipeline (:func:`gutaxis.stats.nof1.pipeline.run_nof1`), draws the timeline
(:func:`gutaxis.report.nof1_plots.plot_nof1_timeline`) and writes everything into a new
folder at once; the engine is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gutaxis.cli.common import (
    Force,
    OutFolder,
    PlainHelpCommand,
    check_output,
    err_console,
    handle_errors,
    output_folder,
    print_notes,
    progress,
)
from gutaxis.errors import InputError


def _names(text: str | None, *, field: str) -> list[str]:
    """``a,b`` -> ``["a", "b"]``; an empty name is an error."""
    if text is None:
        return []
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise InputError("empty name in a comma list", field=field, found=text,
                         expected="names separated by commas, e.g. pain,stool_form")
    return names


@handle_errors
def nof1_command(
    out: OutFolder,
    series: Annotated[Path | None, typer.Argument(
        metavar="SERIES", show_default=False, dir_okay=False,
        help="Diary CSV/TSV: one row per day (or week) with time, phase and outcomes.")
    ] = None,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", metavar="COLUMNS", help="Outcome column(s), comma-separated (lower is "
        "better: pain, GI symptoms). With --record: record variables, default nrs.pain.")
    ] = None,
    time: Annotated[str, typer.Option(
        "--time", metavar="COLUMN", help="Time column: day or week numbers, or dates.")
    ] = "day",
    phase: Annotated[str, typer.Option(
        "--phase", metavar="COLUMN", help="Phase column (e.g. A/B).")] = "phase",
    control_phase: Annotated[str, typer.Option(
        "--control-phase", metavar="LABEL", help="The control (baseline, placebo) phase.")
    ] = "A",
    mcid: Annotated[float, typer.Option(
        "--mcid", metavar="POINTS", help="Minimal clinically important fall in points "
        "(IMMPACT: 2 on a 0-10 scale).")] = 2.0,
    mcid_percent: Annotated[float, typer.Option(
        "--mcid-percent", metavar="PERCENT",
        help="Minimal important fall in percent of the control mean.")] = 30.0,
    higher_is_better: Annotated[str | None, typer.Option(
        "--higher-is-better", metavar="COLUMNS", help="Outcomes whose improvement is a "
        "rise (quality of life, sleep): the MCID probabilities count a rise.")] = None,
    washout: Annotated[float, typer.Option(
        "--washout", metavar="DAYS", min=0,
        help="Leave out (and flag) the first DAYS after each switch.")] = 0.0,
    min_points: Annotated[int, typer.Option(
        "--min-points", metavar="N", min=2, help="Usable points each phase block needs.")
    ] = 5,
    block: Annotated[str | None, typer.Option(
        "--block", metavar="COLUMN", help="Column numbering the planned periods, when "
        "consecutive periods share a phase (AB BA AB).")] = None,
    randomised_pairs: Annotated[bool, typer.Option(
        "--randomised-pairs", help="The order inside each pair of periods was randomised: "
        "add the paired last-days comparison and a randomisation test.")] = False,
    randomised_blocks: Annotated[bool, typer.Option(
        "--randomised-blocks", help="The treatment periods were drawn at random among all "
        "periods (ABBA by lot): add a randomisation test over every such placement.")
    ] = False,
    last_days: Annotated[int, typer.Option(
        "--last-days", metavar="N", min=1,
        help="Days at the end of each period the paired comparison uses.")] = 7,
    factors: Annotated[str | None, typer.Option(
        "--factors", metavar="COLUMNS", help="Diary factors (e.g. fibre,sleep,stress) to "
        "scan against the first outcome, same day and next day: factors.tsv.")] = None,
    record: Annotated[Path | None, typer.Option(
        "--record", metavar="RECORD", dir_okay=False,
        help="A record TSV instead of SERIES (with --subject and --intervention).")] = None,
    subject: Annotated[str | None, typer.Option(
        "--subject", metavar="ID", help="Subject in --record.")] = None,
    intervention: Annotated[str | None, typer.Option(
        "--intervention", metavar="TYPE",
        help="Intervention type whose periods are phase B (probiotic, diet...).")] = None,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of sampled randomisation assignments.")] = 0,
    force: Force = False,
) -> None:
    """One subject across intervention phases (n-of-1).

    Segmented regression (level and slope change) with AR(1) errors per outcome,
    the probability of a clinically important fall, and, for randomised designs, the
    analysis as run. Writes into OUT: effects.tsv, timeline.png, nof1.json and, when
    asked, randomisation.tsv and factors.tsv. A summary goes to standard error.

    \b
    Examples:
      gutaxis nof1 diary.csv --outcome pain --time day --phase phase --out nof1
      gutaxis nof1 diary.tsv --outcome pain,stool_form --washout 7 --out nof1
      gutaxis nof1 trial.csv --outcome vas --block period --randomised-pairs \\
          --washout 14 --last-days 7 --out taye
      gutaxis nof1 diary.csv --outcome pain --factors fibre,sleep,stress --out f
      gutaxis nof1 --record record.tsv --subject p01 --intervention probiotic \\
          --out p01
    """
    from gutaxis.report.nof1_plots import plot_nof1_timeline
    from gutaxis.stats.nof1.pipeline import read_series, run_nof1

    check_output(out, folder=True, force=force)  # refuse before any work
    co = None
    if record is not None:
        if series is not None:
            raise InputError("give either SERIES or --record, not both", field="SERIES")
        if subject is None or intervention is None:
            raise InputError("--record needs --subject and --intervention",
                             field="--subject" if subject is None else "--intervention")
        from gutaxis.instruments.record_tsv import read_record
        from gutaxis.stats.nof1.record import series_from_record

        outcomes = _names(outcome, field="--outcome") or ["nrs.pain"]
        frame, co = series_from_record(read_record(record), subject=subject,
                                       intervention=intervention, outcomes=tuple(outcomes))
        time, phase, source = "day", "phase", str(record)
    else:
        if series is None:
            raise InputError("a SERIES file (or --record) is needed", field="SERIES")
        outcomes = _names(outcome, field="--outcome")
        if not outcomes:
            raise InputError("--outcome is needed", field="--outcome",
                             expected="a column of SERIES, e.g. pain")
        frame, source = read_series(series), str(series)
    with progress() as bar:
        bar.add_task("n-of-1", total=None)
        run = run_nof1(frame, outcomes=outcomes, time=time, phase=phase,
                       control=control_phase, mcid_points=mcid, mcid_percent=mcid_percent,
                       washout=washout, min_points=min_points, block=block,
                       randomised_pairs=randomised_pairs,
                       randomised_blocks=randomised_blocks, last=last_days,
                       factors=_names(factors, field="--factors") or None,
                       co_interventions=co, seed=seed, source=source,
                       higher_is_better=tuple(_names(higher_is_better,
                                                     field="--higher-is-better")))
    with output_folder(out, force=force) as tmp:
        run.to_dir(tmp, inputs={"record" if record is not None else "series":
                                Path(source)})
        plot_nof1_timeline(run.results, tmp / "timeline.png", time_label=time)
    print_notes(list(run.results.notes))
    err_console().print(f"Wrote {out}.\n{run.summary()}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``nof1`` to the gutaxis app."""
    app.command("nof1", cls=PlainHelpCommand)(nof1_command)

"""``gutaxis meta``: meta-analysis of published study summaries (metafor's conventions).

The command reads the study table (CSV or TSV), runs the engine's
:func:`gutaxis.stats.meta.analysis.meta_analysis`, draws the forest and funnel plots
(:mod:`gutaxis.report.meta_plots`) and writes everything safely
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gutaxis.choices import MetaMeasure, MetaMethod, MetaTest
from gutaxis.cli.common import (
    Force,
    OutFolder,
    PlainHelpCommand,
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

#: Columns ``--columns`` may rename (the names the engine reads).
KNOWN_COLUMNS = ("study", "events_t", "n_t", "events_c", "n_c", "mean_t", "sd_t", "mean_c",
                 "sd_c", "n_c", "se_t", "se_c", "sd_pre_t", "sd_post_t", "sd_pre_c",
                 "sd_post_c", "r", "yi", "vi", "sei", "estimate", "ci_low", "ci_high", "pval")


def parse_columns(text: str | None) -> dict[str, str]:
    """``events_t=tpos,n_t=total_t`` -> ``{"tpos": "events_t", "total_t": "n_t"}`` (file
    column -> gutaxis name)."""
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for item in text.split(","):
        name, sep, column = (part.strip() for part in item.partition("="))
        if not sep or not name or not column:
            raise InputError("--columns must be NAME=COLUMN pairs separated by commas",
                             field="--columns", found=item, expected="e.g. events_t=tpos")
        if name not in KNOWN_COLUMNS:
            raise InputError("unknown column name in --columns", field="--columns",
                             found=name, expected=", ".join(dict.fromkeys(KNOWN_COLUMNS)))
        mapping[column] = name
    return mapping


def read_studies(path: Path, *, columns: dict[str, str]) -> pd.DataFrame:
    """The study table as text cells (CSV, or TSV when the header holds a tab), with
    ``columns`` renamed; numbers are parsed by the engine, which names bad cells."""
    from gutaxis.io._csv import parse_table
    from gutaxis.io._files import existing_file, open_text

    p = existing_file(path)
    with open_text(p) as fh:
        header = fh.readline()
        fh.seek(0)
        sep = "\t" if "\t" in header else ","
        frame = parse_table(fh, source=str(p), sep=sep, dtype=str, skipinitialspace=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError("--columns names a column the table does not have", source=str(p),
                         field="--columns", found=", ".join(missing),
                         expected="one of " + ", ".join(frame.columns))
    return frame.rename(columns=columns)


@handle_errors
def meta_command(
    studies: Annotated[Path, typer.Argument(
        metavar="STUDIES", show_default=False,
        help="Study table (CSV or TSV): one row per study.")],
    measure: Annotated[MetaMeasure, typer.Option(
        "--measure", metavar=choice_metavar(MetaMeasure), show_default=False,
        help="Effect measure: SMD (Hedges' g), MD, ROM (log ratio of means), OR, RR (log "
        "odds/risk ratio), RD, or GEN (yi and vi given).")],
    out: OutFolder,
    method: Annotated[MetaMethod, typer.Option(
        "--method", metavar=choice_metavar(MetaMethod),
        help="tau² estimator (metafor's names); FE for a fixed-effect model.")] = "REML",
    test: Annotated[MetaTest, typer.Option(
        "--test", metavar=choice_metavar(MetaTest),
        help="z (Wald) or knha (Knapp-Hartung / HKSJ t tests).")] = "z",
    subgroup: Annotated[str | None, typer.Option(
        "--subgroup", metavar="COLUMN",
        help="Fit one model per level of this column and test their difference.")] = None,
    moderators: Annotated[str | None, typer.Option(
        "--moderators", metavar="A,B",
        help="Columns for a meta-regression (numbers, or text: dummy-coded).")] = None,
    columns: Annotated[str | None, typer.Option(
        "--columns", metavar="NAME=COLUMN,...",
        help="Read a gutaxis column from another file column, e.g. events_t=tpos.")] = None,
    no_plots: Annotated[bool, typer.Option(
        "--no-plots", help="Skip forest.png and funnel.png.")] = False,
    force: Force = False,
) -> None:
    """Meta-analysis of published study summaries (as R metafor).

    Pooled effect, heterogeneity, subgroups, meta-regression, bias tests and influence,
    equal to R metafor 3.8-1.

    The table has, per study, the raw summaries of the measure (events_t, n_t, events_c,
    n_c for OR/RR/RD; mean_t, sd_t, n_t, mean_c, sd_c, n_c for SMD/MD/ROM, an SD also from
    se_t/se_c or, for change scores, sd_pre_t, sd_post_t, sd_pre_c, sd_post_c and r), or
    yi and vi (or sei), or estimate with ci_low and ci_high, or estimate with pval, and an
    optional study column. Studies with a zero cell get 1/2 added to every cell.

    Writes into OUT: meta.tsv (one row per model: overall, then COLUMN=level; k, estimate,
    se, ci_low, ci_high, pi_low, pi_high, tau2, tau2_ci_low, tau2_ci_high, i2, h2, q,
    q_pval on the analysis scale; estimate_exp ... pi_high_exp for ratio measures; pval),
    studies.tsv (yi, vi, conversion, weights, influence, leave-one-out), bias.tsv (Egger,
    Begg, trim-and-fill), moderators.tsv and subgroup_test.tsv when asked, summary.txt,
    forest.png and funnel.png.

    \b
    Examples:
      gutaxis meta trials.csv --measure SMD --test knha --out pain-meta
      gutaxis meta bcg.tsv --measure RR --method DL --subgroup alloc --out bcg
      gutaxis meta bcg.tsv --measure RR --moderators ablat,year --out bcg-reg
      gutaxis meta t.csv --measure OR --columns events_t=tpos,n_t=ntrt --out or
    """
    from gutaxis.stats.meta.analysis import meta_analysis

    check_output(out, folder=True, force=force)  # refuse before any work
    mods = [m.strip() for m in moderators.split(",") if m.strip()] if moderators else []
    table = read_studies(studies, columns=parse_columns(columns))
    with progress() as bar:
        task = bar.add_task("meta-analysis", total=None)
        results = meta_analysis(table, measure=measure, method=method, test=test,
                                subgroup=subgroup, moderators=mods, source=str(studies))
        bar.update(task, completed=1, total=1)
    print_notes(list(results.notes))
    with output_folder(out, force=force) as tmp:
        results.to_dir(tmp)
        if not no_plots:
            from gutaxis.report.meta_plots import plot_forest, plot_funnel

            plot_forest(results, tmp / "forest.png")
            plot_funnel(results, tmp / "funnel.png")
    err_console().print(f"Wrote {out}:\n{results.overall.summary()}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``meta`` to the gutaxis app."""
    app.command("meta", cls=PlainHelpCommand)(meta_command)

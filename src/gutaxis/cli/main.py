"""The ``gutaxis`` application: each command group lives in its own module and
registers itself here.

Start-up is kept light: this module and the command modules import only typer, the
standard library and :mod:`gutaxis.choices`; each command imports the engine (numpy,
pandas, scipy, numba, matplotlib) inside its function, when it runs. Help is plain
text (click's layout), which reads well at 80 columns and needs no rich.
"""

from __future__ import annotations

import os
import sys

import typer

HELP = """gutaxis: gut microbiome and musculoskeletal pain. Measure, connect, act.

Run `gutaxis COMMAND --help` for a command's options and examples.

\b
Examples:
  gutaxis metrics --example --out example-metrics
  gutaxis instruments
  gutaxis associate table.biom --metadata meta.tsv --fixed pain --out scan
"""

app = typer.Typer(
    name="gutaxis",
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 80},
)


def _version(value: bool) -> None:
    if value:
        from gutaxis.version import package_version

        typer.echo(f"gutaxis {package_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """gutaxis: gut microbiome and musculoskeletal pain. Measure, connect, act."""


def _register() -> None:
    # one import + one register(app) call per command group module
    from gutaxis.cli import (
        analyze,
        associate,
        classify,
        clinic,
        community,
        evidence,
        instruments,
        mediate,
        meta,
        metrics,
        modules,
        nof1,
        record,
        trial,
    )

    metrics.register(app)
    modules.register(app)
    instruments.register(app)
    associate.register(app)
    record.register(app)
    trial.register(app)
    evidence.register(app)
    nof1.register(app)
    meta.register(app)
    mediate.register(app)
    community.register(app)
    classify.register(app)
    analyze.register(app)
    clinic.register(app)


_register()


def quiet_waiting_threads() -> None:
    """Let idle OpenMP threads sleep instead of spinning, unless the user chose otherwise.

    numba runs the parallel kernels (e.g. the Laplace deviance of the prevalence GLMM)
    on GNU OpenMP, whose waiting threads spin by default. On a machine with other work
    the spinning threads steal the cores the kernel needs: the HMP2 ``associate`` scan
    took 8.0-8.5 s of CPU with spinning threads and 5.4-5.6 s with ``OMP_WAIT_POLICY=
    PASSIVE`` (load average 8-10 on 2 cores). OpenMP reads the variable when numba first
    loads it, after this runs.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run() -> None:
    """Console-script entry point: never a raw traceback for the user."""
    quiet_waiting_threads()
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:  # an internal bug, not the user's input
        if os.environ.get("GUTAXIS_DEBUG"):
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in gutaxis; rerun with GUTAXIS_DEBUG=1 for the traceback.\n"
        )
        raise SystemExit(1) from None

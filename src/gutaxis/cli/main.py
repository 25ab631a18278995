"""The ``gutaxis`` application: each command group lives in its own module and
registers itself here."""

from __future__ import annotations

import os
import sys

import typer

from gutaxis import __version__

app = typer.Typer(
    name="gutaxis",
    help="gutaxis: gut microbiome and musculoskeletal pain. Measure, connect, act.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gutaxis {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """gutaxis: gut microbiome and musculoskeletal pain. Measure, connect, act."""


def _register() -> None:
    # one import + one register(app) call per command group module
    from gutaxis.cli import associate, instruments, metrics

    metrics.register(app)
    instruments.register(app)
    associate.register(app)
    from gutaxis.cli import record

    record.register(app)


_register()


def run() -> None:
    """Console-script entry point: never a raw traceback for the user."""
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

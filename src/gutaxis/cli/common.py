"""What every command shares: one-line errors with exit code 2, safe outputs (see
:mod:`gutaxis.cli.output`), progress bars."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gutaxis.cli.output import check_output, output_file, output_folder
from gutaxis.errors import GutaxisError

__all__ = ["FORCE_HELP", "Force", "check_output", "fail", "handle_errors", "output_file",
           "output_folder", "progress"]

#: Help of ``--force``, the same on every command that writes.
FORCE_HELP = ("Replace an earlier gutaxis output at the same path (only one gutaxis wrote "
              "and nobody changed since; any other existing path is refused).")
Force = Annotated[bool, typer.Option("--force", help=FORCE_HELP)]

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

#: Exit code for bad input (a usage error, as click also uses).
EXIT_BAD_INPUT = 2


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(EXIT_BAD_INPUT)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn gutaxis and file-system errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GutaxisError as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(f"{exc.filename}: file not found") from None
        except IsADirectoryError as exc:
            raise fail(f"{exc.filename}: is a folder, expected a file") from None
        except PermissionError as exc:
            raise fail(f"{exc.filename}: permission denied") from None
        except OSError as exc:
            raise fail(f"{exc.filename or 'file system'}: {exc.strerror or exc}") from None

    return wrapper


def progress() -> Progress:
    """A progress bar on stderr (silent when stderr is not a terminal)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not sys.stderr.isatty(),
    )

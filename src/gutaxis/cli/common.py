"""What every command shares: one-line errors with exit code 2, atomic output folders,
progress bars."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gutaxis.errors import GutaxisError
from gutaxis.io._files import atomic_path as atomic_output_file

__all__ = ["atomic_output_dir", "atomic_output_file", "fail", "handle_errors", "progress"]

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
        except (UnicodeDecodeError, EOFError, zlib.error) as exc:  # readers should say where
            raise fail(f"an input file could not be read ({type(exc).__name__}: {exc}); "
                       "expected UTF-8 text and complete gzip files") from None

    return wrapper


@contextlib.contextmanager
def atomic_output_dir(out: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; move it into place only on success.

    On any error the temporary folder is removed and ``out`` is left as it was, so
    no half-written results are ever left behind.
    """
    out = Path(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True)
            raise GutaxisError(f"{out}: already exists")
        backup = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=parent))
        os.replace(out, backup / out.name)
        os.replace(tmp, out)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(tmp, out)


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

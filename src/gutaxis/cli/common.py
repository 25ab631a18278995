"""What every command shares: one-line errors with exit code 2, safe outputs (see
:mod:`gutaxis.cli.output`), progress bars."""

from __future__ import annotations

import functools
import inspect
import sys
import typing
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand
from typer.models import ArgumentInfo, OptionInfo

from gutaxis.choices import InputKind
from gutaxis.cli.output import check_output, output_file, output_folder
from gutaxis.errors import GutaxisError, InputError

if TYPE_CHECKING:  # rich is imported when something is printed, not at start-up
    from rich.console import Console
    from rich.progress import Progress

    from gutaxis.compute import Backend as ComputeBackend

__all__ = [
    "FORCE_HELP",
    "Backend",
    "DropEmptySamples",
    "Force",
    "Kind",
    "PlainHelpCommand",
    "Scheduler",
    "Strict",
    "Workers",
    "backend_from_options",
    "check_output",
    "choice_metavar",
    "err_console",
    "fail",
    "handle_errors",
    "note_dropped",
    "out_console",
    "output_file",
    "output_folder",
    "progress",
]

#: Help of ``--force``, the same on every command that writes.
FORCE_HELP = ("Replace an earlier gutaxis output at the same path (only one gutaxis wrote "
              "and nobody changed since; any other existing path is refused).")
Force = Annotated[bool, typer.Option("--force", help=FORCE_HELP)]
#: The output folder every analysis command writes (atomically; see :mod:`gutaxis.cli.output`).
OutFolder = Annotated[Path, typer.Option(
    "--out", metavar="DIR", show_default=False,
    help="Output folder (a new path, or an earlier gutaxis output with --force).")]


class _PlainArgument(TyperArgument):
    """An argument shown as click shows it: ``TABLE`` (``[TABLE]`` when optional) in the
    usage line, no ``{TABLE}`` and no ``<path>`` type label (the help says what it is)."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        return name if self.required else f"[{name}]"

    def _rich_display_name(self) -> str:
        return self.display_name_raw.upper()

    def display_type(self, ctx: object) -> str:
        return ""


class PlainHelpCommand(TyperCommand):
    """Every gutaxis command: arguments in the help read as in click's own layout."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument


def choice_metavar(choices: object) -> str:
    """``[a|b|c]``: how help shows an option that takes one of a ``Literal``'s values."""
    return "[" + "|".join(map(str, typing.get_args(choices))) + "]"


Kind = Annotated[InputKind | None, typer.Option(
    "--kind", metavar=choice_metavar(InputKind),
    help="What the table's values are: read counts, or relative abundances "
    "(proportions or percentages). Default: inferred from the values.")]
DropEmptySamples = Annotated[bool, typer.Option(
    "--drop-empty-samples", help="Leave out samples whose values are all zero (named on "
    "standard error); without it they are an error.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Refuse table samples that have no metadata row; without it they are "
    "left out (named on standard error) and the samples in both are analysed.")]

#: The compute back-end options of the heavy commands (see :func:`backend_from_options`).
Backend = Annotated[str | None, typer.Option(
    "--backend", metavar="[local|dask]", show_default=False,
    help="Where the heavy steps run: local (this process; the default) or dask (a Dask "
    "cluster: a LocalCluster of --workers processes, or the one at --scheduler).")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", show_default=False,
    help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies "
    "--backend dask).")]


def _worker_count(value: int) -> int:
    """``--workers`` is a count: 0 or more (checked here, not by a range type, so that the
    help does not print a bare ``[default: 0; x>=0]``)."""
    if value < 0:
        raise typer.BadParameter(f"{value} is not a worker count (0 or more)")
    return value


Workers = Annotated[int, typer.Option(
    "--workers", metavar="N", show_default=False, callback=_worker_count,
    help="Worker processes of the Dask LocalCluster that --backend dask starts when no "
    "--scheduler is given. Default: the CPU count, at most 8 (0 also means that).")]


@contextmanager
def backend_from_options(backend: str | None, scheduler: str | None, workers: int = 0
                         ) -> Iterator[ComputeBackend | None]:
    """The back-end the options ask for, closed (its cluster stopped) on leaving.

    Parameters
    ----------
    backend
        ``local``, ``dask`` or ``None`` (not given: ``dask`` with a scheduler, else
        ``local``). ``--scheduler`` with ``--backend local`` is the
        :class:`~gutaxis.errors.InputError` of :func:`gutaxis.compute.get_backend`.
    scheduler
        A Dask scheduler's address; ``None`` or ``""``: a LocalCluster for ``dask``.
    workers
        Worker processes of the LocalCluster (0: Dask back-end's default).

    Yields ``None`` for ``local`` (the engines' one-process path, unchanged), else the
    :class:`~gutaxis.compute.DaskBackend`, already connected to a given scheduler (an
    unreachable one fails here, before any work).

    Examples
    --------
    >>> with backend_from_options("local", None) as engine_backend:
    ...     print(engine_backend)
    None
    """
    from gutaxis.compute import DaskBackend, get_backend

    scheduler = scheduler or None
    name = backend or ("dask" if scheduler is not None else "local")
    chosen = get_backend(name, scheduler=scheduler, n_workers=workers or None)
    if not isinstance(chosen, DaskBackend):
        yield None
        return
    with chosen:
        if scheduler is not None:
            chosen.client  # noqa: B018 (connect now: an unreachable scheduler fails first)
        yield chosen


P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def err_console() -> Console:
    """Standard error: summaries, notes, warnings, progress and errors."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@functools.cache
def out_console() -> Console:
    """Standard output: data only (listings, tables), so that it can be piped."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


#: Exit code for bad input (a usage error, as click also uses).
EXIT_BAD_INPUT = 2


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    from rich.markup import escape  # a path or value like "[/x]" is text, not markup

    err_console().print(f"[bold red]error:[/] {escape(message)}", markup=True)
    return typer.Exit(EXIT_BAD_INPUT)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn gutaxis and file-system errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GutaxisError as exc:
            raise fail(message_for_people(exc, func, kwargs)) from None
        except FileNotFoundError as exc:
            raise fail(f"{exc.filename}: file not found") from None
        except IsADirectoryError as exc:
            raise fail(f"{exc.filename}: is a folder, expected a file") from None
        except PermissionError as exc:
            raise fail(f"{exc.filename}: permission denied") from None
        except (UnicodeDecodeError, EOFError, zlib.error) as exc:  # readers should say where
            raise fail(f"an input file could not be read ({type(exc).__name__}: {exc}); "
                       "expected UTF-8 text and complete gzip files") from None
        except OSError as exc:
            raise fail(f"{exc.filename or 'file system'}: {exc.strerror or exc}") from None

    return wrapper


def message_for_people(exc: GutaxisError, command: Callable[..., object],
                       given: dict[str, object]) -> str:
    """The error's text with the engine's parameter names put in the command's words.

    An :class:`InputError` about a parameter (``field`` without a ``source``) names it as
    the engine calls it; at the command line ``min_prevalence`` is ``--min-prevalence``
    and ``table`` is the file given. A field that is no option of the command (an
    internal name such as ``dm``) is left out. Fields of a file (with a ``source``) stay.
    """
    if not isinstance(exc, InputError) or exc.field is None or exc.source is not None:
        return str(exc)
    words = command_words(command)
    names = exc.field.split("/")
    field: str | None = None
    source: str | None = None
    if exc.field.startswith("--") or exc.field in words.values():
        field = exc.field  # already the command's words (--reference, TABLE)
    elif len(names) == 1 and isinstance(given.get(names[0]), Path):
        source = str(given[names[0]])
    elif all(n in words for n in names):
        field = "/".join(words[n] for n in names)
    return str(exc.placed(source=source, field=field))


@functools.cache
def command_words(command: Callable[..., object]) -> dict[str, str]:
    """Parameter name -> how the command line spells it (``--min-prevalence``, ``TABLE``)."""
    try:
        hints = typing.get_type_hints(command, include_extras=True)
    except (NameError, TypeError):  # an annotation that cannot be resolved: defaults only
        hints = {}
    words: dict[str, str] = {}
    for name, parameter in inspect.signature(command).parameters.items():
        extras = getattr(hints.get(name), "__metadata__", ())
        for info in (parameter.default, *extras):
            if isinstance(info, OptionInfo):
                # Annotated style: typer.Option("--subject") keeps "--subject" as default
                decls = (info.default, *(info.param_decls or ()))
                spelled = [d for d in decls if isinstance(d, str) and d.startswith("--")]
                words[name] = max(spelled, key=len) if spelled else \
                    "--" + name.replace("_", "-")
            elif isinstance(info, ArgumentInfo):
                words[name] = name.upper()
    return words


def note_dropped(before: Sequence[str], after: Sequence[str], why: str) -> None:
    """Print how many samples (and which, the first few) were left out, and ``why``."""
    from gutaxis.gut.pipeline import dropped_samples_note

    print_notes([dropped_samples_note(before, after, why)])


def print_notes(messages: Sequence[str]) -> None:
    """Print each message once as ``note: ...`` on standard error."""
    for message in dict.fromkeys(m for m in messages if m):
        err_console().print(f"note: {message}", markup=False)


def progress() -> Progress:
    """A progress bar on stderr (silent when stderr is not a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )

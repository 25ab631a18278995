"""Output safety for every command that writes: never lose a file.

The rule, for a folder output (``metrics``, ``associate``) and a file output (``score``,
``import-*``, ``export-fhir``) alike:

- a path that does not exist is created;
- a path that exists is refused unless it is an earlier gutaxis output and ``--force``
  is given; then only that output is replaced;
- the current folder, the home folder and the folders containing them are never
  replaced, whatever they hold.

gutaxis recognises its own output by a marker it writes beside it: ``.gutaxis-output``
inside a folder output, and ``.NAME.gutaxis-output`` next to a file output ``NAME``.
The marker lists every file gutaxis wrote with its SHA-256; an output is replaceable
only while it holds nothing else and every listed file is unchanged, so neither a file
a person added to an output folder nor an edit to an output file is ever lost.

Writing happens in a hidden staging folder beside the output, which is moved into
place only on success and removed on every failure (including Ctrl-C). Output modes
follow the umask. Error messages name the path the user gave, never the staging one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gutaxis.errors import GutaxisError, InputError, preview
from gutaxis.version import package_version

__all__ = ["MARKER", "check_output", "output_file", "output_folder"]

#: Name of the marker inside a folder output (a file output ``NAME`` has ``.NAME`` + this).
MARKER = ".gutaxis-output"
_STAGE_SUFFIX = ".gutaxis-tmp"
_NEW_PATH = "a path that does not exist yet"


def check_output(out: Path, *, folder: bool, force: bool) -> Path:
    """The real path ``out`` names, or :class:`InputError` if gutaxis may not write there.

    Called before any work (so nothing is computed for an output that will be refused)
    and again just before the output is moved into place.
    """
    real = _real_path(out)
    protected = _protected_folder(real)
    if protected is not None:
        raise InputError(f"gutaxis never writes its output over {protected}",
                         source=str(out), expected=_NEW_PATH)
    if not os.path.lexists(real):
        return real
    if real.is_dir() != folder:
        raise InputError(
            "exists and is a " + ("file" if folder else "folder"), source=str(out),
            expected=("a folder path" if folder else "a file path") + " that does not exist yet")
    reason = _not_replaceable(real, _marker_of(real, folder=folder), folder=folder)
    if reason is not None:
        raise InputError(f"exists and {reason}; gutaxis does not replace it",
                         source=str(out), expected=_NEW_PATH)
    if not force:
        raise InputError("holds an earlier gutaxis output", source=str(out),
                         expected="--force to replace it, or " + _NEW_PATH)
    return real


@contextlib.contextmanager
def output_folder(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``out`` (see module notes)."""
    with _staged(Path(out), folder=True, force=force) as path:
        yield path


@contextlib.contextmanager
def output_file(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield a staging path with ``out``'s name; on success it replaces ``out``."""
    with _staged(Path(out), folder=False, force=force) as path:
        yield path


@contextlib.contextmanager
def _staged(out: Path, *, folder: bool, force: bool) -> Iterator[Path]:
    real = check_output(out, folder=folder, force=force)
    created = _make_folders(real.parent, out)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{real.name}.", suffix=_STAGE_SUFFIX,
                                      dir=real.parent))
    except OSError as exc:
        _remove_empty(created)
        raise _os_error(exc, out) from None
    try:
        result = stage / real.name
        if folder:
            result.mkdir()
        try:
            yield result
        except OSError as exc:
            raise _os_error(exc, out, staged=result) from None
        except InputError as exc:
            raise _named_as_given(exc, out, staged=result) from None
        if not os.path.lexists(result):
            raise GutaxisError(f"{out}: nothing was written (a bug in gutaxis)")
        check_output(out, folder=folder, force=force)  # may have appeared meanwhile
        try:
            _move_into_place(result, real, stage, folder=folder)
        except OSError as exc:
            raise _os_error(exc, out, staged=result) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(created)
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _move_into_place(result: Path, real: Path, stage: Path, *, folder: bool) -> None:
    """Write the marker and swap ``result`` onto ``real`` (restoring ``real`` on failure)."""
    if folder:
        _write_marker(result / MARKER, result)
        if os.path.lexists(real):
            old = stage / ".old"
            os.rename(real, old)
            try:
                os.rename(result, real)
            except BaseException:
                os.rename(old, real)
                raise
        else:
            os.rename(result, real)
        return
    staged_marker = stage / MARKER
    _write_marker(staged_marker, result)
    os.replace(result, real)
    os.replace(staged_marker, _marker_of(real, folder=False))


def _real_path(out: Path) -> Path:
    """``out`` with ``~``, ``.``, ``..`` and symlinks resolved (a link's target is written)."""
    return Path(os.path.realpath(Path(out).expanduser()))


def _protected_folder(real: Path) -> str | None:
    for label, folder in (("the current folder", Path.cwd()), ("the home folder", Path.home())):
        resolved = _real_path(folder)
        if real == resolved:
            return f"{label} ({resolved})"
        if real in resolved.parents:
            return f"a folder containing {label} ({real})"
    return None


def _marker_of(real: Path, *, folder: bool) -> Path:
    return real / MARKER if folder else real.parent / f".{real.name}{MARKER}"


def _contents(root: Path) -> dict[str, Path]:
    """Relative name -> path of every file and folder under ``root`` (a file: itself)."""
    if not root.is_dir():
        return {root.name: root}
    found: dict[str, Path] = {}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = path
    found.pop(MARKER, None)
    return found


def _digest(path: Path) -> str | None:
    """SHA-256 of a regular file; ``None`` for a folder."""
    if path.is_dir() and not path.is_symlink():
        return None
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _write_marker(marker: Path, written: Path) -> None:
    files = {name: _digest(path) for name, path in sorted(_contents(written).items())}
    marker.write_text(json.dumps({"written_by": f"gutaxis {package_version()}", "files": files},
                                 indent=1) + "\n", encoding="utf-8")


def _not_replaceable(real: Path, marker: Path, *, folder: bool) -> str | None:
    """Why the existing ``real`` is not an unchanged gutaxis output, or ``None`` if it is."""
    if not marker.is_file():
        return "was not written by gutaxis" if not folder or any(real.iterdir()) else \
            "is a folder gutaxis did not create"
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))["files"]
        if not isinstance(recorded, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return f"its gutaxis marker {marker.name} is unreadable"
    present = _contents(real)
    foreign = [name for name in present if name not in recorded]
    if foreign:
        return f"holds files gutaxis did not write ({preview(sorted(foreign))})"
    changed = [name for name, path in present.items() if _digest(path) != recorded[name]]
    if changed:
        return f"was changed since gutaxis wrote it ({preview(sorted(changed))})"
    return None


def _make_folders(parent: Path, out: Path) -> list[Path]:
    """Create ``parent`` and its missing ancestors; return those created (deepest first)."""
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, out) from None
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _named_as_given(exc: InputError, out: Path, *, staged: Path) -> InputError:
    """``exc`` with a staging path in its ``source`` put back as the path the user gave."""
    if exc.source is None or not str(exc.source).startswith(str(staged)):
        return exc
    return exc.placed(source=str(out) + str(exc.source)[len(str(staged)):], field=exc.field)


def _os_error(exc: OSError, out: Path, *, staged: Path | None = None) -> GutaxisError:
    """One line naming the user's path (a staging path is translated back to ``out``)."""
    where = str(out)
    if staged is not None and exc.filename is not None:
        with contextlib.suppress(ValueError):
            rest = Path(os.fsdecode(exc.filename)).relative_to(staged)
            where = str(out / rest) if rest.parts else str(out)
    return GutaxisError(f"{where}: could not write ({exc.strerror or exc})")

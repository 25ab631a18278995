"""File plumbing shared by the readers and writers: opening (optionally gzipped) text,
sniffing the first bytes, counting comment lines and writing atomically."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gutaxis.errors import InputError

PathLike = str | os.PathLike[str]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def existing_file(path: PathLike) -> Path:
    """``path`` as a :class:`Path`, or :class:`FileNotFoundError` / :class:`InputError`."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file", str(p))
    if p.is_dir():
        raise InputError("is a folder", source=str(p), expected="a file")
    if p.stat().st_size == 0:
        raise InputError("file is empty", source=str(p), expected="a header line and data")
    return p


def head_bytes(path: Path, n: int = 8) -> bytes:
    """The first ``n`` bytes of the file as stored (compressed or not)."""
    with open(path, "rb") as fh:
        return fh.read(n)


def is_gzip(path: Path) -> bool:
    return head_bytes(path, 2) == GZIP_MAGIC


def open_text(path: Path) -> IO[str]:
    """Open a text file for reading, transparently un-gzipping it.

    Decoding is UTF-8 with a leading byte-order mark removed.
    """
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def first_lines(path: Path, n: int = 50) -> list[str]:
    """Up to ``n`` first lines of a text file, without line endings.

    Raises :class:`InputError` when the bytes are not UTF-8 text.
    """
    lines: list[str] = []
    try:
        with open_text(path) as fh:
            for line in fh:
                lines.append(line.rstrip("\r\n"))
                if len(lines) >= n:
                    break
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise InputError("not a readable text file", source=str(path), found=str(exc),
                         expected="UTF-8 text (optionally gzip-compressed)") from None
    return lines


def text_delimiter(path: Path, header: str) -> str:
    """Tab unless the file is a ``.csv`` (or the header has commas and no tabs)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return ","
    if "\t" not in header and "," in header:
        return ","
    return "\t"


def find_line_number(path: Path, first_cell: str, delimiter: str) -> int | None:
    """1-based number of the first line whose first cell is ``first_cell`` (error paths only)."""
    prefixes = (first_cell + delimiter, f'"{first_cell}"{delimiter}')
    with open_text(path) as fh:
        for number, line in enumerate(fh, start=1):
            if line.startswith(prefixes):
                return number
    return None


@contextlib.contextmanager
def atomic_path(out: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; rename it onto ``out`` only on success.

    On any error (including the final rename, e.g. onto a folder, and Ctrl-C) the
    temporary file is removed and ``out`` is left as it was, so a writer never leaves a
    half-written file behind. A file-system error names ``out``, never the temporary
    file. The file gets the usual mode (``0666`` less the umask).
    """
    target = Path(out)
    folder = target.resolve().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(target)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the usual mode
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is None or Path(os.fsdecode(exc.filename)) != tmp:
            raise
        raise type(exc)(exc.errno, exc.strerror, str(target)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def open_text_for_writing(path: Path, *, compress: bool) -> Iterator[IO[str]]:
    """Open ``path`` for writing UTF-8 text, gzip-compressed when ``compress``."""
    with contextlib.ExitStack() as stack:
        raw: IO[bytes] = (
            stack.enter_context(gzip.open(path, "wb", compresslevel=6))  # type: ignore[arg-type]
            if compress
            else stack.enter_context(open(path, "wb"))
        )
        fh = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        yield fh

"""File plumbing shared by the readers and writers: opening (optionally gzipped) text,
sniffing the first bytes, counting comment lines and writing atomically."""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gutaxis.errors import InputError

PathLike = str | os.PathLike[str]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: What reading a text file can raise when its bytes are not (compressed) UTF-8 text:
#: a truncated gzip stream ends in EOFError, a corrupt one in zlib.error or BadGzipFile.
UNREADABLE_ERRORS = (UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile)


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

    Decoding is UTF-8 with a leading byte-order mark removed. Bytes that are not UTF-8
    and gzip data that is truncated or corrupt raise :class:`InputError` naming the file
    and the line, wherever in the file they are met (see :func:`unreadable_text`).
    """
    return _CheckedText(_open_bytes(path), path)  # which closes the byte stream


def _open_bytes(path: Path) -> io.BufferedIOBase:
    """The file's bytes as stored, or un-gzipped when it starts with the gzip magic."""
    return gzip.GzipFile(path, "rb") if is_gzip(path) else open(path, "rb")


class _CheckedText(io.TextIOWrapper):
    """A UTF-8 text stream whose decoding and decompression failures are InputErrors."""

    def __init__(self, raw: io.BufferedIOBase, path: Path) -> None:
        super().__init__(raw, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
        self.path = path

    def read(self, size: int | None = -1) -> str:
        try:
            return super().read(size)
        except UNREADABLE_ERRORS as exc:
            raise unreadable_text(self.path, exc) from None

    def readline(self, size: int = -1) -> str:  # type: ignore[override]
        try:
            return super().readline(size)
        except UNREADABLE_ERRORS as exc:
            raise unreadable_text(self.path, exc) from None

    def __next__(self) -> str:  # type: ignore[override]
        try:
            return super().__next__()
        except UNREADABLE_ERRORS as exc:
            raise unreadable_text(self.path, exc) from None


def unreadable_text(path: Path, exc: BaseException) -> InputError:
    """The :class:`InputError` for a file whose bytes cannot be read as (gzipped) UTF-8.

    Error path only: the file is scanned again from the start to find the 1-based line
    of the first byte that is not UTF-8, or of the place where the gzip data breaks off.
    """
    line, problem = _first_unreadable_line(path)
    if problem is None:  # the rescan read cleanly: report what the reader met
        problem = f"{type(exc).__name__}: {exc}"
    if problem.startswith("byte"):
        return InputError("not UTF-8 text", source=str(path), row=line, found=problem,
                          expected="UTF-8 text (re-save or re-export the file as UTF-8)")
    return InputError("gzip data is truncated or corrupt", source=str(path), row=line,
                      found=problem, expected="a complete gzip file (was the copy cut short?)")


def _first_unreadable_line(path: Path) -> tuple[int, str | None]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with _open_bytes(path) as fh:
            while chunk := fh.read1(1 << 16):  # read1: keep what precedes a break
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = exc.object[exc.start]
                    return line + exc.object[: exc.start].count(b"\n"), f"byte {bad:#04x}"
                line += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line, "an incomplete UTF-8 character at the end of the file"
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return line, f"{type(exc).__name__}: {exc}"
    return line, None


def read_bytes(path: Path) -> bytes:
    """All bytes of a file, un-gzipped when it starts with the gzip magic number.

    Truncated or corrupt gzip data raises :class:`InputError` naming the file.
    """
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except UNREADABLE_ERRORS as exc:
            raise unreadable_text(path, exc) from None
    return raw


def read_text(path: Path) -> str:
    """The whole text of a (gzipped) UTF-8 file; see :func:`open_text` for the errors."""
    with open_text(path) as fh:
        return fh.read()


def first_lines(path: Path, n: int = 50) -> list[str]:
    """Up to ``n`` first lines of a text file, without line endings.

    Raises :class:`InputError` when the bytes are not UTF-8 text.
    """
    lines: list[str] = []
    with open_text(path) as fh:
        for line in fh:
            lines.append(line.rstrip("\r\n"))
            if len(lines) >= n:
                break
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

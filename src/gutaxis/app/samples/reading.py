"""Uploaded microbiome files read by the engine's own door (:func:`gutaxis.io.read_cohort`,
as ``gutaxis metrics`` reads them), with the CLI's error texts.

The bytes go to a private temporary folder under the uploaded file's own name (so an
error names the file as the user knows it), are read, and the folder is deleted. An
:class:`~gutaxis.errors.InputError` keeps the reader's words; only the temporary folder is
taken out of them, so the text equals what ``gutaxis metrics FILE`` prints for the same
bytes in the current folder. Read failures the CLI reports without an InputError
(undecodable text, a cut gzip stream) get the CLI's sentence too.
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gutaxis.errors import InputError

if TYPE_CHECKING:
    from gutaxis.data.profile import ProfileTable

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class NamedBytes:
    """An uploaded file: the name the user gave it and its content."""

    filename: str
    content: bytes


def safe_name(filename: str | None, default: str) -> str:
    """The last path component of ``filename`` with only plain characters (never empty,
    never ``.`` or ``..``)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._") or default
    return cleaned[:200]


def read_upload(table: NamedBytes, taxonomy: NamedBytes | None = None) -> ProfileTable:
    """The table in ``table`` (any format :func:`gutaxis.io.read_table` knows), with the
    taxonomy of ``taxonomy`` when given; errors as the CLI words them."""
    from gutaxis.io import read_cohort

    with _private_files(table, taxonomy) as (table_path, taxonomy_path):
        folder = str(table_path.parent) + "/"
        try:
            cohort = read_cohort(table_path, None, taxonomy=taxonomy_path)
        except InputError as exc:
            raise without_folder(exc, folder) from None
        except (UnicodeDecodeError, EOFError, zlib.error) as exc:
            raise InputError(  # the sentence of gutaxis.cli.common.handle_errors
                f"an input file could not be read ({type(exc).__name__}: {exc}); "
                "expected UTF-8 text and complete gzip files") from None
        except OSError as exc:  # e.g. an HDF5 library refusal; the CLI's words again
            name = str(exc.filename or "file system").replace(folder, "")
            raise InputError(f"{name}: {exc.strerror or exc}".replace(folder, "")) from None
    return cohort.table


@contextmanager
def _private_files(table: NamedBytes, taxonomy: NamedBytes | None
                   ) -> Iterator[tuple[Path, Path | None]]:
    with tempfile.TemporaryDirectory(prefix="gutaxis-upload-") as folder:
        table_path = Path(folder) / safe_name(table.filename, "table")
        table_path.write_bytes(table.content)
        taxonomy_path = None
        if taxonomy is not None:
            name = safe_name(taxonomy.filename, "taxonomy")
            if name == table_path.name:
                name = "taxonomy-" + name
            taxonomy_path = Path(folder) / name
            taxonomy_path.write_bytes(taxonomy.content)
        yield table_path, taxonomy_path


def without_folder(exc: InputError, folder: str | None) -> InputError:
    """``exc`` with ``folder`` taken out of its source, message and found value, and its
    row as a plain ``int``/``str`` (readers may give a NumPy integer, which JSON cannot
    hold)."""

    def strip(value: object) -> object:
        return value.replace(folder, "") if folder and isinstance(value, str) else value

    row = exc.row
    if row is not None and not isinstance(row, int | str):
        row = row.item() if hasattr(row, "item") else str(row)
    return type(exc)(str(strip(exc.message)), source=strip(exc.source),  # type: ignore[arg-type]
                     row=row, column=exc.column, field=exc.field, found=strip(exc.found),
                     expected=strip(exc.expected))  # type: ignore[arg-type]


def plain_error(exc: InputError) -> InputError:
    """``exc`` with a row the API can put in JSON (see :func:`without_folder`)."""
    return without_folder(exc, None)

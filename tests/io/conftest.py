"""Fixtures for the io tests: small files written on the fly, and .qza artifacts built
with the QIIME 2 layout (``<uuid>/metadata.yaml``, ``<uuid>/VERSION``, ``<uuid>/data/...``)."""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

QZA_VERSION = "QIIME 2\narchive: 5\nframework: 2023.9.1\n"


def make_qza(path: Path, semantic_type: str, fmt: str, files: dict[str, bytes]) -> Path:
    """Write a .qza zip as QIIME 2 lays it out (payload files under ``data/``)."""
    root = str(uuid.UUID(int=hash((semantic_type, fmt)) & (2**128 - 1)))
    metadata = f"uuid: {root}\ntype: {semantic_type}\nformat: {fmt}\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/VERSION", QZA_VERSION)
        archive.writestr(f"{root}/metadata.yaml", metadata)
        archive.writestr(f"{root}/checksums.md5", "")
        archive.writestr(f"{root}/provenance/action/action.yaml", "action: import\n")
        for name, payload in files.items():
            archive.writestr(f"{root}/data/{name}", payload)
    return path


@pytest.fixture
def qza() -> Callable[[Path, str, str, dict[str, bytes]], Path]:
    """:func:`make_qza`, as a fixture (test modules here are not a package)."""
    return make_qza


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path/name`` and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write

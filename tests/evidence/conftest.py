"""Fixtures of the evidence tests: the shipped table, and an editable copy of it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from gutaxis.evidence import EvidenceTable, load_evidence


@pytest.fixture(scope="session")
def evidence() -> EvidenceTable:
    """The evidence table shipped with gutaxis."""
    return load_evidence()


@pytest.fixture()
def table_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the shipped table's three files, to edit."""
    folder = resources.files("gutaxis.evidence") / "data"
    target = tmp_path / "table"
    target.mkdir()
    for name in ("contrasts.tsv", "numbers.tsv", "meta_analyses.tsv"):
        shutil.copyfile(str(folder / name), target / name)
    return target



@pytest.fixture()
def edit_cell() -> Callable[..., int]:
    """A function that sets one cell of a table file (see :func:`set_cell`)."""
    return set_cell


def set_cell(path: Path, *, row_where: tuple[str, str], column: str, value: str) -> int:
    """Set ``column`` of the first row whose ``row_where[0]`` is ``row_where[1]``; return
    that row's number as a person counts it (header = 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    key, wanted = header.index(row_where[0]), header.index(column)
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if cells[key] == row_where[1]:
            cells[wanted] = value
            lines[number - 1] = "\t".join(cells)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return number
    raise AssertionError(f"no row with {row_where}")

"""``atomic_path``: the writers' temporary file never outlives a failure, and errors name
the file the caller asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from gutaxis.io._files import atomic_path


def test_a_failed_rename_onto_a_folder_names_the_target_and_leaves_no_part_file(
        tmp_path: Path) -> None:
    folder = tmp_path / "scores.tsv"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as caught, atomic_path(folder) as tmp:
        tmp.write_text("scores\n")
    assert caught.value.filename == str(folder)
    assert [p.name for p in tmp_path.iterdir()] == ["scores.tsv"]


def test_an_interrupt_leaves_the_earlier_file_and_no_part_file(tmp_path: Path) -> None:
    out = tmp_path / "record.tsv"
    out.write_text("earlier\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert out.read_text() == "earlier\n"
    assert [p.name for p in tmp_path.iterdir()] == ["record.tsv"]


def test_a_missing_parent_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file")
    with pytest.raises(OSError) as caught, atomic_path(blocker / "out.tsv") as tmp:
        tmp.write_text("x")
    assert caught.value.filename == str(blocker / "out.tsv")

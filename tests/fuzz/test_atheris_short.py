"""A short coverage-guided run of ``scripts/fuzz_readers.py`` (the long one runs every
reader for 10,000 inputs): a few readers, a few dozen inputs each, no exception but
InputError."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_readers.py"
#: One text table through the gzip layer, the zip container, a tree and a REDCap export.
READERS = ("table_gz", "qza", "newick", "redcap")


def test_short_atheris_run_raises_nothing_but_input_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "40", "--readers", ",".join(READERS),
         "--crashes", str(tmp_path / "crashes")],
        capture_output=True, text=True, check=False, env=os.environ.copy(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]
            if line and not line.startswith(" ")}
    assert sorted(rows) == sorted(READERS)
    for reader, (inputs, read, refused, other, hangs, _) in rows.items():
        assert int(inputs) >= 40, reader
        assert int(read) + int(refused) == int(inputs), reader
        assert (int(other), int(hangs)) == (0, 0), reader

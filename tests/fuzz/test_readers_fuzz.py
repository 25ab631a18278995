"""Every reader turns every malformed input into an InputError (issue 7, item 2).

Inputs are the committed seeds (``corpus/<reader>/``) mutated by
:func:`fuzz_mutations.mutated`. The default run is short and deterministic (CI);
``GUTAXIS_FUZZ_EXAMPLES=10000`` runs 10,000 inputs per reader with fresh randomness
(``--hypothesis-seed`` to repeat a run; ``GUTAXIS_FUZZ_COUNTS_FILE`` records the counts
after each reader).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from fuzz_mutations import mutated
from fuzz_targets import FUZZ_COUNTS, READERS, run_reader, seeds
from hypothesis import HealthCheck, given, settings

from gutaxis.errors import InputError

EXAMPLES = int(os.environ.get("GUTAXIS_FUZZ_EXAMPLES", "25"))
LONG = "GUTAXIS_FUZZ_EXAMPLES" in os.environ


@pytest.mark.parametrize("reader", sorted(READERS))
def test_seeds_are_read(reader: str, tmp_path: Path) -> None:
    """The corpus is valid input, so mutations start from files the reader accepts."""
    for data in seeds(reader):
        run_reader(reader, data, tmp_path)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_malformed_input_is_an_input_error_or_read(reader: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=mutated(seeds(reader)))
    def fuzz(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            try:
                run_reader(reader, data, Path(folder))
            except InputError:
                FUZZ_COUNTS[reader, "InputError"] += 1
            else:
                FUZZ_COUNTS[reader, "read"] += 1

    fuzz()
    if os.environ.get("GUTAXIS_FUZZ_COUNTS_FILE"):  # progress of a long run, reader by reader
        Path(os.environ["GUTAXIS_FUZZ_COUNTS_FILE"]).write_text(
            "\n".join(f"{r}\t{o}\t{n}" for (r, o), n in sorted(FUZZ_COUNTS.items())) + "\n")

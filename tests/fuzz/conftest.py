"""Per-reader counts of the fuzz run (inputs, values returned, InputErrors), printed at
the end of the session so a long run (``GUTAXIS_FUZZ_EXAMPLES=10000``) can be quoted."""

from __future__ import annotations

import pytest
from fuzz_targets import FUZZ_COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    readers = sorted({reader for reader, _ in FUZZ_COUNTS})
    if not readers:
        return
    terminalreporter.section("fuzzed readers (hypothesis)")
    terminalreporter.write_line(f"{'reader':<16} {'inputs':>8} {'read':>8} {'InputError':>11}")
    for reader in readers:
        read, refused = FUZZ_COUNTS[reader, "read"], FUZZ_COUNTS[reader, "InputError"]
        terminalreporter.write_line(f"{reader:<16} {read + refused:>8} {read:>8} {refused:>11}")

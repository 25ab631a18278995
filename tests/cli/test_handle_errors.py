"""``handle_errors``: an EOFError or UnicodeDecodeError that escapes a reader still ends
in one line and exit code 2 (not click's bare ``Aborted.`` or a traceback)."""

from __future__ import annotations

import zlib

import pytest
import typer

from gutaxis.cli.common import EXIT_BAD_INPUT, handle_errors


@pytest.mark.parametrize("error", [
    EOFError("Compressed file ended before the end-of-stream marker was reached"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    zlib.error("Error -3 while decompressing data: invalid block type"),
])
def test_stray_decoding_errors_exit_2_with_one_line(error: Exception,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    @handle_errors
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as info:
        command()
    assert info.value.exit_code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "could not be read" in err and type(error).__name__ in err

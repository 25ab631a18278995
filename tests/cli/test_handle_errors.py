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


def test_a_path_that_looks_like_rich_markup_is_printed_as_text(tmp_path):
    """A folder named "[/x]" made rich raise MarkupError ('internal error') instead of
    printing the one-line error."""
    from typer.testing import CliRunner

    from gutaxis.cli.main import app
    from gutaxis.cli.metrics import example_paths

    folder = tmp_path / "br[/x]"  # the folder br[ holding x]
    folder.mkdir(parents=True)
    meta = folder / "meta.tsv"
    meta.write_bytes(example_paths()["metadata"].read_bytes())
    result = CliRunner().invoke(app, [
        "associate", str(example_paths()["table"]), "--metadata", str(meta),
        "--fixed", "nosuch", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert "br[/x]" in result.output and "nosuch" in result.output
    assert not (tmp_path / "out").exists()

"""``gutaxis metrics`` is a thin door onto :func:`gutaxis.gut.run_metrics`: the engine's
errors name its parameters, and the command puts them in its own words."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gutaxis.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(("options", "shown", "hidden"), [
    (["--subject", "nope"], "field '--subject'", "subject_column"),
    (["--reference", "group=nobody"], "field '--reference': no sample has group = nobody",
     "reference="),
    (["--reference", "nope=x"], "field '--reference'", "field 'reference'"),
], ids=["subject", "reference-value", "reference-column"])
def test_engine_errors_name_the_commands_option(tmp_path: Path, options: list[str],
                                                shown: str, hidden: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["metrics", "--example", *options, "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert shown in text and hidden not in text, text
    assert not out.exists()


def test_a_metrics_run_without_metadata_has_no_reference(tmp_path: Path) -> None:
    from gutaxis.cli.metrics import example_paths

    result = runner.invoke(app, ["metrics", str(example_paths()["table"]), "--reference",
                                 "group=control", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "(none was given)" in " ".join(result.output.split())

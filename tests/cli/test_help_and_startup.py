"""``gutaxis`` starts without loading the engine, its help reads well at 80 columns, its
choices are the engine's, and data goes to stdout while summaries go to stderr."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest
import typer
from typer.testing import CliRunner

from gutaxis import choices
from gutaxis.cli.main import app

runner = CliRunner()
COMMANDS = ["metrics", "modules", "instruments", "score", "associate", "import-redcap",
            "import-responses", "export-fhir", "import-fhir", "trial", "evidence", "nof1", "meta",
            "mediate", "permanova", "classify", "analyze", "demo", "serve", "worker", "db", "users"]
HEAVY = ("numpy", "pandas", "scipy", "numba", "matplotlib", "rich")
#: Help artefacts: typer's ``<bool>``/``<path>`` type labels, ``{TABLE}`` usage names.
ARTEFACTS = re.compile(r"<[a-z][a-z _|\[\]-]*>|\{[A-Za-z_]+\}|\[default: None\]|\[\[")


def _modules_loaded_by(statement: str) -> set[str]:
    code = (f"import sys; {statement}; "
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return set(run.stdout.split())


@pytest.mark.parametrize("statement", ["import gutaxis.cli.main", "import gutaxis",
                                       "import gutaxis.choices"])
def test_start_up_imports_no_heavy_library(statement: str) -> None:
    loaded = _modules_loaded_by(statement)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_stages_load_on_first_use() -> None:
    loaded = _modules_loaded_by("import gutaxis; gutaxis.io.read_table; gutaxis.ProfileTable")
    assert {"numpy", "pandas"} <= loaded
    import gutaxis

    assert gutaxis.stats.AssociationResults.__name__ == "AssociationResults"
    assert gutaxis.InputError.__name__ == "InputError"
    assert {"io", "gut", "instruments", "stats", "report"} <= set(dir(gutaxis))
    with pytest.raises(AttributeError):
        _ = gutaxis.no_such_stage


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)],
                         ids=["gutaxis", *COMMANDS])
def test_help_fits_80_columns_without_artefacts_and_shows_examples(command: list[str]
                                                                   ) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert not too_long, too_long
    assert not ARTEFACTS.findall(result.output), ARTEFACTS.findall(result.output)
    assert "Examples:" in result.output
    examples = lines[lines.index("  Examples:") + 1:]
    assert examples[0].startswith("    gutaxis " + (command[0] if command else ""))


def test_top_level_help_lists_every_command_with_an_untruncated_summary() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "80"})
    listed = result.output.split("Commands:")[1].splitlines()[1:]
    assert [line.split()[0] for line in listed] == COMMANDS
    assert not any(line.endswith("...") for line in listed), listed


def _choices_of(command: str, option: str) -> tuple[str, ...]:
    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    param = next(p for p in click_command.params if option in p.opts)
    return tuple(param.type_descriptor.choices)


@pytest.mark.parametrize(("command", "option", "literal"), [
    ("associate", "--normalization", choices.Normalization),
    ("associate", "--transform", choices.Transform),
    ("associate", "--correction", choices.Correction),
    ("associate", "--lmm-optimizer", choices.LmmOptimizer),
    ("associate", "--orientation", choices.Orientation),
    ("associate", "--kind", choices.InputKind),
    ("metrics", "--orientation", choices.Orientation),
    ("metrics", "--kind", choices.InputKind),
])
def test_command_choices_are_the_engines_literals(command: str, option: str,
                                                  literal: object) -> None:
    assert _choices_of(command, option) == get_args(literal)


def test_engine_tables_agree_with_the_literals() -> None:
    from gutaxis.gut.beta import BETA_METRICS
    from gutaxis.gut.diversity_metrics import ALPHA_NAMES
    from gutaxis.stats.models.linear_mixed import OPTIMIZERS
    from gutaxis.stats.multitest import CORRECTIONS
    from gutaxis.stats.normalize import NORMALIZATIONS, TRANSFORMS

    assert tuple(ALPHA_NAMES) == get_args(choices.AlphaMetricName)
    assert tuple(BETA_METRICS) == get_args(choices.BetaMetric)
    assert get_args(choices.LmmOptimizer) == OPTIMIZERS
    assert get_args(choices.Correction) == CORRECTIONS
    assert get_args(choices.Normalization) == NORMALIZATIONS
    assert get_args(choices.Transform) == TRANSFORMS


def test_metrics_help_lists_every_metric_name() -> None:
    text = " ".join(runner.invoke(app, ["metrics", "--help"]).output.split())
    for name in (*get_args(choices.AlphaMetricName), *get_args(choices.BetaMetric)):
        assert name in text


def test_export_fhir_default_base_is_the_engines() -> None:
    from gutaxis.cli.record import DEFAULT_BASE
    from gutaxis.instruments.fhir import BASE

    assert DEFAULT_BASE == BASE


# ----------------------------------------------------------- data to stdout, talk to stderr
def _gutaxis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from gutaxis.cli.main import run; run()",
                           *args], capture_output=True, text=True, check=False)


def test_listing_and_template_are_data_on_stdout() -> None:
    listing = _gutaxis("instruments", "--tsv")
    assert listing.returncode == 0 and listing.stderr == ""
    assert listing.stdout.splitlines()[0].split("\t") == ["instrument", "name", "items",
                                                          "licence"]
    template = _gutaxis("score", "nrs", "--template")
    assert template.returncode == 0 and template.stderr == ""
    assert template.stdout.startswith("subject_id,administered_at,")


def test_writing_commands_keep_stdout_empty_and_summarise_on_stderr(tmp_path: Path) -> None:
    from gutaxis.cli.metrics import example_paths

    run = _gutaxis("metrics", str(example_paths()["table"]), "--metrics",
                   "shannon_entropy,braycurtis", "--out", str(tmp_path / "m"))
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "Wrote" in run.stderr and "40 samples" in run.stderr
    bad = _gutaxis("metrics", str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and bad.stdout == ""
    assert len(bad.stderr.strip().splitlines()) == 1 and "missing.tsv" in bad.stderr


def _examples(help_text: str) -> list[list[str]]:
    """The example command lines of a help text, continuation lines joined, as argv lists
    without the program name and without a shell redirection."""
    block = help_text.split("Examples:\n", 1)[1].split("\n\n", 1)[0]
    joined = block.replace("\\\n", " ")
    lines = []
    for line in joined.splitlines():
        argv = shlex.split(line.split(" > ", 1)[0])
        assert argv[0] == "gutaxis", line
        lines.append(argv[1:])
    return lines


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)],
                         ids=["gutaxis", *COMMANDS])
def test_help_examples_are_command_lines_gutaxis_parses(command: list[str]) -> None:
    """Every option and argument of every example exists (click parses it without
    running the command), so the examples cannot rot when an option is renamed."""
    group = typer.main.get_command(app)
    examples = _examples(runner.invoke(app, [*command, "--help"]).output)
    assert examples
    for argv in examples:
        sub = group.commands[argv[0]]  # type: ignore[attr-defined]
        while isinstance(sub, typer.core.TyperGroup):  # a group: its subcommand is next
            argv = argv[1:]
            sub = sub.commands[argv[0]]
        with sub.make_context(argv[0], argv[1:], resilient_parsing=False) as ctx:
            assert ctx.params  # parsed into the command's parameters


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"gutaxis {version('gutaxis')}\n"


def test_a_scan_without_plots_does_not_load_matplotlib(tmp_path: Path) -> None:
    from gutaxis.cli.metrics import example_paths

    paths = example_paths()
    code = ("import sys; from gutaxis.cli.main import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e\n"
            "print('matplotlib' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, "associate", str(paths["table"]),
                          "--metadata", str(paths["metadata"]), "--fixed", "age",
                          "--no-plots", "--out", str(tmp_path / "scan")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "scan" / "all_results.tsv").is_file()

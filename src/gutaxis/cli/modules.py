"""``gutaxis modules``: gut-brain (GBM) and gut metabolic (GMM) module abundance and
coverage from a KEGG-ortholog table, as Omixer-RPM computes them.

The command parses its options, reads the table, calls
:func:`gutaxis.gut.modules.module_profile` and writes everything at once
(:func:`gutaxis.cli.output.output_folder`); the engine is imported when it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gutaxis.choices import Orientation
from gutaxis.cli.common import (
    Force,
    Kind,
    OutFolder,
    PlainHelpCommand,
    check_output,
    choice_metavar,
    err_console,
    handle_errors,
    output_folder,
    print_notes,
    progress,
)
from gutaxis.errors import InputError

if TYPE_CHECKING:  # rich is imported when something is printed
    from rich.progress import Progress, TaskID

#: Seconds of work after which the command says what it is doing.
_SLOW = 1.0


@handle_errors
def modules_command(
    table: Annotated[Path, typer.Argument(
        metavar="KO_TABLE", show_default=False,
        help="KEGG-ortholog table, unstratified: HUMAnN regrouped to KO, PICRUSt2's KO "
        "pred_metagenome_unstrat.tsv, or a TSV/CSV/BIOM table with K00001-style ids.")],
    out: OutFolder,
    module_set: Annotated[str, typer.Option(
        "--set", metavar="gbm|gmm",
        help="gbm: gut-brain modules (Valles-Colomer et al. 2019); gmm: gut metabolic "
        "modules (Vieira-Silva et al. 2016).")] = "gbm",
    coverage: Annotated[float, typer.Option(
        "--coverage", metavar="FRACTION",
        help="A module is present in a sample when this fraction of its steps (or more) "
        "is observed; its abundance is 0 where it is not (as in the papers).")] = 0.66,
    version: Annotated[str | None, typer.Option(
        "--version", metavar="V",
        help="Version of the set (gbm 1.0, gmm 1.07). Default: the newest shipped.")] = None,
    definitions: Annotated[Path | None, typer.Option(
        "--definitions", metavar="FILE",
        help="Use the modules of FILE (Omixer-RPM's text format) instead of --set.")] = None,
    orientation: Annotated[Orientation | None, typer.Option(
        "--orientation", metavar=choice_metavar(Orientation),
        help="Table orientation, when the side holding the K00001-style ids does not "
        "tell it.")] = None,
    kind: Kind = None,
    per_taxon: Annotated[bool, typer.Option(
        "--per-taxon",
        help="Read the stratified rows (HUMAnN's K00001|g__Genus.s__species, PICRUSt2's "
        "contributions) and infer modules per taxon, as Omixer-RPM's -a 2: features "
        "MODULE|taxon.")] = False,
    force: Force = False,
) -> None:
    """Gut-brain and gut metabolic modules from a KO table.

    Each module is a chain of steps; a step is done by any of its alternatives, an
    alternative needs all its orthologs (a complex, scored by their mean). In each
    sample a module's coverage is the fraction of steps observed and its abundance the
    median of the observed steps' values along the best path, as Omixer-RPM computes
    them (Darzi et al. 2016), the method of the GBM and GMM papers.

    Writes into OUT:

    \b
      module-abundance.tsv   one line per module, one column per sample
      module-coverage.tsv    the same for coverage
      modules.tsv            tidy: sample_id, module_id, module_name,
                             abundance, coverage, present
      module-definitions.tsv module_id, name, n_steps, ko_steps, ...
      summary.json           set, version, source, licence, cutoff, counts

    Every gutaxis command reads the first two as a TABLE (gutaxis associate
    OUT/module-abundance.tsv ...): their first line, '# gutaxis: feature_type=module
    unit=RPK kind=counts', says what the values are (pandas: comment='#'; R:
    read.table reads it as a comment). Feature ids that are not KEGG
    orthologs (UNMAPPED, UNGROUPED) are left out and counted. The module sets are
    for academic research; read their licence in summary.json before commercial use.

    \b
    Examples:
      gutaxis modules humann_ko_unstratified.tsv --set gbm --out gbm
      gutaxis modules pred_metagenome_unstrat.tsv.gz --set gmm --coverage 0.5 \\
          --out gmm
      gutaxis modules humann2_ko_rpk.tsv --kind counts --set gmm --version 1.07 \\
          --out gmm-1.07
      gutaxis modules ko.tsv --definitions kegg_modules.txt --out kegg
      gutaxis modules ko_stratified.tsv --per-taxon --set gbm --out gbm-taxa
    """
    from gutaxis.gut.modules import ModuleSet, module_profile
    from gutaxis.gut.modules import module_set as shipped_set
    from gutaxis.io import read_table

    if not 0.0 <= coverage <= 1.0:  # argument errors before any I/O
        raise InputError("coverage cutoff must be a fraction", field="--coverage",
                         found=coverage, expected="a number from 0 to 1, e.g. 0.66")
    if definitions is not None:
        chosen = ModuleSet.from_omixer(definitions.read_text(encoding="utf-8"),
                                       name=definitions.stem, source=str(definitions))
    else:
        chosen = _placed(lambda: shipped_set(module_set, version))
    check_output(out, folder=True, force=force)
    ko_table = read_table(table, orientation=orientation or ko_orientation(table), kind=kind,
                          stratified=per_taxon)
    with progress() as bar:
        results = _placed(lambda: module_profile(ko_table, set=chosen, coverage=coverage,
                                                 progress=_late_bar(bar, ko_table.n_samples)),
                          table=table)
    if results.unknown_ids:
        print_notes([f"{table}: {results.unknown_note()}"])
    with output_folder(out, force=force) as tmp:
        results.to_dir(tmp, inputs={"table": table, "definitions": definitions})
    err_console().print(f"Wrote {out}:\n{results.summary()}", markup=False)


def ko_orientation(path: Path) -> Orientation | None:
    """Where the KO ids of a delimited table are, from its first 50 lines: ``K00001``-style
    ids heading the lines mean ``samples-columns``, in the header ``samples-rows``;
    ``None`` (the reader decides) for other formats or when no KO id is seen."""
    import re

    from gutaxis.io import detect_table_format
    from gutaxis.io._files import first_lines, text_delimiter

    if detect_table_format(path) != "delimited":
        return None
    lines = [line for line in first_lines(path, 50) if line.strip()]
    if not lines:
        return None
    delimiter = text_delimiter(path, lines[0])
    ko = re.compile(r'^"?K\d{5}(?:$|[:"])')
    if any(ko.match(line.split(delimiter, 1)[0]) for line in lines[1:]):
        return "samples-columns"
    if any(ko.match(cell) for cell in lines[0].split(delimiter)[1:]):
        return "samples-rows"
    return None


def _late_bar(bar: Progress, total: int) -> Callable[[int], None]:
    """A progress callback that shows the bar only once the work has taken a second."""
    start = time.perf_counter()
    done = 0
    task: TaskID | None = None

    def advance(n: int) -> None:
        nonlocal done, task
        done += n
        if task is None and time.perf_counter() - start > _SLOW:
            task = bar.add_task("scoring modules", total=total)
        if task is not None:
            bar.update(task, completed=done)

    return advance


def _placed(work, *, table: Path | None = None):  # type: ignore[no-untyped-def]
    """Run ``work``; an engine error about ``set``/``version``/``coverage`` names the
    option, one about the table names the file."""
    try:
        return work()
    except InputError as exc:
        options = {"set": "--set", "version": "--version", "coverage": "--coverage"}
        if exc.source is None and exc.field in options:
            raise exc.placed(source=None, field=options[exc.field]) from None
        if exc.source is None and exc.field is None and table is not None:
            raise exc.placed(source=str(table), field=None) from None
        raise


def register(app: typer.Typer) -> None:
    """Add ``modules`` to the gutaxis app."""
    app.command("modules", cls=PlainHelpCommand)(modules_command)

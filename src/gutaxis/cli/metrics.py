"""``gutaxis metrics``: alpha and beta diversity, PCoA and gut-health summaries."""

from __future__ import annotations

import warnings
from dataclasses import replace
from enum import StrEnum
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from gutaxis.cli.common import (
    FORCE_HELP,
    DropEmptySamples,
    Kind,
    Strict,
    check_output,
    err_console,
    handle_errors,
    note_dropped,
    output_folder,
    print_notes,
    progress,
)
from gutaxis.data import ProfileTable
from gutaxis.errors import InputError, preview

NON_PHYLOGENETIC = ("braycurtis", "jaccard", "aitchison")
PHYLOGENETIC = ("unweighted_unifrac", "weighted_unifrac")
#: Columns of alpha.tsv, in order (faith_pd follows when a tree is given).
ALPHA_COLUMNS = ("observed_features", "shannon", "simpson", "inverse_simpson",
                 "pielou_evenness", "chao1")
#: Principal coordinates written per metric (the leading axes; all are rarely read).
PCOA_AXES = 10


class Orientation(StrEnum):
    samples_rows = "samples-rows"
    samples_columns = "samples-columns"


def example_paths() -> dict[str, Path]:
    """Files of the synthetic example cohort shipped inside the package."""
    folder = resources.files("gutaxis") / "data" / "examples"
    return {
        "table": Path(str(folder / "example-table.tsv")),
        "taxonomy": Path(str(folder / "example-taxonomy.tsv")),
        "tree": Path(str(folder / "example-tree.nwk")),
        "metadata": Path(str(folder / "example-metadata.tsv")),
    }


def parse_reference(text: str | None, metadata: pd.DataFrame | None) -> np.ndarray | None:
    """``COLUMN=VALUE`` -> boolean mask of reference samples."""
    if text is None:
        return None
    if metadata is None:
        raise InputError("--reference needs --metadata", field="--reference")
    column, sep, value = text.partition("=")
    if not sep:
        raise InputError("--reference must be COLUMN=VALUE", field="--reference", found=text)
    if column not in metadata.columns:
        raise InputError("--reference column not in the metadata", field="--reference",
                         found=column, expected=f"one of {', '.join(map(str, metadata.columns))}")
    mask = (metadata[column].astype(str) == value).to_numpy()
    if not mask.any():
        levels = sorted(metadata[column].dropna().astype(str).unique())[:10]
        raise InputError(f"no sample has {column} = {value}", field="--reference",
                         expected=f"a value among {', '.join(levels)}")
    return mask


def without_empty_samples(table: ProfileTable, *, drop: bool) -> ProfileTable:
    """``table`` without its all-zero samples when ``drop``; else refuse them by name."""
    empty = table.sample_totals() <= 0
    if not empty.any():
        return table
    if not drop:
        raise InputError(f"{int(empty.sum())} of the {table.n_samples} samples have no reads "
                         "(all values zero); diversity between empty samples is undefined",
                         found=preview(table.sample_ids[empty]),
                         expected="samples with at least one nonzero value, or "
                         "--drop-empty-samples to leave the empty ones out")
    kept = table.drop_empty_samples()
    note_dropped(list(table.sample_ids), list(kept.sample_ids), "all values zero")
    if kept.n_samples < 2:
        raise InputError(f"{kept.n_samples} sample(s) left after leaving out the empty ones",
                         field="--drop-empty-samples",
                         expected="at least 2 samples with a nonzero value")
    return kept


def compute_metrics(table: ProfileTable, out: Path, *, reference: np.ndarray | None,
                    subjects: np.ndarray | None) -> list[str]:
    """Write every output of ``gutaxis metrics`` into ``out``; return the beta metrics done."""
    from gutaxis.gut import alpha_diversity, beta_diversity, gut_summary, pcoa
    from gutaxis.io.matrix import write_distance_matrix

    metrics = list(NON_PHYLOGENETIC) + (list(PHYLOGENETIC) if table.tree is not None else [])
    (out / "beta").mkdir()
    (out / "pcoa").mkdir()
    with progress() as bar:
        task = bar.add_task("metrics", total=2 + 2 * len(metrics))
        bar.update(task, description="alpha diversity")
        alpha = alpha_diversity(table)
        if "chao1" not in alpha.columns:  # keep alpha.tsv's columns stable
            alpha.insert(list(ALPHA_COLUMNS).index("chao1"), "chao1", np.nan)
            warnings.warn(f"chao1 needs read counts; the table holds {table.kind} values, so "
                          "its chao1 column is empty", UserWarning, stacklevel=1)
        alpha.to_csv(out / "alpha.tsv", sep="\t", index_label="sample_id", float_format="%.10g")
        bar.advance(task)
        for metric in metrics:
            bar.update(task, description=f"beta: {metric}")
            dm = beta_diversity(table, metric)
            write_distance_matrix(dm, out / "beta" / f"{metric}.tsv")
            bar.advance(task)
            bar.update(task, description=f"PCoA: {metric}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ordination = pcoa(dm, n_components=min(PCOA_AXES, dm.n))
            for w in caught:
                warnings.warn(f"{metric}: {w.message}", w.category, stacklevel=1)
            ordination.coordinates.to_csv(out / "pcoa" / f"{metric}.tsv", sep="\t",
                                          index_label="sample_id", float_format="%.10g")
            axes = pd.DataFrame({"eigenvalue": ordination.eigenvalues,
                                 "proportion_explained": ordination.proportion_explained})
            axes.to_csv(out / "pcoa" / f"{metric}_axes.tsv", sep="\t", index_label="axis",
                        float_format="%.10g")
            bar.advance(task)
        bar.update(task, description="gut summaries")
        summary = gut_summary(table, reference=reference, subjects=subjects)
        summary.to_csv(out / "gut_summary.tsv", sep="\t", index_label="sample_id",
                       float_format="%.10g")
        bar.advance(task)
    return metrics


@handle_errors
def metrics_command(
    table: Path | None = typer.Argument(
        None, help="Microbiome table: BIOM, QIIME 2 .qza, TSV/CSV or MetaPhlAn merged profile.",
        show_default=False),
    taxonomy: Path | None = typer.Option(None, "--taxonomy", help="Taxonomy (TSV or .qza)."),
    tree: Path | None = typer.Option(None, "--tree", help="Rooted tree (Newick or .qza) "
                                     "for Faith PD and UniFrac."),
    metadata: Path | None = typer.Option(None, "--metadata", help="Sample metadata (TSV/CSV, "
                                         "QIIME 2 metadata)."),
    rank: str | None = typer.Option(None, "--rank", help="Aggregate features to this rank "
                                    "first (e.g. genus); drops the tree."),
    reference: str | None = typer.Option(None, "--reference", metavar="COLUMN=VALUE",
                                         help="Reference samples for the dysbiosis score, "
                                         "e.g. diagnosis=nonIBD."),
    subject: str | None = typer.Option(None, "--subject", help="Metadata column of subject "
                                       "ids (the dysbiosis score skips a sample's own subject)."),
    orientation: Orientation | None = typer.Option(
        None, "--orientation", help="Table orientation when it cannot be detected."),
    rarefy: int | None = typer.Option(None, "--rarefy", min=1, metavar="DEPTH",
                                      help="Rarefy every sample to DEPTH reads first (samples "
                                      "with fewer are dropped and named); needs counts."),
    seed: int = typer.Option(0, "--seed", help="Seed for --rarefy."),
    example: bool = typer.Option(False, "--example", help="Use the synthetic example cohort "
                                 "shipped with gutaxis."),
    out: Path = typer.Option(..., "--out", help="Output folder (a new path, or an earlier "
                             "gutaxis output with --force)."),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    kind: Kind = None,
    drop_empty_samples: DropEmptySamples = False,
    strict: Strict = False,
) -> None:
    """Alpha and beta diversity, PCoA and gut-health summaries for every sample.

    Writes alpha.tsv, beta/<metric>.tsv (square distance matrices), pcoa/<metric>.tsv
    (the 10 leading principal coordinates), pcoa/<metric>_axes.tsv (their eigenvalues and
    proportions explained) and gut_summary.tsv into OUT.
    """
    from gutaxis.io import read_metadata, read_table, read_taxonomy, read_tree
    from gutaxis.io.cohort import match_metadata

    check_output(out, folder=True, force=force)  # refuse before any work
    if example:
        if table is not None:
            raise InputError("give either a TABLE or --example, not both", field="TABLE")
        paths = example_paths()
        table, taxonomy, tree, metadata = (paths["table"], paths["taxonomy"], paths["tree"],
                                           paths["metadata"])
        subject = subject or "subject"
        reference = reference or "group=control"
        err_console.print("Using the synthetic example cohort shipped with gutaxis "
                          "(not real data).")
    if table is None:
        raise InputError("a TABLE (or --example) is needed", field="TABLE")
    meta = read_metadata(metadata) if metadata is not None else None
    sample_ids = None if meta is None else list(meta.index)
    profile = read_table(table, orientation=None if orientation is None else orientation.value,
                         sample_ids=sample_ids, kind=None if kind is None else kind.value)
    if meta is not None:
        profile, meta, note = match_metadata(profile, meta, table=str(table),
                                             metadata=str(metadata), strict=strict)
        print_notes([note] if note else [])
    if taxonomy is not None:
        profile = replace(profile, taxonomy=read_taxonomy(taxonomy))
    if tree is not None:
        profile = replace(profile, tree=read_tree(tree))
    if rank is not None:
        if tree is not None:
            err_console.print(f"note: the tree is dropped after aggregating to {rank}; "
                              "no Faith PD or UniFrac.")
        profile = profile.aggregate(rank)
    profile = without_empty_samples(profile, drop=drop_empty_samples)
    if rarefy is not None:
        before = profile.sample_ids
        profile = profile.rarefy(rarefy, seed=seed)
        note_dropped(list(before), list(profile.sample_ids), f"fewer than {rarefy} reads")
        if profile.n_samples < 2:
            raise InputError(f"rarefying to {rarefy} reads leaves {profile.n_samples} sample(s)",
                             field="--rarefy", expected="a depth that keeps at least 2 samples")
    if meta is not None:
        meta = meta.loc[list(profile.sample_ids)]
    mask = parse_reference(reference, meta)
    subjects = None
    if subject is not None:
        if meta is None or subject not in meta.columns:
            raise InputError("--subject column not in the metadata", field="--subject",
                             found=subject)
        subjects = meta[subject].astype(str).to_numpy()
    with output_folder(out, force=force) as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = compute_metrics(profile, tmp, reference=mask, subjects=subjects)
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console.print(f"warning: {message}")
    err_console.print(f"Wrote {out}: alpha.tsv, gut_summary.tsv, beta and PCoA for "
                      f"{', '.join(done)} ({profile.n_samples} samples, "
                      f"{profile.n_features} features).")


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_command)

"""``gutaxis metrics``: alpha and beta diversity, PCoA and gut-health summaries."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from gutaxis.gut.diversity_metrics import DiversitySettings

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


def compute_metrics(table: ProfileTable, out: Path, *, settings: DiversitySettings,
                    reference: np.ndarray | None, subjects: np.ndarray | None) -> list[Path]:
    """Write the diversity outputs of ``gutaxis metrics`` into ``out``; return the files.

    Every number is written with one precision, the shortest text that reads back to the
    same float64 (:func:`gutaxis.io.matrix.float_text`).
    """
    from gutaxis.gut import beta_diversity, gut_summary, pcoa
    from gutaxis.gut.diversity_metrics import alpha_table
    from gutaxis.io.matrix import write_distance_matrix, write_frame_tsv

    written = [out / "alpha.tsv"]
    if settings.beta_metrics:
        (out / "beta").mkdir()
        (out / "pcoa").mkdir()
    with progress() as bar:
        task = bar.add_task("metrics", total=2 + 2 * len(settings.beta_metrics))
        bar.update(task, description="alpha diversity")
        write_frame_tsv(alpha_table(table, settings), written[0], index_label="sample_id")
        bar.advance(task)
        for metric in settings.beta_metrics:
            bar.update(task, description=f"beta: {metric}")
            dm = beta_diversity(table, metric, generalized_alpha=settings.generalized_alpha)
            written.append(out / "beta" / f"{metric}.tsv")
            write_distance_matrix(dm, written[-1])
            bar.advance(task)
            bar.update(task, description=f"PCoA: {metric}")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ordination = pcoa(dm, n_components=min(PCOA_AXES, dm.n))
            for w in caught:
                warnings.warn(f"{metric}: {w.message}", w.category, stacklevel=1)
            axes = pd.DataFrame({"eigenvalue": ordination.eigenvalues,
                                 "proportion_explained": ordination.proportion_explained})
            written += [out / "pcoa" / f"{metric}.tsv", out / "pcoa" / f"{metric}_axes.tsv"]
            write_frame_tsv(ordination.coordinates, written[-2], index_label="sample_id")
            write_frame_tsv(axes, written[-1], index_label="axis")
            bar.advance(task)
        bar.update(task, description="gut summaries")
        summary = gut_summary(table, reference=reference, subjects=subjects)
        written.append(out / "gut_summary.tsv")
        write_frame_tsv(summary, written[-1], index_label="sample_id")
        bar.advance(task)
    return written


def file_sha256(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def metrics_provenance(table: ProfileTable, settings: DiversitySettings, *,
                       inputs: Mapping[str, Path | None], options: Mapping[str, object],
                       written: list[Path], out: Path) -> dict[str, object]:
    """The contents of ``metrics.json``: what was computed, on what, how, and what to cite.

    ``table_hash`` is :func:`gutaxis.stats.associate.input_hash` of the table as analysed
    (after --rank and --rarefy), as ``associate`` records it in ``model.json``; the input
    files are hashed as read.
    """
    from gutaxis import __version__
    from gutaxis.data import Cohort
    from gutaxis.gut.diversity_metrics import metric_citations
    from gutaxis.stats.associate import input_hash

    cohort = Cohort(table, pd.DataFrame(index=pd.Index(table.sample_ids)))
    return {
        "method": "gutaxis metrics",
        "gutaxis_version": __version__,
        "settings": {**settings.to_dict(), **options},
        "shannon_entropy_unit": _entropy_unit(settings.shannon_base),
        "float_format": "shortest text that reads back to the same float64 (Python repr)",
        "inputs": {name: {"path": str(path), "sha256": file_sha256(path)}
                   for name, path in inputs.items() if path is not None},
        "table_hash": input_hash(cohort, []),
        "table_kind": table.kind,
        "n_samples": table.n_samples,
        "n_features": table.n_features,
        "outputs": [str(p.relative_to(out)) for p in written],
        "citations": list(metric_citations(settings)),
    }


def _entropy_unit(base: float) -> str:
    return {2.0: "bits (log base 2)", math.e: "nats (natural log)"}.get(
        base, f"log base {base:g}")


def parse_shannon_base(text: str) -> float:
    """``2`` or ``e`` (or another number > 0 other than 1) -> the logarithm base."""
    if text.strip().lower() == "e":
        return math.e
    try:
        base = float(text)
    except ValueError:
        base = math.nan
    if not (base > 0 and base != 1 and math.isfinite(base)):
        raise InputError("--shannon-base must be 2, e or another positive number other than 1",
                         field="--shannon-base", found=text, expected="2 (QIIME 2) or e")
    return base


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
    metrics: str | None = typer.Option(
        None, "--metrics", metavar="NAMES",
        help="Comma-separated metrics, QIIME 2 names: observed_features, shannon_entropy, "
        "simpson, inverse_simpson, pielou_e, chao1, faith_pd, braycurtis, jaccard, aitchison, "
        "unweighted_unifrac, weighted_unifrac (unnormalized), weighted_normalized_unifrac, "
        "generalized_unifrac, variance_adjusted_weighted_unifrac. Default: all alpha "
        "metrics, braycurtis, jaccard, aitchison and, with a tree, faith_pd, "
        "unweighted_unifrac, weighted_normalized_unifrac and weighted_unifrac."),
    generalized_alpha: float = typer.Option(
        0.5, "--generalized-alpha",
        help="alpha of generalized_unifrac, in [0, 1] (1 = weighted normalized)."),
    shannon_base: str = typer.Option(
        "2", "--shannon-base", metavar="BASE",
        help="Logarithm base of shannon_entropy: 2 (bits, as QIIME 2) or e (nats, as "
        "scikit-bio and vegan). Recorded in metrics.json."),
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

    Writes alpha.tsv (one column per alpha metric, QIIME 2 names), beta/<metric>.tsv
    (square distance matrices), pcoa/<metric>.tsv (the 10 leading principal coordinates),
    pcoa/<metric>_axes.tsv (their eigenvalues and proportions explained), gut_summary.tsv
    and metrics.json (settings, version, input hashes, citations) into OUT. Numbers are
    written with full float64 precision (the shortest text that reads back exactly).
    """
    from gutaxis.gut.diversity_metrics import DiversitySettings, choose_metrics
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
    base = parse_shannon_base(shannon_base)
    if not 0.0 <= generalized_alpha <= 1.0:
        raise InputError("--generalized-alpha out of range", field="--generalized-alpha",
                         found=generalized_alpha, expected="a number in [0, 1] (0.5 as QIIME 2)")
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
    alpha_names, beta_names = choose_metrics(
        profile, None if metrics is None else metrics.split(","))
    settings = DiversitySettings(alpha_names, beta_names, shannon_base=base,
                                 generalized_alpha=generalized_alpha)
    options = {"rank": rank, "rarefy": rarefy, "seed": seed if rarefy is not None else None,
               "reference": reference, "subject": subject, "aitchison_pseudocount": 1.0}
    inputs = {"table": table, "taxonomy": taxonomy, "tree": tree, "metadata": metadata}
    with output_folder(out, force=force) as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = compute_metrics(profile, tmp, settings=settings, reference=mask,
                                  subjects=subjects)
        provenance = metrics_provenance(profile, settings, inputs=inputs, options=options,
                                        written=written, out=tmp)
        (tmp / "metrics.json").write_text(json.dumps(provenance, indent=2) + "\n")
    for message in dict.fromkeys(str(w.message) for w in caught):
        err_console.print(f"warning: {message}")
    done = ", ".join(beta_names) or "no beta metric"
    err_console.print(f"Wrote {out}: alpha.tsv (shannon_entropy in "
                      f"{_entropy_unit(base)}), gut_summary.tsv, metrics.json, beta and PCoA "
                      f"for {done} ({profile.n_samples} samples, {profile.n_features} "
                      "features).")


def register(app: typer.Typer) -> None:
    app.command("metrics")(metrics_command)

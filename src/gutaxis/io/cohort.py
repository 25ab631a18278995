"""The door the CLI walks through: files in, one validated :class:`Cohort` out."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pandas as pd

from gutaxis.data.cohort import Cohort
from gutaxis.data.measurements import Measurements
from gutaxis.data.profile import RANKS, ProfileTable, ValueKind
from gutaxis.errors import InputError, preview
from gutaxis.io._files import PathLike
from gutaxis.io.delimited import Orientation
from gutaxis.io.metadata import read_metadata
from gutaxis.io.table import read_table, read_tree
from gutaxis.io.taxonomy import read_taxonomy


def read_cohort(
    table: PathLike,
    metadata: PathLike | None,
    *,
    taxonomy: PathLike | None = None,
    tree: PathLike | None = None,
    orientation: Orientation | None = None,
    subject_column: str | None = None,
    time_column: str | None = None,
    kind: ValueKind | None = None,
    record: Measurements | None = None,
    strict: bool = True,
    stratified: bool = False,
) -> Cohort:
    """Read a table, its sample metadata and optionally taxonomy, tree and the
    longitudinal record into a Cohort.

    Parameters
    ----------
    table
        Any table :func:`gutaxis.io.read_table` reads. For delimited tables the
        orientation is found by matching ids against the metadata's sample ids unless
        ``orientation`` is given.
    metadata
        Sample metadata (:func:`gutaxis.io.read_metadata`); ``None`` for a table alone
        (the cohort's metadata then has the table's samples and no column).
    taxonomy
        Optional taxonomy file (:func:`gutaxis.io.read_taxonomy`); it must cover every
        feature of the table and replaces a taxonomy the table carries.
    tree
        Optional rooted tree: Newick or a ``Phylogeny[Rooted]`` ``.qza``; every feature
        must be a tip.
    orientation
        ``"samples-columns"`` or ``"samples-rows"`` for a delimited table (found from
        the metadata's sample ids when ``None``).
    subject_column, time_column
        Metadata columns linking samples to subjects and times.
    kind
        What the table's values are (inferred when ``None``).
    record
        Optional longitudinal record, already read (a record TSV by
        :func:`gutaxis.instruments.read_record`, a REDCap export, a FHIR Bundle): scores,
        labs, interventions, sample links. Add its values to the metadata with
        :meth:`Cohort.add_from_record`. Reading it is the instruments' work (its answers
        are checked against the registry), which ``io`` below them does not do.
    strict
        Refuse table samples without a metadata row (default). With ``strict=False``
        they are left out, as MaAsLin does, and a :class:`UserWarning` says how many and
        which (the first few).
    stratified
        For HUMAnN and PICRUSt2 tables: the function x taxon rows instead of the
        community rows (:func:`gutaxis.io.read_table`).

    Raises
    ------
    InputError
        Any reader's error; table samples without a metadata row (naming both files, a
        few of the ids and how many) unless ``strict=False``; no table sample in the
        metadata at all; features missing from the taxonomy or the tree; a record
        sample linked to another subject than ``subject_column`` says.
    """
    if metadata is None:
        profile = read_table(table, orientation=orientation, kind=kind,
                             stratified=stratified)
        meta = pd.DataFrame(index=pd.Index(profile.sample_ids, name="sample_id"))
    else:
        meta = read_metadata(metadata)
        profile = read_table(table, orientation=orientation, sample_ids=list(meta.index),
                             kind=kind, stratified=stratified)
        profile, _, note = match_metadata(profile, meta, table=str(table),
                                          metadata=str(metadata), strict=strict)
        if note:
            warnings.warn(note, UserWarning, stacklevel=2)
    if taxonomy is not None:
        profile = replace(profile, taxonomy=_taxonomy_for(profile, taxonomy))
    if tree is not None:
        profile = replace(profile, tree=read_tree(tree))
    longitudinal = Measurements() if record is None else record
    return Cohort(profile, meta, subject_column=subject_column, time_column=time_column,
                  source=None if metadata is None else str(metadata), record=longitudinal)


def match_metadata(profile: ProfileTable, meta: pd.DataFrame, *, table: str, metadata: str,
                   strict: bool = True) -> tuple[ProfileTable, pd.DataFrame, str]:
    """Keep the samples that are in both the table and the metadata.

    Returns the table's samples that have a metadata row, their metadata rows in the
    table's order, and a note saying how many samples were left out and which (the
    first few; empty when none was).

    Raises
    ------
    InputError
        No table sample has a metadata row (naming both files and a few ids of each: the
        files do not belong together); some have none and ``strict`` is set.
    """
    missing = pd.Index(profile.sample_ids).difference(meta.index, sort=False)
    if len(missing) == profile.n_samples:
        raise InputError(
            f"none of the {profile.n_samples} sample ids of {table} is in the metadata; do "
            "the two files belong together?", source=metadata,
            found=f"metadata ids {preview(meta.index, 3)}; table ids "
            f"{preview(profile.sample_ids, 3)}",
            expected="the table's sample ids in the metadata's first column")
    if not len(missing):
        return profile, meta.loc[list(profile.sample_ids)], ""
    if strict:
        raise InputError(
            f"{len(missing)} of the {profile.n_samples} samples of {table} have no row in "
            "the metadata",
            source=metadata,
            found=preview(missing),
            expected=f"a metadata row for every sample id of the table (metadata ids look "
            f"like {preview(meta.index, 3)})",
        )
    kept = profile.subset_samples(pd.Index(profile.sample_ids).isin(meta.index))
    note = (f"left out {len(missing)} of the {profile.n_samples} samples of {table}, which "
            f"have no row in {metadata}: {preview(missing)}")
    if 2 * len(missing) > profile.n_samples:
        note += "; that is most of the table: does the metadata belong to it?"
    return kept, meta.loc[list(kept.sample_ids)], note


def _taxonomy_for(profile: ProfileTable, path: PathLike) -> pd.DataFrame:
    taxa = read_taxonomy(path)
    missing = pd.Index(profile.feature_ids).difference(taxa.index, sort=False)
    if len(missing):
        raise InputError(
            f"{len(missing)} of the {profile.n_features} table features have no taxonomy row",
            source=str(path),
            found=preview(missing),
            expected="a taxonomy row for every feature id of the table",
        )
    columns = [c for c in (*RANKS, "confidence") if c in taxa.columns]
    return taxa.loc[list(profile.feature_ids), columns]


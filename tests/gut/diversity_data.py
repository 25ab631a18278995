"""Real-data loaders for the diversity tests, read with pandas alone (independent of
gutaxis.io) and cached per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from gutaxis.data.profile import ProfileTable


@cache
def fibromyalgia_counts(folder: Path) -> pd.DataFrame:
    """Samples x ASVs integer counts (the file is ASVs x samples)."""
    frame = pd.read_csv(folder / "feature-table.tsv.gz", sep="\t", index_col="feature_id")
    return frame.T.astype("int64")


@cache
def fibromyalgia_table(folder: Path) -> ProfileTable:
    """The fibromyalgia counts with their SILVA 138 taxonomy ("0" = unassigned)."""
    taxonomy = pd.read_csv(folder / "taxonomy.tsv.gz", sep="\t", index_col="feature_id",
                           dtype=str)
    return ProfileTable.from_dataframe(fibromyalgia_counts(folder), taxonomy=taxonomy)


@cache
def hmp2_frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HMP2 species relative abundances and the metadata, aligned on sample id."""
    profiles = pd.read_csv(folder / "HMP2_taxonomy.tsv.gz", sep="\t", index_col="ID")
    metadata = pd.read_csv(folder / "HMP2_metadata.tsv", sep="\t", index_col="ID")
    return profiles, metadata.loc[profiles.index]

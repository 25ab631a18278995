"""Cohort: a ProfileTable with its sample metadata, aligned and validated once."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gutaxis.data.profile import ProfileTable, Selector
from gutaxis.errors import InputError, preview


@dataclass(frozen=True, eq=False)
class Cohort:
    """What every analysis takes: a table and the metadata of its samples.

    Parameters
    ----------
    table
        The microbiome table.
    metadata
        One row per sample, indexed by sample id; reordered to the table's samples.
        Every table sample must have a row (extra metadata rows are dropped).
    subject_column, time_column
        Optional metadata columns linking each sample to a subject (repeated measures)
        and to a time (a number such as a visit or day, or a timezone-aware timestamp).
    source
        Where the metadata came from, for error messages.
    """

    table: ProfileTable
    metadata: pd.DataFrame
    subject_column: str | None = None
    time_column: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        meta = self.metadata.copy()
        meta.index = meta.index.astype(str)
        meta.index.name = "sample_id"
        if meta.index.has_duplicates:
            dupes = meta.index[meta.index.duplicated()].unique()
            raise InputError("duplicate sample ids in metadata", source=self.source,
                             found=preview(dupes), expected="one row per sample")
        missing = pd.Index(self.table.sample_ids).difference(meta.index)
        if len(missing):
            raise InputError(
                f"{len(missing)} of {self.table.n_samples} table sample(s) have no metadata row",
                source=self.source,
                found=preview(missing),
                expected="a metadata row for every sample id of the table",
            )
        for col in (self.subject_column, self.time_column):
            if col is not None and col not in meta.columns:
                raise InputError("metadata column not found", source=self.source, column=col,
                                 expected=f"one of {list(meta.columns)}")
        object.__setattr__(self, "metadata", meta.loc[list(self.table.sample_ids)])

    @property
    def sample_ids(self) -> np.ndarray:
        return self.table.sample_ids

    @property
    def n_samples(self) -> int:
        return self.table.n_samples

    def subjects(self) -> pd.Series:
        """Subject of each sample (each sample is its own subject when none is set)."""
        if self.subject_column is None:
            return pd.Series(self.sample_ids, index=self.metadata.index, name="subject")
        return self.metadata[self.subject_column].astype(str)

    def subset_samples(self, selector: Selector) -> Cohort:
        """Keep the samples named; the metadata follows."""
        return self.with_table(self.table.subset_samples(selector))

    def with_table(self, table: ProfileTable) -> Cohort:
        """The same metadata over a transformed table (same or fewer samples).

        The metadata is realigned to the new table's samples by ``__post_init__``.
        """
        return replace(self, table=table)

    def column(self, name: str) -> pd.Series:
        """A metadata column, or an error listing the columns that exist."""
        if name not in self.metadata.columns:
            raise InputError("metadata column not found", source=self.source, column=name,
                             expected=f"one of {', '.join(map(str, self.metadata.columns))}")
        return self.metadata[name]

"""Cohort: a ProfileTable with its sample metadata and longitudinal record, aligned and
validated once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from gutaxis.data.measurements import Baseline, Measurements, time_span
from gutaxis.data.profile import ProfileTable, Selector
from gutaxis.errors import InputError, preview

Rule = Literal["nearest", "last_before", "first_after"]


@dataclass(frozen=True, eq=False)
class Cohort:
    """What every analysis takes: a table, the metadata of its samples and the record.

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
    record
        The longitudinal record (scores, labs, interventions, sample links); empty by
        default. It is kept to the subjects of the cohort's samples and the sample links
        to its samples, so subsetting the samples subsets the record too. Its values
        become metadata columns with :meth:`add_from_record`.
    """

    table: ProfileTable
    metadata: pd.DataFrame
    subject_column: str | None = None
    time_column: str | None = None
    source: str | None = None
    record: Measurements = field(default_factory=Measurements)

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
        if not self.record.is_empty:
            subjects = self.record.sample_subjects(self)
            object.__setattr__(self, "record", self.record.restricted_to(
                subjects, sample_ids=subjects.index))

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
        """Keep the samples named; the metadata follows.

        Parameters
        ----------
        selector
            Sample ids, a boolean mask or integer positions.
        """
        return self.with_table(self.table.subset_samples(selector))

    def with_table(self, table: ProfileTable) -> Cohort:
        """The same metadata over a transformed table (same or fewer samples).

        The metadata is realigned to the new table's samples by ``__post_init__``.

        Parameters
        ----------
        table
            The new table, over the same samples or fewer.
        """
        return replace(self, table=table)

    def column(self, name: str) -> pd.Series:
        """A metadata column, or an error listing the columns that exist.

        Parameters
        ----------
        name
            The metadata column.
        """
        if name not in self.metadata.columns:
            raise InputError("metadata column not found", source=self.source, column=name,
                             expected=f"one of {', '.join(map(str, self.metadata.columns))}")
        return self.metadata[name]

    def add_from_record(self, code: str, *, rule: Rule = "nearest",
                        within: str | pd.Timedelta | None = "7D",
                        change_since_baseline: bool = False, baseline: Baseline = "first",
                        name: str | None = None) -> Cohort:
        """The cohort with one more metadata column: a record value at each sample.

        Parameters
        ----------
        code
            An instrument score ``"instrument.score"`` (``"nrs.pain"``) or a lab analyte
            (``"crp"``; values in its canonical unit).
        rule
            Which measurement a sample takes: ``"nearest"`` in time, ``"last_before"``
            (at or before the sample) or ``"first_after"`` (at or after).
        within
            The largest gap between sample and measurement (``"7D"``, ``"12h"``), or
            ``None`` for no limit; samples with nothing in reach get a missing value
            (models drop them).
        change_since_baseline
            The change since the subject's ``baseline`` instead of the value (see
            :meth:`Measurements.change_since_baseline`).
        baseline
            With ``change_since_baseline``: ``"first"``, ``"first-sample"`` or
            ``"intervention"`` (see :meth:`Measurements.change_since_baseline`).
        name
            The new column's name; default ``code`` (``"nrs.pain change"`` for a change).

        Returns
        -------
        Cohort
            A new cohort; this one is unchanged.

        Raises
        ------
        InputError
            The record holds no value of ``code`` (a misspelt score, a file without
            it), the rule or span is not one of those above, or ``name`` exists.

        Notes
        -----
        The match is the record's rolling join (:meth:`Measurements.at_samples`),
        checked against R data.table rolling joins in ``tests/reference/join``.

        Examples
        --------
        "Pain NRS at the sample's date" is ``cohort.add_from_record("nrs.pain",
        within="1D")``; "CRP within 7 days before" is ``cohort.add_from_record("crp",
        rule="last_before", within="7D")``.
        """
        how = _RULES.get(rule)
        if how is None:
            raise InputError("unknown match rule", field="rule", found=rule,
                             expected="'nearest', 'last_before' or 'first_after'")
        within = time_span(within, field="within")
        score, lab = (code, None) if "." in code else (None, code)
        if self.record.series(score, lab=lab).empty:
            raise InputError("no values of this variable in the record",
                             source=self.record.source, field="code", found=code,
                             expected="one of " + (", ".join(self.record.variables())
                                                   or "(the record is empty)"))
        if change_since_baseline:
            values = self.record.change_since_baseline(self, score, lab=lab, baseline=baseline,
                                                       how=how, tolerance=within)
        else:
            values = self.record.at_samples(self, score, lab=lab, how=how, tolerance=within)
        column = str(values.name) if name is None else name
        if column in self.metadata.columns:
            raise InputError("metadata column already exists", source=self.source,
                             column=column, expected="a new name (name=...)")
        return replace(self, metadata=self.metadata.assign(
            **{column: values.reindex(self.metadata.index).to_numpy()}))


_RULES: dict[str, Literal["nearest", "last-before", "first-after"]] = {
    "nearest": "nearest", "last_before": "last-before", "first_after": "first-after"}

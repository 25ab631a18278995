"""Cohort: metadata aligned to the table and validated at the door."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data import Cohort, ProfileTable
from gutaxis.errors import InputError


def table() -> ProfileTable:
    return ProfileTable(sp.csr_array(np.arange(6, dtype=float).reshape(3, 2)),
                        ["s1", "s2", "s3"], ["f1", "f2"])


def metadata() -> pd.DataFrame:
    return pd.DataFrame({"subject": ["a", "a", "b", "c"], "pain": [3, 5, 1, 0]},
                        index=["s3", "s1", "s2", "extra"])


def test_metadata_is_reordered_to_the_table_and_extra_rows_dropped() -> None:
    cohort = Cohort(table(), metadata(), subject_column="subject")
    assert list(cohort.metadata.index) == ["s1", "s2", "s3"]
    assert list(cohort.column("pain")) == [5, 1, 3]
    assert list(cohort.subjects()) == ["a", "b", "a"]


def test_missing_metadata_rows_are_named_and_counted() -> None:
    with pytest.raises(InputError, match=r"1 of 3 table sample\(s\) have no metadata.*s2"):
        Cohort(table(), metadata().drop(index="s2"), source="meta.tsv")


def test_unknown_column_lists_the_columns_that_exist() -> None:
    cohort = Cohort(table(), metadata())
    with pytest.raises(InputError, match=r"column 'bmi'.*subject, pain"):
        cohort.column("bmi")


def test_subset_samples_keeps_metadata_aligned() -> None:
    cohort = Cohort(table(), metadata()).subset_samples(["s3", "s1"])
    assert list(cohort.metadata.index) == ["s3", "s1"]
    np.testing.assert_array_equal(cohort.table.dense(), [[4, 5], [0, 1]])

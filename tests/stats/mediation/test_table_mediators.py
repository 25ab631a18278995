"""Features and modules of a table as mediators: a KO (or a module of a module table) enters
as its log2 relative abundance, computed here with numpy (TSS over every feature, zeros
replaced by half the feature's smallest positive value); a coverage table's values enter
as they are; metadata columns win over features of the same name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data import Cohort, ProfileTable
from gutaxis.errors import InputError
from gutaxis.stats.mediation.pipeline import metadata_with_table_columns, missing_columns

IDS = ["s1", "s2", "s3", "s4"]
VALUES = np.array([[10.0, 0.0, 30.0], [5.0, 5.0, 0.0], [0.0, 8.0, 2.0], [1.0, 1.0, 1.0]])


def cohort(unit: str = "RPK", kind: str = "counts") -> Cohort:
    table = ProfileTable(sp.csr_array(VALUES), IDS, ["K00001", "K00002", "MGB005"],
                         kind=kind, feature_type="ko", unit=unit)  # type: ignore[arg-type]
    return Cohort(table, pd.DataFrame({"pain": [1.0, 2.0, 3.0, 4.0]},
                                      index=pd.Index(IDS, name="sample_id")))


def test_a_feature_enters_as_log2_relative_abundance() -> None:
    meta, notes = metadata_with_table_columns(cohort(), columns=["K00002", "pain"])
    rel = VALUES[:, 1] / VALUES.sum(axis=1)
    expected = np.log2(np.where(rel > 0, rel, rel[rel > 0].min() / 2))
    np.testing.assert_allclose(meta["K00002"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert notes and notes[0].startswith("K00002: log2 relative abundance")
    assert list(meta["pain"]) == [1.0, 2.0, 3.0, 4.0]


def test_a_coverage_feature_enters_as_it_is() -> None:
    covered = ProfileTable(sp.csr_array(VALUES / 30.0), IDS, ["P1", "P2", "P3"],
                           kind="transformed", feature_type="pathway", unit="coverage")
    meta, notes = metadata_with_table_columns(cohort().with_table(covered), columns=["P3"])
    np.testing.assert_allclose(meta["P3"].to_numpy(), VALUES[:, 2] / 30.0, atol=1e-15)
    assert notes == ["P3: values as they are"]


def test_an_unknown_name_is_refused_in_the_words_of_the_command() -> None:
    meta, _ = metadata_with_table_columns(cohort(), columns=["K99999"])
    with pytest.raises(InputError, match="nor a feature of the table"):
        missing_columns(meta, ["K99999"], source="meta.tsv", has_table=True)

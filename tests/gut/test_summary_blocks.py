"""Gut summaries and inferred guilds by sample blocks, on a real LocalCluster of 2 worker
processes and in this process: the frame `gutaxis metrics` writes in memory
(gut_summary, then the guild shares), bit for bit, with the dysbiosis score's reference
and subjects straddling the blocks; from a table and from a BIOM block reader."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.compute import LocalBackend
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut.summaries import SummaryWarning, gut_summary
from gutaxis.gut.summary_blocks import gut_summary_blocks, with_inferred_guilds
from gutaxis.io import read_cohort
from gutaxis.io.biom import read_biom, write_biom
from gutaxis.io.biom_blocks import open_biom_blocks

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def cohort(fibromyalgia_dir: Path):
    return read_cohort(fibromyalgia_dir / "feature-table.tsv.gz",
                       fibromyalgia_dir / "metadata.tsv",
                       taxonomy=fibromyalgia_dir / "taxonomy.tsv.gz")


def _subjects(n: int) -> np.ndarray:
    """Two samples per subject (pairs cross the 7-sample blocks: 6|7, 13|14, ...)."""
    return np.asarray([f"p{i // 2}" for i in range(n)], dtype=object)


def _in_memory(table: ProfileTable, reference, subjects) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = with_inferred_guilds(
            gut_summary(table, reference=reference, subjects=subjects), table)[0]
    return frame, [str(w.message) for w in caught if w.category is SummaryWarning]


def _blocked(table, **options) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = gut_summary_blocks(table, **options)
    return frame, [str(w.message) for w in caught if w.category is SummaryWarning]


def test_blocks_on_the_cluster_equal_the_in_memory_summary(cohort, dask_backend) -> None:
    table = cohort.table
    mask = (cohort.metadata["group"] == "ctl").to_numpy()
    subjects = _subjects(table.n_samples)
    expected, expected_warnings = _in_memory(table, mask, subjects)
    found, found_warnings = _blocked(table, reference=mask, subjects=subjects, guilds=True,
                                     backend=dask_backend, block=7)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert found_warnings == expected_warnings
    assert expected["dysbiosis_score"].notna().sum() > 50  # the score is exercised
    assert "dysbiotic" in found.columns and found["butyrate_inferred"].notna().all()


def test_blocks_from_a_biom_reader_equal_the_in_memory_summary(
        cohort, dask_backend, tmp_path: Path) -> None:
    path = tmp_path / "cohort.biom"
    write_biom(cohort.table, path)
    whole = read_biom(path)
    reference = list(cohort.metadata.index[cohort.metadata["group"] == "ctl"])
    expected, expected_warnings = _in_memory(whole, reference, None)
    found, found_warnings = _blocked(open_biom_blocks(path, block=30), reference=reference,
                                     guilds=True, backend=dask_backend)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)
    assert found_warnings == expected_warnings


def test_blocks_in_this_process_without_reference_equal_gut_summary(cohort) -> None:
    expected = gut_summary(cohort.table)
    found = gut_summary_blocks(cohort.table, backend=LocalBackend(), block=10)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


def test_an_unknown_reference_id_or_empty_reference_is_refused(cohort, tmp_path) -> None:
    path = tmp_path / "cohort.biom"
    write_biom(cohort.table, path)
    with pytest.raises(InputError, match="not in the table"):
        gut_summary_blocks(open_biom_blocks(path), reference=["nobody"])
    with pytest.raises(InputError, match="at least one reference"):
        gut_summary_blocks(cohort.table, reference=np.zeros(cohort.table.n_samples, bool))

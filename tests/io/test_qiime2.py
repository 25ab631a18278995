"""QIIME 2 artifacts read from the zip, built here with the QIIME 2 layout from the real
cohorts (payloads written by biom-format itself)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import biom
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.io import (
    artifact_info,
    read_delimited,
    read_newick,
    read_qza,
    read_qza_table,
    read_table,
    read_taxonomy,
)


def _biom_bytes(table: ProfileTable) -> bytes:
    """HDF5 BIOM 2.1 as QIIME 2 stores it, written by biom-format."""
    other = biom.Table(sp.csr_matrix(table.values.T), list(table.feature_ids),
                       list(table.sample_ids))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        other.to_hdf5(h5, "test")
    return buffer.getvalue()


@pytest.mark.realdata
def test_frequency_table_artifact(fibromyalgia_dir: Path, tmp_path: Path, qza) -> None:
    table = read_delimited(fibromyalgia_dir / "feature-table.tsv.gz")
    path = qza(tmp_path / "table.qza", "FeatureTable[Frequency]", "BIOMV210DirFmt",
                    {"feature-table.biom": _biom_bytes(table)})
    info = artifact_info(path)
    assert (info.type, info.format) == ("FeatureTable[Frequency]", "BIOMV210DirFmt")
    for back in (read_qza(path), read_qza_table(path), read_table(path)):
        assert isinstance(back, ProfileTable)
        assert back.kind == "counts"
        assert back.shape == (101, 6993)
        assert list(back.sample_ids) == list(table.sample_ids)
        assert (back.values != table.values).nnz == 0


@pytest.mark.realdata
def test_relative_frequency_table_artifact(hmp2_dir: Path, tmp_path: Path, qza) -> None:
    table = read_delimited(hmp2_dir / "HMP2_taxonomy.tsv.gz", orientation="samples-rows")
    path = qza(tmp_path / "rel.qza", "FeatureTable[RelativeFrequency]", "BIOMV210DirFmt",
                    {"feature-table.biom": _biom_bytes(table)})
    back = read_qza_table(path)
    assert back.kind == "relative"
    assert (back.values != table.values).nnz == 0


@pytest.mark.realdata
def test_silva_taxonomy_artifact(fibromyalgia_dir: Path, tmp_path: Path, qza) -> None:
    ranks = read_taxonomy(fibromyalgia_dir / "taxonomy.tsv.gz")
    prefixes = ["d", "p", "c", "o", "f", "g", "s"]
    lineage = ranks.apply(
        lambda row: "; ".join(f"{p}__{v}" for p, v in zip(prefixes, row, strict=True)
                              if isinstance(v, str)) or "Unassigned", axis=1)
    text = "Feature ID\tTaxon\tConfidence\n" + "".join(
        f"{fid}\t{taxon}\t0.98\n" for fid, taxon in lineage.items())
    path = qza(tmp_path / "taxonomy.qza", "FeatureData[Taxonomy]", "TSVTaxonomyDirectoryFormat",
                    {"taxonomy.tsv": text.encode()})
    back = read_qza(path)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back.drop(columns="confidence"), ranks)
    assert (back["confidence"] == 0.98).all()
    pd.testing.assert_frame_equal(read_taxonomy(path), back)


@pytest.mark.realdata
def test_rooted_phylogeny_artifact(fibromyalgia_dir: Path, tmp_path: Path, qza) -> None:
    newick = (fibromyalgia_dir / "tree.nwk").read_bytes()
    path = qza(tmp_path / "tree.qza", "Phylogeny[Rooted]", "NewickDirectoryFormat",
                    {"tree.nwk": newick})
    tree = read_qza(path)
    assert isinstance(tree, PhyloTree)
    reference = read_newick(fibromyalgia_dir / "tree.nwk")
    np.testing.assert_array_equal(tree.parent, reference.parent)
    assert len(tree.tip_names) == 6993


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("semantic_type", "match"),
    [
        ("Phylogeny[Unrooted]", "midpoint-root"),
        ("SampleData[AlphaDiversity]", "not read by gutaxis"),
        ("FeatureTable[PresenceAbsence]", "frequency table instead"),
    ],
)
def test_unsupported_types_are_refused(tmp_path: Path, semantic_type: str, match: str, qza) -> None:
    path = qza(tmp_path / "x.qza", semantic_type, "SomeFormat", {"x.tsv": b"x"})
    with pytest.raises(InputError, match=match) as info:
        read_qza(path)
    assert semantic_type in str(info.value)
    assert "FeatureTable[Frequency]" in str(info.value)  # lists what is read


def test_taxonomy_artifact_is_not_a_table(tmp_path: Path, qza) -> None:
    path = qza(tmp_path / "t.qza", "FeatureData[Taxonomy]", "TSVTaxonomyDirectoryFormat",
                    {"taxonomy.tsv": b"Feature ID\tTaxon\nA\td__Bacteria\n"})
    with pytest.raises(InputError, match="not a feature table"):
        read_qza_table(path)
    with pytest.raises(InputError, match="not a feature table"):
        read_table(path)


def test_missing_payload(tmp_path: Path, qza) -> None:
    path = qza(tmp_path / "t.qza", "FeatureTable[Frequency]", "BIOMV210DirFmt", {})
    with pytest.raises(InputError, match="payload missing"):
        read_qza(path)


def test_zip_that_is_not_an_artifact(tmp_path: Path) -> None:
    path = tmp_path / "t.qza"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="not a QIIME 2 artifact"):
        read_qza(path)


def test_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "t.qza"
    path.write_text("not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        read_qza(path)

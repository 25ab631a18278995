"""MetaPhlAn merged profiles: level selection, taxonomy, percent -> proportions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gutaxis.errors import InputError
from gutaxis.io import read_delimited, read_metaphlan, read_table

MPA3 = """#mpa_v30_CHOCOPhlAn_201901
clade_name\tNCBI_tax_id\tS1\tS2
k__Bacteria\t2\t100.0\t97.5
k__Bacteria|p__Bacteroidetes\t2|976\t60.0\t40.0
k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|g__Bacteroides\t2|976|200643|171549|815|816\t60.0\t40.0
k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|g__Bacteroides|s__Bacteroides_ovatus\t2|976|200643|171549|815|816|28116\t45.5\t0.0
k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Bacteroidaceae|g__Bacteroides|s__Bacteroides_dorei\t2|976|200643|171549|815|816|357276\t14.5\t40.0
k__Bacteria|p__Firmicutes\t2|1239\t40.0\t57.5
k__Bacteria|p__Firmicutes|c__Clostridia|o__Clostridiales|f__Lachnospiraceae|g__Roseburia|s__Roseburia_intestinalis\t2|1239|186801|186802|186803|841|166486\t40.0\t57.5
UNKNOWN\t-1\t0.0\t2.5
"""

MPA4 = """#mpa_vJan21_CHOCOPhlAnSGB_202103
clade_name\tA_profile\tB_profile
k__Bacteria\t100.0\t100.0
k__Bacteria|p__Firmicutes|c__Clostridia|o__Eubacteriales|f__Lachnospiraceae|g__Blautia|s__Blautia_wexlerae\t70.0\t10.0
k__Bacteria|p__Firmicutes|c__Clostridia|o__Eubacteriales|f__Lachnospiraceae|g__Blautia|s__Blautia_wexlerae|t__SGB4837\t70.0\t10.0
k__Bacteria|p__Actinobacteria|c__Actinomycetia|o__Bifidobacteriales|f__Bifidobacteriaceae|g__Bifidobacterium|s__Bifidobacterium_longum\t30.0\t90.0
k__Bacteria|p__Actinobacteria|c__Actinomycetia|o__Bifidobacteriales|f__Bifidobacteriaceae|g__Bifidobacterium|s__Bifidobacterium_longum|t__SGB17248\t30.0\t90.0
"""


def test_metaphlan3_species_level(write_text) -> None:
    table = read_metaphlan(write_text("merged.txt", MPA3))
    assert table.kind == "relative"
    assert list(table.sample_ids) == ["S1", "S2"]
    assert list(table.feature_ids) == ["Bacteroides_ovatus", "Bacteroides_dorei",
                                       "Roseburia_intestinalis"]
    np.testing.assert_allclose(table.dense(), [[0.455, 0.145, 0.40], [0.0, 0.40, 0.575]],
                               rtol=1e-15)
    tax = table.taxonomy
    assert tax is not None
    assert tax.loc["Bacteroides_dorei", "family"] == "Bacteroidaceae"
    assert tax.loc["Roseburia_intestinalis", "species"] == "Roseburia_intestinalis"


def test_metaphlan_chosen_level(write_text) -> None:
    path = write_text("merged.txt", MPA3)
    phyla = read_metaphlan(path, level="phylum")
    assert list(phyla.feature_ids) == ["Bacteroidetes", "Firmicutes"]
    np.testing.assert_allclose(phyla.sample_totals(), [1.0, 0.975])
    with pytest.raises(InputError, match="no strain rows"):
        read_metaphlan(path, level="strain")
    with pytest.raises(InputError, match="unknown MetaPhlAn level"):
        read_metaphlan(path, level="subspecies")


def test_metaphlan4_without_taxid_and_sgb_level(write_text) -> None:
    path = write_text("merged4.tsv", MPA4)
    species = read_table(path)
    assert list(species.sample_ids) == ["A_profile", "B_profile"]
    assert list(species.feature_ids) == ["Blautia_wexlerae", "Bifidobacterium_longum"]
    sgbs = read_metaphlan(path, level="strain")
    assert list(sgbs.feature_ids) == ["SGB4837", "SGB17248"]
    assert sgbs.taxonomy is not None
    assert sgbs.taxonomy.loc["SGB4837", "genus"] == "Blautia"


def test_single_sample_profile_named_after_file(write_text) -> None:
    text = (
        "#mpa_v30_CHOCOPhlAn_201901\n#/usr/bin/metaphlan sample7.fastq\n"
        "#SampleID\tMetaphlan_Analysis\n"
        "#clade_name\tNCBI_tax_id\trelative_abundance\tadditional_species\n"
        "k__Bacteria\t2\t100.0\t\n"
        "k__Bacteria|p__Firmicutes|c__Bacilli|o__Lactobacillales|f__Streptococcaceae|"
        "g__Streptococcus|s__Streptococcus_salivarius\t2|1239|91061|186826|1300|1301|1304"
        "\t100.0\tk__Bacteria|p__Firmicutes|s__Streptococcus_vestibularis\n"
    )
    table = read_metaphlan(write_text("sample7.profile.txt", text))
    assert list(table.sample_ids) == ["sample7"]
    assert table.dense().tolist() == [[1.0]]


@pytest.mark.realdata
def test_hmp2_species_through_a_metaphlan_layout(hmp2_dir: Path, tmp_path: Path) -> None:
    """The HMP2 species profiles (MetaPhlAn 2 output) written back as a merged MetaPhlAn
    table with genus rows as sums: reading it gives the original proportions."""
    table = read_delimited(hmp2_dir / "HMP2_taxonomy.tsv.gz", orientation="samples-rows")
    percent = pd.DataFrame(table.dense().T * 100, columns=table.sample_ids)
    names = pd.Series(table.feature_ids).str.replace(" ", "_")
    genera = names.str.split("_").str[0]
    species_rows = "k__Bacteria|g__" + genera + "|s__" + names
    genus_sums = percent.groupby(genera.to_numpy()).sum()
    genus_sums.index = "k__Bacteria|g__" + genus_sums.index
    frame = pd.concat([pd.DataFrame(percent.to_numpy(), index=species_rows.to_numpy(),
                                    columns=table.sample_ids), genus_sums])
    frame.index.name = "clade_name"
    path = tmp_path / "hmp2_merged.tsv"
    with open(path, "w") as fh:
        fh.write("#mpa_v20_m200\n")
        frame.to_csv(fh, sep="\t")
    back = read_metaphlan(path)
    assert back.shape == (1595, 87)
    assert list(back.sample_ids) == list(table.sample_ids)
    assert list(back.feature_ids) == names.tolist()
    np.testing.assert_allclose(back.dense(), table.dense(), rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("clade_name\tS1\nk__Bacteria\tabc\n", "non-numeric value"),
        ("clade_name\tS1\nk__Bacteria\t-3\n", "bad value"),
        ("clade_name\tS1\nk__Bacteria|s__A\t80\nk__Bacteria|s__B\t40\n", "more than 100%"),
        ("clade_name\tS1\nk__Bacteria|s__A\t80\nk__Bacteria|s__A\t10\n", "clade listed twice"),
        ("clade_name\tNCBI_tax_id\n", "no sample columns"),
        ("clade_name\tS1\nUNKNOWN\t100\n", "no ranked clades"),
        ("clade_name\tS1\tS1\nk__Bacteria\t1\t2\n", "repeated in the header"),
    ],
    ids=["non-numeric", "negative", "over-100", "duplicate", "no-samples", "no-ranks",
         "dup-samples"],
)
def test_bad_profiles_are_refused(write_text, text, match) -> None:
    path = write_text("bad.txt", text)
    with pytest.raises(InputError, match=match) as info:
        read_metaphlan(path)
    assert str(path) in str(info.value)


def test_bad_cell_names_line_and_sample(write_text) -> None:
    path = write_text("bad.txt", "#mpa_v30\nclade_name\tS1\tS2\nk__Bacteria\t100\t100\n"
                                 "k__Bacteria|p__Firmicutes\t50\tn/a\n")
    with pytest.raises(InputError) as info:
        read_metaphlan(path)
    assert (info.value.row, info.value.column, info.value.found) == (4, "S2", "n/a")

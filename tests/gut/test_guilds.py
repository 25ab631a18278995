"""Metabolic guilds inferred from taxonomy: the shipped lists against the SILVA 138 taxonomy
of a real cohort, shares against independent pandas group sums written with SILVA's own
spellings (not gutaxis' matcher), species-name tables, refusal of measured function."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from diversity_data import fibromyalgia_counts, fibromyalgia_table, hmp2_frames

from gutaxis.data import Cohort
from gutaxis.data.profile import RANKS, ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.guilds import GUILD_LABEL, guild_set, metabolic_guilds
from gutaxis.gut.pipeline import run_metrics
from gutaxis.gut.summaries import normalise_taxon

GUILDS = ["butyrate", "propionate", "tryptophan_indole", "gaba", "lps_gram_negative",
          "mucin_degraders"]

#: Each guild written out by hand in the SILVA 138 spellings of the fibromyalgia taxonomy
#: (rank -> names), plus the binomials of its species entries and synonyms.
SILVA_GUILDS: dict[str, dict[str, set[str]]] = {
    "butyrate": {
        "genus": {"Faecalibacterium", "Roseburia", "Agathobacter", "Coprococcus",
                  "Anaerostipes", "Subdoligranulum", "Butyrivibrio",
                  "Eubacterium hallii group", "Butyricicoccus", "Intestinimonas"},
        "species": {"Eubacterium rectale", "Agathobacter rectalis", "Eubacterium hallii",
                    "Anaerobutyricum hallii", "Anaerobutyricum soehngenii"},
    },
    "propionate": {
        "genus": {"Bacteroides", "Prevotella", "Parabacteroides", "Alistipes", "Veillonella",
                  "Dialister", "Megasphaera", "Megamonas", "Phascolarctobacterium",
                  "Akkermansia", "Eubacterium hallii group"},
        "species": {"Coprococcus catus", "Roseburia inulinivorans", "Blautia obeum",
                    "Ruminococcus obeum", "Eubacterium hallii", "Anaerobutyricum hallii",
                    "Anaerobutyricum soehngenii"},
    },
    "tryptophan_indole": {
        "genus": {"Escherichia_Shigella", "Bacteroides", "Peptostreptococcus",
                  "Ruminococcus gnavus group", "Lactobacillus", "Bifidobacterium"},
        "species": {"Clostridium sporogenes", "Ruminococcus gnavus",
                    "Mediterraneibacter gnavus"},
    },
    "gaba": {
        "genus": {"Bacteroides", "Parabacteroides", "Escherichia_Shigella", "Lactobacillus",
                  "Bifidobacterium"},
        "species": set(),
    },
    "lps_gram_negative": {
        "family": {"Enterobacteriaceae", "Veillonellaceae", "Acidaminococcaceae",
                   "Selenomonadaceae"},
        "phylum": {"Bacteroidota", "Proteobacteria", "Fusobacteriota"},
        "species": set(),
    },
    "mucin_degraders": {
        "genus": {"Akkermansia", "Ruminococcus gnavus group", "Ruminococcus torques group"},
        "species": {"Peptostreptococcus russellii", "Bacteroides thetaiotaomicron",
                    "Bacteroides fragilis", "Bacteroides caccae", "Bifidobacterium bifidum",
                    "Ruminococcus gnavus", "Mediterraneibacter gnavus", "Ruminococcus torques",
                    "Mediterraneibacter torques"},
    },
}

#: Listed names (entries and synonyms, not species) that the fibromyalgia cohort's SILVA
#: 138 taxonomy does not contain, checked by hand: GTDB/NCBI synonyms of names it spells
#: otherwise (Agathobacter, Escherichia_Shigella, Bacteroidota, ...) and genera absent
#: from its samples.
ABSENT_FROM_FIBROMYALGIA = {
    "[Eubacterium] rectale group", "Anaerobutyricum", "Phocaeicola", "Segatella",
    "Escherichia", "Shigella", "Limosilactobacillus", "Levilactobacillus", "Bacteroidetes",
    "Pseudomonadota", "Fusobacteria",
}

UNPLACED = {"0", "uncultured", "Incertae Sedis"}


def _raw_json() -> dict[str, object]:
    path = resources.files("gutaxis.data") / "reference" / "metabolic_guilds.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _silva_members(taxonomy: pd.DataFrame, guild: str) -> pd.Series:
    """Boolean per feature, from the raw SILVA strings (no gutaxis normalisation)."""
    spec = SILVA_GUILDS[guild]
    member = pd.Series(False, index=taxonomy.index)
    for rank, names in spec.items():
        if rank == "species":
            binomial = taxonomy["species"].str.split(" ").str[:2].str.join(" ")
            member |= binomial.isin(names)
        else:
            member |= taxonomy[rank].isin(names)
    return member


def _finest_rank(guild: str) -> str:
    ranks = [r for r in SILVA_GUILDS[guild] if r != "species"]
    return max(ranks, key=RANKS.index)


# ------------------------------------------------------------------ the shipped data
def test_every_entry_has_its_own_source_and_a_confidence() -> None:
    raw = _raw_json()
    assert raw["version"] == "1.0" and raw["date"] and "NOT measured function" in raw["about"]
    guilds = raw["guilds"]
    assert isinstance(guilds, dict) and list(guilds) == GUILDS
    for key, guild in guilds.items():
        assert guild["title"] and guild["mechanism"] and guild["caveat"], key
        assert guild["entries"], key
        for entry in guild["entries"]:
            where = f"{key}: {entry['name']}"
            assert entry["rank"] in RANKS, where
            assert entry["confidence"] in {"confirmed", "unconfirmed"}, where
            assert entry["note"], where
            source = entry["source"]
            for field in ("authors", "title", "journal", "volume_pages"):
                assert isinstance(source[field], str) and source[field].strip(), where
            assert isinstance(source["year"], int) and 1990 <= source["year"] <= 2026, where
            assert source["doi"] == "" or source["doi"].startswith("10."), where
            if key == "lps_gram_negative":
                assert entry["tlr4"], where  # agonist or antagonist, said per entry
            assert isinstance(entry["synonyms"], list) and isinstance(entry["species"], list)


def test_the_lps_entries_say_which_lps_is_agonistic() -> None:
    entries = {e.name: e for e in guild_set().entries_of("lps_gram_negative")}
    assert entries["Enterobacteriaceae"].tlr4 == "strong agonist"
    assert "antagonist" in entries["Bacteroidota"].tlr4
    assert "Vatanen" in entries["Enterobacteriaceae"].citation
    assert "d'Hennezel" in entries["Bacteroidota"].citation


def test_the_hand_written_silva_lists_are_the_shipped_lists() -> None:
    """SILVA_GUILDS (the independent reference below) spells the same taxa as the JSON."""
    for guild in GUILDS:
        shipped: dict[str, set[str]] = {}
        for entry in guild_set().entries_of(guild):
            names = shipped.setdefault(entry.rank if entry.rank != "species" else "species",
                                       set())
            names |= {entry.name, *entry.synonyms}
            shipped.setdefault("species", set()).update(entry.species)
        for rank, names in SILVA_GUILDS[guild].items():
            ours = {normalise_taxon(n) for n in names}
            theirs = {normalise_taxon(n) for n in shipped.get(rank, set())}
            assert ours <= theirs, (guild, rank, ours - theirs)
            missing = {n for n in shipped.get(rank, set()) if normalise_taxon(n) not in ours}
            assert missing <= ABSENT_FROM_FIBROMYALGIA, (guild, rank, missing)


def test_unknown_version_is_refused_naming_the_known_one() -> None:
    assert guild_set("1.0").version == "1.0"
    with pytest.raises(InputError, match="unknown metabolic-guild list version") as caught:
        guild_set("0.9")
    assert "1.0" in str(caught.value.expected)
    table = ProfileTable(sp.csr_array(np.array([[1.0]])), ["s0"], ["Roseburia hominis"])
    with pytest.raises(InputError):
        metabolic_guilds(table, version="2.0")


# ------------------------------------------------------------------ the real SILVA cohort
@pytest.mark.realdata
def test_every_listed_taxon_in_the_silva_taxonomy_is_matched(fibromyalgia_dir: Path) -> None:
    table = fibromyalgia_table(fibromyalgia_dir)
    taxonomy = table.taxonomy
    assert taxonomy is not None
    profile = metabolic_guilds(table)
    absent = set()
    for entry in guild_set().entries:
        if entry.rank == "species":
            continue
        for name in (entry.name, *entry.synonyms):
            spelled = taxonomy[entry.rank].map(normalise_taxon) == normalise_taxon(name)
            if not spelled.any():
                absent.add(name)
                continue
            matched = profile.members.query("guild == @entry.guild and "
                                            "matched_name == @entry.name")["feature_id"]
            assert set(taxonomy.index[spelled]) <= set(matched), (entry.guild, name)
    assert absent == ABSENT_FROM_FIBROMYALGIA


@pytest.mark.realdata
def test_shares_equal_group_sums_on_the_silva_taxonomy(fibromyalgia_dir: Path) -> None:
    counts = fibromyalgia_counts(fibromyalgia_dir)
    taxonomy = pd.read_csv(fibromyalgia_dir / "taxonomy.tsv.gz", sep="\t",
                           index_col="feature_id", dtype=str, keep_default_na=False)
    taxonomy = taxonomy.loc[counts.columns]
    relative = counts.div(counts.sum(axis=1), axis=0)
    profile = metabolic_guilds(fibromyalgia_table(fibromyalgia_dir))
    assert list(profile.shares.columns) == [f"{g}_inferred" for g in GUILDS]
    for guild in GUILDS:
        member = _silva_members(taxonomy, guild)
        expected = relative.T.groupby(member.to_numpy()).sum().T.get(True, 0.0)
        np.testing.assert_allclose(profile.shares[f"{guild}_inferred"],
                                   np.asarray(expected, dtype=float), rtol=0, atol=1e-12)
        unplaced = taxonomy[_finest_rank(guild)].isin(UNPLACED) & ~member
        expected_unplaced = relative.T.groupby(unplaced.to_numpy()).sum().T.get(True, 0.0)
        np.testing.assert_allclose(profile.unmatched_fraction[guild],
                                   np.asarray(expected_unplaced, dtype=float),
                                   rtol=0, atol=1e-12)
    assert (profile.notes == "").all()


@pytest.mark.realdata
def test_members_name_each_match_with_its_source(fibromyalgia_dir: Path) -> None:
    profile = metabolic_guilds(fibromyalgia_table(fibromyalgia_dir))
    members = profile.members
    assert list(members.columns) == ["guild", "feature_id", "matched_name", "rank",
                                     "confidence", "tlr4", "source"]
    assert members["source"].str.match(r".+ \(\d{4}\) .+").all()
    fragilis = members.query("guild == 'mucin_degraders' and "
                             "matched_name == 'Bacteroides fragilis'")
    assert len(fragilis) == 10 and (fragilis["rank"] == "species").all()


# ------------------------------------------------------------------ species-name tables
@pytest.mark.realdata
def test_species_only_hmp2_table_is_matched_by_genus_and_binomial(hmp2_dir: Path) -> None:
    profiles, _ = hmp2_frames(hmp2_dir)
    table = ProfileTable.from_dataframe(profiles, kind="relative")
    profile = metabolic_guilds(table)
    frame = profiles.div(profiles.sum(axis=1), axis=0)
    first = frame.columns.str.split(" ").str[0]
    binomial = frame.columns.str.split(" ").str[:2].str.join(" ")
    spellings = {"Escherichia_Shigella": "Escherichia", "Eubacterium hallii group": ""}
    for guild in ("butyrate", "gaba", "mucin_degraders", "tryptophan_indole"):
        genera = {spellings.get(g, g) for g in SILVA_GUILDS[guild].get("genus", set())}
        member = first.isin(genera) | binomial.isin(SILVA_GUILDS[guild]["species"])
        np.testing.assert_allclose(profile.shares[f"{guild}_inferred"],
                                   frame.loc[:, member].sum(axis=1), rtol=0, atol=1e-12)


def test_species_names_reach_family_and_phylum_entries_through_the_lineage_table() -> None:
    frame = pd.DataFrame({"Faecalibacterium prausnitzii": [4.0], "Escherichia coli": [1.0],
                          "Bacteroides vulgatus": [3.0], "Akkermansia muciniphila": [2.0]},
                         index=["s0"])
    profile = metabolic_guilds(ProfileTable.from_dataframe(frame, kind="counts"))
    shares = profile.shares.iloc[0]
    assert shares["butyrate_inferred"] == pytest.approx(0.4)
    # Escherichia -> Enterobacteriaceae, Bacteroides -> Bacteroidota (gut_lineages.tsv)
    assert shares["lps_gram_negative_inferred"] == pytest.approx(0.4)
    assert shares["propionate_inferred"] == pytest.approx(0.5)  # Bacteroides + Akkermansia
    assert shares["mucin_degraders_inferred"] == pytest.approx(0.2)
    assert shares["gaba_inferred"] == pytest.approx(0.4)  # Bacteroides + Escherichia


# ------------------------------------------------------------------ what is refused
@pytest.mark.parametrize("feature_type", ["ko", "pathway", "module", "gene_family"])
def test_a_functional_table_is_refused_and_sent_to_the_modules(feature_type: str) -> None:
    table = ProfileTable(sp.csr_array(np.array([[5.0, 3.0]])), ["s0"], ["K00001", "K00002"],
                         feature_type=feature_type)  # type: ignore[arg-type]
    with pytest.raises(DataKindError, match="inferred from taxonomy") as caught:
        metabolic_guilds(table)
    assert "gutaxis.gut.modules" in str(caught.value.expected)


def test_transformed_values_are_refused() -> None:
    table = ProfileTable(sp.csr_array(np.array([[0.5, -0.5]])), ["s0"],
                         ["Roseburia hominis", "Escherichia coli"], kind="clr")
    with pytest.raises(DataKindError, match="metabolic guilds needs counts or relative"):
        metabolic_guilds(table)


def test_empty_samples_and_missing_ranks_are_nan_with_a_reason() -> None:
    table = ProfileTable(sp.csr_array(np.array([[0.0, 0.0], [2.0, 2.0]])), ["s0", "s1"],
                         ["Roseburia hominis", "Escherichia coli"])
    profile = metabolic_guilds(table)
    assert profile.shares.loc["s0"].isna().all()
    assert "butyrate_inferred: empty sample" in profile.notes["s0"]
    assert profile.shares.loc["s1", "butyrate_inferred"] == pytest.approx(0.5)
    assert profile.notes["s1"] == ""
    unknown = ProfileTable(sp.csr_array(np.array([[1.0]])), ["s0"], ["ASV1"],
                           taxonomy=pd.DataFrame({"genus": ["0"]}, index=["ASV1"]))
    missing = metabolic_guilds(unknown)
    assert missing.shares.isna().all().all()
    assert "butyrate_inferred: no feature has a genus assignment" in missing.notes["s0"]
    assert "lps_gram_negative_inferred: no feature has a family assignment" in \
        missing.notes["s0"]


def test_summary_and_tidy_frame_carry_the_label() -> None:
    table = ProfileTable(sp.csr_array(np.array([[3.0, 1.0], [1.0, 1.0]])), ["s0", "s1"],
                         ["Faecalibacterium prausnitzii", "Escherichia coli"])
    profile = metabolic_guilds(table)
    assert profile.label == GUILD_LABEL and "not measured function" in profile.summary()
    tidy = profile.to_frame()
    assert list(tidy.columns) == ["sample_id", "guild", "column", "share",
                                  "unmatched_fraction", "basis", "version"]
    assert len(tidy) == 2 * len(GUILDS) and (tidy["basis"] == GUILD_LABEL).all()
    assert tidy["column"].str.endswith("_inferred").all()
    row = tidy.query("sample_id == 's0' and guild == 'butyrate'").iloc[0]
    assert row["share"] == pytest.approx(0.75)


# ------------------------------------------------------------------ gutaxis metrics
def test_metrics_gut_summary_adds_the_inferred_columns_before_notes() -> None:
    frame = pd.DataFrame({"Faecalibacterium prausnitzii": [3.0, 1.0, 2.0],
                          "Escherichia coli": [1.0, 1.0, 0.0],
                          "Bacteroides ovatus": [0.0, 2.0, 2.0]}, index=["a", "b", "c"])
    table = ProfileTable.from_dataframe(frame, kind="counts")
    cohort = Cohort(table, pd.DataFrame(index=pd.Index(["a", "b", "c"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_metrics(cohort, metrics=["braycurtis"])
    summary = results.gut_summary
    inferred = [c for c in summary.columns if c.endswith("_inferred")]
    assert inferred == [f"{g}_inferred" for g in GUILDS]
    assert list(summary.columns[:6]) == [
        "butyrate_producer_share", "proteobacteria_share", "enterobacteriaceae_share",
        "firmicutes_bacteroidota_ratio", "prevotella_bacteroides_ratio", "md_index"]
    assert summary.columns[-1] == "notes"
    np.testing.assert_allclose(summary["butyrate_inferred"], [0.75, 0.25, 0.5])
    np.testing.assert_allclose(summary["gaba_inferred"], [0.25, 0.75, 0.5])
    assert "inferred from taxonomy" in str(results.parameters["metabolic_guilds"])

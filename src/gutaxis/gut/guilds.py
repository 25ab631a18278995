"""Metabolic guilds inferred from taxonomy, for when only 16S profiles are available.

A guild share is the fraction of a sample's reads in taxa that the literature names as
carrying a function (butyrate, propionate, tryptophan/indole and GABA production,
LPS-bearing outer membranes, mucin degradation). It is **inferred from taxonomy, not
measured function**: the genes behind each function are spread across and within taxa,
so a share says who is there, not what they do. Measured function (HUMAnN or PICRUSt2
KO tables) goes through :mod:`gutaxis.gut.modules` instead, and this module refuses it.

The taxon lists are versioned package data (``gutaxis/data/reference/metabolic_guilds.json``),
each entry with its own source and a ``confidence`` saying whether that source was
checked. Entries are matched with the matcher of the gut summaries
(:func:`gutaxis.gut.summaries.feature_lineage` and its taxon-set membership), so SILVA,
GTDB and species-name (MetaPhlAn) tables are read alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import numpy as np
import pandas as pd

from gutaxis.data.profile import RANKS, ProfileTable
from gutaxis.errors import DataKindError, InputError
from gutaxis.gut.summaries import TaxonSet, _membership, feature_lineage

__all__ = [
    "GUILD_LABEL",
    "GUILD_SUFFIX",
    "GuildEntry",
    "GuildProfile",
    "GuildSet",
    "guild_set",
    "metabolic_guilds",
]

#: What every guild number is, written next to it wherever it is shown.
GUILD_LABEL = "inferred from taxonomy (16S), not measured function"
#: Suffix of every guild column, so that no guild share passes for a measured one.
GUILD_SUFFIX = "_inferred"

#: Lineage values that name no taxon at a rank although they are not empty.
_PLACEHOLDERS = ("uncultured", "incertae sedis")


@dataclass(frozen=True)
class GuildEntry:
    """One taxon of a guild, with its source.

    Attributes
    ----------
    guild, rank, name
        The guild key, the rank the name is matched at, and the name.
    synonyms
        Other names matched at the same rank (GTDB/NCBI spellings).
    species
        Binomials matched on the first two words of species names.
    citation
        ``"Authors (year) Title. Journal volume:pages. doi:..."``.
    note, confidence
        What the source says about the taxon; ``"confirmed"`` when that was checked
        against the source's text, ``"unconfirmed"`` otherwise.
    tlr4
        For LPS-bearing taxa, the TLR4 activity of their LPS (``""`` otherwise).
    """

    guild: str
    rank: str
    name: str
    synonyms: tuple[str, ...]
    species: tuple[str, ...]
    citation: str
    note: str
    confidence: str
    tlr4: str = ""

    def taxon_set(self) -> TaxonSet:
        """The entry as a :class:`~gutaxis.gut.summaries.TaxonSet` for the shared matcher."""
        names = () if self.rank == "species" else (self.name, *self.synonyms)
        species = (self.name, *self.synonyms) if self.rank == "species" else self.species
        return TaxonSet(name=f"{self.guild}:{self.name}", rank=self.rank, names=names,
                        species=species, reference=self.citation, caveat=self.note)


@dataclass(frozen=True)
class GuildSet:
    """The shipped guild lists of one version.

    Attributes
    ----------
    version, date, about
        Version of ``metabolic_guilds.json``, its date and how it is read.
    guilds
        One row per guild (index ``guild``): ``title``, ``mechanism``, ``caveat``,
        ``n_entries``, ``placement_rank`` (the finest rank its non-species entries use).
    entries
        Every entry, in file order.
    """

    version: str
    date: str
    about: str
    guilds: pd.DataFrame
    entries: tuple[GuildEntry, ...]

    def entries_of(self, guild: str) -> tuple[GuildEntry, ...]:
        """The entries of one guild."""
        return tuple(e for e in self.entries if e.guild == guild)


@cache
def _guilds_json() -> dict[str, Any]:
    path = resources.files("gutaxis.data") / "reference" / "metabolic_guilds.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _citation(source: dict[str, Any]) -> str:
    doi = f" doi:{source['doi']}" if source.get("doi") else ""
    return (f"{source['authors']} ({source['year']}) {source['title']}. "
            f"{source['journal']} {source['volume_pages']}.{doi}")


def guild_set(version: str | None = None) -> GuildSet:
    """The guild lists shipped with gutaxis.

    Parameters
    ----------
    version
        The version wanted; ``None`` for the shipped one.

    Raises
    ------
    InputError
        An unknown version (the message names the known one).

    Examples
    --------
    >>> guilds = guild_set()
    >>> list(guilds.guilds.index)[:2]
    ['butyrate', 'propionate']
    """
    raw = _guilds_json()
    known = str(raw["version"])
    if version is not None and str(version) != known:
        raise InputError("unknown metabolic-guild list version", field="version",
                         found=version, expected=f"one of ['{known}']")
    entries: list[GuildEntry] = []
    rows = {}
    for key, guild in cast(dict[str, Any], raw["guilds"]).items():
        own = [GuildEntry(guild=key, rank=str(item["rank"]), name=str(item["name"]),
                          synonyms=tuple(item.get("synonyms", ())),
                          species=tuple(item.get("species", ())),
                          citation=_citation(item["source"]), note=str(item["note"]),
                          confidence=str(item["confidence"]), tlr4=str(item.get("tlr4", "")))
               for item in guild["entries"]]
        ranks = [e.rank for e in own if e.rank != "species"]
        rows[key] = {"title": guild["title"], "mechanism": guild["mechanism"],
                     "caveat": guild["caveat"], "n_entries": len(own),
                     "placement_rank": max(ranks, key=RANKS.index) if ranks else "species"}
        entries += own
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "guild"
    return GuildSet(version=known, date=str(raw["date"]), about=str(raw["about"]),
                    guilds=frame, entries=tuple(entries))


@dataclass(frozen=True)
class GuildProfile:
    """Guild shares of every sample, inferred from taxonomy.

    Attributes
    ----------
    shares
        Index ``sample_id``; one column per guild, named ``<guild>_inferred``: the
        fraction of the sample's total in the guild's taxa (each feature counted once).
        ``NaN`` for an empty sample, or when no feature has the guild's placement rank.
    members
        Tidy: ``guild``, ``feature_id``, ``matched_name`` (the entry), ``rank``,
        ``confidence``, ``tlr4``, ``source``; one row per feature and entry it matched.
    unmatched_fraction
        Index ``sample_id``; one column per guild: the fraction of the sample's total in
        features that are not members and have no name at the guild's placement rank
        (empty, ``uncultured`` or ``Incertae Sedis``), i.e. reads that could belong to
        the guild but could not be placed.
    notes
        Per sample, ``"<column>: <reason>"`` for each ``NaN`` share, ``"; "``-joined.
    guilds
        The guilds' titles, mechanisms, caveats and placement ranks.
    version
        Version of the guild lists used.
    label
        :data:`GUILD_LABEL`.
    """

    shares: pd.DataFrame
    members: pd.DataFrame
    unmatched_fraction: pd.DataFrame
    notes: pd.Series
    guilds: pd.DataFrame
    version: str
    label: str = GUILD_LABEL

    def summary(self) -> str:
        """A few lines: the label, then per guild its median share and members."""
        n_members = self.members.groupby("guild")["feature_id"].nunique()
        lines = [f"Metabolic guilds {self.label} (lists v{self.version}, "
                 f"{len(self.shares)} samples):"]
        for guild in self.guilds.index:
            share = self.shares[guild + GUILD_SUFFIX]
            unplaced = self.unmatched_fraction[guild]
            lines.append(f"  {guild + GUILD_SUFFIX}: median {share.median():.3g} "
                         f"({int(n_members.get(guild, 0))} features matched; median "
                         f"{unplaced.median():.3g} of reads unplaced at "
                         f"{self.guilds.loc[guild, 'placement_rank']})")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: ``sample_id``, ``guild``, ``column``, ``share``, ``unmatched_fraction``,
        ``basis`` (:attr:`label`), ``version``."""
        shares = self.shares.set_axis(list(self.guilds.index), axis=1)
        keys = ["sample_id", "guild"]
        tidy = shares.reset_index().melt(id_vars="sample_id", var_name="guild",
                                         value_name="share")
        unplaced = self.unmatched_fraction.reset_index().melt(
            id_vars="sample_id", var_name="guild", value_name="unmatched_fraction")
        tidy = tidy.merge(unplaced, on=keys, how="left")
        tidy.insert(2, "column", tidy["guild"] + GUILD_SUFFIX)
        tidy["basis"] = self.label
        tidy["version"] = self.version
        return tidy


def metabolic_guilds(table: ProfileTable, *, version: str | None = None) -> GuildProfile:
    """Shares of the metabolic guilds in every sample, inferred from taxonomy.

    Parameters
    ----------
    table
        A taxon table (counts or relative abundances) with a taxonomy, or with species
        names or MetaPhlAn lineages as feature ids (see
        :func:`gutaxis.gut.summaries.feature_lineage`). Shares are of each sample's total
        as given (total-sum scaling).
    version
        Version of the guild lists (``None``: the shipped one, see :func:`guild_set`).

    Returns
    -------
    GuildProfile
        Shares in columns ``butyrate_inferred``, ``propionate_inferred``,
        ``tryptophan_indole_inferred``, ``gaba_inferred``, ``lps_gram_negative_inferred``,
        ``mucin_degraders_inferred``, with the matched members and the unplaced fraction.

    Raises
    ------
    DataKindError
        A functional table (KO, pathway, module ...): measured function is read with
        :func:`gutaxis.gut.modules.module_profile`, never mixed with inferred guilds;
        or a table that is neither counts nor relative abundances.
    InputError
        An unknown guild-list version.

    Notes
    -----
    .. math:: s_{ig} = \\frac{\\sum_{f \\in G_g} x_{if}}{\\sum_f x_{if}}

    where :math:`G_g` holds the features matching any entry of guild :math:`g` at its
    rank (or by species binomial). A feature matching several entries counts once.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from gutaxis.data.profile import ProfileTable
    >>> table = ProfileTable(sp.csr_array(np.array([[3.0, 1.0]])), ["s1"],
    ...                      ["Faecalibacterium prausnitzii", "Escherichia coli"])
    >>> metabolic_guilds(table).shares.loc["s1", "butyrate_inferred"]
    np.float64(0.75)
    """
    if table.is_functional:
        raise DataKindError(
            "metabolic guilds are inferred from taxonomy and need a taxon table",
            found=f"a functional table (feature_type {table.feature_type})",
            expected="a 16S or species table; measured function goes through "
                     "gutaxis.gut.modules (gutaxis modules KO_TABLE)")
    table.require_kind("counts", "relative", action="metabolic guilds")
    guilds = guild_set(version)
    lineage = feature_lineage(table)
    # match each distinct lineage once (a 16S table repeats a few hundred lineages)
    codes = lineage.groupby(list(lineage.columns), sort=False).ngroup().to_numpy()
    distinct_lineage = lineage.drop_duplicates()  # in order of first appearance, as codes
    names = list(guilds.guilds.index)
    member = np.zeros((table.n_features, len(names)), dtype=bool)
    matched: list[pd.DataFrame] = []
    for entry in guilds.entries:
        hit = _membership(distinct_lineage, entry.taxon_set())[0][codes]
        member[:, names.index(entry.guild)] |= hit
        if hit.any():
            matched.append(pd.DataFrame({
                "guild": entry.guild, "feature_id": table.feature_ids[hit],
                "matched_name": entry.name, "rank": entry.rank,
                "confidence": entry.confidence, "tlr4": entry.tlr4,
                "source": entry.citation}))
    placement = guilds.guilds["placement_rank"].to_numpy()
    unplaced = _unplaced(lineage, placement) & ~member
    placed_any = np.asarray(~_unplaced(lineage, placement).all(axis=0), dtype=bool)
    totals = table.sample_totals()
    empty = totals <= 0
    sums = np.asarray(table.values @ np.hstack([member, unplaced]).astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        fractions = np.where(empty[:, None], np.nan, sums / totals[:, None])
    shares = fractions[:, :len(names)].copy()
    shares[:, ~placed_any] = np.nan
    index = pd.Index(table.sample_ids, name="sample_id")
    columns = [g + GUILD_SUFFIX for g in names]
    notes = _notes(columns, empty, placed_any, placement)
    members = (pd.concat(matched, ignore_index=True) if matched else pd.DataFrame(
        columns=["guild", "feature_id", "matched_name", "rank", "confidence", "tlr4",
                 "source"]))
    return GuildProfile(
        shares=pd.DataFrame(shares, index=index, columns=columns),
        members=members,
        unmatched_fraction=pd.DataFrame(fractions[:, len(names):], index=index,
                                        columns=names),
        notes=pd.Series(notes, index=index, name="notes"),
        guilds=guilds.guilds, version=guilds.version)


def _unplaced(lineage: pd.DataFrame, ranks: np.ndarray) -> np.ndarray:
    """Features x guilds: no name at the guild's placement rank."""
    columns = []
    for rank in ranks:
        if rank == "species":
            columns.append(np.zeros(len(lineage), dtype=bool))
            continue
        values = lineage[rank]
        columns.append((values.eq("") | values.str.startswith(_PLACEHOLDERS)).to_numpy())
    return np.column_stack(columns) if columns else np.zeros((len(lineage), 0), dtype=bool)


def _notes(columns: list[str], empty: np.ndarray, placed_any: np.ndarray,
           placement: np.ndarray) -> np.ndarray:
    """Per sample, why each ``NaN`` share is ``NaN``."""
    reasons: list[str] = [f"{c}: no feature has a {rank} assignment"
                          for c, ok, rank in zip(columns, placed_any, placement, strict=True)
                          if not ok]
    common = "; ".join(reasons)
    empty_text = "; ".join(f"{c}: empty sample" for c, ok in zip(columns, placed_any,
                                                                   strict=True) if ok)
    notes = np.full(len(empty), common, dtype=object)
    if empty_text:
        notes[empty] = np.where(notes[empty] == "", empty_text,
                                notes[empty] + "; " + empty_text)
    return notes.astype(str)

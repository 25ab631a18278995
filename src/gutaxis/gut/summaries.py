"""Gut-health summaries: taxon shares, ratios, the MD index and the HMP2 dysbiosis score.

Every summary is one number per sample (a Series indexed by ``sample_id`` and named as
its column of :func:`gut_summary`), documented with the paper it comes from and
the caveat that limits it. Taxon lists are package data
(``gutaxis/data/reference/gut_taxa.json``) and are matched on the taxonomy's ranks, or,
for tables that name species only (MetaPhlAn-style ``"Escherichia coli"``), on a
lineage derived from the names (see :func:`feature_lineage`).

A value that cannot be computed is ``NaN``, never ``inf``; :func:`gut_summary` says why
in its ``notes`` column.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from gutaxis.data.profile import RANKS, ProfileTable
from gutaxis.errors import InputError
from gutaxis.gut._labelled import per_sample
from gutaxis.gut.dysbiosis import (
    _dysbiotic_column,
    _sample_mask,
    dysbiosis_score,
    dysbiotic,
)

__all__ = [
    "MD_INDEX_PSEUDOCOUNT",
    "SummaryWarning",
    "TaxonSet",
    "butyrate_producer_share",
    "dysbiosis_score",
    "dysbiotic",
    "enterobacteriaceae_share",
    "feature_lineage",
    "firmicutes_bacteroidota_ratio",
    "gut_summary",
    "md_index",
    "prevotella_bacteroides_ratio",
    "proteobacteria_share",
    "taxon_set",
    "taxon_share",
]

#: Added to both sums of the MD index (relative-abundance scale: 0.001 %, about one
#: read in 100,000) so samples lacking one side still get a finite value.
MD_INDEX_PSEUDOCOUNT = 1e-5

_SUFFIX = re.compile(r"_(\d+|[A-Z])$")
_PREFIX = re.compile(r"^[a-z]__")
_SEPARATORS = re.compile(r"[\s_\-/]+")
_UNASSIGNED = frozenset({"", "0", "na", "nan", "none", "unassigned", "unclassified"})


class SummaryWarning(UserWarning):
    """Some summaries were NaN; the ``notes`` column of :func:`gut_summary` says why."""


@dataclass(frozen=True)
class TaxonSet:
    """A named list of taxa at one rank, with its source and caveat.

    Attributes
    ----------
    name
        Key in ``gut_taxa.json``.
    rank
        Rank the ``names`` are matched at (``genus``, ``family``, ``phylum``).
    names
        Taxon names (normalised when matched, see :func:`normalise_taxon`).
    species
        Binomials matched on the first two words of species names.
    reference, caveat
        Where the list comes from and what limits it.
    """

    name: str
    rank: str
    names: tuple[str, ...]
    species: tuple[str, ...]
    reference: str
    caveat: str


def normalise_taxon(name: object) -> str:
    """Lower-case, prefix-, bracket- and suffix-free form of a taxon name.

    ``"g__[Eubacterium] hallii group"`` -> ``"eubacterium hallii group"``,
    ``"Prevotella_9"`` -> ``"prevotella"``, ``"Firmicutes_A"`` -> ``"firmicutes"``,
    ``"Escherichia_Shigella"`` -> ``"escherichia shigella"``; unassigned spellings
    (``"0"``, ``"unclassified"``, ``NaN``) -> ``""``.
    """
    if not isinstance(name, str):
        return ""
    text = _PREFIX.sub("", name.strip()).replace("[", "").replace("]", "")
    text = _SUFFIX.sub("", text)
    text = _SEPARATORS.sub(" ", text).strip().lower()
    return "" if text in _UNASSIGNED else text


@cache
def _taxa_json() -> dict[str, dict[str, object]]:
    path = resources.files("gutaxis.data") / "reference" / "gut_taxa.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def taxon_set(name: str) -> TaxonSet:
    """The taxon set ``name`` shipped in ``gut_taxa.json`` (e.g. ``"butyrate_producers"``)."""
    sets = {k: v for k, v in _taxa_json().items() if not k.startswith("_")}
    if name not in sets:
        raise InputError("unknown taxon set", found=name, expected=f"one of {sorted(sets)}")
    entry = sets[name]
    return TaxonSet(name=name, rank=str(entry["rank"]), names=tuple(entry["names"]),  # type: ignore[arg-type]
                    species=tuple(entry["species"]),  # type: ignore[arg-type]
                    reference=str(entry["reference"]), caveat=str(entry["caveat"]))


@cache
def _lineage_lookup() -> pd.DataFrame:
    path = resources.files("gutaxis.data") / "reference" / "gut_lineages.tsv"
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, sep="\t", comment="#", dtype=str, keep_default_na=False)
    frame.index = pd.Index([normalise_taxon(n) for n in frame["name"]], name="key")
    return frame


def feature_lineage(table: ProfileTable) -> pd.DataFrame:
    """Normalised ranks of every feature, derived when the table has no taxonomy.

    Parameters
    ----------
    table
        Any table. With a taxonomy, its rank columns are used. Without one, the
        feature ids are read as lineages (``k__Bacteria|...|g__Escherichia|s__...``,
        MetaPhlAn) or as species names (``"Escherichia coli"``: genus = first word).

    Returns
    -------
    pandas.DataFrame
        Index ``feature_id``, columns :data:`~gutaxis.data.profile.RANKS`, values
        normalised with :func:`normalise_taxon` (``""`` where unknown). Missing
        ``family`` and ``phylum`` are filled from ``gut_lineages.tsv`` (SILVA 138.1
        placement of common gut genera) by genus, or by the family/order a placeholder
        name starts with (``"Lachnospiraceae bacterium"``).
    """
    index = pd.Index(table.feature_ids, name="feature_id")
    lineage = pd.DataFrame("", index=index, columns=list(RANKS))
    if table.taxonomy is not None:
        for rank in RANKS:
            if rank in table.taxonomy.columns:
                lineage[rank] = [normalise_taxon(v) for v in table.taxonomy[rank]]
        first_word = lineage["genus"]
    else:
        parsed = [_parse_feature_name(f) for f in table.feature_ids]
        for rank in RANKS:
            lineage[rank] = [p.get(rank, "") for p in parsed]
        first_word = pd.Series([p["first"] for p in parsed], index=index)
    lookup = _lineage_lookup()
    known = first_word.where(first_word.isin(lookup.index), "")
    hits = lookup.reindex(known.to_numpy())
    is_genus = (hits["rank"] == "genus").to_numpy() & (lineage["genus"] == "").to_numpy()
    lineage.loc[is_genus, "genus"] = known.to_numpy()[is_genus]
    for rank in ("family", "phylum"):
        filler = hits[rank].fillna("").map(normalise_taxon).to_numpy()
        empty = (lineage[rank] == "").to_numpy()
        lineage.loc[empty, rank] = filler[empty]
    return lineage


def _parse_feature_name(feature_id: str) -> dict[str, str]:
    """Ranks from a MetaPhlAn lineage id or a species name; ``first`` = lookup key."""
    if "|" in feature_id or re.match(r"^[a-z]__", feature_id):
        prefix_rank = {r[0]: r for r in RANKS} | {"d": "kingdom"}
        ranks: dict[str, str] = {}
        for part in feature_id.split("|"):
            if len(part) > 3 and part[1:3] == "__" and part[0] in prefix_rank:
                ranks[prefix_rank[part[0]]] = normalise_taxon(part)
        ranks["first"] = ranks.get("genus", "")
        return ranks
    words = _SEPARATORS.sub(" ", feature_id.replace("[", "").replace("]", "")).split()
    first = normalise_taxon(words[0]) if words else ""
    lookup = _lineage_lookup()
    is_genus = first not in lookup.index or lookup.loc[first, "rank"] == "genus"
    looks_named = bool(words) and words[0][:1].isupper()
    ranks = {"first": first}
    if is_genus and looks_named:
        ranks["genus"] = first
        if len(words) > 1:
            ranks["species"] = normalise_taxon(" ".join(words[:2]))
    return ranks


def _membership(lineage: pd.DataFrame, taxa: TaxonSet) -> tuple[np.ndarray, bool]:
    """Boolean mask of member features, and whether the rank was known for any feature."""
    names = {normalise_taxon(n) for n in taxa.names}
    species = {normalise_taxon(n) for n in taxa.species}
    at_rank = lineage[taxa.rank]
    binomial = lineage["species"].str.split(" ").str[:2].str.join(" ")
    member = at_rank.isin(names).to_numpy() | (binomial.isin(species).to_numpy()
                                               if species else False)
    return np.asarray(member, dtype=bool), bool((at_rank != "").any())


@dataclass(frozen=True)
class _Column:
    """One summary: values, and for each NaN the reason."""

    values: np.ndarray
    reasons: dict[str, np.ndarray]


def _shares(table: ProfileTable, lineage: pd.DataFrame, name: str) -> _Column:
    taxa = taxon_set(name)
    member, rank_known = _membership(lineage, taxa)
    table.require_kind("counts", "relative", action=f"{name} share")
    totals = table.sample_totals()
    summed = np.asarray(table.values[:, np.flatnonzero(member)].sum(axis=1)).ravel()
    empty = totals <= 0
    values = np.divide(summed, totals, out=np.full_like(totals, np.nan), where=~empty)
    reasons = {"empty sample": empty}
    if not rank_known:
        values[:] = np.nan
        reasons = {f"no feature has a {taxa.rank} assignment": np.ones(len(values), bool)}
    return _Column(values, reasons)


def _ratio(numerator: _Column, denominator: _Column, label: str) -> _Column:
    bottom = denominator.values
    zero = bottom == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(zero, np.nan, numerator.values / bottom)
    reasons = {**numerator.reasons, **denominator.reasons, f"no {label} reads": zero}
    return _Column(values, reasons)


def taxon_share(table: ProfileTable, name: str) -> pd.Series:
    """Fraction of each sample's total in the shipped taxon set ``name``.

    Parameters
    ----------
    table
        Counts or relative abundances. Shares are of the sample total as given
        (total-sum scaling), so a profile that does not sum to one is re-closed.
    name
        A key of ``gut_taxa.json`` (see :func:`taxon_set`).

    Returns
    -------
    pandas.Series
        ``<name>_share``: shares in ``[0, 1]`` indexed by ``sample_id``; ``NaN`` for an
        empty sample or when no feature carries the set's rank.
    """
    return per_sample(table, _shares(table, feature_lineage(table), name).values,
                      f"{name}_share")


def butyrate_producer_share(table: ProfileTable) -> pd.Series:
    """Share of butyrate-producing genera (Louis & Flint 2009; caveat: Vital et al. 2014).

    Faecalibacterium, Roseburia, [Eubacterium] rectale group / Agathobacter,
    Anaerostipes, Coprococcus, Subdoligranulum, Butyrivibrio, Anaerobutyricum /
    [Eubacterium] hallii group. 16S genera are a proxy: the pathway genes are not
    confined to these genera nor present in all their members.

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy.
    """
    return taxon_share(table, "butyrate_producers").rename("butyrate_producer_share")


def proteobacteria_share(table: ProfileTable) -> pd.Series:
    """Share of Proteobacteria (GTDB: Pseudomonadota), a marker of instability (Shin et al.
    2015); SILVA 138 placement, so Desulfovibrio and Campylobacter are not counted.

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy.
    """
    return taxon_share(table, "proteobacteria")


def enterobacteriaceae_share(table: ProfileTable) -> pd.Series:
    """Share of Enterobacteriaceae (Escherichia, Klebsiella, ...), which bloom in
    inflammation (Zeng et al. 2017); family sensu Adeolu et al. 2016.

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy.
    """
    return taxon_share(table, "enterobacteriaceae")


def firmicutes_bacteroidota_ratio(table: ProfileTable) -> pd.Series:
    """Firmicutes (Bacillota) over Bacteroidota (Bacteroidetes) share; NaN without
    Bacteroidota. Caveat: a weak, inconsistent marker (Walters et al. 2014).

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy.
    """
    lineage = feature_lineage(table)
    return per_sample(table, _firmicutes_bacteroidota(table, lineage).values,
                      "firmicutes_bacteroidota_ratio")


def _firmicutes_bacteroidota(table: ProfileTable, lineage: pd.DataFrame) -> _Column:
    return _ratio(_shares(table, lineage, "firmicutes"), _shares(table, lineage, "bacteroidota"),
                  "Bacteroidota")


def prevotella_bacteroides_ratio(table: ProfileTable) -> pd.Series:
    """Prevotella (incl. Segatella) over Bacteroides (incl. Phocaeicola) share; NaN without
    Bacteroides. Caveat: an enterotype-like, diet-linked gradient (Wu et al. 2011).

    Parameters
    ----------
    table
        Counts or relative abundances with a taxonomy.
    """
    return per_sample(table, _prevotella_bacteroides(table, feature_lineage(table)).values,
                      "prevotella_bacteroides_ratio")


def _prevotella_bacteroides(table: ProfileTable, lineage: pd.DataFrame) -> _Column:
    return _ratio(_shares(table, lineage, "prevotella"), _shares(table, lineage, "bacteroides"),
                  "Bacteroides")


def md_index(table: ProfileTable, *, pseudocount: float = MD_INDEX_PSEUDOCOUNT) -> pd.Series:
    """Microbial dysbiosis index of Gevers et al. (2014), genus version.

    Parameters
    ----------
    table
        Counts or relative abundances (shares are taken of each sample's total).
    pseudocount
        Added to both summed shares before the ratio (default
        :data:`MD_INDEX_PSEUDOCOUNT` = 1e-5).

    Returns
    -------
    pandas.Series
        ``md_index``: the index per sample, indexed by ``sample_id``; ``NaN`` for an
        empty sample or when none of the taxa is present (the index would then say
        nothing but the pseudocount).

    Notes
    -----
    .. math:: MD = \\ln \\frac{\\sum_{up} p_g + c}{\\sum_{down} p_g + c}

    up: Escherichia(-Shigella), Fusobacterium, Haemophilus, Aggregatibacter,
    Sutterella, Veillonella; down: Akkermansia, Faecalibacterium, Ruminococcus,
    Bacteroides (incl. Phocaeicola), Parabacteroides. Natural logarithm. Caveat: the
    taxa come from biopsies of new-onset paediatric Crohn's disease.

    References
    ----------
    .. [1] Gevers, D. et al. (2014). The treatment-naive microbiome in new-onset
       Crohn's disease. Cell Host & Microbe 15, 382-392.
    """
    return per_sample(table, _md_index(table, feature_lineage(table), pseudocount).values,
                      "md_index")


def _md_index(table: ProfileTable, lineage: pd.DataFrame, pseudocount: float) -> _Column:
    if not pseudocount > 0:
        raise InputError("MD-index pseudocount must be > 0", field="pseudocount",
                         found=pseudocount)
    up = _shares(table, lineage, "md_index_up")
    down = _shares(table, lineage, "md_index_down")
    absent = (up.values == 0) & (down.values == 0)
    values = np.log((up.values + pseudocount) / (down.values + pseudocount))
    values[absent] = np.nan
    return _Column(values, {**up.reasons, **down.reasons, "no MD-index taxa present": absent})


def gut_summary(
    table: ProfileTable,
    *,
    reference: np.ndarray | Sequence[str] | None = None,
    subjects: np.ndarray | Sequence[object] | None = None,
) -> pd.DataFrame:
    """Every gut-health summary of every sample, with the reasons for missing values.

    Parameters
    ----------
    table
        Counts or relative abundances, with a taxonomy or species-name feature ids.
    reference, subjects
        When ``reference`` is given (mask or sample ids), a ``dysbiosis_score``
        column is added (see :func:`dysbiosis_score`).

    Returns
    -------
    pandas.DataFrame
        Index ``sample_id``; columns ``butyrate_producer_share``,
        ``proteobacteria_share``, ``enterobacteriaceae_share``,
        ``firmicutes_bacteroidota_ratio``, ``prevotella_bacteroides_ratio``,
        ``md_index``, [``dysbiosis_score``, ``dysbiotic`` (nullable boolean: above the
        reference's 90th percentile, see :func:`dysbiotic`)], ``notes`` (why a value is
        NaN; empty when none is).

    Warns
    -----
    SummaryWarning
        When any value is NaN (once, with counts per reason).
    """
    scores = mask = None
    if reference is not None:
        scores = dysbiosis_score(table, reference, subjects=subjects).to_numpy()
        mask = _sample_mask(table, reference, "reference")
    return finish_summary(summary_frame(table, scores), mask)


def summary_frame(table: ProfileTable, dysbiosis: np.ndarray | None) -> pd.DataFrame:
    """Low-level: :func:`gut_summary`'s per-sample part (every column but ``dysbiotic``,
    with ``notes``; ``dysbiosis_score`` when the scores are given), without the warning:
    a function of each sample's row alone, so it can run by blocks of samples."""
    lineage = feature_lineage(table)
    columns = {
        "butyrate_producer_share": _shares(table, lineage, "butyrate_producers"),
        "proteobacteria_share": _shares(table, lineage, "proteobacteria"),
        "enterobacteriaceae_share": _shares(table, lineage, "enterobacteriaceae"),
        "firmicutes_bacteroidota_ratio": _firmicutes_bacteroidota(table, lineage),
        "prevotella_bacteroides_ratio": _prevotella_bacteroides(table, lineage),
        "md_index": _md_index(table, lineage, MD_INDEX_PSEUDOCOUNT),
    }
    if dysbiosis is not None:
        columns["dysbiosis_score"] = _Column(dysbiosis, {"no reference sample of another "
                                                         "subject": np.isnan(dysbiosis)})
    frame = pd.DataFrame({name: col.values for name, col in columns.items()},
                         index=pd.Index(table.sample_ids, name="sample_id"))
    frame["notes"] = _notes(columns, table.n_samples)
    return frame


def finish_summary(frame: pd.DataFrame, reference: np.ndarray | None) -> pd.DataFrame:
    """Low-level: the whole-cohort part of :func:`gut_summary` on the stacked
    :func:`summary_frame` (in place): the ``dysbiotic`` flag (a percentile of the
    ``reference`` mask's scores) and the warning about NaN values (counted over all)."""
    if reference is not None:
        flags = _dysbiotic_column(frame["dysbiosis_score"].to_numpy(), reference)
        frame.insert(list(frame.columns).index("notes"), "dysbiotic",
                     pd.Series(flags, index=frame.index))
    notes = frame["notes"].to_numpy()
    if (notes != "").any():
        counts = pd.Series(notes[notes != ""]).str.split("; ").explode().value_counts()
        warnings.warn("gut_summary: some values are NaN: " + "; ".join(
            f"{reason} ({n} sample(s))" for reason, n in counts.items()),
            SummaryWarning, stacklevel=3)
    return frame


def _notes(columns: dict[str, _Column], n: int) -> np.ndarray:
    """Per sample, ``"column: reason"`` for each NaN value, joined by ``"; "``."""
    notes = np.full(n, "", dtype=object)
    for name, column in columns.items():
        missing = np.isnan(column.values)
        for reason, mask in column.reasons.items():
            hit = missing & np.asarray(mask, dtype=bool)
            text = f"{name}: {reason}"
            notes[hit] = np.where(notes[hit] == "", text, notes[hit] + "; " + text)
            missing &= ~hit
    return notes.astype(str)

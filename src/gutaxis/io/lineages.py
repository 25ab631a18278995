"""Lineage strings and per-rank columns -> the rank table (no file access).

:func:`parse_lineages` splits ``"d__Bacteria; p__Firmicutes"`` strings and
:func:`taxonomy_from_frame` reads a raw ``Feature ID``/``Taxon`` or per-rank frame; the
BIOM, QIIME 2, MetaPhlAn and taxonomy readers all build their rank tables here. Each
returns a DataFrame indexed by ``feature_id`` with one column per rank of
:data:`gutaxis.data.profile.RANKS` (``kingdom`` .. ``species``), rank prefixes such as
``k__`` or ``d__`` removed, and ``NaN`` where a rank is not assigned: empty, one of
:data:`UNASSIGNED`, or only underscores (``g____``, an empty rank written with its prefix
twice; no taxon is named by underscores alone).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from gutaxis.data.profile import RANKS
from gutaxis.errors import InputError, preview

#: Rank prefix letter -> rank (``d__`` is the SILVA / GTDB domain, read as kingdom).
PREFIX_RANKS: dict[str, str] = {
    "k": "kingdom", "d": "kingdom", "p": "phylum", "c": "class", "o": "order",
    "f": "family", "g": "genus", "s": "species",
}

#: Header spellings of the ranks in per-rank tables (lower-cased).
RANK_ALIASES: dict[str, str] = {
    **{r: r for r in RANKS}, "domain": "kingdom", "superkingdom": "kingdom",
}

#: Cell values that mean "not assigned at this rank" (compared lower-cased).
UNASSIGNED: frozenset[str] = frozenset(
    {"", "0", "na", "nan", "none", "unassigned", "unclassified", "__"}
)

_PREFIX = re.compile(r"^([A-Za-z])__")
_SEPARATOR = re.compile(r"\s*[;|]\s*")
_RANK_POSITION = {rank: i for i, rank in enumerate(RANKS)}


def clean_rank_values(values: pd.Series) -> pd.Series:
    """Strip rank prefixes (``g__``) and whitespace; unassigned markers become ``NaN``.

    Each distinct value is cleaned once (a rank column holds few distinct names); the
    result has ``object`` dtype with ``NaN`` for missing.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    cleaned = np.array([_clean(str(u)) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(cleaned[codes], index=values.index, dtype=object)


def _clean(text: str) -> str | float:
    name = _PREFIX.sub("", text.strip(), count=1).strip()
    return np.nan if name.lower() in UNASSIGNED or not name.strip("_") else name


def _split_lineage(text: str) -> list[str | float]:
    """One lineage string -> the values of :data:`RANKS` (``NaN`` where unassigned)."""
    ranks: list[str | float] = [np.nan] * len(RANKS)
    for position, part in enumerate(_SEPARATOR.split(text.strip())):
        match = _PREFIX.match(part)
        if match is None:
            slot = position if part and position < len(RANKS) else None
        else:
            rank = PREFIX_RANKS.get(match.group(1).lower())
            slot = None if rank is None else _RANK_POSITION[rank]
        if slot is not None:
            ranks[slot] = _clean(part)
    return ranks


def parse_lineages(lineages: pd.Series) -> pd.DataFrame:
    """Split lineage strings into rank columns.

    Parameters
    ----------
    lineages
        One string per feature (index = feature ids), ranks separated by ``;`` or ``|``
        as in ``"d__Bacteria; p__Firmicutes; c__Bacilli"`` or MetaPhlAn's
        ``"k__Bacteria|p__Firmicutes"``. Ranks are placed by their prefix letter
        (``k``/``d`` kingdom, ``p``, ``c``, ``o``, ``f``, ``g``, ``s``; other prefixes
        such as MetaPhlAn's ``t__`` are dropped); parts without a prefix are placed by
        position. Missing values (``None``/``NaN``) give an all-``NaN`` row.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``lineages`` (named ``feature_id``), columns :data:`RANKS`.

    Notes
    -----
    Each distinct lineage is split once and the rows are gathered by its code, so a
    table of ASVs sharing a few hundred lineages costs a few hundred splits.

    Examples
    --------
    >>> import pandas as pd
    >>> taxa = parse_lineages(pd.Series(
    ...     ["d__Bacteria; p__Firmicutes; c__Clostridia; o__; f__; g__; s__"], index=["asv1"]))
    >>> taxa.loc["asv1", ["kingdom", "phylum", "order"]].tolist()
    ['Bacteria', 'Firmicutes', nan]
    """
    index = pd.Index(lineages.index.astype(str), name="feature_id")
    codes, uniques = pd.factorize(lineages.to_numpy(dtype=object), use_na_sentinel=True)
    table = np.array([_split_lineage(str(u)) for u in uniques] + [[np.nan] * len(RANKS)],
                     dtype=object).reshape(len(uniques) + 1, len(RANKS))
    rows = table[codes]
    return rank_frame({rank: rows[:, i] for i, rank in enumerate(RANKS)}, index)


def rank_frame(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """The rank table: object columns with ``NaN`` for missing, in :data:`RANKS` order."""
    frame = pd.DataFrame(
        {rank: pd.Series(columns[rank], index=index, dtype=object) for rank in RANKS
         if rank in columns},
        index=index,
    )
    frame.index.name = "feature_id"
    return frame


def taxonomy_from_frame(frame: pd.DataFrame, *, source: str | None,
                        header_line: int = 1) -> pd.DataFrame:
    """Build the rank table from a raw string DataFrame (first column = feature ids).

    ``header_line`` is the file line of the header, for the line numbers of errors.
    """
    if frame.shape[1] < 2:
        raise InputError("taxonomy needs a feature id column and taxonomy columns",
                         source=source, found=list(frame.columns),
                         expected="'Feature ID' + 'Taxon', or a feature id + rank columns")
    # QIIME 2 directive rows such as '#q2:types' follow the header
    frame = frame[~frame.iloc[:, 0].astype(str).str.startswith("#q2:")]
    ids = frame.iloc[:, 0].astype(str).str.strip()
    _require_unique_ids(ids, source=source, header=str(frame.columns[0]),
                        header_line=header_line)
    lower = {str(c).strip().lower(): c for c in frame.columns[1:]}
    if "taxon" in lower:
        taxa = parse_lineages(pd.Series(frame[lower["taxon"]].to_numpy(), index=ids))
    else:
        ranks = {RANK_ALIASES[k]: c for k, c in lower.items() if k in RANK_ALIASES}
        if not ranks:
            raise InputError("no taxonomy columns found", source=source,
                             found=list(frame.columns[1:]),
                             expected=f"a 'Taxon' column or rank columns {list(RANKS)}")
        empty = np.full(len(ids), np.nan, dtype=object)
        taxa = rank_frame(
            {rank: clean_rank_values(frame[ranks[rank]]).to_numpy(dtype=object)
             if rank in ranks else empty for rank in RANKS},
            pd.Index(ids.to_numpy(), name="feature_id"),
        )
    if "confidence" in lower:
        conf = pd.to_numeric(frame[lower["confidence"]].replace("", np.nan), errors="coerce")
        bad = conf.isna() & frame[lower["confidence"]].ne("").to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("confidence is not a number", source=source,
                             row=_line_number(frame.index, i, header_line),
                             column=str(lower["confidence"]),
                             found=frame[lower["confidence"]].iloc[i], expected="a number")
        taxa["confidence"] = conf.to_numpy(dtype=np.float64)
    return taxa


def _require_unique_ids(ids: pd.Series, *, source: str | None, header: str,
                        header_line: int) -> None:
    if (ids == "").any():
        row = _line_number(ids.index, int(np.flatnonzero((ids == "").to_numpy())[0]),
                           header_line)
        raise InputError("empty feature id", source=source, row=row, column=header,
                         expected="a feature id in every row")
    dup = ids.duplicated()
    if dup.any():
        raise InputError("duplicate feature ids", source=source, column=header,
                         found=preview(ids[dup].unique()), expected="unique feature ids")


def _line_number(index: pd.Index, position: int, header_line: int) -> int:
    """File line of the row at ``position``: its label in the frame as read (0 = the line
    after the header) survives dropping the ``#q2:`` rows, so those are counted."""
    return int(index.to_numpy()[position]) + header_line + 1

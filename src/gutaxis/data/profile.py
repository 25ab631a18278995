"""ProfileTable: one aligned, immutable container for a microbiome table.

Samples are rows, features (ASVs, OTUs, species, genera) are columns; values are a
``scipy.sparse.csr_array`` of float64. Sample ids, feature ids, taxonomy and the
optional tree stay aligned under every operation, and every operation returns a new
table: nothing is modified in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data import transforms
from gutaxis.data.transforms import DEFAULT_CLR_PSEUDOCOUNT
from gutaxis.data.tree import PhyloTree
from gutaxis.errors import DataKindError, InputError, preview

ValueKind = Literal["counts", "relative", "clr", "transformed"]
VALUE_KINDS: tuple[str, ...] = get_args(ValueKind)

#: What the features of a table are: taxa (ASVs, OTUs, species, genera) or functions
#: (UniRef gene families, KEGG orthologs, EC numbers, MetaCyc pathways, gut modules).
FeatureType = Literal["taxon", "gene_family", "ko", "ec", "pathway", "module", "function"]
FEATURE_TYPES: tuple[str, ...] = get_args(FeatureType)

#: Units a functional table may carry, as the tools name them, and the value kind each
#: implies. ``RPK`` (HUMAnN reads per kilobase) and PICRUSt2's ``predicted`` gene
#: copies are unnormalised abundances but not read counts; ``CPM`` and ``relab`` are
#: compositions (CPM keeps its 1e6 scale); ``coverage`` is a fraction of a pathway or
#: module detected, not an abundance.
UNIT_KINDS: dict[str, ValueKind] = {
    "counts": "counts",
    "RPK": "counts",
    "predicted": "counts",
    "CPM": "relative",
    "relab": "relative",
    "coverage": "transformed",
}

#: Columns of :attr:`ProfileTable.strata` for a stratified functional table.
STRATA_COLUMNS: tuple[str, str] = ("function", "taxon")

#: Taxonomic ranks in order, as the readers name them.
RANKS: tuple[str, ...] = ("kingdom", "phylum", "class", "order", "family", "genus", "species")

Selector = Sequence[str] | np.ndarray | slice


@dataclass(frozen=True, eq=False)
class ProfileTable:
    """A samples x features microbiome table.

    Parameters
    ----------
    values
        Sparse matrix, samples x features. Converted to ``csr_array`` of float64 with
        sorted indices and no explicit zeros.
    sample_ids, feature_ids
        Unique string ids for rows and columns.
    kind
        What the values are: ``counts``, ``relative`` (rows sum to 1), ``clr`` or
        ``transformed`` (anything else, e.g. arcsine square root).
    taxonomy
        Optional DataFrame indexed by feature id with rank columns (see :data:`RANKS`);
        a missing assignment is ``NaN``.
    tree
        Optional rooted phylogeny whose tips include every feature id.
    feature_type
        What the features are (:data:`FEATURE_TYPES`): ``taxon`` (default) or a kind of
        function (``gene_family``, ``ko``, ``ec``, ``pathway``, ``module``, ``function``).
    unit
        The unit the values were reported in (:data:`UNIT_KINDS`: ``counts``, ``RPK``,
        ``predicted``, ``CPM``, ``relab``, ``coverage``), or ``None`` when not stated.
        It must agree with ``kind``.
    strata
        For a stratified functional table (one feature per function x taxon, as HUMAnN's
        ``K00001|g__Bacteroides.s__Bacteroides_ovatus`` rows): a DataFrame indexed by
        feature id with columns ``function`` and ``taxon``. ``None`` for community
        (unstratified) tables.
    """

    values: sp.csr_array
    sample_ids: np.ndarray
    feature_ids: np.ndarray
    kind: ValueKind = "counts"
    taxonomy: pd.DataFrame | None = None
    tree: PhyloTree | None = None
    feature_type: FeatureType = "taxon"
    unit: str | None = None
    strata: pd.DataFrame | None = None
    _feature_index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = sp.csr_array(self.values, dtype=np.float64)
        values.eliminate_zeros()
        values.sort_indices()
        sample_ids = _as_id_array(self.sample_ids, "sample")
        feature_ids = _as_id_array(self.feature_ids, "feature")
        if values.shape != (len(sample_ids), len(feature_ids)):
            raise InputError(
                "table shape does not match its ids",
                found=f"{values.shape} values, {len(sample_ids)} sample ids, "
                f"{len(feature_ids)} feature ids",
                expected="one id per row and per column",
            )
        if self.kind not in VALUE_KINDS:
            raise InputError("unknown value kind", found=self.kind,
                             expected=f"one of {VALUE_KINDS}")
        if not np.all(np.isfinite(values.data)):
            row, col = first_cell(values, ~np.isfinite(values.data))
            raise InputError("table holds NaN or infinite values", row=str(sample_ids[row]),
                             column=str(feature_ids[col]), found=float(values[row, col]),
                             expected="finite numbers")
        if self.kind in ("counts", "relative") and values.data.size and values.data.min() < 0:
            row, col = first_cell(values, values.data < 0)
            raise InputError(
                "negative abundance",
                row=str(sample_ids[row]),
                column=str(feature_ids[col]),
                found=float(values[row, col]),
                expected="a value >= 0",
            )
        taxonomy = self.taxonomy
        if taxonomy is not None:
            taxonomy = taxonomy.reindex(pd.Index(feature_ids, name="feature_id"))
        self._check_function_fields()
        strata = self.strata
        if strata is not None:
            strata = _aligned_strata(strata, feature_ids)
        object.__setattr__(self, "strata", strata)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "sample_ids", sample_ids)
        object.__setattr__(self, "feature_ids", feature_ids)
        object.__setattr__(self, "taxonomy", taxonomy)
        object.__setattr__(self, "_feature_index", {f: i for i, f in enumerate(feature_ids)})
        if self.tree is not None:
            self.tree.require_tips(feature_ids)

    def _check_function_fields(self) -> None:
        if self.feature_type not in FEATURE_TYPES:
            raise InputError("unknown feature type", field="feature_type",
                             found=self.feature_type, expected=f"one of {FEATURE_TYPES}")
        if self.unit is not None:
            if self.unit not in UNIT_KINDS:
                raise InputError("unknown abundance unit", field="unit", found=self.unit,
                                 expected=f"one of {tuple(UNIT_KINDS)}")
            if UNIT_KINDS[self.unit] != self.kind:
                raise InputError(
                    f"a table of {self.unit} values cannot hold {self.kind} values",
                    field="kind", found=self.kind, expected=UNIT_KINDS[self.unit])
        if self.strata is not None and self.feature_type == "taxon":
            raise InputError("only functional tables are stratified by taxon",
                             field="strata", found="strata on a taxon table",
                             expected="feature_type of a function (ko, gene_family, ...)")

    # ------------------------------------------------------------------ basics
    @property
    def is_functional(self) -> bool:
        """Whether the features are functions (gene families, KOs, pathways, modules)."""
        return self.feature_type != "taxon"

    @property
    def is_stratified(self) -> bool:
        """Whether each feature is one function in one taxon (see :attr:`strata`)."""
        return self.strata is not None

    def require_unstratified(self, *, action: str) -> None:
        """Raise :class:`DataKindError` if the table is stratified by taxon.

        Parameters
        ----------
        action
            What needs community totals, for the message (e.g. ``"module inference"``).
        """
        if self.strata is not None:
            raise DataKindError(
                f"{action} needs an unstratified (community) table",
                found=f"a stratified table ({self.n_features} function|taxon rows)",
                expected="the unstratified table (HUMAnN's rows without '|', PICRUSt2's "
                         "*_unstrat.tsv), or ProfileTable.unstratified()")

    def require_stratified(self, *, action: str) -> None:
        """Raise :class:`DataKindError` unless the table is stratified by taxon.

        Parameters
        ----------
        action
            What needs function x taxon rows, for the message.
        """
        if self.strata is None:
            raise DataKindError(
                f"{action} needs a stratified (function x taxon) table",
                found="an unstratified table",
                expected="HUMAnN's stratified rows (function|taxon) or PICRUSt2's "
                         "pred_metagenome_contrib.tsv")

    def unstratified(self) -> ProfileTable:
        """Community totals: the stratified rows summed over taxa, one feature per function.

        For gene families, KOs and EC numbers, and for PICRUSt2's contributions, the sum
        over taxa is the community total. HUMAnN pathway abundances are not additive
        (a pathway can be complete in the community and in no single taxon): read
        HUMAnN's own unstratified rows instead of summing.
        """
        if self.strata is None:
            return self
        codes, functions = pd.factorize(self.strata["function"].to_numpy(), sort=False)
        onehot = sp.csr_array(
            (np.ones(self.n_features), (np.arange(self.n_features), codes)),
            shape=(self.n_features, len(functions)),
        )
        return replace(self, values=sp.csr_array(self.values @ onehot),
                       feature_ids=np.asarray(functions, dtype=str), taxonomy=None,
                       tree=None, strata=None)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_samples, n_features)``."""
        return (len(self.sample_ids), len(self.feature_ids))

    @property
    def n_samples(self) -> int:
        return len(self.sample_ids)

    @property
    def n_features(self) -> int:
        return len(self.feature_ids)

    @property
    def nnz(self) -> int:
        return int(self.values.nnz)

    def sample_totals(self) -> np.ndarray:
        """Sum of each sample's values (sequencing depth for counts)."""
        return np.asarray(self.values.sum(axis=1)).ravel()

    def prevalence(self) -> np.ndarray:
        """Fraction of samples in which each feature is > 0."""
        present = np.bincount(self.values.indices[self.values.data > 0], minlength=self.n_features)
        return present / max(self.n_samples, 1)

    def dense(self) -> np.ndarray:
        """The values as a dense samples x features array (use on small tables)."""
        return self.values.toarray()

    def to_dataframe(self) -> pd.DataFrame:
        """Dense DataFrame, samples as rows, features as columns."""
        return pd.DataFrame(
            self.dense(),
            index=pd.Index(self.sample_ids, name="sample_id"),
            columns=pd.Index(self.feature_ids, name="feature_id"),
        )

    @classmethod
    def from_dataframe(
        cls,
        frame: pd.DataFrame,
        *,
        kind: ValueKind = "counts",
        taxonomy: pd.DataFrame | None = None,
        tree: PhyloTree | None = None,
    ) -> ProfileTable:
        """Build a table from a samples x features DataFrame of numbers.

        Parameters
        ----------
        frame
            Samples as rows (index: sample ids), features as columns (feature ids).
        kind
            What the values are: ``"counts"`` (default), ``"relative"``, ``"clr"`` or
            ``"transformed"``.
        taxonomy
            Ranks as columns, indexed by feature id.
        tree
            Rooted tree with the features as tips.
        """
        return cls(
            sp.csr_array(frame.to_numpy(dtype=np.float64)),
            np.asarray(frame.index.astype(str)),
            np.asarray(frame.columns.astype(str)),
            kind=kind,
            taxonomy=taxonomy,
            tree=tree,
        )

    def require_kind(self, *kinds: ValueKind, action: str) -> None:
        """Raise :class:`DataKindError` unless the table holds one of ``kinds``.

        Parameters
        ----------
        *kinds
            The kinds accepted.
        action
            What needs them, for the message (e.g. ``"Bray-Curtis"``).
        """
        if self.kind not in kinds:
            raise DataKindError(
                f"{action} needs {' or '.join(kinds)}",
                found=f"a table of {self.kind} values",
                expected=" or ".join(kinds),
            )

    def require_integer_counts(self, *, action: str) -> None:
        """Raise unless the table holds whole-number counts (refuses proportions).

        Parameters
        ----------
        action
            What needs counts, for the message (e.g. ``"Chao1"``).
        """
        self.require_kind("counts", action=action)
        if self.unit not in (None, "counts"):
            raise DataKindError(f"{action} needs whole-number read counts",
                                found=f"a table of {self.unit} values",
                                expected="integer read counts")
        data = self.values.data
        fractional = data != np.round(data)
        if fractional.any():
            row, col = first_cell(self.values, fractional)
            raise DataKindError(
                f"{action} needs whole-number counts",
                row=str(self.sample_ids[row]),
                column=str(self.feature_ids[col]),
                found=float(self.values[row, col]),
                expected="integer read counts (were proportions given?)",
            )

    # -------------------------------------------------------------- subsetting
    def subset_samples(self, selector: Selector) -> ProfileTable:
        """Keep the samples named (ids, boolean mask or integer positions), in that order.

        Parameters
        ----------
        selector
            Sample ids, a boolean mask or integer positions.
        """
        rows = self._positions(selector, self.sample_ids, "sample")
        return replace(self, values=self.values[rows], sample_ids=self.sample_ids[rows])

    def subset_features(self, selector: Selector) -> ProfileTable:
        """Keep the features named (ids, boolean mask or integer positions).

        The tree is kept whole: its tips are then a superset of the features, which
        Faith PD and UniFrac accept (``PhyloTree.shear`` prunes it when wanted).

        Parameters
        ----------
        selector
            Feature ids, a boolean mask or integer positions.
        """
        cols = self._positions(selector, self.feature_ids, "feature")
        return replace(
            self,
            values=self.values[:, cols],
            feature_ids=self.feature_ids[cols],
            taxonomy=None if self.taxonomy is None else self.taxonomy.iloc[cols],
            strata=None if self.strata is None else self.strata.iloc[cols],
        )

    def drop_empty_samples(self) -> ProfileTable:
        """Remove samples whose values are all zero."""
        return self.subset_samples(self.sample_totals() > 0)

    def _positions(self, selector: Selector, ids: np.ndarray, what: str) -> np.ndarray:
        if isinstance(selector, slice):
            return np.arange(len(ids))[selector]
        arr = np.asarray(selector)
        if arr.dtype == bool:
            if arr.shape != ids.shape:
                raise InputError(
                    f"{what} mask has the wrong length", found=arr.shape, expected=str(ids.shape)
                )
            return np.flatnonzero(arr)
        if arr.size == 0:
            return np.zeros(0, dtype=np.intp)
        if np.issubdtype(arr.dtype, np.integer):
            outside = (arr >= len(ids)) | (arr < -len(ids))
            if outside.any():
                raise InputError(f"{what} position out of range", found=preview(arr[outside]),
                                 expected=f"positions from 0 to {len(ids) - 1}")
            return arr.astype(np.intp)
        index = pd.Index(ids)
        pos = index.get_indexer(arr.astype(str))
        if (pos < 0).any():
            missing = arr[pos < 0]
            raise InputError(
                f"{len(missing)} {what} id(s) not in the table",
                found=preview(missing),
                expected=f"ids among the table's {len(ids)} {what}s",
            )
        return pos

    def feature_position(self, feature_id: str) -> int:
        """Column of ``feature_id``.

        Parameters
        ----------
        feature_id
            The feature.
        """
        try:
            return self._feature_index[feature_id]
        except KeyError:
            raise InputError("feature not in the table", found=feature_id) from None

    # ------------------------------------------------------------------ filters
    def filter_features(
        self,
        *,
        min_prevalence: float = 0.0,
        min_abundance: float = 0.0,
        min_variance: float | None = None,
    ) -> ProfileTable:
        """Keep features present in at least ``min_prevalence`` of the samples.

        A feature counts as present in a sample when its value is strictly greater than
        ``min_abundance``; it is kept when the fraction of samples where it is present is
        ``>= min_prevalence`` and, when ``min_prevalence > 0``, it is present somewhere.
        With the default ``min_prevalence=0`` no feature is dropped for its prevalence,
        not even one present nowhere. With ``min_variance``, features whose sample
        variance (ddof=1) is not strictly greater are dropped too.

        Parameters
        ----------
        min_prevalence
            Fraction of samples, in ``[0, 1]``, where a kept feature must be present.
        min_abundance
            A feature is present in a sample where its value is strictly greater.
        min_variance
            When given, a kept feature's sample variance must be strictly greater.
        """
        return self.subset_features(transforms.prevalence_mask(
            self.values, min_prevalence=min_prevalence, min_abundance=min_abundance,
            min_variance=min_variance))

    # -------------------------------------------------------- transformations
    def relative(self) -> ProfileTable:
        """Total-sum scaling: each sample divided by its total (empty samples stay zero)."""
        self.require_kind("counts", "relative", action="relative abundance")
        unit = None if self.unit is None else "relab"
        return replace(self, values=transforms.total_sum_scale(self.values), kind="relative",
                       unit=unit)

    def clr(
        self,
        *,
        pseudocount: float | None = DEFAULT_CLR_PSEUDOCOUNT,
        method: Literal["pseudocount", "multiplicative"] = "pseudocount",
        delta: float | None = None,
    ) -> ProfileTable:
        """Centred log-ratio transform (:func:`gutaxis.data.transforms.clr`).

        ``method="pseudocount"`` adds ``pseudocount`` to every cell (counts or
        proportions) before the log. ``method="multiplicative"`` applies the
        multiplicative replacement of Martin-Fernandez et al. (2003) on the closed
        composition: zeros become ``delta`` (default ``1 / D**2`` for ``D`` features) and
        nonzero parts shrink by ``1 - delta * n_zeros`` so rows still sum to one.
        The result is dense in content (every cell is nonzero) and its kind is ``clr``.

        Parameters
        ----------
        pseudocount
            Added to every cell with ``method="pseudocount"``.
        method
            ``"pseudocount"`` (default) or ``"multiplicative"``.
        delta
            The value of a zero with ``method="multiplicative"`` (default ``1 / D**2``).
        """
        self.require_kind("counts", "relative", action="CLR")
        if method == "pseudocount":
            centred = transforms.clr(self.values, pseudocount=pseudocount)
        elif method == "multiplicative":
            centred = transforms.clr_multiplicative(self.dense(), delta=delta)
        else:
            raise InputError("unknown CLR zero handling", field="method", found=method,
                             expected="'pseudocount' or 'multiplicative'")
        return replace(self, values=sp.csr_array(centred), kind="clr", unit=None)

    def rarefy(self, depth: int, *, seed: int, drop_shallow: bool = True) -> ProfileTable:
        """Subsample every sample to ``depth`` reads without replacement.

        Samples with fewer than ``depth`` reads are dropped (``drop_shallow=True``) or
        refused. Seeded: the same seed gives the same table.

        Parameters
        ----------
        depth
            Reads per sample after subsampling.
        seed
            Seed of the random draw.
        drop_shallow
            Drop samples with fewer than ``depth`` reads (default) instead of refusing them.
        """
        if isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 1:
            raise InputError("rarefaction depth must be a whole number of reads >= 1",
                             field="depth", found=depth, expected="an integer >= 1")
        self.require_integer_counts(action="rarefaction")
        totals = self.sample_totals()
        shallow = totals < depth
        if shallow.any() and not drop_shallow:
            raise InputError(
                f"{int(shallow.sum())} sample(s) have fewer than {depth} reads",
                found=preview(self.sample_ids[shallow]),
                expected="depth <= the smallest sample total, or drop_shallow=True",
            )
        table = self.subset_samples(~shallow)
        rng = np.random.default_rng(seed)
        vals = table.values
        counts = vals.data.astype(np.int64)
        out = np.empty_like(counts)
        # multivariate hypergeometric draw per sample, vectorised over its features
        for r in range(table.n_samples):  # per-sample loop; each draw is one numpy call
            lo, hi = vals.indptr[r], vals.indptr[r + 1]
            out[lo:hi] = rng.multivariate_hypergeometric(counts[lo:hi], depth)
        rarefied = sp.csr_array((out.astype(np.float64), vals.indices.copy(), vals.indptr.copy()),
                                shape=vals.shape)
        return replace(table, values=rarefied)

    def aggregate(self, rank: str) -> ProfileTable:
        """Sum features that share a taxon at ``rank``; features unassigned there are
        grouped by their deepest assigned rank, e.g. ``"f__Lachnospiraceae;g__"``.

        The new feature ids are the full lineage down to ``rank``
        (``"k__Bacteria;p__Firmicutes;...;g__Roseburia"``) and the new taxonomy keeps the
        ranks down to ``rank``. The tree is dropped.

        Parameters
        ----------
        rank
            A rank of the taxonomy, e.g. ``"genus"`` (see :data:`RANKS`).
        """
        if self.taxonomy is None:
            raise InputError("aggregating to a rank needs a taxonomy", field="taxonomy")
        ranks = [r for r in RANKS if r in self.taxonomy.columns]
        if rank not in ranks:
            raise InputError("unknown rank", found=rank, expected=f"one of {ranks}")
        kept_ranks = ranks[: ranks.index(rank) + 1]
        lineage = self.taxonomy[kept_ranks].astype("object")
        labels = _lineage_labels(lineage)
        codes, uniques = pd.factorize(labels, sort=True)
        onehot = sp.csr_array(
            (np.ones(self.n_features), (np.arange(self.n_features), codes)),
            shape=(self.n_features, len(uniques)),
        )
        summed = sp.csr_array(self.values @ onehot)
        first = pd.Series(np.arange(self.n_features)).groupby(codes).first().to_numpy()
        new_tax = lineage.iloc[first].copy()
        new_tax.index = pd.Index(np.asarray(uniques, dtype=str), name="feature_id")
        return ProfileTable(summed, self.sample_ids, np.asarray(uniques, dtype=str),
                            kind=self.kind, taxonomy=new_tax)


def _aligned_strata(strata: pd.DataFrame, feature_ids: np.ndarray) -> pd.DataFrame:
    missing_cols = [c for c in STRATA_COLUMNS if c not in strata.columns]
    if missing_cols:
        raise InputError("strata lack columns", field="strata", found=missing_cols,
                         expected=f"columns {STRATA_COLUMNS}")
    aligned = strata[list(STRATA_COLUMNS)].reindex(pd.Index(feature_ids, name="feature_id"))
    if aligned.isna().any(axis=None):
        where = aligned.isna().any(axis=1).to_numpy()
        raise InputError("stratified features without a function or taxon", field="strata",
                         found=preview(feature_ids[where]),
                         expected="a function and a taxon for every feature")
    return aligned.astype(str)


def _lineage_labels(lineage: pd.DataFrame) -> np.ndarray:
    prefix = {r: r[0] for r in RANKS}
    cols = list(lineage.columns)
    parts = []
    for col in cols:  # one vectorised string op per rank, not per feature
        vals = lineage[col].where(lineage[col].notna(), "").astype(str)
        parts.append(prefix.get(col, col) + "__" + vals)
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + ";" + p
    return joined.to_numpy(dtype=str)


def _as_id_array(ids: object, what: str) -> np.ndarray:
    arr = np.asarray(ids, dtype=object).astype(str)
    if arr.ndim != 1:
        raise InputError(f"{what} ids must be one-dimensional", found=arr.shape)
    if len(set(arr.tolist())) != len(arr):
        seen: set[str] = set()
        dupes = [x for x in arr.tolist() if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
        raise InputError(f"duplicate {what} ids", found=preview(dupes),
                         expected=f"unique {what} ids")
    return arr


def row_of_each_value(values: sp.csr_array) -> np.ndarray:
    """Row number of every stored value of a CSR matrix (aligned with ``values.data``)."""
    return np.repeat(np.arange(values.shape[0]), np.diff(values.indptr))


def first_cell(values: sp.csr_array, mask: np.ndarray) -> tuple[int, int]:
    """``(row, column)`` of the first stored value, in row-major order, where ``mask``
    (aligned with ``values.data``, at least one ``True``) holds.

    The columns of a row need not be sorted: the leftmost masked one is returned.
    """
    hits = np.flatnonzero(mask)
    row = int(np.searchsorted(values.indptr, hits[0], side="right") - 1)
    in_row = hits[hits < values.indptr[row + 1]]
    return row, int(values.indices[in_row].min())

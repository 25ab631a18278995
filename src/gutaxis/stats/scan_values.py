"""The values a per-feature scan models: which features it tests (the filters) and how
their values are normalised and transformed, built column chunk by column chunk.

Two orders, as :func:`gutaxis.stats.associate` documents: MaAsLin 2's (filter the input
values, then normalise the kept features) and MaAsLin 3's (normalise every feature, then
filter the normalised values), and MaAsLin 3's scaled abundance (``unscaled_abundance``:
per-sample factors from :func:`gutaxis.stats.normalize.unscaled_factors` in place of the
normalisation).

Every normalisation is a per-sample operation fixed by one number per sample (TSS: the
total; CLR: the mean of ``log(x + 1)``; scaled abundance: the factor), and every transform
works feature by feature. So :class:`SampleScaling` computes those numbers once from the
sparse table, and :class:`ScanValues` builds the dense values of any chunk of features from
the chunk's sparse columns alone: the scan never needs the dense samples x features matrix
(at 100,000 x 5,000 it would be 3.7 GiB per copy), and a chunk sent to a worker carries only
its own nonzeros. The values of a chunk do not depend on the chunk (each column's
arithmetic is the same), so a chunked scan models exactly the one-pass scan's values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.data.transforms import prevalence_mask
from gutaxis.errors import InputError
from gutaxis.stats.normalize import MAASLIN2_CLR_PSEUDOCOUNT, scale_samples, unscaled_factors
from gutaxis.stats.normalize import transform as transform_values

__all__ = ["CHUNK_BYTES", "ModelledValues", "SampleScaling", "ScanValues", "column_chunks",
           "features_to_test", "filter_features", "relative_factors", "transform_table"]

#: Dense bytes of one chunk of values built at a time where a whole-table pass is needed
#: (the MaAsLin 3 filters): 64 MiB, e.g. 838 features of 10,000 samples.
CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class SampleScaling:
    """One normalisation, reduced to one number per sample.

    Attributes
    ----------
    method
        ``TSS`` (divide by ``per_sample``, the sample's total; a zero total leaves zeros),
        ``CLR`` (``log(x + 1) - per_sample``, the mean of ``log(x + 1)`` over the features
        normalised together, MaAsLin 2's definition), ``FACTORS`` (multiply by
        ``per_sample``: MaAsLin 3's scaled abundance) or ``NONE``.
    per_sample
        The per-sample numbers (``None`` for ``NONE``).
    """

    method: str
    per_sample: np.ndarray | None = None

    @classmethod
    def fit(cls, values: object, normalization: str,
            factors: np.ndarray | None = None) -> SampleScaling:
        """The scaling of a (sparse or dense) samples x features table whose features are
        all normalised together; with ``factors``, MaAsLin 3's UNSCALED one instead."""
        if factors is not None:
            return cls("FACTORS", np.asarray(factors, dtype=np.float64))
        if normalization == "NONE":
            return cls("NONE")
        mat = values if isinstance(values, sp.csr_array | sp.csc_array) else sp.csr_array(values)
        data = np.asarray(mat.data, dtype=np.float64)
        if data.size and data.min() < 0:
            raise InputError(f"{normalization} normalization needs non-negative abundances",
                             found=f"minimum {data.min()}", expected="counts or proportions")
        n, m = mat.shape
        row = mat.indices if mat.format == "csc" else np.repeat(np.arange(n), np.diff(mat.indptr))
        if normalization == "TSS":
            return cls("TSS", np.bincount(row, weights=data, minlength=n))
        logged = np.log1p(data / MAASLIN2_CLR_PSEUDOCOUNT)  # log(0 + 1) = 0: zeros add nothing
        return cls("CLR", np.bincount(row, weights=logged, minlength=n) / max(m, 1))

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """The normalised values of dense columns ``raw`` (all samples, any features)."""
        x = np.asarray(raw, dtype=np.float64)
        if self.method == "NONE" or self.per_sample is None:
            return x
        if self.method == "FACTORS":
            return scale_samples(x, self.per_sample)
        if self.method == "TSS":
            totals = self.per_sample[:, None]
            return np.divide(x, totals, out=np.zeros_like(x), where=totals > 0)
        return np.log1p(x / MAASLIN2_CLR_PSEUDOCOUNT) - self.per_sample[:, None]


@dataclass(frozen=True)
class ScanValues:
    """The modelled values of a scan's features, built on request from sparse columns.

    Attributes
    ----------
    raw
        The input values: every sample of the table x the features of this scan (CSC).
    scaling
        The per-sample normalisation (computed over the features the scan's order says).
    transform
        ``LOG``, ``AST``, ``LOGIT`` or ``NONE``, applied per feature over every sample of
        the table (LOG's half-minimum is the feature's over all samples).
    rows
        The samples the models use (indices into the table's samples, the design's rows).
    """

    raw: sp.csc_array
    scaling: SampleScaling
    transform: str
    rows: np.ndarray

    @property
    def n_features(self) -> int:
        """Features held."""
        return int(self.raw.shape[1])

    def part(self, columns: slice | np.ndarray) -> ScanValues:
        """The same recipe for some features only (what a chunk's task gets)."""
        return replace(self, raw=sp.csc_array(self.raw[:, columns]))

    def normalised(self, columns: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Dense normalised values of ``columns`` over every sample of the table."""
        return self.scaling.apply(self.raw[:, columns].toarray())

    def columns(self, columns: slice | np.ndarray = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Dense ``(y, present)`` of ``columns`` on the modelled rows: the transformed
        values and where the input value is > 0."""
        raw = self.raw[:, columns].toarray()
        y = transform_values(self.scaling.apply(raw), method=self.transform)
        return y[self.rows], raw[self.rows] > 0

    def present(self) -> sp.csc_array:
        """Sparse presence (input value > 0) of every feature on the modelled rows."""
        return sp.csc_array(self.raw[self.rows] > 0)


class ModelledValues:
    """The values a scan modelled (samples used x features tested), built per feature on
    request: ``values["g__Bacteroides"]`` is a Series; ``to_frame()`` the whole matrix
    (dense: for small scans only).

    Parameters
    ----------
    sample_ids, features
        Row and column labels.
    source
        A :class:`ScanValues` (the scan's recipe) or a DataFrame holding the values.
    nonzero_only
        ``NaN`` where a feature is absent (MaAsLin 3's abundance model uses each feature's
        nonzero samples only).
    """

    def __init__(self, sample_ids: Sequence[str] | np.ndarray, features: Sequence[str] | np.ndarray,
                 source: ScanValues | pd.DataFrame, *, nonzero_only: bool = False) -> None:
        self.index = pd.Index(list(sample_ids), name="sample_id")
        self.columns = pd.Index(list(features), name="feature")
        self._source, self._nonzero_only = source, nonzero_only
        self._position = {f: k for k, f in enumerate(self.columns)}

    @property
    def shape(self) -> tuple[int, int]:
        """(samples, features)."""
        return len(self.index), len(self.columns)

    def __repr__(self) -> str:
        return f"ModelledValues({self.shape[0]} samples x {self.shape[1]} features)"

    def _block(self, positions: np.ndarray) -> np.ndarray:
        if isinstance(self._source, pd.DataFrame):
            return self._source.to_numpy(dtype=np.float64)[:, positions]
        y, present = self._source.columns(positions)
        return np.where(present, y, np.nan) if self._nonzero_only else y

    def __getitem__(self, feature: str) -> pd.Series:
        if feature not in self._position:
            raise KeyError(feature)
        block = self._block(np.array([self._position[feature]]))
        return pd.Series(block[:, 0], index=self.index.copy(), name=feature)

    def to_frame(self) -> pd.DataFrame:
        """Every feature's values as one dense DataFrame."""
        return pd.DataFrame(self._block(np.arange(self.shape[1])), index=self.index,
                            columns=self.columns)

    def to_numpy(self) -> np.ndarray:
        """:meth:`to_frame`'s values."""
        return self.to_frame().to_numpy()


def column_chunks(n_rows: int, n_columns: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[slice]:
    """Consecutive column slices whose dense float64 values fit ``chunk_bytes``."""
    step = max(1, chunk_bytes // (8 * max(n_rows, 1)))
    for start in range(0, n_columns, step):
        yield slice(start, min(start + step, n_columns))


def filter_features(
    values: object, *, min_prevalence: float, min_abundance: float, min_variance: float
) -> np.ndarray:
    """Boolean mask of the features MaAsLin 2 keeps, computed on the input values.

    MaAsLin 2's preset of :func:`gutaxis.data.transforms.prevalence_mask`: a feature is
    kept when ``#{samples with value > min_abundance} > min_prevalence * n_samples``
    (strictly) and its sample variance (ddof=1) is ``> min_variance``.
    """
    return prevalence_mask(values, min_prevalence=min_prevalence, min_abundance=min_abundance,
                           min_variance=min_variance, strict=True)


def features_to_test(
    values: object,
    *,
    min_prevalence: float,
    min_abundance: float,
    min_variance: float,
    prevalence_model: bool = False,
    normalization: str = "TSS",
    factors: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of the features a scan tests.

    Without the prevalence model, MaAsLin 2's rule on the input values
    (:func:`filter_features`). With it, MaAsLin 3's: on the values normalised over all
    features (scaled by ``factors`` for scaled abundance, see :func:`associate`'s
    ``unscaled``), a feature is kept when ``#{samples with value > min_abundance} >
    min_prevalence * n_samples`` (strictly) and the variance (ddof=1) of its nonzero values
    is ``> min_variance``. The normalised values are built :data:`CHUNK_BYTES` at a time.
    """
    if not prevalence_model:
        return filter_features(values, min_prevalence=min_prevalence,
                               min_abundance=min_abundance, min_variance=min_variance)
    mat = sp.csc_array(values, dtype=np.float64)
    scan = ScanValues(mat, SampleScaling.fit(mat, normalization, factors), "NONE",
                      np.arange(mat.shape[0]))
    n, m = mat.shape
    keep = np.zeros(m, dtype=bool)
    for part in column_chunks(n, m):
        normalised = scan.normalised(part)
        above = (normalised > min_abundance).sum(axis=0)
        nonzero = normalised != 0
        count = nonzero.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(nonzero, normalised, 0.0).sum(axis=0) / count
            spread = np.where(nonzero, (normalised - mean) ** 2, 0.0).sum(axis=0) / (count - 1)
        keep[part] = (above > min_prevalence * n) & (np.nan_to_num(spread, nan=0.0) >
                                                       min_variance)
    return keep


def relative_factors(table: ProfileTable) -> np.ndarray:
    """Factors that make a table's rows proportions of their totals over all its features
    (those of the scan's input, spike-in included, as MaAsLin 3's TSS)."""
    totals = table.sample_totals()
    return unscaled_factors(np.ones_like(totals), sample_totals=totals)


def transform_table(raw: np.ndarray, *, normalization: str, transform: str,
                    factors: np.ndarray | None = None) -> np.ndarray:
    """Normalise then transform a dense samples x features table (MaAsLin 2's order);
    with per-sample ``factors`` (:func:`gutaxis.stats.normalize.unscaled_factors`) the
    normalisation is MaAsLin 3's UNSCALED one instead."""
    scaling = SampleScaling.fit(raw, normalization, factors)
    return transform_values(scaling.apply(raw), method=transform)

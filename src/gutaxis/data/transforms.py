"""Compositional transforms and feature filters of a samples x features table: one home.

Every total-sum scaling, centred log-ratio and prevalence filter of the package is one of
these functions; the conventions of other tools are named presets (pseudocounts,
inclusive or strict thresholds) and live with the code that reproduces those tools
(MaAsLin 2's in :mod:`gutaxis.stats.normalize`, QIIME 2's Aitchison pseudocount in
:mod:`gutaxis.gut.beta`). They take dense arrays or scipy sparse arrays and keep sparse
input sparse where the transform keeps zeros at zero.

Notes
-----
The CLR with a pseudocount ``c`` is computed as

.. math:: \\mathrm{clr}(x + c)_k = \\log(1 + x_k / c) - \\frac{1}{D}\\sum_l \\log(1 + x_l / c),

equal to :math:`\\log(x_k + c) - \\frac{1}{D}\\sum_l \\log(x_l + c)` (the :math:`\\log c`
cancels) but keeping zeros at zero before centring, so a sparse table stays sparse in
:func:`log_pseudocounted`, and ``c = 1`` gives ``log1p(x)`` exactly.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from gutaxis.errors import InputError

Table = TypeVar("Table", np.ndarray, sp.csr_array)

DEFAULT_CLR_PSEUDOCOUNT = 0.5
"""Pseudocount of :meth:`gutaxis.data.profile.ProfileTable.clr` (half a read)."""


def total_sum_scale(values: Table) -> Table:
    """Each sample (row) divided by its total; a sample whose total is 0 stays all zero.

    Dense in, dense out; CSR in, CSR out (same sparsity pattern).

    Examples
    --------
    >>> total_sum_scale(np.array([[1.0, 3.0], [0.0, 0.0]]))
    array([[0.25, 0.75],
           [0.  , 0.  ]])
    """
    if isinstance(values, np.ndarray):
        x = np.asarray(values, dtype=np.float64)
        totals = x.sum(axis=1, keepdims=True)
        return np.divide(x, totals, out=np.zeros_like(x), where=totals > 0)
    csr = sp.csr_array(values, dtype=np.float64)
    totals = np.asarray(csr.sum(axis=1)).ravel()
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    row_totals = totals[rows]
    data = np.divide(csr.data, row_totals, out=np.zeros_like(csr.data), where=row_totals > 0)
    return sp.csr_array((data, csr.indices.copy(), csr.indptr.copy()), shape=csr.shape)


def log_pseudocounted(values: Table, *, pseudocount: float | None) -> Table:
    """``log(1 + x / pseudocount)`` cell by cell: ``log(x + c)`` less the constant ``log c``.

    Zeros stay zero, so a CSR table stays CSR. Refuses a pseudocount that is not > 0.
    """
    c = checked_pseudocount(pseudocount)
    if isinstance(values, np.ndarray):
        return np.log1p(np.asarray(values, dtype=np.float64) / c)
    csr = sp.csr_array(values, dtype=np.float64)
    return sp.csr_array((np.log1p(csr.data / c), csr.indices.copy(),
                         csr.indptr.copy()), shape=csr.shape)


def clr(values: np.ndarray | sp.csr_array, *, pseudocount: float | None) -> np.ndarray:
    """Centred log-ratio of ``values + pseudocount``, row by row (dense result).

    Examples
    --------
    >>> clr(np.array([[0.0, 1.0]]), pseudocount=1.0).round(6)
    array([[-0.346574,  0.346574]])
    """
    logged = log_pseudocounted(values, pseudocount=pseudocount)
    dense = logged.toarray() if sp.issparse(logged) else logged
    return centre_rows(dense)


def clr_multiplicative(values: np.ndarray, *, delta: float | None = None) -> np.ndarray:
    """Centred log-ratio after :func:`multiplicative_replacement` of the zeros."""
    return centre_rows(np.log(multiplicative_replacement(values, delta=delta)))


def centre_rows(logged: np.ndarray) -> np.ndarray:
    """Each row less its mean (the centring of a CLR)."""
    return logged - logged.mean(axis=1, keepdims=True)


def checked_pseudocount(pseudocount: float | None) -> float:
    """``pseudocount`` as a float if it is > 0, else an :class:`InputError` (None, NaN)."""
    if pseudocount is None or not pseudocount > 0:
        raise InputError("the pseudocount must be > 0", field="pseudocount",
                         found=pseudocount, expected="a positive number")
    return float(pseudocount)


def multiplicative_replacement(
    composition: np.ndarray, *, delta: float | None = None
) -> np.ndarray:
    """Replace zeros in a (closed) composition: Martin-Fernandez et al. 2003.

    Rows are closed to sum 1 first; zeros become ``delta`` (default ``1 / D**2``), and
    nonzero parts are multiplied by ``1 - delta * (number of zeros in the row)``.
    """
    mat = np.asarray(composition, dtype=np.float64)
    totals = mat.sum(axis=1, keepdims=True)
    if np.any(totals <= 0):
        raise InputError("multiplicative replacement needs samples with a nonzero total",
                         found=f"{int((totals <= 0).sum())} empty sample(s)")
    closed = mat / totals
    n_features = closed.shape[1]
    delta = 1.0 / n_features**2 if delta is None else delta
    zeros = closed == 0
    n_zero = zeros.sum(axis=1, keepdims=True)
    if np.any(delta * n_zero >= 1):
        raise InputError("multiplicative replacement delta too large", found=delta,
                         expected="delta * number of zeros < 1")
    return np.where(zeros, delta, closed * (1 - delta * n_zero))


def feature_variance(values: sp.csr_array | sp.csc_array) -> np.ndarray:
    """Sample variance (ddof=1) of each column of a sparse matrix, without densifying
    (and without copying it: sums over its stored values, column by column)."""
    n, m = values.shape
    if n < 2:
        return np.zeros(m)
    column, data = column_of_each_value(values), values.data
    mean = np.bincount(column, weights=data, minlength=m) / n
    sq = np.bincount(column, weights=data * data, minlength=m) / n
    return np.maximum(sq - mean**2, 0.0) * n / (n - 1)


def column_of_each_value(values: sp.csr_array | sp.csc_array) -> np.ndarray:
    """The column of each stored value of a CSR (its indices) or CSC matrix."""
    if values.format == "csc":
        return np.repeat(np.arange(values.shape[1]), np.diff(values.indptr))
    return values.indices


def prevalence_mask(
    values: object,
    *,
    min_prevalence: float,
    min_abundance: float = 0.0,
    min_variance: float | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Boolean mask of the features (columns) that pass a prevalence filter.

    A feature is present in a sample where its value is strictly greater than
    ``min_abundance``. With ``strict=False`` it is kept when the number of samples where it
    is present is ``>= min_prevalence * n_samples`` and, when ``min_prevalence > 0``, at
    least 1; with ``strict=True`` (MaAsLin 2's rule) when that number is
    ``> min_prevalence * n_samples``, so a feature present nowhere is always dropped.
    With ``min_variance``, features whose sample variance (ddof=1) is not strictly greater
    are dropped too.
    """
    mat = values if isinstance(values, sp.csr_array | sp.csc_array) else sp.csr_array(values)
    if not mat.has_canonical_format:  # duplicate entries would be counted twice
        mat = mat.copy()
        mat.sum_duplicates()
    if min_abundance >= 0:  # implicit zeros are never above it: count the stored values
        count = np.bincount(column_of_each_value(mat)[mat.data > min_abundance],
                            minlength=mat.shape[1])
    else:
        count = np.asarray((sp.csc_array(mat) > min_abundance).sum(axis=0)).ravel()
    threshold = min_prevalence * mat.shape[0]
    if strict:
        keep = count > threshold
    else:
        keep = count >= threshold
        if min_prevalence > 0:
            keep &= count > 0
    if min_variance is not None:
        keep &= feature_variance(mat) > min_variance
    return np.asarray(keep, dtype=bool)

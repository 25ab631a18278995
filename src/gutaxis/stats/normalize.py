"""Normalisations and transforms of a feature table before a per-feature scan.

They follow MaAsLin 2 (``R/utility_scripts.R`` of ``biobakery/Maaslin2``, version 1.x)
definition for definition, so that a scan here and a MaAsLin 2 run on the same table
fit the same numbers. Tables are dense ``(samples, features)`` arrays of the features
kept by the filters. Scaled abundance (MaAsLin 3's ``unscaled_abundance``: a spike-in or
the total microbial load per sample) follows MaAsLin 3's ``UNSCALEDnorm``
(``R/utility_scripts.R`` of ``biobakery/maaslin3`` 0.99.1).
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd

from gutaxis.choices import Normalization, Transform
from gutaxis.data.profile import ProfileTable
from gutaxis.data.transforms import clr, total_sum_scale
from gutaxis.errors import InputError

NORMALIZATIONS: tuple[str, ...] = get_args(Normalization)
TRANSFORMS: tuple[str, ...] = get_args(Transform)

MAASLIN2_CLR_PSEUDOCOUNT = 1.0
"""MaAsLin 2's CLR pseudocount, on the input scale (``log(x + 1)``)."""

#: Transforms that need proportions, hence TSS or NONE normalisation (as MaAsLin 2 demands).
_PROPORTION_TRANSFORMS = ("AST", "LOGIT")


def check_options(normalization: str, transform: str) -> tuple[Normalization, Transform]:
    """Validate (case-insensitively) a normalisation / transform pair; return canonical names."""
    norm = _choice(normalization, NORMALIZATIONS, "normalization")
    trans = _choice(transform, TRANSFORMS, "transform")
    if trans in _PROPORTION_TRANSFORMS and norm == "CLR":
        raise InputError(f"the {trans} transform needs proportions", field="transform",
                         found=f"{trans} after CLR", expected="normalization TSS or NONE")
    if trans == "LOG" and norm == "CLR":
        raise InputError("CLR values are already log-ratios and can be negative",
                         field="transform", found="LOG after CLR", expected="transform NONE")
    return norm, trans  # type: ignore[return-value]


def _choice(value: str, choices: tuple[str, ...], field: str) -> str:
    """``value`` upper-cased if it is one of ``choices``, else an :class:`InputError`."""
    name = str(value).upper()
    if name not in choices:
        raise InputError(f"unknown {field}", field=field, found=value,
                         expected=f"one of {', '.join(choices)}")
    return name


def normalize(values: np.ndarray, *, method: str = "TSS") -> np.ndarray:
    """Normalise each sample (row) of a samples x features table.

    Parameters
    ----------
    values
        Dense ``(n_samples, n_features)`` non-negative array.
    method
        ``TSS``, ``CLR`` or ``NONE``.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape.

    Notes
    -----
    - TSS (total-sum scaling): :math:`x_{ij} / \\sum_k x_{ik}`; a sample whose kept
      features are all zero stays all zero.
    - CLR, as MaAsLin 2 computes it: :math:`\\ln(x_{ij} + 1) - \\frac{1}{D}\\sum_k
      \\ln(x_{ik} + 1)` over the :math:`D` kept features (pseudo-count 1 on the input
      scale, natural log).
    - NONE: the values unchanged.

    References
    ----------
    .. [1] Mallick H et al. (2021). Multivariable association discovery in
       population-scale meta-omics studies. PLoS Comput Biol 17:e1009442.
    .. [2] Aitchison J (1986). The Statistical Analysis of Compositional Data.

    Examples
    --------
    >>> normalize(np.array([[1.0, 3.0], [0.0, 0.0]]), method="TSS")
    array([[0.25, 0.75],
           [0.  , 0.  ]])
    """
    x = np.array(values, dtype=np.float64)
    method = _choice(method, NORMALIZATIONS, "normalization")
    if method == "NONE":
        return x
    if x.size and x.min() < 0:
        raise InputError(f"{method} normalization needs non-negative abundances",
                         found=f"minimum {x.min()}", expected="counts or proportions")
    if method == "TSS":
        return total_sum_scale(x)
    return clr(x, pseudocount=MAASLIN2_CLR_PSEUDOCOUNT)


def transform(values: np.ndarray, *, method: str = "LOG") -> np.ndarray:
    """Transform each feature (column) of a normalised table.

    Parameters
    ----------
    values
        Dense ``(n_samples, n_features)`` array, normally the output of :func:`normalize`.
    method
        ``LOG``, ``AST``, ``LOGIT`` or ``NONE``.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape. A LOG-transformed feature with no positive value
        is all ``NaN`` (nothing to take half the minimum of).

    Notes
    -----
    As MaAsLin 2 (1.x) defines them:

    - LOG: per feature, zeros are *replaced* by half the smallest positive value of that
      feature, :math:`c_j = \\min\\{x_{ij} > 0\\} / 2`, then :math:`\\log_2`. Positive
      values are not shifted. Needs non-negative values.
    - AST (arcsine square root): :math:`\\operatorname{sign}(x)\\arcsin\\sqrt{|x|}`; needs
      :math:`|x| \\le 1` (proportions).
    - LOGIT: :math:`\\ln(x / (1 - x))` on proportions in [0, 1]; the non-finite values
      this gives at 0 and 1 are set to 0, as MaAsLin 2 does (its documentation warns that
      this "does not work well for microbiome data").
    - NONE: the values unchanged.

    References
    ----------
    .. [1] Mallick H et al. (2021). Multivariable association discovery in
       population-scale meta-omics studies. PLoS Comput Biol 17:e1009442.

    Examples
    --------
    >>> transform(np.array([[0.0], [0.25], [1.0]]), method="LOG")
    array([[-3.],
           [-2.],
           [ 0.]])
    """
    x = np.array(values, dtype=np.float64)
    method = _choice(method, TRANSFORMS, "transform")
    if method == "NONE":
        return x
    if method == "LOG":
        return _log_half_min(x)
    if method == "AST":
        _require_range(x, -1.0, 1.0, "AST", "values in [-1, 1] (proportions: normalization TSS)")
        return np.sign(x) * np.arcsin(np.sqrt(np.abs(x)))
    _require_range(x, 0.0, 1.0, "LOGIT", "proportions in [0, 1] (normalization TSS)")
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x / (1.0 - x))
    y[~np.isfinite(y)] = 0.0
    return y


def _log_half_min(x: np.ndarray) -> np.ndarray:
    _require_range(x, 0.0, np.inf, "LOG", "non-negative values")
    positive = np.where(x > 0, x, np.inf)
    half_min = positive.min(axis=0) / 2.0 if x.shape[0] else np.full(x.shape[1], np.inf)
    half_min[~np.isfinite(half_min)] = np.nan
    filled = np.where(x == 0, half_min[None, :], x)
    return np.log2(filled)


def _require_range(x: np.ndarray, low: float, high: float, name: str, expected: str) -> None:
    if not x.size:
        return
    lo, hi = x.min(), x.max()  # NaN (a feature with nothing to log) compares False
    if lo < low or hi > high:
        raise InputError(f"the {name} transform cannot take these values",
                         field="transform", found=f"values in [{lo:.6g}, {hi:.6g}]",
                         expected=expected)


# ----------------------------------------------------------------- scaled abundance
#: The ``unscaled_abundance`` column holding each sample's total microbial load.
UNSCALED_TOTAL = "total"


def unscaled_factors(
    load: np.ndarray,
    *,
    sample_totals: np.ndarray | None = None,
    spike_in: np.ndarray | None = None,
) -> np.ndarray:
    """Per-sample factors ``c_i`` that turn input values into scaled abundances ``x_ij c_i``.

    MaAsLin 3's ``UNSCALEDnorm`` after its TSS: with a total load ``L_i`` (the column
    ``total``) the proportions are multiplied by it, ``c_i = L_i / T_i`` with ``T_i`` the
    sample's total over *all* features of the input table; with a spike-in of known
    amount ``L_i`` and observed value ``s_i``, ``c_i = L_i / s_i`` (the proportions times
    ``L_i / (s_i / T_i)``: ``T_i`` cancels).

    Parameters
    ----------
    load
        ``(n,)`` the total load, or the amount of spike-in added, per sample (> 0).
    sample_totals
        ``(n,)`` each sample's sum over all features (the ``total`` case).
    spike_in
        ``(n,)`` the spike-in feature's input values (the spike-in case).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` factors. A sample with no reads (``T_i = 0``) gets ``0`` (its values stay
        zero, as MaAsLin 3's TSS leaves them).

    Examples
    --------
    >>> unscaled_factors(np.array([1000.0, 500.0]), sample_totals=np.array([10.0, 50.0]))
    array([100.,  10.])
    >>> unscaled_factors(np.array([2.0, 2.0]), spike_in=np.array([4.0, 1.0]))
    array([0.5, 2. ])
    """
    amount = np.asarray(load, dtype=np.float64)
    if (sample_totals is None) == (spike_in is None):
        raise InputError("give either the sample totals or the spike-in values",
                         field="sample_totals/spike_in", found="both or neither",
                         expected="exactly one of the two")
    denominator = np.asarray(spike_in if sample_totals is None else sample_totals,
                             dtype=np.float64)
    factors = np.zeros_like(amount)
    np.divide(amount, denominator, out=factors, where=denominator > 0)
    return factors


def scale_samples(values: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Multiply each sample (row) by its factor: MaAsLin 3's UNSCALED normalisation step.

    Parameters
    ----------
    values
        Dense ``(n_samples, n_features)`` non-negative input values.
    factors
        ``(n_samples,)`` finite, non-negative factors (:func:`unscaled_factors`).

    Examples
    --------
    >>> scale_samples(np.array([[1.0, 3.0], [2.0, 0.0]]), np.array([10.0, 0.5]))
    array([[10., 30.],
           [ 1.,  0.]])
    """
    x = np.array(values, dtype=np.float64)
    c = np.asarray(factors, dtype=np.float64)
    if c.shape != (x.shape[0],) or not np.isfinite(c).all() or (c < 0).any():
        raise InputError("scaling factors must be one finite, non-negative number per sample",
                         field="factors", found=f"shape {c.shape} for {x.shape[0]} samples",
                         expected="finite values >= 0, one per sample")
    return x * c[:, None]


def unscaled_table(
    table: ProfileTable, unscaled: pd.DataFrame, *, normalization: str = "TSS"
) -> tuple[ProfileTable, np.ndarray]:
    """Check MaAsLin 3's ``unscaled_abundance`` against a table; return the table to scan
    (the spike-in feature dropped) and the factors of :func:`unscaled_factors`.

    Parameters
    ----------
    table
        The input table (counts or relative abundances, all features).
    unscaled
        Indexed by sample id, exactly one numeric column: a feature id of ``table`` (a
        spike-in of known amount) or ``total`` (total microbial load). Samples not in the
        table are ignored; every table sample needs a value > 0. ``unscaled.attrs
        ["source"]``, when set, names the file in errors.
    normalization
        Must be ``TSS``, as MaAsLin 3 requires.

    Raises
    ------
    InputError
        Another normalisation, not exactly one column, a column that is neither a feature
        nor ``total``, table samples without a value (named), a missing, non-numeric or
        non-positive value (row and column named), or a spike-in absent from a sample.
    """
    source = unscaled.attrs.get("source")
    if str(normalization).upper() != "TSS":
        raise InputError("scaled abundance needs TSS normalisation (as MaAsLin 3)",
                         field="normalization", found=normalization, expected="TSS")
    if unscaled.shape[1] != 1:
        raise InputError("the unscaled abundance table needs exactly one column",
                         source=source, column=", ".join(map(str, unscaled.columns)),
                         expected=f"one column: a spike-in feature id or '{UNSCALED_TOTAL}'")
    name = str(unscaled.columns[0])
    spike = name in set(table.feature_ids)
    if not spike and name != UNSCALED_TOTAL:
        raise InputError("unscaled abundance column is neither a feature nor the total load",
                         source=source, column=name,
                         expected=f"a feature id of the table (spike-in) or '{UNSCALED_TOTAL}'")
    load = _unscaled_load(table, unscaled[unscaled.columns[0]], name, source)
    if not spike:
        return table, unscaled_factors(load, sample_totals=table.sample_totals())
    spike_values = table.values[:, [table.feature_position(name)]].toarray()[:, 0]
    absent = table.sample_ids[spike_values <= 0]
    if len(absent):
        raise InputError(f"the spike-in is absent from {len(absent)} sample(s)", source=source,
                         column=name, found=", ".join(absent[:5]),
                         expected="the spike-in present in every sample")
    kept = table.subset_features(np.flatnonzero(table.feature_ids != name))
    return kept, unscaled_factors(load, spike_in=spike_values)


def _unscaled_load(table: ProfileTable, column: pd.Series, name: str,
                   source: str | None) -> np.ndarray:
    """The load of every table sample, checked (named rows where it is wrong)."""
    index = column.index.astype(str)
    missing = pd.Index(table.sample_ids).difference(index)
    if len(missing):
        raise InputError(f"{len(missing)} sample(s) of the table have no unscaled abundance",
                         source=source, column=name, found=", ".join(missing[:5]),
                         expected="a row for every sample of the table")
    if index.duplicated().any():
        raise InputError("sample id repeated in the unscaled abundance table", source=source,
                         row=str(index[index.duplicated()][0]), expected="one row per sample")
    values = pd.to_numeric(pd.Series(column.to_numpy(), index=index), errors="coerce")
    load = values.loc[list(table.sample_ids)].to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(load) & (load > 0))
    if bad.any():
        sample = str(table.sample_ids[np.flatnonzero(bad)[0]])
        raise InputError("unscaled abundance must be a positive number", source=source,
                         row=sample, column=name, found=column.to_numpy()[index == sample][0],
                         expected="a finite number > 0")
    return load

"""Normalisations and transforms of a feature table before a per-feature scan.

They follow MaAsLin 2 (``R/utility_scripts.R`` of ``biobakery/Maaslin2``, version 1.x)
definition for definition, so that a scan here and a MaAsLin 2 run on the same table
fit the same numbers. Tables are dense ``(samples, features)`` arrays of the features
kept by the filters.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from gutaxis.choices import Normalization, Transform
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

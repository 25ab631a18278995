"""Multiple-testing correction over many p-values at once.

All methods treat ``NaN`` p-values as "no test": they are passed through as ``NaN``
and do not count towards the number of tests, as R's ``p.adjust`` does.
"""

from __future__ import annotations

from typing import get_args

import numpy as np

from gutaxis.choices import Correction
from gutaxis.errors import InputError

CORRECTIONS: tuple[str, ...] = get_args(Correction)
_ALIASES = {c.lower(): c for c in CORRECTIONS} | {"fdr": "BH", "fdr_bh": "BH", "fdr_by": "BY"}


def correction_name(method: str) -> Correction:
    """The canonical name of a correction method (case-insensitive; ``fdr`` means BH)."""
    name = _ALIASES.get(str(method).lower())
    if name is None:
        raise InputError("unknown multiple-testing correction", field="correction",
                         found=method, expected=f"one of {', '.join(CORRECTIONS)}")
    return name  # type: ignore[return-value]


def adjust_pvalues(pvalues: np.ndarray, *, method: str = "BH") -> np.ndarray:
    """Adjust p-values for multiple testing.

    Parameters
    ----------
    pvalues
        Any shape; ``NaN`` entries are ignored (and stay ``NaN``).
    method
        ``BH`` (Benjamini-Hochberg false discovery rate, the default), ``BY``
        (Benjamini-Yekutieli, valid under any dependence), ``bonferroni``, ``holm``
        or ``none``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (q-values for BH/BY), same shape, capped at 1.

    Notes
    -----
    With :math:`m` non-missing p-values sorted ascending, :math:`p_{(1)} \\le \\dots \\le
    p_{(m)}`:

    - BH: :math:`q_{(i)} = \\min_{j \\ge i} \\min(1, m\\,p_{(j)}/j)`.
    - BY: as BH with :math:`m` replaced by :math:`m \\sum_{k=1}^m 1/k`.
    - Bonferroni: :math:`\\min(1, m\\,p_i)`.
    - Holm: :math:`\\max_{j \\le i} \\min(1, (m - j + 1)\\,p_{(j)})`.

    Checked against ``statsmodels.stats.multitest.multipletests`` to 1e-12.

    References
    ----------
    .. [1] Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. J R Stat
       Soc B 57:289-300.
    .. [2] Benjamini Y, Yekutieli D (2001). The control of the false discovery rate in
       multiple testing under dependency. Ann Stat 29:1165-1188.
    .. [3] Holm S (1979). A simple sequentially rejective multiple test procedure.
       Scand J Stat 6:65-70.

    Examples
    --------
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03, np.nan]), method="BH").round(3)
    array([0.03, 0.04, 0.04,  nan])
    """
    name = correction_name(method)
    p = np.asarray(pvalues, dtype=np.float64)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    valid = ~np.isnan(flat)
    values = flat[valid]
    if values.size and (values.min() < 0 or values.max() > 1):
        raise InputError("p-values must lie in [0, 1]", field="pvalues",
                         found=f"range [{values.min()}, {values.max()}]",
                         expected="probabilities in [0, 1] (NaN for no test)")
    out[valid] = _adjust_valid(values, name)
    return out.reshape(p.shape)


def _adjust_valid(p: np.ndarray, method: Correction) -> np.ndarray:
    m = p.size
    if m == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    rank = np.arange(1, m + 1, dtype=np.float64)
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * ranked))
    else:
        scale = m * (np.sum(1.0 / rank) if method == "BY" else 1.0)
        adjusted = np.minimum.accumulate((scale * ranked / rank)[::-1])[::-1]
        adjusted = np.minimum(1.0, adjusted)
    out = np.empty(m)
    out[order] = adjusted
    return out

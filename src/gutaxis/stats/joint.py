"""Abundance and prevalence together: MaAsLin 3's joint p-value and its checks of the
prevalence fits.

A feature x term has two tests when the prevalence model is fitted: the abundance model
(on the samples where the feature is present) and the prevalence model (presence vs
absence). MaAsLin 3 combines them into one p-value, the probability that the smaller of
two independent uniform p-values is at most the smaller observed one,
:math:`p_\\mathrm{joint} = 1 - (1 - \\min(p_a, p_p))^2` (the Beta(1, 2) distribution
function), falling back on the one test that succeeded (Nickols et al. 2024).

It also flags prevalence fits to read with care, as boolean columns:

- ``induced_by_abundance`` (MaAsLin 3's ``warn_prevalence``): the prevalence
  association may be an artefact of a stronger abundance shift (a feature that drops in
  abundance falls below detection more often). Flagged when the abundance model on
  total-sum-scaled, log-transformed values, tested against zero, is significant
  (q < ``max_significance``), has the same sign as the prevalence coefficient, and is larger
  in absolute value.
- ``suspect_rare`` / ``suspect_common``: a large coefficient (``|coef| > 15``) or a tiny
  p-value (``< 1e-10``) from a feature present in under 5% (over 95%) of the samples
  with fewer than 50 samples present (absent): usually a misfit near separation.

As in MaAsLin 3, a flagged prevalence test is left out of the joint p-value, and a
``suspect_*`` test is also left out of the individual q-values.
"""

from __future__ import annotations

import numpy as np

#: MaAsLin 3's limits for a suspect prevalence fit.
SUSPECT_COEF = 15.0
SUSPECT_PVALUE = 1e-10
SUSPECT_FRACTION = 0.05
SUSPECT_COUNT = 50


def joint_pvalue(p_abundance: np.ndarray, p_prevalence: np.ndarray) -> np.ndarray:
    """MaAsLin 3's joint p-value of an abundance and a prevalence test of one term.

    ``NaN`` marks a test that failed or was left out; then the other test's p-value is
    used, and ``NaN`` when both are missing.

    Examples
    --------
    >>> import numpy as np
    >>> joint_pvalue(np.array([0.01, np.nan, 0.2]), np.array([0.5, 0.03, np.nan]))
    array([0.0199, 0.03  , 0.2   ])
    """
    a = np.asarray(p_abundance, dtype=np.float64)
    p = np.asarray(p_prevalence, dtype=np.float64)
    low = np.fmin(a, p)
    both = low * (2.0 - low)  # = 1 - (1 - low)**2, without losing tiny p-values to rounding
    return np.where(np.isnan(a), p, np.where(np.isnan(p), a, both))


def suspect_prevalence_fits(
    coef: np.ndarray, pvalue: np.ndarray, n: np.ndarray, n_nonzero: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """MaAsLin 3's check of prevalence fits on very rare or very common features.

    Parameters
    ----------
    coef, pvalue
        Features x terms estimates and p-values of the prevalence model.
    n, n_nonzero
        Per feature: samples used, and those where the feature is present.

    Returns
    -------
    (rare, common)
        Features x terms booleans (see the module docstring).
    """
    n = np.asarray(n, dtype=np.float64)[:, None]
    present = np.asarray(n_nonzero, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = present / n
    extreme = (np.abs(np.nan_to_num(coef, nan=0.0)) > SUSPECT_COEF) | (
        np.nan_to_num(pvalue, nan=1.0) < SUSPECT_PVALUE)
    rare = (present < SUSPECT_COUNT) & (fraction < SUSPECT_FRACTION) & extreme
    common = (n - present < SUSPECT_COUNT) & (fraction > 1.0 - SUSPECT_FRACTION) & extreme
    return rare, common


def induced_by_abundance(
    prevalence_coef: np.ndarray,
    prevalence_ok: np.ndarray,
    abundance_coef: np.ndarray,
    abundance_qvalue: np.ndarray,
    *,
    max_significance: float,
) -> np.ndarray:
    """MaAsLin 3's ``warn_prevalence``: prevalence associations an abundance shift may
    explain.

    Parameters
    ----------
    prevalence_coef, prevalence_ok
        Features x terms prevalence estimates, and whether each fit is usable (no error).
    abundance_coef, abundance_qvalue
        The abundance model on TSS + LOG values tested against zero (no median
        comparison): estimates and q-values, ``NaN`` where that fit failed.
    max_significance
        The q-value below which (strictly) the abundance association counts.
    """
    a_coef = np.asarray(abundance_coef, dtype=np.float64)
    p_coef = np.asarray(prevalence_coef, dtype=np.float64)
    q = np.asarray(abundance_qvalue, dtype=np.float64)
    usable = prevalence_ok & np.isfinite(p_coef) & np.isfinite(a_coef) & np.isfinite(q)
    with np.errstate(invalid="ignore"):
        flagged = (q < max_significance) & (np.sign(a_coef) == np.sign(p_coef)) & (
            np.abs(a_coef) > np.abs(p_coef))
    return usable & flagged

"""The association scan's prevalence model: presence/absence of every feature by
logistic regression (GLM, GLMM by Laplace, or conditional logistic within strata), as
MaAsLin 3 fits it; see ``prevalence_model`` of :func:`gutaxis.stats.associate.associate`.
"""

from __future__ import annotations

import numpy as np

from gutaxis.errors import GutaxisError
from gutaxis.stats.association_table import Estimates, ModelBlock, design_terms
from gutaxis.stats.design import Design
from gutaxis.stats.special_terms import GroupTests, logistic_group_tests

__all__ = ["STRATA_PREVALENCE_LABEL", "fit_prevalence"]

#: The prevalence model of a design with strata (MaAsLin 3's, with its default augmentation).
STRATA_PREVALENCE_LABEL = "conditional logistic (Breslow, augmented)"


def fit_prevalence(present: np.ndarray, design: Design) -> ModelBlock:
    """The prevalence model of every column of ``present`` (presence/absence of each
    feature on the design's rows): see ``prevalence_model`` of
    :func:`gutaxis.stats.associate.associate`."""
    from gutaxis.stats.models.conditional_logistic import (
        ConditionalLogisticFit,
        fit_conditional_logistic,
    )
    from gutaxis.stats.models.logistic import LogisticFit, fit_logistic
    from gutaxis.stats.models.logistic_mixed import fit_logistic_mixed

    n, m = present.shape
    est = Estimates(m, design.p - 1)
    label = "logistic GLMM (Laplace)" if design.group_names else "logistic GLM (ML)"
    if design.strata is not None:
        label = STRATA_PREVALENCE_LABEL
    est.n[:] = n
    count = present.sum(axis=0)
    est.n_nonzero[:] = count
    est.messages[count == n] = f"present in all {n} samples used: prevalence model undefined"
    est.messages[count == 0] = f"absent from all {n} samples used: prevalence model undefined"
    cols = np.flatnonzero((count > 0) & (count < n))
    if not len(cols):
        return est.block("prevalence", label, design, statistic_name="z")
    y01 = present[:, cols].astype(np.float64)
    fit: LogisticFit | ConditionalLogisticFit
    try:
        if design.strata is not None:  # MaAsLin 3's strata(s): clogit, Breslow, augmented
            fit = fit_conditional_logistic(y01, design.matrix[:, 1:], design.groups[0],
                                           method="breslow", augment=True)
        elif design.group_names:
            fit = fit_logistic_mixed(y01, design.matrix,
                                     [np.asarray(g) for g in design.groups], augment=True)
        else:
            fit = fit_logistic(y01, design.matrix, augment=True)
    except (GutaxisError, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        est.messages[cols] = f"logistic model failed: {exc}"
        return est.block("prevalence", label, design, statistic_name="z")
    res = fit.results(terms=design_terms(design))
    good = res.converged  # augmented: separated features keep their (finite) estimates
    est.store(cols, res, good)
    est.separated[cols] = res.separated
    est.separated_terms[cols] = res.separated_by_term()[:, 1:]
    for k in np.flatnonzero(res.separated):  # the separated rows' text names the terms
        est.separation[cols[k]] = res.messages[k]
    if design.group_effects:  # special_terms hook: likelihood-ratio tests
        est.group_tests = GroupTests.empty(m, design.group_effects, "chi2")
        deviance = getattr(fit, "deviance", None)
        full = None if deviance is None else np.where(good, deviance, np.nan)
        est.group_tests.store(cols, logistic_group_tests(present[:, cols], design,
                                                         full_deviance=full))
    if design.strata is not None:  # terms constant within strata: NaN, said in the text
        est.messages[cols[good]] = np.asarray(res.messages, dtype=object)[good]
    for k in np.flatnonzero(~good):  # messages for the degenerate few
        note = fit.messages[k]
        est.messages[cols[k]] = "logistic model did not converge" + (f" ({note})" if note else "")
    return est.block("prevalence", label, design, statistic_name="z")

"""The trial over all its visits: a linear mixed model with a random intercept per subject,
arm by visit, adjusted for baseline (and covariates), on the project's LMM core
(:func:`gutaxis.stats.models.linear_mixed.fit_lmm`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from gutaxis.errors import InputError
from gutaxis.stats.models.linear_mixed import MixedModelFit, fit_lmm
from gutaxis.stats.results import FitResults, wald_interval
from gutaxis.stats.special_terms import contrast_f_test
from gutaxis.stats.trial.data import TrialData
from gutaxis.stats.trial.effects import Effect, arm_term, difference_label


@dataclass(frozen=True, eq=False)
class RepeatedFit:
    """The mixed model over visits.

    Attributes
    ----------
    model
        Its fixed effects (REML, Satterthwaite df), terms named as R's ``lmer``.
    effects
        The treatment effect at each visit and averaged over the visits (``lmm_arm_at_visit``).
    subject_variance, residual_variance
        The variance of the random intercepts and of the residuals.
    n_observations, n_subjects
        Rows and subjects used.
    """

    model: FitResults
    effects: tuple[Effect, ...]
    subject_variance: float
    residual_variance: float
    n_observations: int
    n_subjects: int


def visit_design(data: TrialData) -> tuple[np.ndarray, tuple[str, ...]]:
    """``outcome ~ baseline + covariates + arm * visit`` as R's model matrix (treatment
    contrasts, the first visit and the control arm as references).

    Parameters
    ----------
    data
        Long data, rows with an outcome.
    """
    levels = data.visit_levels
    visit = data.visits[:, None] == np.arange(1, len(levels))[None, :]
    treated = data.treated.astype(np.float64)
    arm = arm_term(data)
    vnames = [f"visit{level}" for level in levels[1:]]
    X = np.column_stack([np.ones(len(treated)), data.baseline, data.covariates, treated,
                         visit, treated[:, None] * visit])
    terms = ("(Intercept)", data.baseline_name, *data.covariate_terms, arm, *vnames,
             *[f"{arm}:{v}" for v in vnames])
    return X, terms


def fit_repeated(data: TrialData) -> RepeatedFit:
    """Fit the mixed model and the treatment effect at every visit.

    Parameters
    ----------
    data
        Long data (several visits), rows with an outcome.

    Notes
    -----
    ``y_ij = b0 + b1 baseline_i + gamma' covariates_i + a arm_i + v_j + (av)_j arm_i + u_i
    + e_ij`` with ``u_i ~ N(0, s_u^2)``, fitted by REML as ``lmerTest::lmer``. The
    treatment effect at visit ``j`` is ``a + (av)_j`` (``a`` at the first visit), and
    averaged over the visits their mean; each is a contrast ``L beta`` with
    Satterthwaite's df (``lmerTest::contest``), equal to lmerTest's to 1e-4 on the
    committed fixture.
    """
    X, terms = visit_design(data)
    codes = np.unique(data.subjects, return_inverse=True)[1].ravel()
    try:
        fit = fit_lmm(data.outcome[:, None], X, [codes], full_vcov=True)
    except InputError as exc:
        raise InputError(f"the mixed model cannot be fitted: {exc.message}",
                         found=exc.found, expected="covariates not collinear with the arm, "
                         "baseline or visits") from None
    model = fit.results(terms=terms, responses=[data.outcome_name])
    return RepeatedFit(model=model, effects=_visit_effects(fit, data, terms),
                       subject_variance=float(fit.variances[0, 0]),
                       residual_variance=float(fit.sigma2[0]),
                       n_observations=len(data.outcome), n_subjects=int(codes.max()) + 1)


def _visit_effects(fit: MixedModelFit, data: TrialData, terms: tuple[str, ...]
                   ) -> tuple[Effect, ...]:
    arm = arm_term(data)
    at = np.zeros((len(data.visit_levels), len(terms)))
    at[:, terms.index(arm)] = 1.0
    for j, level in enumerate(data.visit_levels[1:], start=1):
        at[j, terms.index(f"{arm}:visit{level}")] = 1.0
    contrasts = np.vstack([at, at.mean(axis=0)])
    labels = [*data.visit_levels, "average"]
    if fit.vcov is None or fit.vcov_jacobian is None or fit.varpar_cov is None:
        return ()
    rows = []
    for label, L in zip(labels, contrasts, strict=True):
        estimate = float(L @ fit.coef[0])
        se = float(np.sqrt(L @ fit.vcov[0] @ L))
        _, _, ddf, _ = contrast_f_test(fit.coef, fit.vcov, fit.vcov_jacobian,
                                       fit.varpar_cov, L[None, :])
        df = float(ddf[0])
        t = estimate / se
        low, high = wald_interval(np.array(estimate), np.array(se), np.array(df))
        rows.append(Effect("lmm_arm_at_visit", f"{label}: {difference_label(data)}", estimate,
                           se, float(low), float(high), df, t,
                           float(2.0 * stats.t.sf(abs(t), df)), len(data.outcome),
                           "mixed model, Satterthwaite df" + _message(fit)))
    return tuple(rows)


def _message(fit: MixedModelFit) -> str:
    return f"; {fit.messages[0]}" if fit.messages[0] else ""

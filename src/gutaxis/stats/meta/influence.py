"""Leave-one-out and influence diagnostics, as metafor 3.8-1 ``leave1out`` and
``influence`` compute them (the model refitted without each study in turn; ``k`` refits of
``O(k p²)`` each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from gutaxis.stats.meta.models import MetaFit, refit

INFLUENCE_COLUMNS = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat",
                     "weight")
LEAVE_ONE_OUT_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "q", "q_pval", "tau2", "i2",
                         "h2")


@dataclass(frozen=True, eq=False)
class StudyInfluence:
    """Per-study diagnostics of one meta-analysis.

    Attributes
    ----------
    study
        Study labels.
    influence
        ``k`` rows of metafor's ``influence()``: rstudent, dffits, cook_d, cov_r,
        tau2_del, qe_del, hat, weight (%), and ``influential`` (metafor's rule: |dffits| >
        3√(p/(k-p)), or cook_d above the chi² median on p df, or hat > 3p/k, or a |dfbetas|
        > 1).
    leave_one_out
        ``k`` rows of ``leave1out()`` (models without moderators): estimate, se, ci_low,
        ci_high, q, q_pval, tau2, i2, h2 of the model without that study.
    """

    study: tuple[str, ...]
    influence: pd.DataFrame
    leave_one_out: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Both tables side by side, leave-one-out columns prefixed ``loo_``."""
        return pd.concat([pd.DataFrame({"study": self.study}), self.influence,
                          self.leave_one_out.add_prefix("loo_")], axis=1)

    def summary(self) -> str:
        """The influential studies, by name."""
        flagged = [s for s, f in zip(self.study, self.influence["influential"], strict=True)
                   if f]
        if not flagged:
            return "No study is influential by metafor's criteria."
        return "Influential studies (metafor's criteria): " + ", ".join(flagged) + "."


def study_influence(results: MetaFit) -> StudyInfluence:
    """Leave-one-out estimates and influence measures of every study.

    Parameters
    ----------
    results
        A fitted meta-analysis or meta-regression (:func:`fit_meta`).

    Returns
    -------
    StudyInfluence

    Notes
    -----
    With ``(-i)`` the fit without study ``i``, ``ŷ_i = x_i b`` and ``ŷ_(-i) = x_i b_(-i)``:
    ``rstudent = (y_i - ŷ_(-i)) / √(s²_(-i)(v_i + τ²_(-i)) + x_i Var(b_(-i)) x_i')``,
    ``dffits = (ŷ_i - ŷ_(-i)) / √(s²_(-i) h_i (τ²_(-i) + v_i))``, ``cook.d = (b -
    b_(-i))' Var(b)⁻¹ (b - b_(-i))``, ``cov.r = det Var(b_(-i)) / det Var(b)``;
    ``s²`` is the Knapp-Hartung scale (1 for z tests). Viechtbauer W, Cheung MWL (2010).
    Outlier and influence diagnostics for meta-analysis. Res Synth Methods 1:112-125.
    """
    k, p = results.X.shape
    pred = results.X @ results.coef
    hat = results.hat
    full_inv = np.linalg.inv(results.cov)
    full_det = np.linalg.det(results.cov)
    rows: dict[str, list[float]] = {name: [] for name in INFLUENCE_COLUMNS[:6]}
    loo: dict[str, list[float]] = {name: [] for name in LEAVE_ONE_OUT_COLUMNS}
    vi = results.studies.vi
    dfbetas: list[np.ndarray] = []
    for i in range(k):
        keep = np.arange(k) != i
        fit = refit(results, keep)
        x = results.X[i]
        delpred = float(x @ fit.coef)
        vdel = float(x @ fit.cov @ x)
        resid = results.studies.yi[i] - delpred
        resid = 0.0 if abs(resid) < 100 * np.finfo(float).eps else resid
        rows["rstudent"].append(resid / np.sqrt(vi[i] * fit.s2w + vdel + fit.tau2 * fit.s2w))
        rows["dffits"].append((pred[i] - delpred)
                              / np.sqrt(fit.s2w * hat[i] * (fit.tau2 + vi[i])))
        diff = results.coef - fit.coef
        rows["cook_d"].append(float(diff @ full_inv @ diff))
        w_del = 1.0 / (vi + fit.tau2)
        cov_del = np.linalg.inv(results.X.T @ (w_del[:, None] * results.X))
        dfbetas.append(diff / np.sqrt(fit.s2w * np.diag(cov_del)))
        rows["cov_r"].append(float(np.linalg.det(fit.cov) / full_det))
        rows["tau2_del"].append(fit.tau2)
        rows["qe_del"].append(fit.q)
        ci = fit.conf_int()[0]
        for name, value in zip(LEAVE_ONE_OUT_COLUMNS,
                               (fit.coef[0], fit.se[0], ci[0], ci[1], fit.q, fit.q_pval,
                                fit.tau2, fit.i2, fit.h2), strict=True):
            loo[name].append(float(value))
    influence = pd.DataFrame(rows)
    influence["hat"] = hat
    influence["weight"] = results.weights
    influence["influential"] = (
        (np.abs(influence["dffits"]) > 3 * np.sqrt(p / (k - p)))
        | (stats.chi2.cdf(influence["cook_d"], p) > 0.5) | (influence["hat"] > 3 * p / k)
        | np.any(np.abs(np.array(dfbetas)) > 1, axis=1))
    leave = pd.DataFrame(loo)
    if p > 1:  # leave-one-out estimates are of the pooled effect: no meaning with moderators
        leave.loc[:, :] = np.nan
    return StudyInfluence(study=results.studies.study, influence=influence,
                          leave_one_out=leave)

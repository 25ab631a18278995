"""MaAsLin 3's group predictors: one test over all levels of a categorical variable.

A ``group`` variable (MaAsLin 3's ``group_effects`` / ``group(x)``) enters the model by
treatment contrasts like any categorical variable, after the other fixed effects, but is
reported as one row per (feature, variable): coefficient and standard error ``NaN``, the
p-value of a joint test that all its level coefficients are 0. The tests are MaAsLin 3's
(0.99.1, ``run_group_models``), computed for every feature at once:

========================  ==============================================================
model                     test
========================  ==============================================================
LM (OLS)                  R's ``anova(lm)`` F test, which is *sequential* (type I): the
                          variable against the model of the terms before it (the fixed
                          effects, then earlier group variables), over the full model's
                          residual mean square. For the last term it equals the partial F.
LMM (REML)                ``lmerTest::contest`` of ``L beta = 0`` (``L`` picks the level
                          coefficients): F with Satterthwaite denominator df.
logistic GLM              ``anova(glm, test = "LRT")``: sequential likelihood-ratio test
                          (deviance of the model up to the variable's predecessor minus
                          that of the model including it), chi-square with ``K - 1`` df.
logistic GLMM (Laplace)   ``anova(reduced, full)``: likelihood-ratio test against the model
                          without the variable (all other terms kept).
========================  ==============================================================

Logistic models are augmented as in the main fit; the reduced and prefix fits keep the full
model's augmentation weight ``p / (2 n)``, as MaAsLin 3 reuses the full model's weights.
Ordered predictors need no test here: the design codes them so that each coefficient is
the level-vs-previous contrast (:func:`gutaxis.stats.design.build_design`).

A level absent from a feature's samples (frequent for the abundance model, fitted on the
nonzero samples) is left out of that feature's fit, as R's ``lm``/``lmer`` drop its aliased
column: a group variable is tested over the levels present (MaAsLin 3 does the same), an
ordered variable gets no level rows for that feature (:func:`blank_ordered`, MaAsLin 3's
"Some ordered levels are missing"), and the other terms are estimated as usual. A feature
seen at the first level only is fitted without the variable (R refuses a one-level factor,
and MaAsLin 3 reports the feature's rows as errors); one that lacks the first level is not
fitted (rank-deficient; MaAsLin 3: "No data points have the baseline factor level").

References
----------
.. [1] Nickols WA et al. (2024). MaAsLin 3: refining and extending generalized
   multivariable linear models for meta-omic association discovery. bioRxiv
   2024.12.13.628459.
.. [2] Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in
   linear mixed effects models. J Stat Softw 82(13). doi:10.18637/jss.v082.i13
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy import stats

from gutaxis.stats.design import Design
from gutaxis.stats.models.linear import RANK_TOL, absent_levels, masked_designs
from gutaxis.stats.results import FitResults

if TYPE_CHECKING:  # the mixed-model engine is imported only when a mixed model is fitted
    from gutaxis.stats.models.linear_mixed import MixedModelFit

#: Memory budget (bytes) of one chunk of the batched masked QR.
_CHUNK_BYTES = 64 * 2**20

#: lmerTest's tolerance below which the Satterthwaite df of the F components count as equal.
_EQUAL_DF_TOL = 1e-8


@dataclass(frozen=True, eq=False)
class GroupTests:
    """One joint test per (feature, group variable); arrays are ``(m, g)``.

    Attributes
    ----------
    variables
        The ``g`` group variables, in model order.
    statistic
        F statistics (``statistic_name == "F"``) or likelihood-ratio chi-squares.
    num_df
        Numerator df of F, or the chi-square's df: the number of tested coefficients.
    df
        Denominator df of F tests; ``NaN`` for likelihood-ratio tests.
    pvalue
        Upper-tail p-values.
    statistic_name
        ``"F"`` or ``"chi2"``.
    """

    variables: tuple[str, ...]
    statistic: np.ndarray
    num_df: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    statistic_name: Literal["F", "chi2"]

    @classmethod
    def empty(cls, m: int, variables: tuple[str, ...], name: Literal["F", "chi2"]
              ) -> GroupTests:
        """All-``NaN`` tests of ``m`` features, to be filled feature block by block."""
        nan = np.full((m, len(variables)), np.nan)
        return cls(variables, nan.copy(), nan.copy(), nan.copy(), nan.copy(), name)

    def store(self, cols: np.ndarray, other: GroupTests) -> None:
        """Copy ``other``'s rows (its features are ``cols`` of these) in place."""
        for name in ("statistic", "num_df", "df", "pvalue"):
            getattr(self, name)[cols] = getattr(other, name)

    def summary(self) -> str:
        """One line per variable: the test and how many features have p <= 0.05."""
        kind = "F test" if self.statistic_name == "F" else "likelihood-ratio test"
        return "\n".join(
            f"{var}: {kind}, {int(np.sum(self.pvalue[:, j] <= 0.05))} of "
            f"{int(np.sum(np.isfinite(self.pvalue[:, j])))} features with p <= 0.05"
            for j, var in enumerate(self.variables))


# ------------------------------------------------------------------------------- LM
def ols_group_tests(y: np.ndarray, design: Design, *, mask: np.ndarray | None = None
                    ) -> GroupTests:
    """Sequential (type I) F tests of the design's group variables for every column of ``y``.

    Parameters
    ----------
    y
        ``(n, m)`` outcomes on the design's rows (entries outside ``mask`` ignored).
    design
        The design, its columns in model order (fixed effects, groups, ordered).
    mask
        Optional ``(n, m)`` rows each outcome uses (MaAsLin 3's nonzero-only abundance).

    Returns
    -------
    GroupTests
        ``NaN`` where the outcome's design is rank-deficient or has no residual df.

    Notes
    -----
    With ``X = QR`` in model order (rows masked per outcome), the effects ``e = Q'y``
    split the fitted sum of squares term by term: the sequential sum of squares of the
    variable whose columns are ``S`` is ``sum_{i in S} e_i^2`` (R's ``anova.lm``), and
    ``F = (SS_S / |S|) / (RSS / (n - p))`` with ``RSS`` the full model's. A level absent
    from an outcome's rows is left out, as R's ``lm`` drops the aliased column: ``|S|``
    and ``p`` count the levels present.
    """
    blocks = [design.columns_of(var) for var in design.group_effects]
    n, p = design.matrix.shape
    m = y.shape[1]
    tests = GroupTests.empty(m, design.group_effects, "F")
    weights = np.ones((n, m)) if mask is None else mask.astype(np.float64)
    yz = y if mask is None else np.where(mask, y, 0.0)
    level_rows = design.level_rows()
    chunk = max(1, int(_CHUNK_BYTES // (8 * n * (2 * p + 2))))
    for start in range(0, m, chunk):  # chunks bound memory; each is one batched QR
        sl = np.arange(start, min(m, start + chunk))
        Xw, absent = masked_designs(design.matrix, weights[:, sl].T, level_rows)
        Q, R = np.linalg.qr(Xw)
        effects = np.einsum("cnp,cn->cp", Q, yz[:, sl].T)
        resid = yz[:, sl].T - np.einsum("cnp,cp->cn", Q, effects)
        diag = np.abs(np.diagonal(R, axis1=1, axis2=2))
        ok = diag.min(axis=1) > RANK_TOL * np.maximum(diag.max(axis=1), 1e-300)
        df_resid = weights[:, sl].sum(axis=0) - (p - absent.sum(axis=1))
        ok &= (df_resid > 0)
        rss = np.einsum("cn,cn->c", resid, resid)
        with np.errstate(divide="ignore", invalid="ignore"):
            mse = rss / df_resid
            for j, block in enumerate(blocks):
                num_df = len(block) - absent[:, block].sum(axis=1)
                f = (effects[:, block] ** 2).sum(axis=1) / num_df / mse
                good = ok & (num_df > 0) & (rss > 0)
                tests.statistic[sl, j] = np.where(good, f, np.nan)
                tests.num_df[sl, j] = num_df
                tests.df[sl, j] = np.where(good, df_resid, np.nan)
                tests.pvalue[sl, j] = np.where(good, stats.f.sf(f, num_df, df_resid), np.nan)
    return tests


# ------------------------------------------------------------------------------ LMM
def present_columns(design: Design, rows: np.ndarray) -> np.ndarray:
    """``(p,)`` boolean: the design's columns kept for a fit on ``rows``; a group or ordered
    level absent from those rows is left out, as ``lmer`` drops a rank-deficient column."""
    return ~absent_levels(design.level_rows(), rows[None, :].astype(np.float64))[0]


def blank_ordered(res: FitResults, design: Design, used: np.ndarray) -> FitResults:
    """``res`` (all design columns) with an ordered variable's estimates ``NaN`` for the
    features that lack one of its levels among their samples ``used`` (``(n, m)``), with a
    note: MaAsLin 3 reports no level-vs-previous rows then ("Some ordered levels are
    missing"), and keeps the other terms."""
    if not design.ordered_effects:
        return res
    absent = absent_levels(design.level_rows(), used.T.astype(np.float64))
    arrays = {name: getattr(res, name).copy()
              for name in ("coef", "stderr", "statistic", "df", "pvalue")}
    messages = list(res.messages)
    for var in design.ordered_effects:  # a few variables, all features at once
        cols = design.columns_of(var)
        hit = np.flatnonzero(absent[:, cols].any(axis=1))
        for arr in arrays.values():
            arr[np.ix_(hit, cols)] = np.nan
        for i in hit:  # notes for the few features concerned
            note = f"ordered {var}: a level is absent among the samples used, no level rows"
            messages[i] = f"{messages[i]}; {note}" if messages[i] else note
    return replace(res, messages=tuple(messages), **arrays)


def with_all_columns(res: FitResults, keep: np.ndarray, terms: Sequence[str]) -> FitResults:
    """``res``, fitted on the columns ``keep``, spread over all ``terms`` (``NaN`` for the
    columns left out)."""
    def spread(arr: np.ndarray) -> np.ndarray:
        full = np.full((arr.shape[0], len(keep)), np.nan)
        full[:, keep] = arr
        return full

    return replace(res, terms=tuple(terms), coef=spread(res.coef), stderr=spread(res.stderr),
                   statistic=spread(res.statistic), df=spread(res.df),
                   pvalue=spread(res.pvalue))


def lmm_group_tests(fit: MixedModelFit, design: Design, *, columns: np.ndarray | None = None,
                    good: np.ndarray | None = None) -> GroupTests:
    """``lmerTest::contest`` F test of every group variable's level coefficients = 0.

    Parameters
    ----------
    fit
        Mixed-model fits of ``m`` features made with ``fit_lmm(..., full_vcov=True)``
        (all ``NaN`` otherwise).
    design
        The design the model was fitted with.
    columns
        ``(p,)`` boolean: the design's columns the fit used (default all), e.g. from
        :func:`present_columns`; the test covers the levels present, as MaAsLin 3 builds
        its contrast from the coefficients ``lmer`` kept.
    good
        ``(m,)`` fits to test (default all); the others get ``NaN``.
    """
    m = fit.coef.shape[0]
    tests = GroupTests.empty(m, design.group_effects, "F")
    if fit.vcov is None or fit.vcov_jacobian is None or fit.varpar_cov is None:
        return tests
    coef = fit.coef if good is None else np.where(good[:, None], fit.coef, np.nan)
    keep = np.ones(design.p, dtype=bool) if columns is None else np.asarray(columns, bool)
    position = np.cumsum(keep) - 1  # design column -> column of the fit
    for j, var in enumerate(design.group_effects):  # a few variables, all features at once
        cols = position[[c for c in design.columns_of(var) if keep[c]]]
        if not len(cols):
            continue
        L = np.zeros((len(cols), int(keep.sum())))
        L[np.arange(len(cols)), cols] = 1.0
        f, num_df, ddf, pval = contrast_f_test(coef, fit.vcov, fit.vcov_jacobian,
                                               fit.varpar_cov, L)
        tests.statistic[:, j], tests.num_df[:, j] = f, num_df
        tests.df[:, j], tests.pvalue[:, j] = ddf, pval
    return tests


def contrast_f_test(
    coef: np.ndarray, vcov: np.ndarray, vcov_jacobian: np.ndarray, varpar_cov: np.ndarray,
    L: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """F test of ``L beta = 0`` with Satterthwaite's df, as ``lmerTest::contest`` (joint).

    Parameters
    ----------
    coef
        ``(m, p)`` fixed effects.
    vcov
        ``(m, p, p)`` their covariance ``C``.
    vcov_jacobian
        ``(m, r, p, p)`` derivatives of ``C`` in the ``r`` variance parameters.
    varpar_cov
        ``(m, r, r)`` asymptotic covariance ``A`` of the variance parameters.
    L
        ``(q, p)`` contrast rows.

    Returns
    -------
    tuple of ndarray
        ``(F, numerator df, denominator df, p-value)``, each ``(m,)``.

    Notes
    -----
    With ``L C L' = P diag(d) P'`` (eigenvalues ``d_i > sqrt(eps) d_max`` kept, ``q'`` of
    them), ``F = sum_i (p_i' L beta)^2 / d_i / q'``; each component has Satterthwaite df
    ``nu_i = 2 d_i^2 / (g_i' A g_i)``, ``g_i = (p_i' L J_r L' p_i)_r``, and the
    denominator df is ``2E / (E - q')`` with ``E = sum nu_i / (nu_i - 2)`` (2 if any
    ``nu_i <= 2``; the mean when all ``nu_i`` agree to 1e-8, the single ``nu`` when
    ``q' = 1``) (Kuznetsova et al. 2017, lmerTest's ``contestMD``).
    """
    VL = np.einsum("qp,mpr,sr->mqs", L, vcov, L)
    finite = np.isfinite(VL).all(axis=(1, 2))
    d, P = np.linalg.eigh(np.where(finite[:, None, None], VL, np.eye(len(L))))
    keep = d > np.sqrt(np.finfo(float).eps) * np.maximum(d.max(axis=1, keepdims=True), 0.0)
    PtL = np.einsum("mqi,qp->mip", P, L)  # rows p_i' L
    safe_d = np.where(keep, d, 1.0)
    t2 = np.where(keep, np.einsum("mip,mp->mi", PtL, coef) ** 2 / safe_d, 0.0)
    q = keep.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        F = t2.sum(axis=1) / q
        grad = np.einsum("mip,mrps,mis->mir", PtL, vcov_jacobian, PtL)
        nu = np.where(keep, 2.0 * d**2 / np.einsum("mir,mrs,mis->mi", grad, varpar_cov, grad),
                      np.nan)
    ddf = _f_ddf(nu, keep)
    ok = finite & (q > 0)
    F, ddf = np.where(ok, F, np.nan), np.where(ok, ddf, np.nan)
    return F, q.astype(np.float64), ddf, stats.f.sf(F, q, ddf)


def _f_ddf(nu: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """lmerTest's ``get_Fstat_ddf`` for each row: one denominator df from the df ``nu`` of
    the kept F components (``keep``)."""
    count = keep.sum(axis=1)
    kept = np.where(keep, nu, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        spread = np.nanmax(kept, axis=1) - np.nanmin(kept, axis=1)
        mean = np.nanmean(kept, axis=1)
        e = np.nansum(kept / (kept - 2.0), axis=1)
        general = np.where(np.any(keep & (nu <= 2.0), axis=1), 2.0, 2.0 * e / (e - count))
    return np.where((count == 1) | (spread < _EQUAL_DF_TOL), mean, general)


# ------------------------------------------------------------------------- logistic
def logistic_group_tests(present: np.ndarray, design: Design, *,
                         full_deviance: np.ndarray | None = None) -> GroupTests:
    """Likelihood-ratio tests of the group variables in the augmented logistic model.

    Parameters
    ----------
    present
        ``(n, m)`` presence/absence on the design's rows.
    design
        The design; with random effects the model is the logistic GLMM.
    full_deviance
        ``(m,)`` deviance of the full fit (the Laplace deviance for mixed models), if
        already at hand; refitted when ``None``.

    Returns
    -------
    GroupTests
        Chi-square statistics ``max(0, deviance(reduced) - deviance(full))`` (lme4 clips at
        0) with ``K - 1`` df. Without random effects the reduced model is the prefix of the
        terms before the variable and the full one the prefix through it (R's sequential
        ``anova.glm``); with random effects, the model without the variable (``anova`` of
        two ``glmer`` fits). ``NaN`` where a fit failed, and for a GLMM whose fixed
        effects are separated (glmer's objective has no minimum, its deviance is ``NaN``).
    """
    m = present.shape[1]
    tests = GroupTests.empty(m, design.group_effects, "chi2")
    y01 = present.astype(np.float64)
    cache: dict[tuple[int, ...], np.ndarray] = {}
    if full_deviance is not None:
        cache[tuple(range(design.p))] = np.asarray(full_deviance, dtype=np.float64)
    for j, var in enumerate(design.group_effects):  # a few variables, all features at once
        block = design.columns_of(var)
        if design.group_names:
            full = tuple(range(design.p))
            reduced = tuple(c for c in full if c not in set(block.tolist()))
        else:
            full, reduced = tuple(range(int(block.max()) + 1)), tuple(range(int(block.min())))
        dev_full = _deviance(cache, y01, design, full)
        dev_reduced = _deviance(cache, y01, design, reduced)
        chi2 = np.maximum(dev_reduced - dev_full, 0.0)
        tests.statistic[:, j] = chi2
        tests.num_df[:, j] = len(block)
        tests.pvalue[:, j] = stats.chi2.sf(chi2, len(block))
    return tests


def _deviance(cache: dict[tuple[int, ...], np.ndarray], y01: np.ndarray, design: Design,
              columns: tuple[int, ...]) -> np.ndarray:
    """Deviance of the augmented fit on the design columns ``columns`` (cached)."""
    if columns not in cache:
        from gutaxis.stats.models.logistic import fit_logistic
        from gutaxis.stats.models.logistic_mixed import fit_logistic_mixed

        X = design.matrix[:, list(columns)]
        if design.group_names:
            fit = fit_logistic_mixed(y01, X, [np.asarray(g) for g in design.groups],
                                     augment=True, augment_columns=design.p)
        else:
            fit = fit_logistic(y01, X, augment=True, augment_columns=design.p)
        dev = fit.deviance if fit.deviance is not None else np.full(y01.shape[1], np.nan)
        cache[columns] = np.where(fit.converged, dev, np.nan)  # NaN: no (finite) optimum
    return cache[columns]


# -------------------------------------------------------------------------- results

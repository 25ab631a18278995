"""The association scan: one model per feature, MaAsLin-style.

For every feature kept by the filters, ``feature ~ fixed effects (+ (1 | group) ...)``
is fitted on the normalised, transformed abundances: an ordinary linear model (LM) when
there is no random effect, a linear mixed model with random intercepts (LMM, REML,
Satterthwaite t-tests) otherwise. With ``prevalence_model=True`` a presence/absence
logistic model is fitted beside it and the abundance model uses each feature's nonzero
samples only, as MaAsLin 3 does. All (feature, term) p-values of both models are
corrected together.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.compute import Backend
from gutaxis.data.cohort import Cohort
from gutaxis.data.fingerprint import cohort_hash
from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, GutaxisError, InputError
from gutaxis.stats.aliased import kept_columns, refit_aliased
from gutaxis.stats.association_results import (
    AssociationResults,
    AssociationSpec,
    citations_for,
)
from gutaxis.stats.association_table import (
    Estimates,
    ModelBlock,
    assemble,
    compare_with_median,
    design_terms,
    without_intercept,
    without_lone_levels,
)
from gutaxis.stats.design import Design, build_design
from gutaxis.stats.models.linear import fit_ols, row_sets
from gutaxis.stats.multitest import correction_name
from gutaxis.stats.normalize import check_options, unscaled_table
from gutaxis.stats.scan_chunks import ChunkedFits
from gutaxis.stats.scan_prevalence import fit_prevalence
from gutaxis.stats.scan_values import (
    ModelledValues,
    SampleScaling,
    ScanValues,
    features_to_test,
    filter_features,
    relative_factors,
    transform_table,
)
from gutaxis.stats.special_terms import (
    GroupTests,
    blank_ordered,
    lmm_group_tests,
    ols_group_tests,
    present_columns,
    with_all_columns,
)

__all__ = ["associate", "associate_outcomes", "features_to_test", "filter_features",
           "input_hash", "scannable_table", "transform_table"]

#: ``progress(k)`` is called as features are fitted, with the number just finished.
ProgressCallback = Callable[[int], None]


def associate(
    cohort: Cohort,
    *,
    fixed: Sequence[str],
    random: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    normalization: str = "TSS",
    transform: str = "LOG",
    min_prevalence: float = 0.1,
    min_abundance: float = 0.0,
    min_variance: float = 0.0,
    standardize: bool = False,
    correction: str = "BH",
    prevalence_model: bool = False,
    max_significance: float = 0.25,
    progress: ProgressCallback | None = None,
    lmm_optimizer: str = "newton",
    median_comparison_abundance: bool | None = None,
    median_comparison_prevalence: bool = False,
    median_comparison_abundance_threshold: float = 0.0,
    median_comparison_prevalence_threshold: float = 0.0,
    subtract_median: bool = False,
    warn_prevalence: bool = True,
    seed: int = 0,
    group: Sequence[str] = (),
    ordered: Sequence[str] = (),
    levels: Mapping[str, Sequence[str]] | None = None,
    strata: str | None = None,
    unscaled: pd.DataFrame | None = None,
    backend: Backend | None = None,
    feature_chunk: int | None = None,
) -> AssociationResults:
    """Test every feature of a cohort's table for association with metadata.

    Parameters
    ----------
    cohort
        The table (counts or relative abundances) and its sample metadata.
    fixed
        Fixed-effect metadata columns. Numeric columns enter as numbers, others as
        categorical variables coded against a reference level.
    random
        Random-intercept grouping columns (e.g. subject, site); any makes the model an LMM.
    reference
        Reference level per categorical variable, e.g. ``{"diagnosis": "nonIBD"}``;
        required for variables with more than two levels.
    normalization
        ``TSS`` (default), ``CLR`` or ``NONE``, applied per sample to the kept features.
    transform
        ``LOG`` (default; zeros replaced by half the feature's smallest positive value,
        then log2), ``AST``, ``LOGIT`` or ``NONE``.
    min_prevalence, min_abundance
        A feature is kept when it exceeds ``min_abundance`` in strictly more than
        ``min_prevalence`` of all samples (on the input values, before normalisation).
    min_variance
        ... and when its variance on the input values is strictly greater.
    standardize
        Z-score numeric fixed effects before fitting.
    correction
        ``BH`` (default), ``BY``, ``bonferroni``, ``holm`` or ``none``, over all
        (feature, term) p-values of all models together.
    prevalence_model
        Also fit presence (input value > 0 on the filtered input table) by logistic
        regression (a logistic mixed model, Laplace, when there are random effects),
        reported as ``model == "prevalence"`` with Wald z-tests (``df`` is ``NaN``). As
        MaAsLin 3 does by default, the fit is augmented: every sample also counts as a
        success and a failure of weight ``(p - 1) / (2 n)``, which keeps estimates finite
        under separation. Separation is judged per term on the unaugmented data
        (:mod:`gutaxis.stats.models.separation`; GLMM: see ``fit_logistic_mixed``): every
        estimate is kept, as MaAsLin 3 reports it, and only the rows of separated terms say
        ``separated`` (their ``error`` names them). The abundance model then uses each
        feature's nonzero samples only, so ``n`` differs per feature (MaAsLin 3).
    max_significance
        q-value threshold of :meth:`AssociationResults.significant` (inclusive).
    progress
        Called with the number of features just fitted.
    lmm_optimizer
        ``optimizer`` of :func:`gutaxis.stats.models.linear_mixed.fit_lmm` for the mixed models:
        ``"newton"`` (default, fast and exact) or ``"lme4"`` (lme4's default stopping point,
        feature by feature, to reproduce lme4 / MaAsLin 2 output to ~1e-8).
    median_comparison_abundance
        Test each abundance coefficient against the median coefficient of its term across
        features instead of against zero (MaAsLin 3's default, which corrects for
        compositionality; :func:`gutaxis.stats.median_comparison.median_comparison`).
        On by default (``None``), except with ``unscaled`` (scaled abundances are not
        compositional: MaAsLin 3 refuses the two together); ``False`` tests against zero
        (MaAsLin 2).
    median_comparison_prevalence
        The same for the prevalence coefficients (off by default, as in MaAsLin 3).
    median_comparison_abundance_threshold, median_comparison_prevalence_threshold
        Coefficients closer to the median than this get p = 1 (MaAsLin 3's options of the
        same names; 0 by default).
    subtract_median
        Report coefficients minus their term's median (MaAsLin 3's ``subtract_median``).
    warn_prevalence
        With the prevalence model, flag prevalence associations that a stronger abundance
        association may induce (MaAsLin 3's ``warn_prevalence``; column
        ``induced_by_abundance``, see :mod:`gutaxis.stats.joint`).
    seed
        Seed of the median comparison's simulation (results are reproducible).
    group
        MaAsLin 3's ``group_effects``: categorical variables each tested by one test over
        all its levels, reported as one row per feature (``value`` the variable's name,
        ``coef``/``stderr`` ``NaN``); see :mod:`gutaxis.stats.special_terms`.
    ordered
        MaAsLin 3's ``ordered_effects``: categorical variables with ordered levels; each
        level's row is its difference from the previous level (``value`` the level).
    levels
        Level order of categorical variables (first = reference), e.g. the order of an
        ``ordered`` variable; see :func:`gutaxis.stats.design.build_design`.
    strata
        A matched-set column (MaAsLin 3's ``strata_effects``, ``strata(s)`` in its formula):
        as MaAsLin 3 does, the abundance model gets a random intercept ``(1 | s)`` (the LMM
        path) and the prevalence model is a conditional logistic regression within strata
        (``survival::clogit``, Breslow, augmented;
        :func:`gutaxis.stats.models.conditional_logistic.fit_conditional_logistic`), whose
        terms constant within strata are ``NaN``. Cannot be combined with ``random``.
    unscaled
        MaAsLin 3's ``unscaled_abundance``: one column indexed by sample id, named after a
        spike-in feature of the table or ``total`` (total microbial load); every sample of
        the table needs a value. Abundances become scaled (absolute) abundances, see
        :func:`gutaxis.stats.normalize.unscaled_factors`; needs ``normalization="TSS"``.
        The filters apply to the scaled values with the prevalence model (MaAsLin 3's
        order), else to the input values. ``warn_prevalence`` refits relative abundances
        (TSS, LOG), as MaAsLin 3 does.
    backend, feature_chunk
        ``None`` (default): every feature fitted here in one pass. A back-end
        (:mod:`gutaxis.compute`): chunks of ``feature_chunk`` features fitted as tasks, then
        one median comparison and one correction over all (:mod:`gutaxis.stats.scan_chunks`:
        LM bit for bit, LMM and logistic models to 1e-9).

    Returns
    -------
    AssociationResults
        ``.table`` has one row per (model, feature, term), columns
        :data:`~gutaxis.stats.association_results.RESULT_COLUMNS`, ordered by q-value.
        ``pval``/``qval`` are each model's own test (MaAsLin 3's ``pval_individual`` /
        ``qval_individual``: against the median with the median comparison);
        ``pval_joint``/``qval_joint`` combine the abundance and prevalence tests of the
        same feature and term (:func:`gutaxis.stats.joint.joint_pvalue`; without the
        prevalence model they equal the abundance ones). ``n`` is the number of samples
        the fit used (complete cases, and for the MaAsLin 3 abundance model the nonzero
        ones); ``n_nonzero`` the number of those where the feature is present. The
        number of input samples (MaAsLin 2's ``N``) is ``.spec.n_samples_input``. A
        feature whose fit is degenerate (constant, too few samples, no convergence) keeps
        its rows with ``NaN`` estimates and the reason in ``error``; a singular
        (boundary) random-effect fit keeps its estimates and says so in ``error``.
        Boolean columns flag what to read with care: ``separated`` (per term),
        ``induced_by_abundance``, ``suspect_rare``, ``suspect_common``
        (:mod:`gutaxis.stats.joint`).

    Notes
    -----
    Without the prevalence model the pipeline is MaAsLin 2's: filter on the input values
    over all samples -> normalise the kept features -> transform -> fit on complete cases
    -> correct. With it, MaAsLin 3's: normalise all features -> filter on the normalised
    values (zeros are absences; the variance filter uses the nonzero values) ->
    transform -> fit abundance on each feature's nonzero samples and presence on all ->
    median comparison -> correct both models' p-values together -> joint p-values. The
    LM path equals a per-feature ``statsmodels`` OLS to 1e-10; the LMM path is
    :func:`gutaxis.stats.models.linear_mixed.fit_lmm` (lme4/lmerTest's REML with
    Satterthwaite degrees of freedom).

    References
    ----------
    .. [1] Mallick H et al. (2021). Multivariable association discovery in
       population-scale meta-omics studies. PLoS Comput Biol 17:e1009442.
    .. [2] Nickols WA et al. (2024). MaAsLin 3: refining and extending generalized
       multivariable linear models for meta-omic association discovery. bioRxiv
       2024.12.13.628459.
    .. [3] Benjamini Y, Hochberg Y (1995). J R Stat Soc B 57:289-300.
    """
    norm, trans = check_options(normalization, transform)
    corr = correction_name(correction)
    _check_fraction(min_prevalence, "min_prevalence")
    _check_fraction(max_significance, "max_significance")
    from gutaxis.stats.models.linear_mixed import OPTIMIZERS

    if lmm_optimizer not in OPTIMIZERS:
        raise InputError("unknown mixed-model optimizer", field="lmm_optimizer",
                         found=lmm_optimizer, expected=" or ".join(OPTIMIZERS))
    if min_abundance < 0 or min_variance < 0:
        raise InputError("filter thresholds must be >= 0", field="min_abundance/min_variance",
                         found=(min_abundance, min_variance))
    table = cohort.table
    scannable_table(table, normalization=norm)
    design = build_design(cohort.metadata, fixed=fixed, random=random, reference=reference,
                          standardize=standardize, source=cohort.source, group=group,
                          ordered=ordered, levels=levels, strata=strata)
    factors = None
    if unscaled is not None:  # MaAsLin 3's unscaled_abundance: spike-in dropped, factors
        table, factors = unscaled_table(table, unscaled, normalization=norm)
        if median_comparison_abundance:
            warnings.warn("median comparison of scaled abundances: MaAsLin 3 refuses it "
                          "(the scale is not compositional)", UserWarning, stacklevel=2)
    if median_comparison_abundance is None:
        median_comparison_abundance = unscaled is None
    keep = features_to_test(table.values, min_prevalence=min_prevalence,
                            min_abundance=min_abundance, min_variance=min_variance,
                            prevalence_model=prevalence_model, normalization=norm,
                            factors=factors)
    if not keep.any():
        raise InputError(
            "no feature passes the filters", field="min_prevalence/min_abundance/min_variance",
            found=f"{table.n_features} features, thresholds prevalence > {min_prevalence}, "
                  f"abundance > {min_abundance}, variance > {min_variance}",
            expected="lower thresholds")
    kept = np.flatnonzero(keep)
    raw = sp.csc_array(table.values)[:, kept]
    rows = np.flatnonzero(design.rows) if design.rows.dtype == bool else design.rows
    # MaAsLin 3 normalises over all features, then filters; MaAsLin 2 the kept ones
    scaling = SampleScaling.fit(table.values if prevalence_model else raw, norm, factors)
    values = ScanValues(raw, scaling, trans, rows)
    features = table.feature_ids[keep]
    chunks = ChunkedFits(backend, feature_chunk, design, abundance=_fit_abundance,
                         prevalence=fit_prevalence)
    abundance = chunks.abundance(values, nonzero_only=prevalence_model, progress=progress,
                                 lmm_optimizer=lmm_optimizer)
    blocks = [abundance]
    if prevalence_model:
        blocks.append(chunks.prevalence(values))
    against_zero = None
    if prevalence_model and warn_prevalence:
        if norm == "TSS" and trans == "LOG" and factors is None:  # the same model, before
            against_zero = abundance                                 # the median comparison
        else:  # relative abundances (scaled: relative over the input, spike-in included)
            relative = None if factors is None else relative_factors(cohort.table)
            tss_log = ScanValues(raw, SampleScaling.fit(table.values, "TSS", relative), "LOG",
                                 rows)
            against_zero = chunks.abundance(tss_log, nonzero_only=True, progress=None,
                                            lmm_optimizer=lmm_optimizer)
    median = (median_comparison_abundance, median_comparison_prevalence)
    thresholds = (median_comparison_abundance_threshold, median_comparison_prevalence_threshold)
    # presence per feature is read only by a threshold's column scales (a sparse copy)
    needs_present = any(m and t > 0 for m, t in zip(median, thresholds, strict=True))
    present = values.present() if needs_present else None
    compared = [
        compare_with_median(block, design, present, threshold=thresholds[k],
                             subtract=subtract_median, seed=seed + k) if median[k] else None
        for k, block in enumerate(blocks)]
    options = {"normalization": norm, "transform": trans,
               "min_prevalence": float(min_prevalence), "min_abundance": float(min_abundance),
               "min_variance": float(min_variance), "standardize": bool(standardize),
               "correction": corr, "prevalence_model": bool(prevalence_model),
               "max_significance": float(max_significance), "lmm_optimizer": lmm_optimizer,
               "median_comparison_abundance": bool(median_comparison_abundance),
               "median_comparison_prevalence": bool(median_comparison_prevalence and
                                                    prevalence_model),
               "median_comparison_abundance_threshold":
                   float(median_comparison_abundance_threshold),
               "median_comparison_prevalence_threshold":
                   float(median_comparison_prevalence_threshold),
               "subtract_median": bool(subtract_median),
               "warn_prevalence": bool(warn_prevalence and prevalence_model), "seed": int(seed),
               "strata": strata,
               "unscaled_abundance": None if unscaled is None else str(unscaled.columns[0])}
    modelled = ModelledValues(design.sample_ids, features, values,
                              nonzero_only=prevalence_model)
    table_out = assemble(blocks, features, design, corr, compared=compared,
                          against_zero=against_zero, max_significance=max_significance)
    return _results(cohort, design, table_out, features, modelled, options=options,
                    n_features_input=cohort.table.n_features, hash_extra=unscaled)


def scannable_table(table: ProfileTable, *, normalization: str) -> None:
    """Refuse a table the scan cannot model as it is asked to.

    Abundances (counts, RPK, predicted copies; relative abundances, CPM) take any
    normalisation. A coverage table (the fraction of a pathway or module detected,
    HUMAnN's pathcoverage, ``gutaxis modules``' coverage) is not an abundance: it is
    scanned as it is (``normalization="NONE"``), never closed by TSS or CLR. A table
    stratified by taxon (``function|taxon`` rows) is refused: the scan tests community
    functions (:meth:`ProfileTable.unstratified`).

    Parameters
    ----------
    table
        The table to scan.
    normalization
        The scan's normalisation (canonical name).
    """
    table.require_unstratified(action="an association scan")
    if table.unit == "coverage" or (table.kind == "transformed" and table.is_functional):
        if normalization != "NONE":
            raise DataKindError(
                "a coverage table is scanned as it is, without TSS or CLR",
                field="normalization", found=f"{normalization} on {table.unit or 'coverage'} "
                "values (fractions of a pathway or module detected)",
                expected="normalization NONE (and transform NONE or AST)")
        return
    table.require_kind("counts", "relative", action="an association scan of a table")


def associate_outcomes(
    cohort: Cohort,
    outcomes: pd.DataFrame,
    *,
    fixed: Sequence[str],
    random: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    standardize: bool = False,
    correction: str = "BH",
    max_significance: float = 0.25,
    progress: ProgressCallback | None = None,
) -> AssociationResults:
    """Test every column of ``outcomes`` (e.g. gut summaries: diversity, ratios) the same way.

    The columns are used as given (no filter, normalisation or transform); a missing
    value drops that sample from that column's model only; an infinite value, or a sample
    id with more than one row, is refused. Options as in :func:`associate`.

    Parameters
    ----------
    cohort
        The samples and their metadata (the table itself is not used).
    outcomes
        One column per outcome, indexed by sample id (e.g. :func:`gutaxis.gut.gut_summary`).
    fixed, random, reference, standardize, correction, max_significance, progress
        As for :func:`associate`.
    """
    corr = correction_name(correction)
    _check_fraction(max_significance, "max_significance")
    frame = outcomes.copy()
    frame.index = frame.index.astype(str)
    repeated = frame.index[frame.index.duplicated()].unique()
    if len(repeated):
        raise InputError(f"{len(repeated)} sample id(s) have more than one outcome row",
                         field="outcomes", found=", ".join(repeated[:5]),
                         expected="one row per sample")
    missing = pd.Index(cohort.sample_ids).difference(frame.index)
    if len(missing):
        raise InputError(f"{len(missing)} sample(s) have no outcome row", field="outcomes",
                         found=", ".join(missing[:5]), expected="a row for every sample")
    non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise InputError("outcome columns must be numeric", field="outcomes",
                         column=", ".join(map(str, non_numeric)), expected="numbers")
    design = build_design(cohort.metadata, fixed=fixed, random=random, reference=reference,
                          standardize=standardize, source=cohort.source)
    y = frame.loc[list(design.sample_ids)].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(y).any():
        i, j = np.argwhere(np.isinf(y))[0]
        raise InputError("infinite outcome value", field="outcomes",
                         row=str(design.sample_ids[i]), column=str(frame.columns[j]),
                         found=float(y[i, j]), expected="a finite number or a missing value")
    mask = ~np.isnan(y)
    block = _fit_abundance(y, design, mask=None if mask.all() else mask, present=y != 0,
                           progress=progress)
    features = np.asarray(frame.columns.astype(str))
    options = {"normalization": "NONE", "transform": "NONE", "min_prevalence": 0.0,
               "min_abundance": 0.0, "min_variance": 0.0, "standardize": bool(standardize),
               "correction": corr, "prevalence_model": False,
               "max_significance": float(max_significance),
               "median_comparison_abundance": False, "warn_prevalence": False}
    table_out = assemble([block], features, design, corr, compared=[None],
                          against_zero=None, max_significance=max_significance)
    modelled = ModelledValues(design.sample_ids, features,
                              pd.DataFrame(y, index=design.sample_ids, columns=features))
    return _results(cohort, design, table_out, features, modelled, options=options,
                    n_features_input=len(features), hash_extra=frame)


def _results(
    cohort: Cohort,
    design: Design,
    table: pd.DataFrame,
    features: np.ndarray,
    values: ModelledValues,
    *,
    options: dict[str, Any],
    n_features_input: int,
    hash_extra: pd.DataFrame | None,
) -> AssociationResults:
    fixed = list(dict.fromkeys(t.metadata for t in design.terms))
    random = [g for g in design.group_names if g != design.strata]
    hashed = fixed + random + ([design.strata] if design.strata else [])
    spec = AssociationSpec(
        formula=design.formula(), fixed=tuple(fixed), random=tuple(random),
        levels=dict(design.levels), numeric=design.numeric,
        group_effects=design.group_effects, ordered_effects=design.ordered_effects,
        abundance_model=_abundance_label(design, options["prevalence_model"]),
        n_samples_input=int(cohort.n_samples), n_samples_used=design.n,
        n_features_input=int(n_features_input), n_features_tested=len(features),
        input_hash=input_hash(cohort, hashed, extra=hash_extra),
        citations=citations_for(random=bool(design.group_names),
                                prevalence=options["prevalence_model"],
                                correction=options["correction"]),
        **options)
    return AssociationResults(
        table=table, spec=spec,
        values=values,
        covariates=cohort.metadata.loc[design.rows, fixed])


def input_hash(cohort: Cohort, columns: Sequence[str], *, extra: pd.DataFrame | None = None) -> str:
    """SHA-256 of the table (values, ids) and the metadata columns a model uses."""
    return cohort_hash(cohort, columns, extra=extra)


# ---------------------------------------------------------------------------- models
def _abundance_label(design: Design, nonzero_only: bool) -> str:
    kind = "LMM (REML, Satterthwaite df)" if design.group_names else "LM (OLS)"
    return kind + (" on each feature's nonzero samples" if nonzero_only else "")


def _fit_abundance(
    y: np.ndarray,
    design: Design,
    *,
    mask: np.ndarray | None,
    present: np.ndarray,
    progress: ProgressCallback | None,
    lmm_optimizer: str = "newton",
) -> ModelBlock:
    """The abundance model of every column of ``y``: one batched OLS without random
    effects, else one LMM engine call per distinct row set of ``mask``."""
    used = np.ones_like(present) if mask is None else mask
    if not design.group_names:
        fit = fit_ols(y, design.matrix, mask=mask, level_rows=design.level_rows())
        if progress is not None:
            progress(y.shape[1])
        tests = ols_group_tests(y, design, mask=mask) if design.group_effects else None
        res = refit_aliased(fit.results(terms=design_terms(design)), y, design, used)
        res = blank_ordered(res, design, used)
        return without_lone_levels(ModelBlock("abundance", without_intercept(res), fit.n,
                                               (present & used).sum(axis=0), tests),
                                    design, used)
    est = Estimates(y.shape[1], design.p - 1)
    if design.group_effects:
        est.group_tests = GroupTests.empty(y.shape[1], design.group_effects, "F")
    for rows, cols in row_sets(used):  # one engine call per distinct row set
        n_rows = int(rows.sum())
        est.n[cols] = n_rows
        est.n_nonzero[cols] = present[np.ix_(rows, cols)].sum(axis=0)
        sub = y[np.ix_(rows, cols)]
        constant = np.ptp(sub, axis=0) == 0 if n_rows else np.ones(len(cols), dtype=bool)
        est.messages[cols[constant]] = (f"constant feature: zero variance on the {n_rows} "
                                        "samples used")
        fit_cols = cols[~constant]
        keep = present_columns(design, rows)  # absent group/ordered levels are left out
        keep = kept_columns(design, rows, keep)  # and levels aliased on these rows (R)
        reason = _subset_problem(design, rows, keep)
        if reason:
            est.messages[fit_cols] = reason
        elif len(fit_cols):
            _fit_row_set(est, y, design, rows, fit_cols, progress, lmm_optimizer, keep)
        if progress is not None:
            progress(len(cols) - (0 if reason else len(fit_cols)))
    return without_lone_levels(est.block("abundance", _abundance_label(design, False), design,
                                          statistic_name="t"), design, used)


def _fit_row_set(
    est: Estimates,
    y: np.ndarray,
    design: Design,
    rows: np.ndarray,
    cols: np.ndarray,
    progress: ProgressCallback | None,
    lmm_optimizer: str = "newton",
    keep: np.ndarray | None = None,
) -> None:
    """One LMM engine call for the features ``cols`` that share the rows ``rows``, on the
    design's columns ``keep`` (default all)."""
    keep = np.ones(design.p, dtype=bool) if keep is None else keep
    from gutaxis.stats.models.linear_mixed import fit_lmm

    groups = [pd.factorize(g[rows], sort=True)[0] for g in design.groups]
    try:
        fit = fit_lmm(y[np.ix_(rows, cols)], design.matrix[np.ix_(rows, keep)], groups, reml=True,
                      progress=progress, optimizer=lmm_optimizer,
                      full_vcov=est.group_tests is not None)
    except (GutaxisError, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        est.messages[cols] = f"mixed model failed: {exc}"
        if progress is not None:
            progress(len(cols))
        return
    terms = design_terms(design)
    kept = [t for t, k in zip(terms, keep, strict=True) if k]
    res = with_all_columns(fit.results(terms=kept), keep, terms)
    res = blank_ordered(res, design, np.repeat(rows[:, None], len(cols), axis=1))
    good = res.converged
    est.store(cols, res, good)
    est.singular[cols] = good & res.singular
    if est.group_tests is not None:  # special_terms hook: contest F tests
        est.group_tests.store(cols, lmm_group_tests(fit, design, columns=keep, good=good))
    for k, col in enumerate(cols):  # messages only: one string per feature
        note = res.messages[k]
        if not good[k]:
            est.messages[col] = f"mixed model not fitted: {note}" if note else (
                "mixed model did not converge")
        elif res.singular[k]:
            est.messages[col] = ("singular fit: a random-effect variance is estimated at 0 "
                                 "(estimates kept)")
        elif note:
            est.messages[col] = f"{note} (estimates kept)"


def _subset_problem(design: Design, rows: np.ndarray, keep: np.ndarray) -> str:
    """Why the design's columns ``keep`` restricted to ``rows`` cannot be fitted ("" if
    they can)."""
    n_rows, p = int(rows.sum()), int(keep.sum())
    if n_rows <= p:
        return f"{n_rows} samples for {p} parameters: no residual degrees of freedom"
    if np.linalg.matrix_rank(design.matrix[np.ix_(rows, keep)]) < p:
        return "design matrix is rank-deficient on this feature's samples"
    return ""


def _check_fraction(value: float, name: str) -> None:
    if not 0.0 <= float(value) <= 1.0:
        raise InputError(f"{name} must be a fraction in [0, 1]", field=name, found=value,
                         expected="a number between 0 and 1")

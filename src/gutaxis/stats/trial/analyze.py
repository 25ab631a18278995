"""The trial pipeline: validate, then every analysis (:func:`analyze_trial`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gutaxis.errors import InputError, preview
from gutaxis.stats.trial.data import TrialData, prepare_trial
from gutaxis.stats.trial.effects import (
    Effect,
    ancova,
    change_score,
    percent_change,
    standardized_differences,
)
from gutaxis.stats.trial.repeated import fit_repeated
from gutaxis.stats.trial.responders import CUTOFFS, responder_effects
from gutaxis.stats.trial.results import TrialResults


def analyze_trial(
    table: pd.DataFrame,
    *,
    arm: str,
    baseline: str,
    followup: str,
    subject: str | None = None,
    visit: str | None = None,
    treatment: str | None = None,
    control: str | None = None,
    covariates: Sequence[str] = (),
    lower_is_better: bool = True,
    primary_visit: str | None = None,
    source: str | None = None,
) -> TrialResults:
    """Analyse a two-arm randomised trial with a baseline and one or more follow-up visits.

    Parameters
    ----------
    table
        One row per subject (wide), or per subject and visit (long, with ``subject`` and
        ``visit``); see :func:`gutaxis.stats.trial.prepare_trial`.
    arm, baseline, followup
        Columns of the arm, the baseline value and the outcome (at follow-up, or at each
        visit of long data).
    subject, visit
        Columns of subject ids and visits: the data are long and the mixed model runs.
    treatment, control
        The active arm and its comparator (needed when the arm column has more than two
        levels; by default the second level in sorted order is the treatment).
    covariates
        Further columns to adjust the ANCOVA and the mixed model for.
    lower_is_better
        A fall in the outcome is an improvement (pain, the default); ``False`` for
        outcomes where higher is better. Decides who responds; differences keep their sign
        (treatment minus control).
    primary_visit
        The visit of the single-visit analyses (ANCOVA, change, percent change, Hedges' g,
        responders); default the last (visits are ordered naturally: ``week4 < week12``).
    source
        The file name used in error messages.

    Returns
    -------
    TrialResults

    Notes
    -----
    At the primary visit: ANCOVA, ``followup ~ arm + baseline + covariates`` by OLS (the
    treatment coefficient with its t interval); the change from baseline compared by the
    pooled-variance t test (``lm(change ~ arm)``); percent change per arm and between arms
    (delta method, :func:`~gutaxis.stats.trial.effects.percent_change`); Hedges' g of change
    and follow-up (:func:`~gutaxis.stats.trial.effects.hedges_g`); responders improved by
    >= 30% and >= 50% with RD, RR, OR and NNT
    (:func:`~gutaxis.stats.trial.responders.responder_effects`). Over all visits: the mixed
    model of :func:`~gutaxis.stats.trial.repeated.fit_repeated`. Checked against R's
    ``lm``, ``lme4``/``lmerTest`` and ``metafor`` and statsmodels (tests/reference/trial).

    References
    ----------
    .. [1] Vickers AJ, Altman DG (2001). Analysing controlled trials with baseline and
       follow up measurements. BMJ 323:1123-1124.
    .. [2] Altman DG (1998). Confidence intervals for the number needed to treat. BMJ
       317:1309-1312.
    .. [3] Dworkin RH, et al. (2008). Interpreting the clinical importance of treatment
       outcomes in chronic pain clinical trials: IMMPACT recommendations. J Pain 9:105-121.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"arm": ["a"] * 4 + ["b"] * 4,
    ...                       "pain0": [6, 7, 5, 8, 6, 7, 6, 8],
    ...                       "pain12": [5, 6, 5, 7, 3, 4, 4, 5]})
    >>> results = analyze_trial(table, arm="arm", baseline="pain0", followup="pain12")
    >>> round(results.effect("change").estimate, 2)
    -2.0
    """
    data = prepare_trial(table, arm=arm, baseline=baseline, followup=followup,
                         subject=subject, visit=visit, treatment=treatment, control=control,
                         covariates=covariates, source=source)
    data = _without_empty_visits(data.subset(np.isfinite(data.outcome)))
    _check_visits(data, source)
    code = _primary_code(data, primary_visit)
    primary = data.at_visit(code)
    _check_primary(primary, data.visit_levels[code], source)
    notes = list(data.notes)
    effect, ancova_fit = ancova(primary)
    effects: list[Effect] = [effect, change_score(primary), *percent_change(primary),
                             *standardized_differences(primary)]
    for cut in CUTOFFS:
        effects.extend(responder_effects(primary, cutoff=cut, lower_is_better=lower_is_better))
    repeated = None
    several = len(np.unique(data.subjects)) < len(data.subjects)
    if data.long and not several:
        notes.append("no subject has an outcome at two visits: no mixed model")
    if data.long and several:
        repeated = fit_repeated(data)
        model = repeated.model
        ci = model.conf_int()[0]
        effects += [Effect("lmm", term, float(model.coef[0, k]), float(model.stderr[0, k]),
                           float(ci[k, 0]), float(ci[k, 1]), float(model.df[0, k]),
                           float(model.statistic[0, k]), float(model.pvalue[0, k]),
                           repeated.n_observations, "mixed-model coefficient")
                    for k, term in enumerate(model.terms)]
        effects += repeated.effects
        if model.messages[0]:
            notes.append(f"mixed model: {model.messages[0]}")
    excluded = int((primary.baseline <= 0).sum())
    if excluded:
        notes.append(f"{excluded} subject(s) with baseline <= 0 have no percent improvement "
                     "and are left out of the responder analysis")
    return TrialResults(data=data, primary=primary, primary_visit=data.visit_levels[code],
                        effects=tuple(effects), ancova=ancova_fit, repeated=repeated,
                        lower_is_better=lower_is_better, notes=tuple(notes))


def _primary_code(data: TrialData, primary_visit: str | None) -> int:
    if primary_visit is None:
        return len(data.visit_levels) - 1
    if primary_visit not in data.visit_levels:
        raise InputError("primary visit is not a visit of the data", field="primary_visit",
                         found=primary_visit, expected=f"one of {preview(data.visit_levels)}")
    return data.visit_levels.index(primary_visit)


def _without_empty_visits(data: TrialData) -> TrialData:
    """Visits at which no subject has an outcome are dropped from the visit levels."""
    used = np.unique(data.visits)
    if len(used) == len(data.visit_levels):
        return data
    return dataclasses.replace(
        data, visits=np.searchsorted(used, data.visits),
        visit_levels=tuple(data.visit_levels[k] for k in used),
        notes=(*data.notes, f"{len(data.visit_levels) - len(used)} visit(s) without any "
               "outcome left out"))


def _check_visits(data: TrialData, source: str | None) -> None:
    """Every visit has subjects of both arms (else the arm x visit effect is not estimable)."""
    for code, level in enumerate(data.visit_levels):
        at = data.visits == code
        for label, in_arm in ((data.treatment, data.treated), (data.control, ~data.treated)):
            if not (at & in_arm).any():
                raise InputError("a visit has no outcome in one arm", source=source,
                                 column=data.arm, found=f"visit {level!r}: none in arm {label!r}",
                                 expected="outcomes of both arms at every visit")


def _check_primary(primary: TrialData, visit: str, source: str | None) -> None:
    for label, in_arm in ((primary.treatment, primary.treated),
                          (primary.control, ~primary.treated)):
        count = int(in_arm.sum())
        if count < 2:
            raise InputError("fewer than 2 subjects with an outcome in an arm at the primary "
                             "visit", source=source, column=primary.arm,
                             found=f"{count} in arm {label!r} at {visit}",
                             expected="at least 2 subjects per arm")

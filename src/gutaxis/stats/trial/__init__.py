"""gutaxis.stats.trial: a two-arm randomised trial with baseline and follow-up.

:func:`analyze_trial` runs every analysis on one table (one row per subject, or per subject
and visit): ANCOVA on follow-up adjusted for baseline, change scores, percent change,
Hedges' g, responders (>= 30% and >= 50% improvement: RD, RR, OR, NNT) and, with several
visits, a linear mixed model (random intercept per subject, arm x visit, Satterthwaite
df). It returns a :class:`TrialResults`.
"""

from gutaxis.stats.trial.analyze import analyze_trial
from gutaxis.stats.trial.data import TrialData, prepare_trial, read_trial_table
from gutaxis.stats.trial.effects import Effect, hedges_g
from gutaxis.stats.trial.repeated import RepeatedFit
from gutaxis.stats.trial.responders import nnt_words, wilson_interval
from gutaxis.stats.trial.results import TrialResults

__all__ = [
    "Effect",
    "RepeatedFit",
    "TrialData",
    "TrialResults",
    "analyze_trial",
    "hedges_g",
    "nnt_words",
    "prepare_trial",
    "read_trial_table",
    "wilson_interval",
]

"""What can honestly be pooled: per condition and outcome, which trials enter and why not.

The rules, applied to every contrast of a (condition, outcome) group, in this order (the
first that fails is the contrast's reason):

1. a parallel-group randomised trial (no n-of-1, no unrandomised comparison);
2. placebo-controlled (open-label add-on designs have a high risk of bias on
   patient-reported outcomes);
3. a probiotic or synbiotic arm (fibre and prebiotic arms are listed, not pooled with
   probiotics);
4. complete numbers, none of them disputed between sources: per arm an n (analysed,
   else randomised or allocated) and the mean and SD of the change from baseline; or,
   for an ``MD`` outcome, a reported between-group difference with its 95% CI;
5. one trial per overlap group (reports that may share participants, e.g. Zamani 2016
   and 2017 from one group and city): the trial with the most participants is kept.

Arms of one trial that share a control (three-arm trials) are combined into one
comparison per trial (Cochrane Handbook, section 6.5.2.10, table 6.5.a), so that no
participant is counted twice. A group is pooled only with at least ``min_trials`` usable
trials (3 by default); otherwise it says so, with the count. Published meta-analyses are
never pooled with the trials (they contain them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.evidence.table import (
    CONDITIONS,
    N_PREFERENCE,
    OUTCOMES,
    EvidenceTable,
    check_choice,
    records,
    shown_value,
)

__all__ = ["ContrastVerdict", "PoolingDecision", "PoolingPlan", "StudyInput",
           "combine_arms", "plan_pooling"]

DECISION_COLUMNS = ("condition", "outcome", "measure", "poolable", "k_trials", "k_contrasts",
                    "trials", "reason", "certainty_notes")
"""Columns of :meth:`PoolingPlan.to_frame`, in order."""
VERDICT_COLUMNS = ("condition", "outcome", "contrast_id", "trial_id", "usable", "reason")
"""Columns of :meth:`PoolingPlan.verdicts_frame`, in order."""

POOLED_KINDS = ("probiotic", "synbiotic")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class ContrastVerdict:
    """Whether one contrast can enter a pooled analysis, and why.

    Attributes
    ----------
    contrast_id, trial_id
        The contrast and its trial.
    usable
        True when the contrast enters the pooled analysis of its group.
    reason
        Why not (``""`` when usable), in words for people.
    """

    contrast_id: str
    trial_id: str
    usable: bool
    reason: str


@dataclass(frozen=True)
class StudyInput:
    """The numbers one trial brings to a pooled analysis (arms combined if several).

    Attributes
    ----------
    trial_id, label
        The trial and a short label (study and year).
    n_t, mean_t, sd_t, n_c, mean_c, sd_c
        Per-arm n and mean (SD) change from baseline; NaN when the trial brings a
        reported difference instead.
    md, md_ci_low, md_ci_high
        A reported between-group difference (intervention minus control) with its 95%
        CI; NaN when the trial brings per-arm numbers.
    contrasts
        The contrasts combined into this input.
    note
        How the input was formed (arms combined, n used), for the certainty notes.
    """

    trial_id: str
    label: str
    n_t: float
    mean_t: float
    sd_t: float
    n_c: float
    mean_c: float
    sd_c: float
    md: float
    md_ci_low: float
    md_ci_high: float
    contrasts: tuple[str, ...]
    note: str

    @property
    def from_difference(self) -> bool:
        """True when the trial brings a reported difference with CI, not arm numbers."""
        return math.isnan(self.n_t)


@dataclass(frozen=True)
class PoolingDecision:
    """The decision for one (condition, outcome) group.

    Attributes
    ----------
    condition, outcome
        Keys of :data:`~gutaxis.evidence.CONDITIONS` and :data:`~gutaxis.evidence.OUTCOMES`.
    measure
        Effect measure a pooled analysis uses (``MD``, ``SMD`` or ``RR``).
    poolable
        True when at least ``min_trials`` usable trials remain.
    reason
        Why the group is or is not pooled, in words.
    studies
        The usable trials' inputs (one per trial).
    verdicts
        One verdict per contrast of the group.
    certainty_notes
        Caveats that go with any pooled number: trials missing, risk of bias, n used,
        conversions, overlap, meta-analyses listed.
    """

    condition: str
    outcome: str
    measure: str
    poolable: bool
    reason: str
    studies: tuple[StudyInput, ...]
    verdicts: tuple[ContrastVerdict, ...]
    certainty_notes: tuple[str, ...] = field(default=())

    @property
    def k_trials(self) -> int:
        """Number of usable trials."""
        return len(self.studies)


@dataclass(frozen=True)
class PoolingPlan:
    """Pooling decisions for every (condition, outcome) group of an evidence table.

    Attributes
    ----------
    version
        Version of the evidence table the plan was made from.
    min_trials
        Fewest usable trials a pooled analysis needs.
    decisions
        One decision per group, ordered by condition then outcome.
    """

    version: str
    min_trials: int
    decisions: tuple[PoolingDecision, ...]

    def decision(self, condition: str, outcome: str) -> PoolingDecision:
        """The decision of one group.

        Parameters
        ----------
        condition, outcome
            The group's keys.
        """
        for decision in self.decisions:
            if (decision.condition, decision.outcome) == (condition, outcome):
                return decision
        raise InputError("no contrasts for this condition and outcome", field="outcome",
                         found=f"{condition} / {outcome}",
                         expected="a condition and outcome listed in the evidence table")

    def to_frame(self) -> pd.DataFrame:
        """One row per group (columns :data:`DECISION_COLUMNS`)."""
        rows = [{"condition": d.condition, "outcome": d.outcome, "measure": d.measure,
                 "poolable": d.poolable, "k_trials": d.k_trials,
                 "k_contrasts": len(d.verdicts),
                 "trials": ", ".join(s.label for s in d.studies), "reason": d.reason,
                 "certainty_notes": " | ".join(d.certainty_notes)} for d in self.decisions]
        return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))

    def verdicts_frame(self) -> pd.DataFrame:
        """One row per contrast: usable or not, and why (columns :data:`VERDICT_COLUMNS`)."""
        rows = [{"condition": d.condition, "outcome": d.outcome, "contrast_id": v.contrast_id,
                 "trial_id": v.trial_id, "usable": v.usable, "reason": v.reason}
                for d in self.decisions for v in d.verdicts]
        return pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))

    def summary(self) -> str:
        """How many groups can be pooled, in one line."""
        poolable = [d for d in self.decisions if d.poolable]
        names = ", ".join(f"{d.condition}/{d.outcome} (k={d.k_trials})" for d in poolable)
        return (f"{len(poolable)} of {len(self.decisions)} condition/outcome groups can be "
                f"pooled (at least {self.min_trials} usable trials)"
                + (f": {names}" if names else ""))


def combine_arms(n: Sequence[float], mean: Sequence[float],
                 sd: Sequence[float]) -> tuple[float, float, float]:
    """Combine arms into one group: total n, pooled mean and SD.

    Parameters
    ----------
    n, mean, sd
        Size, mean and standard deviation of each arm.

    Returns
    -------
    tuple of float
        ``(n, mean, sd)`` of the combined group.

    Notes
    -----
    For two groups (applied pairwise for more), Cochrane Handbook table 6.5.a:

    .. math::

        N = N_1 + N_2, \\quad M = \\frac{N_1 M_1 + N_2 M_2}{N}, \\quad
        SD = \\sqrt{\\frac{(N_1 - 1) SD_1^2 + (N_2 - 1) SD_2^2
              + \\frac{N_1 N_2}{N} (M_1 - M_2)^2}{N - 1}}

    This is exact: the combined group's sample mean and SD are those of all its members.

    References
    ----------
    Higgins JPT, Li T, Deeks JJ (eds). Chapter 6: Choosing effect measures and computing
    estimates of effect. Cochrane Handbook for Systematic Reviews of Interventions 6.4
    (2023), table 6.5.a.

    Examples
    --------
    >>> combine_arms([10, 10], [1.0, 3.0], [1.0, 1.0])
    (20.0, 2.0, 1.4142135623730951)
    """
    sizes = np.asarray(n, dtype=float)
    means = np.asarray(mean, dtype=float)
    sds = np.asarray(sd, dtype=float)
    if not (sizes.shape == means.shape == sds.shape) or sizes.size == 0:
        raise InputError("n, mean and sd need one value per arm", field="n",
                         found=(sizes.size, means.size, sds.size), expected="equal lengths >= 1")
    total, combined_mean, combined_sd = sizes[0], means[0], sds[0]
    for n2, m2, s2 in zip(sizes[1:], means[1:], sds[1:], strict=True):
        both = total + n2
        variance = ((total - 1) * combined_sd**2 + (n2 - 1) * s2**2
                    + total * n2 / both * (combined_mean - m2) ** 2) / (both - 1)
        combined_mean = (total * combined_mean + n2 * m2) / both
        total, combined_sd = both, math.sqrt(variance)
    return float(total), float(combined_mean), float(combined_sd)


def plan_pooling(evidence: EvidenceTable, *, condition: str | None = None,
                 outcome: str | None = None, min_trials: int = 3) -> PoolingPlan:
    """Decide, for each condition and outcome, what can honestly be pooled.

    Parameters
    ----------
    evidence
        The evidence table (:func:`~gutaxis.evidence.load_evidence`).
    condition, outcome
        Restrict to one condition and/or outcome (keys of
        :data:`~gutaxis.evidence.CONDITIONS` / :data:`~gutaxis.evidence.OUTCOMES`).
    min_trials
        Fewest usable trials for a pooled analysis (default 3: with fewer, neither the
        between-trial variance nor a prediction interval can be estimated usefully).

    Returns
    -------
    PoolingPlan
        One decision per (condition, outcome) group present, with per-contrast verdicts.

    Notes
    -----
    The rules and their order are in the module docstring of
    :mod:`gutaxis.evidence.decisions`.

    Examples
    --------
    >>> from gutaxis.evidence import load_evidence
    >>> plan = plan_pooling(load_evidence(), condition="rheumatoid_arthritis", outcome="das28")
    >>> plan.decisions[0].poolable
    False
    """
    if min_trials < 2:
        raise InputError("a pooled analysis needs at least 2 trials", field="min_trials",
                         found=min_trials, expected="an integer >= 2")
    selected = evidence.select(condition=condition, outcome=outcome)
    order = {key: i for i, key in enumerate(CONDITIONS)}
    outcome_order = {key: i for i, key in enumerate(OUTCOMES)}
    contrasts = selected.contrasts
    pairs = {(row["condition"], row["outcome"]) for row in records(contrasts)}
    keys = sorted(pairs, key=lambda k: (order[k[0]], outcome_order[k[1]]))
    decisions = tuple(
        decide_group(selected, contrasts[(contrasts["condition"] == condition)
                                         & (contrasts["outcome"] == outcome)],
                     min_trials=min_trials)
        for condition, outcome in keys)
    return PoolingPlan(evidence.version, min_trials, decisions)


def decide_group(evidence: EvidenceTable, contrasts: pd.DataFrame, *,
                 min_trials: int) -> PoolingDecision:
    """The decision for the contrasts of one (condition, outcome) group."""
    condition, outcome = contrasts["condition"].iloc[0], contrasts["outcome"].iloc[0]
    check_choice(condition, CONDITIONS, field="condition")
    measure = OUTCOMES[outcome][1]
    rows = records(contrasts)
    first_reasons = {row["contrast_id"]: design_reason(row, evidence, measure) for row in rows}
    usable = contrasts[[first_reasons[c] == "" for c in contrasts["contrast_id"]]]
    kept, overlap_reasons = resolve_overlap(usable, evidence)
    reasons = {**first_reasons, **overlap_reasons}
    verdicts = tuple(ContrastVerdict(row["contrast_id"], row["trial_id"],
                                     reasons[row["contrast_id"]] == "",
                                     reasons[row["contrast_id"]]) for row in rows)
    studies = tuple(study_input(evidence, group)
                    for _, group in kept.groupby("trial_id", sort=False))
    n_trials = contrasts["trial_id"].nunique()
    poolable = len(studies) >= min_trials
    if poolable:
        reason = (f"pooled: {len(studies)} of {n_trials} trials have complete numbers on "
                  f"{OUTCOMES[outcome][0]} ({measure})")
    else:
        reason = (f"not pooled: {len(studies)} of {n_trials} trials usable, fewer than "
                  f"{min_trials} with complete numbers on a comparable instrument "
                  f"({OUTCOMES[outcome][0]})")
    notes = certainty_notes(evidence, contrasts, verdicts, studies, condition=condition,
                            outcome=outcome)
    return PoolingDecision(condition, outcome, measure, poolable, reason, studies, verdicts,
                           notes)


def design_reason(contrast: dict[str, str], evidence: EvidenceTable, measure: str) -> str:
    """Why a contrast cannot be pooled on design or numbers (rules 1-4), or ``""``."""
    if contrast["parallel_rct"] != "yes":
        return f"not a parallel-group randomised trial ({contrast['design']})"
    if contrast["placebo_controlled"] != "yes":
        return f"no placebo control (comparator: {contrast['comparator']})"
    if contrast["intervention_kind"] not in POOLED_KINDS:
        return (f"{contrast['intervention_kind'].replace('_', ' ')} arm: listed, not pooled "
                "with probiotics")
    numbers = evidence.numbers_of(contrast["contrast_id"])
    return numbers_reason(numbers, measure)


def numbers_reason(numbers: pd.DataFrame, measure: str) -> str:
    """Why a contrast's numbers are not enough (rule 4), or ``""``."""
    if measure == "RR":
        return "responder outcomes are listed only (no pooled responder analysis here)"
    needed = [(arm, q) for arm in ("intervention", "control")
              for q in ("change_mean", "change_sd")]
    disputed = numbers[numbers["status"] == "disputed"]
    disputed_needed = [f"{a} {q}" for a, q in zip(disputed["arm"], disputed["quantity"],
                                                  strict=True)
                       if (a, q) in needed or q in N_PREFERENCE]
    if disputed_needed:
        return "sources disagree on " + ", ".join(dict.fromkeys(disputed_needed))
    missing = [f"{arm} {q}" for arm, q in needed if shown_value(numbers, arm, q) is None]
    missing += [f"{arm} n (analysed, randomised or allocated)"
                for arm in ("intervention", "control") if arm_n(numbers, arm) is None]
    if not missing:
        return ""
    has_difference = all(shown_value(numbers, "contrast", q) is not None
                         for q in ("md", "md_ci_low", "md_ci_high"))
    if has_difference and measure == "MD":
        return ""
    return "incomplete: " + ", ".join(missing) + " not seen" + (
        " (a reported difference with CI cannot enter an SMD analysis)" if has_difference else "")


def arm_n(numbers: pd.DataFrame, arm: str) -> tuple[str, float] | None:
    """``(quantity, n)`` of an arm, the best n available (:data:`N_PREFERENCE`)."""
    for quantity in N_PREFERENCE:
        value = shown_value(numbers, arm, quantity)
        if value is not None:
            return quantity, value
    return None


def resolve_overlap(usable: pd.DataFrame,
                    evidence: EvidenceTable) -> tuple[pd.DataFrame, dict[str, str]]:
    """Keep one trial per overlap group (the largest); reasons for the others (rule 5)."""
    reasons: dict[str, str] = {}
    dropped: set[str] = set()
    grouped = usable[usable["overlap_group"] != ""].groupby("overlap_group")
    for group, rows in grouped:
        trials = list(dict.fromkeys(rows["trial_id"]))
        if len(trials) < 2:
            continue
        sizes = {t: trial_size(evidence, rows[rows["trial_id"] == t]) for t in trials}
        keep = max(trials, key=lambda t: (sizes[t], -trials.index(t)))
        for row in records(rows):
            if row["trial_id"] != keep:
                dropped.add(row["contrast_id"])
                reasons[row["contrast_id"]] = (f"possible overlapping participants with {keep} "
                                            f"(overlap group {group}): only one is pooled")
    return usable[~usable["contrast_id"].isin(dropped)], reasons


def trial_size(evidence: EvidenceTable, rows: pd.DataFrame) -> float:
    """Participants of a trial's contrasts: intervention arms plus one control."""
    total, control = 0.0, 0.0
    for contrast_id in rows["contrast_id"]:
        numbers = evidence.numbers_of(contrast_id)
        found = arm_n(numbers, "intervention")
        total += found[1] if found else 0.0
        found = arm_n(numbers, "control")
        control = max(control, found[1] if found else 0.0)
    return total + control


def study_input(evidence: EvidenceTable, rows: pd.DataFrame) -> StudyInput:
    """One trial's input: its contrasts' arms combined around their shared control."""
    first = rows.iloc[0]
    label = f"{first['study'].split(' (')[0].split(',')[0]} {first['year']}".strip()
    ids = tuple(rows["contrast_id"])
    per_contrast = [evidence.numbers_of(c) for c in ids]
    nan = math.nan
    arms = [arm_numbers(numbers, "intervention") for numbers in per_contrast]
    shown = [arm for arm in arms if arm is not None]
    controls = {arm_numbers(numbers, "control") for numbers in per_contrast}
    control = next(iter(controls))
    if len(shown) < len(arms) or control is None:
        numbers = per_contrast[0]
        md, low, high = (shown_value(numbers, "contrast", q) or nan
                         for q in ("md", "md_ci_low", "md_ci_high"))
        return StudyInput(first["trial_id"], label, nan, nan, nan, nan, nan, nan, md, low, high,
                          ids, "reported between-group difference with 95% CI")
    if len(controls) != 1:
        raise InputError("contrasts of one trial disagree on their shared control arm",
                         field="contrast_id", found=", ".join(ids),
                         expected="identical control numbers in numbers.tsv")
    n_t, mean_t, sd_t = combine_arms([a[1] for a in shown], [a[2] for a in shown],
                                     [a[3] for a in shown])
    note = "n = " + "/".join(sorted({a[0] for a in shown} | {control[0]}))
    if len(shown) > 1:
        note += f"; {len(shown)} intervention arms combined (Cochrane Handbook table 6.5.a)"
    return StudyInput(first["trial_id"], label, n_t, mean_t, sd_t, control[1], control[2],
                      control[3], nan, nan, nan, ids, note)


def arm_numbers(numbers: pd.DataFrame, arm: str) -> tuple[str, float, float, float] | None:
    """``(n quantity, n, mean change, SD change)`` of an arm, or ``None`` if incomplete."""
    found = arm_n(numbers, arm)
    mean = shown_value(numbers, arm, "change_mean")
    sd = shown_value(numbers, arm, "change_sd")
    if found is None or mean is None or sd is None:
        return None
    return found[0], found[1], mean, sd


def certainty_notes(evidence: EvidenceTable, contrasts: pd.DataFrame,
                    verdicts: tuple[ContrastVerdict, ...], studies: tuple[StudyInput, ...], *,
                    condition: str, outcome: str) -> tuple[str, ...]:
    """Caveats for the group: missing trials, risk of bias, n used, conversions, overlap."""
    notes = []
    all_trials = contrasts["trial_id"].nunique()
    if len(studies) < all_trials:
        left = sorted({v.trial_id for v in verdicts} - {s.trial_id for s in studies})
        notes.append(f"{all_trials - len(studies)} of {all_trials} trials could not be "
                     f"included ({', '.join(left)}): their results may differ")
    used = contrasts[contrasts["trial_id"].isin([s.trial_id for s in studies])]
    rob_notes = {row["trial_id"]: row["risk_of_bias_note"]
                 for row in records(used.drop_duplicates("trial_id"))
                 if row["risk_of_bias_note"]}
    notes.extend(f"{trial}: {note}" for trial, note in rob_notes.items())
    for study in studies:
        if study.from_difference:
            notes.append(f"{study.trial_id}: enters as a reported difference with 95% CI "
                         "(variance from the CI width)")
        elif "n_analysed" not in study.note and "n used" not in rob_notes.get(study.trial_id, ""):
            notes.append(f"{study.trial_id}: analysed n not seen; {study.note}")
        elif "combined" in study.note:
            notes.append(f"{study.trial_id}: {study.note}")
    excluded_overlap = [v for v in verdicts if v.reason.startswith("possible overlapping")]
    notes.extend(f"{v.trial_id} left out: {v.reason}" for v in excluded_overlap)
    if outcome == "ibs_sss_total":
        notes.append("IBS-SSS total is a global severity score; pain is 2 of its 5 items")
    meta = evidence.select(condition=condition).meta_analyses
    if len(meta):
        notes.append(f"{len(meta)} published meta-analyses on this condition are listed, "
                     "not pooled with the trials (they contain them)")
    return tuple(notes)

"""The plain words of an association report: what a coefficient measures, how strong the
evidence of a q-value is, and why a fit was flagged.

These are the sentences a clinician reads beside the numbers; they live in one place so
the HTML report, the web app and a notebook say the same thing.
"""

from __future__ import annotations

import math

import numpy as np

from gutaxis.report.function_names import MODULE_ID, function_label
from gutaxis.stats.association_results import AssociationSpec

#: q-values below this are labelled stronger evidence; from it up to the scan's
#: ``max_significance`` the association is a weak lead (a hypothesis to test, no more).
STRONG_EVIDENCE_Q = 0.05
#: The ``evidence`` of a row that does not pass the false-discovery threshold (drawn grey).
NOT_SIGNIFICANT = "not significant"

STRONG_LABEL = "stronger"
WEAK_LABEL = "weak — hypothesis only"

#: Why a fit is flagged: the keys looked for in the ``error`` text (in this order, the first
#: match wins), a short label for a table cell, and the reason in plain words.
FLAG_REASONS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("singular",), "singular fit",
     "random-effect variance estimated at zero (singular fit): the model is equivalent to "
     "one without that random intercept; its estimates are kept and reported"),
    (("separation",), "separated term",
     "separation in the presence model: this term predicts presence or absence exactly, so "
     "its effect is unbounded in the data; the number shown is the augmented estimate "
     "(MaAsLin 3's), kept finite only by the pseudo-observations: read it as a large "
     "effect in that direction, not as its size. The feature's other terms are estimated "
     "as usual"),
    (("present in all", "absent from all"), "always or never present",
     "present in every sample or in none: there is no presence/absence to model"),
    (("constant within strata",), "not estimable within strata",
     "the covariate does not vary within the matched sets (strata), so the presence model, "
     "which compares samples only within a set, cannot estimate it"),
    (("constant",), "constant feature",
     "the feature has the same value in every sample used: there is nothing to test"),
    (("no residual degrees of freedom",), "too few samples",
     "too few samples for the number of terms in the model"),
    (("aliased",), "level not estimable",
     "on this feature's samples a level of a categorical variable coincides with other terms "
     "(R and MaAsLin 3 drop it too): that level is not estimated, the other terms are"),
    (("one level only", "reference level"), "one level only",
     "a categorical variable takes one level only, or lacks its reference level, among this "
     "feature's samples: no comparison of levels can be made (R and MaAsLin 3 refuse it too)"),
    (("rank-deficient",), "collinear covariates",
     "the covariates are collinear on this feature's samples (one is a combination of the "
     "others), so their effects cannot be separated"),
    (("induced by abundance",), "may be induced by abundance",
     "a prevalence association that a stronger abundance association in the same direction "
     "may explain (MaAsLin 3's warn_prevalence): read the feature's abundance row first; "
     "left out of the joint p-value"),
    (("rare feature",), "rare feature, extreme fit",
     "a very large coefficient or a tiny p-value on a feature present in under 5% of the "
     "samples: usually a misfit near separation; left out of the q-values"),
    (("common feature",), "common feature, extreme fit",
     "a very large coefficient or a tiny p-value on a feature absent from under 5% of the "
     "samples: usually a misfit near separation; left out of the q-values"),
    (("a level is absent",), "missing ordered level",
     "a level of the ordered variable has none of this feature's samples: its "
     "level-vs-previous comparisons are not reported; the other terms are"),
    (("converge", "not fitted"), "did not converge",
     "did not converge: the fitting algorithm found no stable estimate, none is reported"),
)

OTHER_LABEL = "other problem"
OTHER_REASON = "other numerical problem (see the error column of all_results.tsv)"

_VALUE_WORDS = {"TSS": "relative abundance", "NONE": "abundance as given in the input",
                "CLR": "centred log-ratio (CLR) units"}
_VALUE_NOTES = {
    "TSS": "relative abundance is the feature's proportion of the sample's total",
    "CLR": "CLR is the natural log of the count + 1 minus the sample's mean of those logs, so "
           "one unit is a factor of e relative to the sample's typical feature",
}
_TRANSFORM_NOTES = {
    "LOG": "zeros are replaced by half the feature's smallest nonzero value before the log2",
    "AST": "AST is arcsin(\u221ap) of a proportion p, in radians",
    "LOGIT": "logit is ln(p / (1 \u2212 p)) of a proportion p",
}


def flag_reason(error: str) -> tuple[str, str]:
    """The short label and the plain-words reason of a flagged fit, from its ``error`` text.

    >>> flag_reason("mixed model did not converge")[0]
    'did not converge'
    """
    text = str(error).lower()
    for keys, label, words in FLAG_REASONS:
        if any(key in text for key in keys):
            return label, words
    return OTHER_LABEL, OTHER_REASON


def evidence_label(qval: np.ndarray) -> np.ndarray:
    """``"stronger"`` where ``q < STRONG_EVIDENCE_Q``, else ``"weak — hypothesis only"``
    (the report shows significant rows only, so every q here is at most the threshold)."""
    q = np.asarray(qval, dtype=np.float64)
    return np.where(q < STRONG_EVIDENCE_Q, STRONG_LABEL, WEAK_LABEL)


def evidence_rule(max_significance: float) -> str:
    """The labelling rule, stated on the page."""
    return (f"q < {STRONG_EVIDENCE_Q:g}: \u201c{STRONG_LABEL}\u201d evidence; "
            f"{STRONG_EVIDENCE_Q:g} \u2264 q \u2264 {max_significance:g}: "
            f"\u201c{WEAK_LABEL}\u201d, a lead to test in new data, not a finding.")


def outcome_scale(spec: AssociationSpec) -> str:
    """The abundance model's outcome scale, e.g. ``"log2 relative abundance"``."""
    value = _VALUE_WORDS.get(spec.normalization, spec.normalization)
    if spec.unscaled_abundance is not None:
        value = "scaled abundance"
    if spec.transform == "LOG":
        return f"log2 {value}"
    if spec.transform == "AST":
        return f"arcsine-square-root (AST) units of {value}"
    if spec.transform == "LOGIT":
        return f"log-odds (logit) of {value}"
    return value


def outcome_notes(spec: AssociationSpec) -> list[str]:
    """How the outcome was computed, one clause per step (normalisation, transform)."""
    notes = [_VALUE_NOTES.get(spec.normalization, ""), _TRANSFORM_NOTES.get(spec.transform, "")]
    if spec.unscaled_abundance == "total":
        notes[0] = ("scaled abundance is the feature's proportion of the sample's total times "
                    "the sample's total microbial load (MaAsLin 3's unscaled_abundance)")
    elif spec.unscaled_abundance is not None:
        notes[0] = (f"scaled abundance is the feature's reads divided by those of the spike-in "
                    f"{spec.unscaled_abundance}, times the amount of spike-in added (MaAsLin 3's "
                    "unscaled_abundance)")
    if spec.prevalence_model and spec.transform == "LOG":  # zeros are absences, not imputed
        notes[1] = "zeros are absences: the abundance model uses the nonzero values only"
    return [note for note in notes if note]


def outcome_short(spec: AssociationSpec) -> str:
    """The outcome scale in a few words, for an axis label."""
    base = {"TSS": "relative abundance", "CLR": "CLR units", "NONE": "input units"}.get(
        spec.normalization, spec.normalization)
    return {"LOG": f"log2 {base}", "AST": "arcsine-sqrt (AST) units",
            "LOGIT": f"logit {base}"}.get(spec.transform, base)


def coefficient_meaning(spec: AssociationSpec, *, model: str = "abundance") -> list[str]:
    """What one unit of each fixed effect's coefficient means: a first sentence naming the
    scale, then one line per variable."""
    if model == "prevalence":
        scale = "the log-odds that the feature is present (logistic model)"
    else:
        scale = outcome_scale(spec)
    unit = "standard deviation" if spec.standardize else "unit"
    lines = [f"The coefficient (coef) is in {scale}."]
    for var in spec.fixed:
        if var in spec.group_effects:
            lines.append(f"{var}: no coefficient; one test of any difference among its levels "
                         "(MaAsLin 3's group predictor).")
        elif var in spec.ordered_effects:
            lines.append(f"{var}: the difference between each level and the previous level "
                         f"(ordered levels {', '.join(spec.levels[var])}).")
        elif var in spec.levels:
            ref = spec.levels[var][0]
            lines.append(f"{var}: the difference between each level and the reference level "
                         f"\u201c{ref}\u201d.")
        else:
            lines.append(f"{var}: the change per {unit} of {var}.")
    return lines


def term_words(var: str, value: str, spec: AssociationSpec) -> str:
    """A result row's term in words: ``"diagnosis: CD vs nonIBD"`` for a level (``vs`` the
    previous level for an ordered variable), ``"group: any of its levels"`` for a group test,
    else the variable's name."""
    if var in spec.group_effects:
        return f"{var}: any difference among its levels"
    if var in spec.ordered_effects and value in spec.levels[var]:
        order = spec.levels[var]
        return f"{var}: {value} vs {order[max(order.index(value) - 1, 0)]}"
    return f"{var}: {value} vs {spec.levels[var][0]}" if var in spec.levels else var


def log2_hint(spec: AssociationSpec) -> str:
    """For a log2 outcome, how to read a coefficient as a fold change ("" otherwise)."""
    if spec.transform != "LOG":
        return ""
    return ("On the log2 scale a coef of 1 means twice the abundance, \u22121 half; "
            "2^coef is the fold change.")

#: Taxon names that say nothing alone: the parent rank is shown with them.
_VAGUE_NAMES = ("uncultured", "unclassified", "unidentified", "unknown", "metagenome",
                "incertae sedis")


def short_name(feature: str) -> str:
    """A readable label for a feature id: the deepest assigned rank of a lineage id
    (``"...;f__Lachnospiraceae;g__Roseburia"`` -> ``"g__Roseburia"``; an unassigned genus
    -> ``"f__Lachnospiraceae;g__"``; a vague name keeps its parent:
    ``"f__Muribaculaceae;g__uncultured"``), a gut module's name (``"Tryptophan synthesis
    (MGB005)"``), or the id itself."""
    parts = str(feature).split(";")
    if len(parts) == 1:
        return function_label(str(feature)) if MODULE_ID.fullmatch(str(feature)) else str(feature)
    assigned = [i for i, part in enumerate(parts) if not part.endswith("__") and part]
    if not assigned:
        return str(feature)
    last = assigned[-1]
    if last == len(parts) - 1 and last > 0 and any(
            vague in parts[last].lower() for vague in _VAGUE_NAMES):
        last -= 1
    return parts[last] if last == len(parts) - 1 else ";".join(parts[last:])


def evidence_words(p: float) -> str:
    """How strong the evidence of a p- (or q-) value is, in words.

    Parameters
    ----------
    p
        The p-value (``NaN``: not tested).
    """
    if not math.isfinite(p):
        return "not tested"
    if p < 0.001:
        return "strong evidence"
    if p < 0.01:
        return "moderate evidence"
    if p < 0.05:
        return "weak evidence"
    return "no clear evidence"


def estimate_text(x: float, digits: int = 2) -> str:
    """An estimate as a report prints it: ``digits`` decimals, two significant digits when
    smaller than 0.01, ``NA`` when not finite.

    Parameters
    ----------
    x
        The number.
    digits
        Decimals of numbers >= 0.01.
    """
    if not math.isfinite(x):
        return "NA"
    return f"{x:.{digits}f}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"


def p_text(p: float) -> str:
    """A p- or q-value as a report prints it after "p": ``< 0.001``, ``= 0.012``, ``= 0.34``.

    Parameters
    ----------
    p
        The p- or q-value.
    """
    if not math.isfinite(p):
        return "NA"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}" if p < 0.1 else f"= {p:.2f}"

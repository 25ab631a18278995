"""The mechanism section of the ``gutaxis analyze`` report: "what the gut makes and lets
through": the module scan (a table and a forest plot with module names), the mediation
paths gut function -> marker -> outcome with their intervals, and the caveats (measured
or inferred function, marker assays, mediation's assumptions).

The section is drawn from :class:`gutaxis.analyze.mechanism.MechanismResults`, passed in
as an object with its attributes (this layer does not import the pipeline).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import pandas as pd

from gutaxis.report.association_words import (
    NOT_SIGNIFICANT,
    STRONG_EVIDENCE_Q,
    estimate_text,
    evidence_words,
    p_text,
)
from gutaxis.report.function_names import function_label
from gutaxis.stats.results import wald_interval

__all__ = ["mechanism_finding", "mechanism_section"]

SECTION_TITLE = "Mechanism: what the gut makes and lets through"
#: Longest label of a forest plot line (longer names are cut, the id kept).
LABEL_CHARS = 60


def _rows(scan: Any, variable: str, top: int) -> pd.DataFrame:
    rows = scan.outcome_rows(variable)
    rows = rows[rows["coef"].notna()].sort_values("pval", kind="stable").head(top)
    low, high = wald_interval(rows["coef"].to_numpy(dtype=float),
                              rows["stderr"].to_numpy(dtype=float),
                              rows["df"].to_numpy(dtype=float))
    q = rows["qval"].to_numpy(dtype=float)
    threshold = scan.results.spec.max_significance
    return rows.assign(ci_low=low, ci_high=high, label=[
        _label(scan.key, f, scan.names) for f in rows["feature"]], evidence=np.select(
        [q < STRONG_EVIDENCE_Q, q <= threshold], ["stronger", "weak — hypothesis only"],
        NOT_SIGNIFICANT))


_num = estimate_text


def _short_label(label: str, feature: str, *, keep_id: bool) -> str:
    """``label`` cut to :data:`LABEL_CHARS` characters, keeping the id at its end."""
    if len(label) <= LABEL_CHARS:
        return label
    if not keep_id:
        return label[:LABEL_CHARS - 1].rstrip() + "\u2026"
    return f"{label[:LABEL_CHARS - len(feature) - 4].rstrip()}\u2026 ({feature})"


def _label(scan_key: str, feature: str, names: dict[str, str]) -> str:
    """A module's name and id; an inferred guild's name alone (its id is its column)."""
    if scan_key == "guilds":
        return names.get(feature, feature)
    return function_label(feature, names)


def _q(x: float) -> str:
    return p_text(x).removeprefix("= ").replace("< ", "<\u00a0")


def _effect_words(scan: Any) -> str:
    spec = scan.results.spec
    outcome = spec.fixed[0] if spec.fixed else "the outcome"
    if spec.transform == "LOG":
        return f"log2 fold change per unit of {outcome} (95% CI)"
    return f"change per unit of {outcome} (95% CI)"


def _caption(scan: Any) -> str:
    spec = scan.results.spec
    words = _effect_words(scan)
    text = (f"{words[0].upper()}{words[1:]}, adjusted as in the per-feature scan; grey "
            "ones do not pass the false-discovery threshold.")
    if spec.median_comparison_abundance:
        text += (" Each coefficient is tested against the median coefficient of all "
                 "functions scanned (MaAsLin 3's median comparison, for compositional "
                 "data): a function can differ from the others while its interval "
                 "includes 0.")
    return text


def _scan_block(scan: Any, variable: str, top: int, figures: bool) -> dict[str, Any]:
    from gutaxis.report.association_plots import _png, forest_figure

    rows = _rows(scan, variable, top)
    all_rows = scan.outcome_rows(variable)
    threshold = scan.results.spec.max_significance
    n_hits = int((all_rows["qval"] <= threshold).sum())
    table = [[r["label"], _num(r["coef"]), f"{_num(r['ci_low'])} to {_num(r['ci_high'])}",
              _q(r["pval"]), _q(r["qval"]), r["evidence"]] for _, r in rows.iterrows()]
    png = ""
    if figures and len(rows):
        labels = [_short_label(label, feature, keep_id=scan.key != "guilds")
                  for label, feature in zip(rows["label"], rows["feature"], strict=True)]
        png = base64.b64encode(_png(forest_figure(
            rows, xlabel=_effect_words(scan), labels=labels,
            null=_median_null(scan, all_rows)))).decode("ascii")
    return {"key": scan.key, "title": scan.title, "evidence": scan.evidence,
            "how": scan.values, "short": scan.title,
            "about": scan.about[:1].upper() + scan.about[1:],
            "n_tested": len(all_rows), "n_hits": n_hits,
            "threshold": f"{threshold:g}", "rows": table, "png": png,
            "effect": _effect_words(scan), "caption": _caption(scan)}


def _median_null(scan: Any, all_rows: pd.DataFrame) -> float | None:
    """The coefficient the abundance test compared with: the median over all features
    (MaAsLin 3's median comparison, coefficients not shifted), else ``None`` (zero)."""
    spec = scan.results.spec
    if not getattr(spec, "median_comparison_abundance", False) or getattr(
            spec, "subtract_median", False):
        return None
    coefs = pd.to_numeric(all_rows["coef"], errors="coerce").dropna()
    return float(coefs.median()) if len(coefs) else None


def _path_rows(mechanism: Any) -> list[dict[str, str]]:
    out = []
    for p in mechanism.paths:
        e = p.mediation.effects.set_index("effect")
        acme, ade, total = e.loc["acme"], e.loc["ade"], e.loc["total"]
        prop = float(e.loc["prop_mediated", "estimate"]) if "prop_mediated" in e.index else \
            float("nan")
        out.append({
            "path": f"{_label(p.scan, p.feature, {p.feature: p.name})} \u2192 {p.marker} \u2192 "
                    f"{mechanism.variable}",
            "contrast": p.contrast,
            "acme": f"{_num(acme['estimate'])} ({_num(acme['ci_low'])} to "
                    f"{_num(acme['ci_high'])})",
            "ade": f"{_num(ade['estimate'])} ({_num(ade['ci_low'])} to {_num(ade['ci_high'])})",
            "total": f"{_num(total['estimate'])} ({_num(total['ci_low'])} to "
                     f"{_num(total['ci_high'])})",
            "prop": "NA" if not math.isfinite(prop) else f"{100 * prop:.0f}%",
            "p": _q(float(acme["pval"])), "n": str(p.mediation.n),
            "strength": evidence_words(float(acme["pval"]))})
    return out


def mechanism_section(results: Any, *, figures: bool = True) -> dict[str, Any] | None:
    """The template context of the mechanism section, or ``None`` when the step did
    not run.

    Parameters
    ----------
    results
        A :class:`gutaxis.analyze.AnalysisResults`.
    figures
        Draw the forest plots.
    """
    mechanism = getattr(results, "mechanism", None)
    if mechanism is None:
        return None
    top = results.config["report"]["top"]
    scans = [_scan_block(s, mechanism.variable, top, figures) for s in mechanism.scans]
    inferred = mechanism.inferred
    evidence = sorted({s["evidence"] for s in scans})
    lead = ("No functional profile was given: the gut's metabolic guilds were inferred from "
            "its taxonomy and stand in for measured function. Read them as hints."
            if inferred else
            f"The gut's functions ({' and '.join(evidence)}), grouped as "
            + " and ".join(s["short"] for s in scans) + f", were tested against "
            f"{mechanism.variable} with the model of the per-feature scan (same covariates "
            "and random effects); then the functions with the smallest q were followed "
            "through the barrier and inflammation markers.")
    return {"title": SECTION_TITLE, "lead": lead, "inferred": inferred, "scans": scans,
            "markers": list(mechanism.markers), "paths": _path_rows(mechanism),
            "caveats": list(mechanism.caveats), "notes": list(mechanism.notes)}


def mechanism_finding(results: Any) -> dict[str, str] | None:
    """The mechanism's line among the findings of the first screen (``None`` if none).

    Parameters
    ----------
    results
        A :class:`gutaxis.analyze.AnalysisResults`.
    """
    mechanism = getattr(results, "mechanism", None)
    if mechanism is None or not mechanism.scans:
        return None
    frames = [_rows(s, mechanism.variable, 10**6) for s in mechanism.scans]
    rows = pd.concat(frames, ignore_index=True).sort_values("qval", kind="stable")
    modules = any(s.profile is not None or s.key == "modules" for s in mechanism.scans)
    kind = ("inferred guilds" if mechanism.inferred else "gut modules" if modules
            else "gut functions")
    hits = rows[rows["evidence"] != NOT_SIGNIFICANT]
    if len(hits):
        named = "; ".join(f"{r['label']}: log2 FC {_num(r['coef'])} (95% CI "
                          f"{_num(r['ci_low'])} to {_num(r['ci_high'])}, q {_q(r['qval'])})"
                          for _, r in hits.head(3).iterrows())
        text = f"{len(hits)} of {len(rows)} {kind} were associated with the outcome: {named}."
        strength = evidence_words(float(hits["qval"].min()))
        if strength == "no clear evidence":
            strength = "weak evidence"
    else:
        text = f"None of {len(rows)} {kind} was associated with the outcome."
        strength = "no clear evidence"
    if mechanism.paths:
        best = min(mechanism.paths, key=lambda p: float(
            p.mediation.effects.set_index("effect").loc["acme", "pval"]))
        e = best.mediation.effects.set_index("effect").loc["acme"]
        label = _label(best.scan, best.feature, {best.feature: best.name})
        text += (f" Strongest path through a marker: {label} \u2192 {best.marker} \u2192 "
                 f"{mechanism.variable}, mediated effect {_num(e['estimate'])} per "
                 f"{best.contrast.removeprefix('a ')} (95% CI {_num(e['ci_low'])} to "
                 f"{_num(e['ci_high'])}; {evidence_words(float(e['pval']))}).")
    if mechanism.inferred:
        text += " Inferred from taxonomy, not measured."
    return {"title": "Gut function", "text": text, "strength": strength}

"""The report of ``gutaxis analyze``: one self-contained HTML page (figures embedded as
base64 PNG, no network) with the findings first, in plain words, then methods, cohort,
figures, tables, limitations and provenance.

The page is drawn from the results of the analysis (:class:`gutaxis.analyze.AnalysisResults`,
passed in as an object with its attributes; this layer does not import the pipeline) with
the figure functions of the other report modules.
"""

from __future__ import annotations

import base64
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from gutaxis.report.association_words import (
    NOT_SIGNIFICANT,
    STRONG_EVIDENCE_Q,
    estimate_text,
    evidence_words,
    p_text,
    short_name,
)
from gutaxis.report.mechanism_report import mechanism_section
from gutaxis.stats.results import wald_interval

__all__ = ["analysis_html", "evidence_words", "taxon_name", "write_analysis_report"]

_TEMPLATE = "analysis_report.html.j2"

CITATIONS: dict[str, str] = {
    "permanova": "Anderson MJ (2001). A new method for non-parametric multivariate analysis of "
                 "variance. Austral Ecology 26:32-46. doi:10.1111/j.1442-9993.2001.01070.pp.x",
    "maaslin": "Mallick H, Rahnavard A, McIver LJ, et al. (2021). Multivariable association "
               "discovery in population-scale meta-omics studies. PLoS Comput Biol "
               "17(11):e1009442. doi:10.1371/journal.pcbi.1009442",
    "bh": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. J R Stat Soc "
          "B 57:289-300.",
    "nested": "Varma S, Simon R (2006). Bias in error estimation when using cross-validation "
              "for model selection. BMC Bioinformatics 7:91. doi:10.1186/1471-2105-7-91",
    "mediation": "Imai K, Keele L, Tingley D (2010). A general approach to causal mediation "
                 "analysis. Psychol Methods 15(4):309-334. doi:10.1037/a0020761",
    "unifrac": "Lozupone C, Knight R (2005). UniFrac: a new phylogenetic method for comparing "
               "microbial communities. Appl Environ Microbiol 71:8228-8235.",
    "gloor": "Gloor GB, Macklaim JM, Pawlowsky-Glahn V, Egozcue JJ (2017). Microbiome datasets "
             "are compositional: and this is not optional. Front Microbiol 8:2224.",
}


def taxon_name(feature: str) -> str:
    """The last named rank of a lineage, without its ``g__``-style prefix.

    Parameters
    ----------
    feature
        A feature id or lineage (``k__Bacteria;...;g__Blautia``).
    """
    ranks = [re.sub(r"^[a-z]__", "", part.strip()) for part in str(feature).split(";")]
    named = [r for r in ranks if r]
    if not named:
        return short_name(feature)
    return named[-1] if ranks[-1] else f"unclassified {named[-1]}"


def analysis_html(results: Any) -> str:
    """The report of an analysis as one HTML string.

    Parameters
    ----------
    results
        A :class:`gutaxis.analyze.AnalysisResults`.
    """
    env = jinja2.Environment(loader=jinja2.PackageLoader("gutaxis.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(_TEMPLATE).render(_context(results))


def write_analysis_report(results: Any, path: str | Path) -> Path:
    """Write :func:`analysis_html` to ``path`` (UTF-8); return the path.

    Parameters
    ----------
    results
        A :class:`gutaxis.analyze.AnalysisResults`.
    path
        Where to write the page.
    """
    out = Path(path)
    out.write_text(analysis_html(results), encoding="utf-8")
    return out


_fmt = estimate_text
_p = p_text


def _design_words(results: Any) -> dict[str, str]:
    d = results.config["design"]
    kind, outcome = d["outcome_type"], d["outcome"]
    if kind == "binary":
        negative = [lv for lv in d["levels"] if lv not in d["positive"]]
        pos, neg = " / ".join(d["positive"]), " / ".join(negative)
        contrast = f"in {pos} compared with {neg}"
        question = f"Does the gut microbiome differ between {pos} and {neg} ({outcome})?"
    elif kind == "ordinal":
        contrast = f"per step up in {outcome}"
        question = f"Does the gut microbiome change along {outcome} ({' < '.join(d['levels'])})?"
    else:
        contrast = f"per unit of {outcome}"
        question = f"Is the gut microbiome associated with {outcome}?"
    covs = ", ".join(d["covariates"]) or "nothing"
    return {"contrast": contrast, "question": question, "adjusted": covs}


def _outcome_label(design: dict[str, Any]) -> str:
    """The outcome as the models see it: ``pain``, ``group score``, ``P(fm = yes)``."""
    if design["outcome_type"] == "ordinal":
        return f"{design['outcome']} score (0 to {len(design['levels']) - 1})"
    if design["outcome_type"] == "binary":
        return f"the probability of {design['outcome']} = {' / '.join(design['positive'])}"
    return str(design["outcome"])


def _outcome_rows(assoc: Any, variable: str) -> pd.DataFrame:
    table = assoc.table
    rows = table[(table["metadata"] == variable) & (table["model"] == "abundance")
                 & table["coef"].notna()].sort_values("pval")
    low, high = wald_interval(rows["coef"].to_numpy(), rows["stderr"].to_numpy(),
                              rows["df"].to_numpy())
    q = rows["qval"].to_numpy(dtype=float)
    return rows.assign(ci_low=low, ci_high=high, evidence=np.select(
        [q < STRONG_EVIDENCE_Q, q < assoc.spec.max_significance],
        ["stronger", "weak — hypothesis only"], NOT_SIGNIFICANT))


def _findings(results: Any, words: dict[str, str]) -> list[dict[str, str]]:
    """The three to five findings of the first screen."""
    found: list[dict[str, str]] = []
    v = results.outcome_variable
    if results.alpha is not None:
        rows = _outcome_rows(results.alpha, v).set_index("feature")
        name = "shannon_entropy" if "shannon_entropy" in rows.index else (
            rows.index[0] if len(rows) else None)
        if name is not None:
            r: pd.Series = rows.loc[name]  # type: ignore[assignment]
            direction = "lower" if r["coef"] < 0 else "higher"
            base = results.config["diversity"]["shannon_base"]
            unit = " bits" if name == "shannon_entropy" and base == 2 else ""
            found.append({
                "title": "Diversity",
                "text": f"{name.replace('_', ' ').capitalize()} was {direction} by "
                        f"{_fmt(abs(r['coef']))}{unit} {words['contrast']} (95% CI "
                        f"{_fmt(r['ci_low'])} to {_fmt(r['ci_high'])}; p {_p(r['pval'])}), "
                        f"adjusted for {words['adjusted']}.",
                "strength": evidence_words(float(r["pval"]))})
    if results.community is not None:
        t = results.community.permanova.table.set_index("term")
        if v in t.index:
            r = t.loc[v]
            found.append({
                "title": "Overall composition",
                "text": f"The outcome accounted for {100 * r['r2']:.1f}% of the differences in "
                        f"community composition between people "
                        f"({results.config['community']['metric']}, PERMANOVA p "
                        f"{_p(r['pval'])}, adjusted for {words['adjusted']}).",
                "strength": evidence_words(float(r["pval"]))})
    if results.association is not None:
        rows = _outcome_rows(results.association, v)
        q = results.association.spec.max_significance
        hits = rows[rows["qval"] <= q]
        rank = results.config["association"]["rank"] or "feature"
        functional = getattr(results, "feature_type", "taxon") != "taxon"
        what = "functions" if functional else f"{rank}-level taxa"
        if functional:
            rank = "function"
        if len(hits):
            named = "; ".join(
                f"{taxon_name(r['feature'])} \u00d7{2 ** r['coef']:.2g} "
                f"(95% CI \u00d7{2 ** r['ci_low']:.2g} to \u00d7{2 ** r['ci_high']:.2g}, "
                f"q {_p(r['qval'])})" for _, r in hits.head(3).iterrows())
            text = (f"{len(hits)} of {len(rows)} {what} differed {words['contrast']} "
                    f"at a false discovery rate of {q:g}: {named} (\u00d7 is the ratio of "
                    "relative abundance; below 1 means lower).")
            strength = evidence_words(float(hits["qval"].min()))
            if strength == "no clear evidence":  # passes the FDR threshold, q >= 0.05
                strength = "weak evidence"
        else:
            best = rows.iloc[0] if len(rows) else None
            text = (f"No single {rank} of {len(rows)} tested was associated at a false "
                    f"discovery rate of {q:g}" + (
                        f" (smallest q: {_fmt(float(best['qval']))}, "
                        f"{taxon_name(best['feature'])})." if best is not None else "."))
            strength = "no clear evidence"
        found.append({"title": "Individual functions" if functional else "Individual taxa",
                      "text": text, "strength": strength})
    from gutaxis.report.mechanism_report import mechanism_finding

    mechanism = mechanism_finding(results)
    if mechanism is not None:
        found.append(mechanism)
    if results.classifier is not None:
        perf = results.classifier.performance.set_index("metric").loc["auroc"]
        p = float(perf["pval"])
        found.append({
            "title": "Prediction",
            "text": f"A cross-validated classifier told the groups apart with an AUROC of "
                    f"{perf['estimate']:.2f} (range over repeats {perf['ci_low']:.2f} to "
                    f"{perf['ci_high']:.2f}; 0.5 is chance"
                    + (f"; permutation p {_p(p)}" if math.isfinite(p) else "") + ").",
            "strength": evidence_words(p) if math.isfinite(p) else "not tested"})
    if results.mediation is not None:
        m = results.mediation
        e = m.effects.set_index("effect")
        acme, total = e.loc["acme"], e.loc["total"]
        found.append({
            "title": "Mediation",
            "text": f"Of the effect on {_outcome_label(results.config['design'])} of "
                    f"moving {m.exposure} from {m.control} to {m.treated} (total "
                    f"{_fmt(total['estimate'])}, 95% CI "
                    f"{_fmt(total['ci_low'])} to {_fmt(total['ci_high'])}), the part through "
                    f"{', '.join(m.mediators)} was {_fmt(acme['estimate'])} (95% CI "
                    f"{_fmt(acme['ci_low'])} to {_fmt(acme['ci_high'])}; p {_p(acme['pval'])}).",
            "strength": evidence_words(float(acme["pval"]))})
    return found


def _figure(draw: Callable[[Path], object]) -> str:
    """Base64 PNG of a figure that ``draw`` writes to the path it is given."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return base64.b64encode(path.read_bytes()).decode("ascii")


def _png(fig: Any) -> str:
    from gutaxis.report.association_plots import _png as png_bytes

    return base64.b64encode(png_bytes(fig)).decode("ascii")


def _figures(results: Any, words: dict[str, str]) -> list[dict[str, str]]:
    from gutaxis.report.association_plots import forest_figure, plot_association
    from gutaxis.report.classify_plots import plot_roc
    from gutaxis.report.community_plots import plot_pcoa
    from gutaxis.report.mediation_plots import mediation_figure

    v = results.outcome_variable
    outcome = results.config["design"]["outcome"]
    figures: list[dict[str, str]] = []
    if results.alpha is not None:
        rows = _outcome_rows(results.alpha, v)
        shannon = rows[rows["feature"] == "shannon_entropy"]
        row = shannon.iloc[0] if len(shannon) else (rows.iloc[0] if len(rows) else None)
        if row is not None:
            figures.append({"id": "fig-diversity", "title": f"Diversity and {outcome}",
                            "png": _figure(lambda p: plot_association(results.alpha, row,
                                                                       path=p)),
                            "caption": f"{row['feature']} of each sample against {v} "
                                       f"(unadjusted display; the estimate above is adjusted)."})
    if results.metrics is not None:
        metric = results.config["community"]["metric"]
        figures.append({"id": "fig-pcoa", "title": f"Community composition by {outcome}",
                        "png": _figure(lambda p: plot_pcoa(
                            results.metrics.distances[metric], results.metadata, path=p,
                            column=outcome, title=f"PCoA of {metric} by {outcome}")),
                        "caption": "Each dot is a sample; closer dots have more similar "
                                   "communities."})
    if results.association is not None:
        rows = _outcome_rows(results.association, v).head(results.config["report"]["top"])
        if len(rows):
            labels = [f"{taxon_name(f)}  (q {_p(q).removeprefix('= ')})"
                      for f, q in zip(rows["feature"], rows["qval"], strict=True)]
            figures.append({"id": "fig-taxa", "title": f"{_things(results).capitalize()} most "
                            "associated with the outcome",
                            "png": _png(forest_figure(rows, xlabel="log2 fold change of "
                                                      "relative abundance (95% CI)",
                                                      labels=labels)),
                            "caption": f"Log2 fold change {words['contrast']}. "
                                       f"The {_things(results)} with the smallest p-values; "
                                       "grey ones do not "
                                       "pass the false-discovery threshold; bars are 95% "
                                       "confidence intervals, adjusted for "
                                       f"{words['adjusted']}."})
    if results.classifier is not None:
        figures.append({"id": "fig-roc", "title": "Classifier ROC curve",
                        "png": _png(plot_roc(results.classifier)),
                        "caption": "Out-of-fold predictions of nested cross-validation; the "
                                   "diagonal is chance."})
    if results.mediation is not None:
        figures.append({"id": "fig-mediation", "title": "Mediation diagram",
                        "png": _png(mediation_figure(results.mediation)),
                        "caption": "Path coefficients on the arrows; the mediated (ACME), "
                                   "direct (ADE) and total effects below, with intervals."})
    return figures


def _things(results: Any) -> str:
    """What the main table's features are, in the plural: ``taxa`` or ``functions``."""
    return "taxa" if getattr(results, "feature_type", "taxon") == "taxon" else "functions"


def _scan_unit(results: Any) -> str:
    """What the per-feature scan tests one of: ``genus``, ``feature`` or ``function``."""
    if getattr(results, "feature_type", "taxon") != "taxon":
        return "function"
    return str(results.config["association"]["rank"] or "feature")


def _samples_left_out(results: Any) -> str:
    """Which samples were left out, and why, in a sentence (no depth rule on values that
    are not reads, such as RPK)."""
    n = len(results.dropped)
    unit = getattr(results, "unit", None)
    if unit in (None, "counts"):
        return (f"Samples with a missing outcome or covariate, and samples with fewer than "
                f"{results.config['checks']['min_depth']} reads, were left out ({n} in all). ")
    return (f"Samples with a missing outcome or covariate were left out ({n} in all; depth "
            f"is not checked on {unit} values). ")


def _methods(results: Any, words: dict[str, str]) -> list[str]:
    c = results.config
    d = c["design"]
    lines = [
        _samples_left_out(results) + f"Group comparisons need at least "
        f"{c['checks']['min_group_size']} samples per group.",
        f"Alpha diversity ({', '.join(c['diversity']['metrics'])}; with a tree also "
        f"{', '.join(c['diversity']['tree_metrics'])}) was computed per sample "
        f"(Shannon in log base {c['diversity']['shannon_base']:g}) and each metric was regressed "
        f"on {results.outcome_variable} adjusted for {words['adjusted']}"
        + (f", with a random intercept per {d['subject']}" if d["subject"] else "") + ".",
        f"Between-sample {c['community']['metric']} distances were tested with PERMANOVA "
        f"[Anderson 2001] ({c['community']['permutations']} permutations, "
        f"{c['community']['by']} sums of squares, terms: "
        f"{' + '.join([*d['covariates'], results.outcome_variable])}"
        + (f", permutations within {d['subject']}" if d["subject"] else "") + ").",
        f"Each {_scan_unit(results)} present in more than "
        f"{c['association']['min_prevalence']:.0%} of samples was tested with a MaAsLin-style "
        f"linear model [Mallick 2021] ({c['association']['normalization']} normalisation, "
        f"{c['association']['transform']} transform, coefficients in log2 units, tested "
        f"against the median coefficient of the term) with {c['association']['correction']} "
        f"false discovery rate [Benjamini 1995]; q \u2264 {c['association']['max_significance']:g} "
        "is reported.",
    ]
    if d["outcome_type"] == "ordinal":
        lines.append(f"The ordinal outcome {d['outcome']} was entered as a score "
                     f"({', '.join(f'{lv} = {i}' for i, lv in enumerate(d['levels']))}), i.e. "
                     "a linear trend across its levels.")
    mechanism = getattr(results, "mechanism", None)
    if mechanism is not None:
        lines.append(_mechanism_method(results, mechanism))
    k = c["classify"]
    if results.classifier is not None:
        lines.append(f"A {k['model']} logistic classifier was evaluated by nested "
                     f"cross-validation [Varma 2006] ({k['folds']} outer folds, "
                     f"{k['repeats']} repeats; {k['transform']} transform; prevalence filter "
                     f"{k['min_prevalence']:.0%} fitted within training folds) with "
                     f"{k['permutations']} outcome permutations for the AUROC's p-value.")
    if results.mediation is not None:
        m = c["mediation"]
        lines.append(f"Causal mediation analysis [Imai 2010] estimated the average causal "
                     f"mediation effect (ACME) of {d['exposure']} through "
                     f"{', '.join(results.mediation.mediators)}, with {m['boot']} "
                     f"{m['method']} replicates and {m['level']:.0%} percentile intervals.")
    lines.append(f"Random seed {d['seed']}. Relative abundances are compositional "
                 "[Gloor 2017].")
    return lines


#: The module inference the mechanism step follows (cited when modules were computed).
OMIXER_CITATION = ("Darzi Y, Falony G, Vieira-Silva S, Raes J (2016). Towards biome-specific "
                   "analysis of meta-omics data. ISME J 10:1025-1028. "
                   "doi:10.1038/ismej.2015.188")


def _mechanism_citations(results: Any) -> list[str]:
    """The module sets' papers and Omixer-RPM's, when the mechanism step computed modules."""
    mechanism = getattr(results, "mechanism", None)
    profiles = [s.profile for s in mechanism.scans if s.profile is not None] if mechanism \
        else []
    if not profiles:
        return []
    return [*dict.fromkeys(p.info.citation for p in profiles), OMIXER_CITATION]


def _mechanism_method(results: Any, mechanism: Any) -> str:
    c = results.config
    m = c["mechanism"]
    scans = "; ".join(f"{s.title} ({s.values})" for s in mechanism.scans)
    text = (f"Mechanism: {scans} were tested against {results.outcome_variable} with the "
            "model of the per-feature scan (same covariates, random effects and false "
            "discovery rate)")
    if any(s.profile is not None for s in mechanism.scans):
        text += (f"; module abundance and coverage were computed from the KEGG orthologs as "
                 f"Omixer-RPM does [Darzi 2016] (a module counts at coverage \u2265 "
                 f"{m['coverage']:g})")
    if mechanism.paths:
        med = c["mediation"]
        text += (f". For the {len({p.feature for p in mechanism.paths})} functions with the "
                 f"smallest q, causal mediation [Imai 2010] through each marker "
                 f"({', '.join(mechanism.markers)}) gave the mediated (ACME) and direct "
                 f"effects, {med['boot']} {med['method']} replicates, {med['level']:.0%} "
                 "percentile intervals")
    return text + "."


def _limitations(results: Any) -> list[str]:
    n = results.n
    lines = [f"Only {n} samples were analysed: effects of modest size can be missed, and the "
             "estimated effects are uncertain (see the intervals)." if n < 200 else
             f"{n} samples were analysed; small effects may still be missed.",
             "The data are cross-sectional (unless repeated samples were modelled): an "
             "association does not show that the microbiome causes the outcome or the "
             "reverse. Mediation estimates assume no unmeasured confounding.",
             "Relative abundances are compositional: a taxon that appears to rise may only "
             "look so because others fell. The median-comparison test reduces, not removes, "
             "this problem.",
             "Many taxa were tested: some associations at the stated false discovery rate are "
             "expected to be false. Every finding here is a hypothesis to confirm in "
             "independent data."]
    if results.skipped:
        lines.append("Some steps did not run (see 'Steps not run').")
    return lines


def _frame_rows(frame: pd.DataFrame, digits: int = 3) -> dict[str, Any]:
    def cell(x: object) -> str:
        if isinstance(x, float | np.floating):
            return "NA" if not math.isfinite(x) else f"{x:.{digits}g}"
        return str(x)

    return {"columns": [str(c) for c in frame.columns],
            "rows": [[cell(x) for x in row] for row in frame.itertuples(index=False)]}


def _tables(results: Any) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = []
    v = results.outcome_variable
    if results.alpha is not None:
        rows = _outcome_rows(results.alpha, v)
        tables.append({"title": "Alpha diversity vs outcome (adjusted)", **_frame_rows(
            rows[["feature", "coef", "ci_low", "ci_high", "pval", "qval", "n"]])})
    if results.community is not None:
        tables.append({"title": "PERMANOVA", **_frame_rows(
            results.community.permanova.table)})
    if results.association is not None:
        rows = _outcome_rows(results.association, v).head(results.config["report"]["top"])
        rows = rows.assign(feature=[taxon_name(f) for f in rows["feature"]])
        tables.append({"title": f"Top {_things(results)} (all results: "
                                "association/all_results.tsv)",
                       **_frame_rows(rows[["feature", "coef", "ci_low", "ci_high", "pval",
                                           "qval", "n_nonzero"]])})
    if results.classifier is not None:
        tables.append({"title": "Classifier performance",
                       **_frame_rows(results.classifier.performance)})
    if results.mediation is not None:
        tables.append({"title": "Mediation effects", **_frame_rows(
            results.mediation.to_frame())})
    return tables


def _context(results: Any) -> dict[str, Any]:
    words = _design_words(results)
    findings = _findings(results, words)
    strengths = [f["strength"] for f in findings]
    if any(s in ("strong evidence", "moderate evidence") for s in strengths):
        overall = ("Some findings are supported by moderate or strong statistical evidence; "
                   "all are associations in one cohort, to be confirmed elsewhere.")
    elif any(s == "weak evidence" for s in strengths):
        overall = "The evidence is weak: these are hypotheses, not conclusions."
    else:
        overall = "There is no clear evidence of an association in these data."
    return {
        "words": words, "findings": findings, "overall": overall,
        "design": results.config["design"], "n": results.n,
        "n_dropped": len(results.dropped),
        "groups": _groups(results.checks),
        "dropped_reasons": results.dropped["reason"].value_counts().to_dict(),
        "table1": _frame_rows(results.table1), "checks": _frame_rows(results.checks),
        "figures": _figures(results, words), "methods": _methods(results, words),
        "citations": [*CITATIONS.values(), *_mechanism_citations(results)],
        "tables": _tables(results),
        "limitations": _limitations(results), "skipped": results.skipped,
        "notes": list(results.notes), "provenance": results.provenance,
        "config_text": _config_text(results.config),
        "mechanism": mechanism_section(results),
    }


def _groups(checks: pd.DataFrame) -> str:
    """``"ctl 51, fbm_12_20 16"``: the group sizes among the data checks ("" if none)."""
    rows = checks[checks["check"].str.startswith("group ")]
    return ", ".join(f"{c.removeprefix('group ')} {v}" for c, v in
                     zip(rows["check"], rows["value"], strict=True))


def _config_text(config: dict[str, dict[str, Any]]) -> str:
    return "\n".join(f"{section}.{key} = {value!r}" for section, keys in config.items()
                     for key, value in keys.items())

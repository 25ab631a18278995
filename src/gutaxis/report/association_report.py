"""The association report a clinician can read: one self-contained HTML page (figures
embedded, no external assets) with the model in words, the significant associations with
95% confidence intervals and an evidence label, a forest plot, the volcano overview, the
flagged fits grouped by reason, and the caveats.

The page is rendered from the Jinja2 template ``templates/association_report.html.j2``
(package data) with autoescaping on.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from gutaxis.report.association_words import (
    STRONG_EVIDENCE_Q,
    coefficient_meaning,
    evidence_label,
    evidence_rule,
    flag_reason,
    log2_hint,
    outcome_notes,
    outcome_scale,
    outcome_short,
    short_name,
    term_words,
)
from gutaxis.stats.association_results import AssociationResults, AssociationSpec
from gutaxis.stats.results import wald_interval

#: Significant associations listed in the table and drawn in the forest plot.
TABLE_ROWS = 50
FOREST_ROWS = 25
#: Feature names listed per flag reason before "and N more".
FLAG_EXAMPLES = 8

_TEMPLATE = "association_report.html.j2"


def significant_rows(results: AssociationResults) -> pd.DataFrame:
    """The significant associations with ``ci_low``, ``ci_high``, ``evidence`` and
    ``flag`` (the short label of a flagged fit's reason, "" for a clean one)."""
    hits = results.significant()
    low, high = wald_interval(hits["coef"].to_numpy(), hits["stderr"].to_numpy(),
                                    hits["df"].to_numpy())
    return hits.assign(
        ci_low=low, ci_high=high, evidence=evidence_label(significance_q(hits)),
        flag=[flag_reason(e)[0] if isinstance(e, str) else "" for e in row_notes(hits)])


def significance_q(table: pd.DataFrame) -> np.ndarray:
    """The q-value that makes each row significant: the smaller of its own and the joint
    one (its own only when it is flagged ``induced_by_abundance``, as MaAsLin 3 reads it)."""
    own = table["qval"].to_numpy(dtype=np.float64)
    if "qval_joint" not in table:
        return own
    joint = table["qval_joint"].to_numpy(dtype=np.float64)
    if "induced_by_abundance" in table:
        own = np.where(table["induced_by_abundance"].to_numpy(dtype=bool), np.nan, own)
    return np.fmin(own, joint)


#: The words standing for each boolean flag in a row's note (matched by FLAG_REASONS).
_FLAG_NOTES = {"induced_by_abundance": "prevalence association possibly induced by abundance",
               "suspect_rare": "extreme fit on a rare feature",
               "suspect_common": "extreme fit on a common feature"}


def row_notes(table: pd.DataFrame) -> pd.Series:
    """Each row's note: its ``error`` text, else the words of its first boolean flag."""
    notes = table["error"].astype(object).copy()
    for column, words in _FLAG_NOTES.items():
        if column in table:
            notes = notes.where(notes.notna() | ~table[column].astype(bool), words)
    return notes


def flagged_groups(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Flagged fits grouped by (model, reason): the number of features and a few names."""
    table = table.assign(error=row_notes(table))
    flagged = table.loc[table["error"].notna(), ["feature", "model", "error"]]
    flagged = flagged.drop_duplicates(["feature", "model"])
    if flagged.empty:
        return []
    flagged = flagged.assign(reason=[flag_reason(e)[1] for e in flagged["error"]])
    groups = []
    for (model, reason), rows in flagged.groupby(["model", "reason"], sort=True):
        names = [short_name(f) for f in rows["feature"]]
        groups.append({"model": model, "reason": reason, "count": len(names),
                       "examples": names[:FLAG_EXAMPLES],
                       "more": max(len(names) - FLAG_EXAMPLES, 0)})
    return sorted(groups, key=lambda g: (-g["count"], g["model"]))


def association_html(results: AssociationResults, *, figures: bool = True,
                     top: int = TABLE_ROWS) -> str:
    """The report as one self-contained HTML string (``figures=False`` draws none).

    Parameters
    ----------
    results
        The association scan to present.
    figures
        Embed the forest plot and the volcano (``False``: tables and words only).
    top
        How many significant associations the table lists, smallest q-value first.
    """
    env = jinja2.Environment(loader=jinja2.PackageLoader("gutaxis.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template(_TEMPLATE).render(_context(results, figures=figures, top=top))


def write_association_report(results: AssociationResults, path: str | Path, *,
                             figures: bool = True, top: int = TABLE_ROWS) -> Path:
    """Write :func:`association_html` to ``path`` (UTF-8); return the path.

    Parameters
    ----------
    results
        The association scan to present.
    path
        Where to write the page.
    figures
        Embed the forest plot and the volcano (``False``: tables and words only).
    top
        How many significant associations the table lists, smallest q-value first.
    """
    out = Path(path)
    out.write_text(association_html(results, figures=figures, top=top), encoding="utf-8")
    return out


def _context(results: AssociationResults, *, figures: bool, top: int) -> dict[str, Any]:
    spec = results.spec
    hits = significant_rows(results)
    tested = results.table.dropna(subset=["pval"])
    return {
        "spec": spec,
        "model": _model_words(spec),
        "meanings": {m: coefficient_meaning(spec, model=m) for m in _models(results)},
        "log2_hint": log2_hint(spec),
        "evidence_rule": evidence_rule(spec.max_significance),
        "strong_q": STRONG_EVIDENCE_Q,
        "n_tests": len(tested),
        "n_hits": len(hits),
        "n_strong": int((hits["evidence"] == "stronger").sum()),
        "rows": [_row_words(row, spec) for _, row in hits.head(top).iterrows()],
        "n_hidden": max(len(hits) - top, 0),
        "forest": _forest_png(hits, spec) if figures else "",
        "volcano": _volcano_png(results) if figures else "",
        "flagged": flagged_groups(results.table),
    }


def _models(results: AssociationResults) -> list[str]:
    present = set(results.table["model"])
    return [m for m in ("abundance", "prevalence") if m in present]


def _variable_words(var: str, spec: AssociationSpec, numeric: str) -> str:
    if var in spec.group_effects:
        return f"{var} (categorical; one test over all its levels, MaAsLin 3's group)"
    if var in spec.ordered_effects:
        return (f"{var} (ordered: {' < '.join(spec.levels[var])}; each level vs the previous, "
                "MaAsLin 3's ordered)")
    if var in spec.levels:
        return f"{var} (categorical; reference level \u201c{spec.levels[var][0]}\u201d)"
    return f"{var} ({numeric})"


def _model_words(spec: AssociationSpec) -> dict[str, Any]:
    numeric = "numeric, standardised" if spec.standardize else "numeric"
    fixed = [_variable_words(var, spec, numeric) for var in spec.fixed]
    return {
        "outcome": outcome_scale(spec),
        "notes": outcome_notes(spec),
        "fixed": fixed,
        "random": list(spec.random),
        "kind": spec.abundance_model,
        "filter": (f"present (value > {spec.min_abundance:g}) in more than "
                   f"{100 * spec.min_prevalence:g}% of samples"
                   + (f" and variance > {spec.min_variance:g}" if spec.min_variance else "")),
    }


def _row_words(row: pd.Series, spec: AssociationSpec) -> dict[str, Any]:
    return {
        "feature": short_name(row["feature"]), "feature_id": str(row["feature"]),
        "model": row["model"], "term": _term_words(row, spec),
        "coef": f"{row['coef']:.3g}" if np.isfinite(row["coef"]) else "\u2014",
        "ci": f"{row['ci_low']:.3g} to {row['ci_high']:.3g}" if np.isfinite(row["coef"])
        else "\u2014 (one test over all levels)",
        "q": f"{row['qval']:.2g}", "q_joint": f"{row.get('qval_joint', np.nan):.2g}",
        "n": int(row["n"]), "n_nonzero": int(row["n_nonzero"]),
        "evidence": row["evidence"], "strong": row["evidence"] == "stronger",
        "flag": row["flag"],
    }


def _term_words(row: pd.Series, spec: AssociationSpec) -> str:
    """``"diagnosis: CD vs nonIBD"`` for a level of a categorical variable, else its name."""
    return term_words(str(row["metadata"]), str(row["value"]), spec)


def _volcano_png(results: AssociationResults) -> str:
    from gutaxis.report.association_plots import _overview_figure, _png  # matplotlib

    return _b64(_png(_overview_figure(results, label_top=10)))


def _forest_png(hits: pd.DataFrame, spec: AssociationSpec) -> str:
    from gutaxis.report.association_plots import _png, forest_figure  # matplotlib

    rows = hits[(hits["model"] == "abundance") & hits["coef"].notna()].head(FOREST_ROWS)
    if rows.empty:
        return ""
    labels = [f"{short_name(r['feature'])}  |  {_term_words(r, spec)}" for _, r in rows.iterrows()]
    return _b64(_png(forest_figure(rows, xlabel=f"coef, {outcome_short(spec)} (95% CI)",
                                   labels=labels)))


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


__all__ = ["association_html", "flagged_groups", "significant_rows",
           "write_association_report"]

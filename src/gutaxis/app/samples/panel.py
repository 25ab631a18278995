"""The gut-health panel of one sample: each metric's value, its percentile in the matching
reference cohort, a plain reading of it, and the notes a clinician needs (reference size,
method and depth mismatches). Stored as ``MicrobiomeSample.panel`` (schema in the
clinic's contracts)."""

from __future__ import annotations

import math
from typing import Any

from gutaxis.app.samples.metrics import DYSBIOSIS, METRICS, SHANNON_BASE
from gutaxis.app.samples.references import SMALL_REFERENCE, Reference
from gutaxis.version import package_version


def interpretation(percentile: float | None) -> str:
    """Where a percentile lies, in words."""
    if percentile is None:
        return "not computed"
    if percentile < 10:
        return "below most of the reference (under the 10th percentile)"
    if percentile > 90:
        return "above most of the reference (over the 90th percentile)"
    return "within the middle 80% of the reference"


def build_panel(values: dict[str, float], *, rarefied: bool, depth: float, nan_notes: str,
                value_kind: str, reference: Reference, has_taxonomy: bool,
                reference_overlap: float | None = None) -> dict[str, Any]:
    """The panel of one sample from its metric ``values`` (see
    :func:`gutaxis.app.samples.metrics.sample_metrics`).

    Parameters
    ----------
    values
        Metric name -> value (NaN where undefined).
    rarefied
        Whether observed richness was counted after rarefying to the reference's depth.
    depth
        The sample's total (reads for counts).
    nan_notes
        Why values are NaN (the engine's ``notes``), ``""`` when none is.
    value_kind, reference, has_taxonomy
        The table's value kind, the reference chosen for it, whether the upload named
        taxa (a taxonomy file or lineages in the table).
    reference_overlap
        For a reference that ships its profiles: the share of the sample's abundance in
        features the reference also has (the dysbiosis score compares those).
    """
    notes: list[str] = []
    missing = {part.split(":", 1)[0]: part.split(":", 1)[1].strip()
               for part in nan_notes.split("; ") if ":" in part}
    metrics: list[dict[str, Any]] = []
    shown = (*METRICS, DYSBIOSIS) if "dysbiosis_score" in values else METRICS
    for metric in shown:
        raw = float(values.get(metric.name, math.nan))
        defined = math.isfinite(raw)
        percentile = reference.percentile(metric.name, raw) if defined else None
        note = metric.caveat
        if metric.name == "observed_features":
            note = (f"rarefied to {reference.rarefied_depth} reads (seed 0), as the reference"
                    if rarefied else "not rarefied")
        if not defined:
            note = missing.get(metric.name, "undefined for this sample")
        metrics.append({"name": metric.name, "label": metric.label,
                        "value": raw if defined else None, "unit": metric.unit,
                        "percentile": None if percentile is None else round(percentile, 1),
                        "interpretation": interpretation(percentile), "note": note})
    notes.append(f"Shannon diversity in bits (log base {SHANNON_BASE:g}).")
    if reference.n < SMALL_REFERENCE:
        notes.append(f"The reference has only {reference.n} samples: percentiles move in steps "
                     f"of about {100 / reference.n:.0f} points and the extremes are uncertain.")
    if reference.subjects < reference.n:
        notes.append(f"The reference's {reference.n} samples come from {reference.subjects} "
                     "people (several samples each).")
    if value_kind != reference.value_kind:
        notes.append(f"This table holds {value_kind} values; the reference holds "
                     f"{reference.value_kind}: the comparison is approximate.")
    if value_kind == "counts":
        notes.append("Compared with 16S amplicon data; a different region, denoiser or "
                     "taxonomy database shifts richness and shares.")
        if not rarefied and reference.rarefied_depth is not None:
            notes.append(f"The sample has {depth:.0f} reads, fewer than the reference's "
                         f"rarefaction depth ({reference.rarefied_depth}): its richness is "
                         "not comparable and likely low.")
    else:
        notes.append("Compared with shotgun MetaPhlAn 2 species profiles; other profilers "
                     "or 16S tables shift richness and shares.")
    if "dysbiosis_score" not in values:
        notes.append("The HMP2 dysbiosis score is defined on shotgun species profiles; it is "
                     "not computed against this reference.")
    elif reference_overlap is not None and reference_overlap < 0.5:
        notes.append(f"Only {100 * reference_overlap:.0f}% of the sample's abundance is in "
                     "taxa the reference names alike: its dysbiosis score is inflated.")
    if not has_taxonomy:
        notes.append("No taxonomy was given: taxa were read from the feature names.")
    notes.append("Percentiles describe where the sample lies among the reference's people; "
                 "they are not a diagnosis.")
    return {"reference": {"name": reference.name, "n": reference.n, "source": reference.source,
                          "method": reference.method},
            "metrics": metrics, "notes": notes, "computed_with": f"gutaxis {package_version()}"}

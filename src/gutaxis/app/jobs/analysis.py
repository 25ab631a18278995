"""The ``analyze`` job: ``gutaxis analyze`` on the clinic's de-identified cohort.

The cohort is written to a temporary folder in the engine's formats (``table.tsv``
features x samples, ``taxonomy.tsv``, ``metadata.tsv`` with the sample metadata of
:mod:`gutaxis.app.research.record`), :func:`gutaxis.analyze.run_analysis` runs on it
(its steps mapped to the job's progress: 10 % export, 10-90 % steps, then the report),
and the report HTML and a summary are returned; the folder is deleted in every case.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gutaxis.app.db.engine import Database
from gutaxis.errors import InputError

KIND = "analyze"
OUTCOME_TYPES: tuple[str, ...] = ("continuous", "binary", "ordinal")
Progress = Callable[[float, str], None]


def check_params(params: dict[str, Any]) -> dict[str, Any]:
    """The job's parameters, checked: ``outcome`` (a sample-metadata column),
    ``outcome_type``, ``covariates``, ``exposure`` (optional) and ``permutations``."""
    outcome = params.get("outcome")
    if not isinstance(outcome, str) or not outcome.strip():
        raise InputError("an analysis needs an outcome", field="outcome", found=outcome,
                         expected="a column of samples.tsv, e.g. pain_mean_14d")
    kind = params.get("outcome_type", "continuous")
    if kind not in OUTCOME_TYPES:
        raise InputError("unknown outcome type", field="outcome_type", found=kind,
                         expected=", ".join(OUTCOME_TYPES))
    covariates = params.get("covariates") or []
    if not isinstance(covariates, list) or not all(isinstance(c, str) for c in covariates):
        raise InputError("covariates must be a list of column names", field="covariates",
                         found=repr(covariates), expected='e.g. ["fibre_servings_mean_14d"]')
    exposure = params.get("exposure") or ""
    permutations = params.get("permutations", 999)
    if not isinstance(permutations, int) or not 9 <= permutations <= 9999:
        raise InputError("permutations out of range", field="permutations",
                         found=permutations, expected="a whole number from 9 to 9999")
    return {"outcome": outcome.strip(), "outcome_type": kind,
            "covariates": [c.strip() for c in covariates if c.strip()],
            "exposure": str(exposure).strip(), "permutations": permutations}


def run_analyze(db: Database, secret: str, params: dict[str, Any], progress: Progress
                ) -> tuple[dict[str, Any], str]:
    """Run the analysis ``params`` describe; (result summary, report HTML)."""
    from gutaxis.analyze.config import DEFAULTS, merge_config
    from gutaxis.analyze.pipeline import run_analysis
    from gutaxis.app.research.record import load_record
    from gutaxis.io.delimited import write_tsv
    from gutaxis.io.taxonomy import write_taxonomy

    chosen = check_params(params)
    progress(0.02, "exporting the de-identified cohort")
    with db.read() as session:
        record = load_record(session, secret=secret)
    if record.profile is None:
        raise InputError("the cohort has no microbiome samples to analyse", field="samples",
                         found="0 samples", expected="samples uploaded for some patients")
    folder = Path(tempfile.mkdtemp(prefix="gutaxis-analysis-"))
    try:
        write_tsv(record.profile, folder / "table.tsv")
        taxonomy = ""
        if record.profile.taxonomy is not None:
            write_taxonomy(record.profile.taxonomy, folder / "taxonomy.tsv")
            taxonomy = str(folder / "taxonomy.tsv")
        record.sample_metadata.to_csv(folder / "metadata.tsv", sep="\t", na_rep="NA",
                                      index_label="sample_id")
        config = merge_config(DEFAULTS, {
            "input": {"table": str(folder / "table.tsv"), "taxonomy": taxonomy,
                      "metadata": str(folder / "metadata.tsv")},
            "design": {"outcome": chosen["outcome"], "outcome_type": chosen["outcome_type"],
                       "covariates": chosen["covariates"], "subject": "subject",
                       "exposure": chosen["exposure"]},
            "community": {"permutations": chosen["permutations"]},
            "classify": {"permutations": min(99, chosen["permutations"])},
        }, source="analysis form")
        progress(0.1, "reading the cohort")
        results = run_analysis(config, progress=lambda step, done, total: progress(
            0.1 + 0.8 * done / max(total, 1), f"step {done}/{total}: {step}"))
        progress(0.92, "writing the report")
        results.to_dir(folder / "out")
        html = (folder / "out" / "report.html").read_text(encoding="utf-8")
        summary = {
            "params": chosen, "n": results.n, "n_dropped": len(results.dropped),
            "patients": len(record.subjects), "outcome_variable": results.outcome_variable,
            "steps": [{k: str(v) for k, v in row.items()}
                      for row in results.to_frame().to_dict("records")],
            "summary": results.summary(), "notes": list(results.notes),
            "gutaxis": results.provenance.get("gutaxis")}
        return summary, html
    finally:
        shutil.rmtree(folder, ignore_errors=True)

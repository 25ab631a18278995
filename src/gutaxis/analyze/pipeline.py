"""The ``gutaxis analyze`` pipeline: data checks, diversity, community, per-feature scan,
classifier and mediation, each from its own engine, driven by one configuration.

:func:`run_analysis` runs the steps; a step whose data do not allow it (too few samples
in a group, no exposure named, a non-binary outcome for the classifier) is skipped with
the reason recorded, and the rest runs. :class:`AnalysisResults` holds every step's
results and writes them (:meth:`AnalysisResults.to_dir`) in the formats the single
commands write, with ``config.toml`` and ``report.html`` beside them.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gutaxis.analyze.config import config_toml
from gutaxis.analyze.models import association_scan, outcome_scan
from gutaxis.errors import GutaxisError, InputError

if TYPE_CHECKING:
    from gutaxis.analyze.mechanism import MechanismResults
    from gutaxis.compute import Backend
    from gutaxis.data.cohort import Cohort
    from gutaxis.gut.pipeline import MetricsResults
    from gutaxis.stats.association_results import AssociationResults
    from gutaxis.stats.classify.results import ClassifierResults
    from gutaxis.stats.community.pipeline import CommunityResults
    from gutaxis.stats.mediation.results import MediationResults

__all__ = ["STEPS", "AnalysisResults", "run_analysis"]

#: The steps, in order, as the progress display and the report name them.
STEPS: tuple[str, ...] = ("checks", "diversity", "alpha", "community", "association",
                          "mechanism", "classify", "mediation")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False)
class AnalysisResults:
    """Everything one ``gutaxis analyze`` run found.

    Attributes
    ----------
    config
        The resolved configuration (``{section: {key: value}}``).
    outcome_variable
        The column the models use for the outcome (the outcome itself when continuous,
        ``<outcome>_score`` (0, 1, ...) when ordinal, ``<outcome>_positive`` (0/1) when
        binary).
    metadata
        The analysed samples' metadata, with ``outcome_variable``.
    checks, dropped, table1
        Data-quality findings (``check, value, comment``), the samples left out
        (``sample_id, reason``) and the cohort table by outcome group.
    metrics, alpha, community, association, mechanism, classifier, mediation
        Each step's results, ``None`` when the step was skipped.
    feature_type, unit
        What the main table's features are (``taxon``, ``ko``, ``pathway``, ...) and the
        unit of its values (``None`` when not stated; ``RPK``, ``CPM``, ...).
    skipped
        Step name -> why it was skipped.
    notes
        What a reader should know (samples dropped on reading, fits with warnings).
    provenance
        Version, input hashes and seed.
    """

    config: dict[str, dict[str, Any]]
    outcome_variable: str
    metadata: pd.DataFrame = field(repr=False)
    checks: pd.DataFrame = field(repr=False)
    dropped: pd.DataFrame = field(repr=False)
    table1: pd.DataFrame = field(repr=False)
    metrics: MetricsResults | None = None
    alpha: AssociationResults | None = None
    community: CommunityResults | None = None
    association: AssociationResults | None = None
    classifier: ClassifierResults | None = None
    mediation: MediationResults | None = None
    mechanism: MechanismResults | None = None
    feature_type: str = "taxon"
    unit: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Samples analysed."""
        return len(self.metadata)

    def to_frame(self) -> pd.DataFrame:
        """One row per step: ``step, status, detail``."""
        rows = []
        for step in STEPS:
            if step in self.skipped:
                rows.append((step, "skipped", self.skipped[step]))
            else:
                rows.append((step, "done", ""))
        return pd.DataFrame(rows, columns=["step", "status", "detail"])

    def summary(self) -> str:
        """A few lines: the cohort and which steps ran."""
        design = self.config["design"]
        done = [s for s in STEPS if s not in self.skipped]
        lines = [f"{design['outcome']} ({design['outcome_type']}): {self.n} samples analysed, "
                 f"{len(self.dropped)} left out; steps run: {', '.join(done)}"]
        lines += [f"  skipped {step}: {why}" for step, why in self.skipped.items()]
        return "\n".join(lines)

    def to_dir(self, path: str | Path, *, report: bool = True,
               inputs: Mapping[str, Path | None] | None = None) -> None:
        """Write every step's results, ``config.toml``, ``analysis.json`` and ``report.html``.

        Parameters
        ----------
        path
            The folder (created if needed).
        report
            Also write ``report.html``.
        inputs
            Where the input files are now, by role, for the hashes of the step records
            (default: the configuration's paths).
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.toml").write_text(config_toml(self.config), encoding="utf-8")
        cohort_dir = out / "cohort"
        cohort_dir.mkdir(exist_ok=True)
        _tsv(self.checks, cohort_dir / "checks.tsv")
        _tsv(self.dropped, cohort_dir / "dropped.tsv")
        _tsv(self.table1, cohort_dir / "table1.tsv")
        _tsv(self.to_frame(), out / "steps.tsv")
        if inputs is None:
            inputs = {k: (Path(v) if v else None) for k, v in self.config["input"].items()}
        if self.metrics is not None:
            self.metrics.to_dir(out / "diversity", inputs=inputs)
        if self.alpha is not None:
            (out / "diversity" / "alpha_association").mkdir(parents=True, exist_ok=True)
            self.alpha.to_dir(out / "diversity" / "alpha_association")
        if self.community is not None:
            (out / "community").mkdir(exist_ok=True)
            self.community.to_dir(out / "community", inputs=dict(inputs))
        if self.association is not None:
            (out / "association").mkdir(exist_ok=True)
            self.association.to_dir(out / "association")
        if self.classifier is not None:
            from gutaxis.report.classify_plots import write_classify_plots

            (out / "classify").mkdir(exist_ok=True)
            self.classifier.to_dir(out / "classify")
            write_classify_plots(self.classifier, out / "classify" / "figures")
        if self.mechanism is not None:
            self.mechanism.to_dir(out / "mechanism")
        if self.mediation is not None:
            from gutaxis.report.mediation_plots import plot_mediation_paths
            from gutaxis.stats.mediation.results import write_mediation

            write_mediation(self.mediation, out / "mediation")
            plot_mediation_paths(self.mediation, out / "mediation" / "path_diagram.png",
                                 svg=True)
        record = {"provenance": self.provenance, "notes": list(self.notes),
                  "skipped": self.skipped, "n": self.n, "n_dropped": len(self.dropped)}
        (out / "analysis.json").write_text(json.dumps(record, indent=2, default=str) + "\n",
                                           encoding="utf-8")
        if report:
            from gutaxis.report.analysis_report import write_analysis_report

            write_analysis_report(self, out / "report.html")


def _tsv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep="\t", index=False, na_rep="NA")


def run_analysis(config: Mapping[str, Mapping[str, Any]], *,
                 progress: Progress | None = None,
                 backend: Backend | None = None) -> AnalysisResults:
    """Run the whole analysis that ``config`` describes.

    Parameters
    ----------
    config
        A complete configuration (:func:`gutaxis.analyze.config.read_config`,
        :func:`~gutaxis.analyze.config.merge_config`); ``input.table``,
        ``input.metadata`` and ``design.outcome`` are needed.
    progress
        Called as ``progress(step, done, total)`` while steps run.
    backend
        Where the heavy steps run (:mod:`gutaxis.compute`): alpha and beta diversity,
        the permutations of PERMANOVA and PERMDISP, the association scan, the mechanism
        step's module scan and mediation bootstrap, the classifier's permutations and the
        mediation bootstrap. ``None`` (default): this process. The caller opens and
        closes it (``gutaxis analyze`` does, from the ``[compute]`` section).
    """
    from gutaxis.gut.pipeline import file_sha256
    from gutaxis.version import package_version

    cfg = {section: dict(keys) for section, keys in config.items()}
    report = progress or (lambda step, done, total: None)
    design = cfg["design"]
    for section, key in (("input", "table"), ("input", "metadata"), ("design", "outcome")):
        if not cfg[section][key]:
            raise InputError(f"{section}.{key} is needed", field=f"{section}.{key}",
                             expected="a TABLE, --metadata and --outcome (or a config)")
    if design["outcome_type"] not in ("continuous", "binary", "ordinal"):
        raise InputError("unknown outcome type", field="--outcome-type",
                         found=design["outcome_type"], expected="continuous, binary or ordinal")
    report("reading", 0, len(STEPS))
    notes: list[str] = []
    cohort, dropped = _read(cfg, notes)
    cohort.table.require_unstratified(action="gutaxis analyze")
    report("checks", 1, len(STEPS))
    cohort, variable, checks, more = _prepare(cohort, cfg)
    dropped = pd.concat([dropped, more], ignore_index=True)
    meta = cohort.metadata
    table1 = _table1(cohort, cfg, variable)
    skipped: dict[str, str] = {}
    found: dict[str, Any] = {}
    small = _small_groups(meta, cfg)

    def step(name: str, index: int, run: Callable[[], Any], *, reason: str | None = None
             ) -> None:
        report(name, index, len(STEPS))
        if reason is not None:
            skipped[name] = reason
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                found[name] = run()
            except GutaxisError as exc:
                skipped[name] = f"could not run: {exc}"
        notes.extend(f"{name}: {w.message}" for w in caught
                     if issubclass(w.category, UserWarning))

    if cohort.table.is_functional and cfg["association"]["rank"]:
        notes.append(f"association: the table's features are functions "
                     f"({cohort.table.feature_type}): scanned one by one, not aggregated to "
                     f"{cfg['association']['rank']}")
    step("diversity", 2, lambda: _diversity(cohort, cfg, backend))
    metrics = found.get("diversity")
    step("alpha", 3, lambda: _alpha(cohort, metrics, cfg, variable),
         reason=None if metrics is not None else "diversity did not run")
    step("community", 4, lambda: _community(metrics, meta, cfg, variable, backend),
         reason=small or (None if metrics is not None else "diversity did not run"))
    # the scan and the classifier share the aggregated table; made inside their steps, so
    # that a table that cannot be aggregated skips them with the reason
    ranked = functools.cache(lambda: _ranked(cohort, cfg))
    step("association", 5, lambda: association_scan(ranked(), cfg, variable,
                                                    backend=backend))
    from gutaxis.analyze.mechanism import mechanism_skip_reason, run_mechanism

    step("mechanism", 6, lambda: run_mechanism(cohort, cfg, variable, backend=backend),
         reason=mechanism_skip_reason(cohort, cfg))
    binary = design["outcome_type"] == "binary"
    step("classify", 7, lambda: _classify(ranked(), cfg, variable, backend),
         reason=(small if binary else
                 f"the outcome is {design['outcome_type']}; the classifier needs a binary one"))
    step("mediation", 8, lambda: _mediation(cohort, cfg, variable, backend),
         reason=None if design["exposure"] else "no exposure named (--exposure)")
    report("done", len(STEPS), len(STEPS))
    if cohort.table.is_functional:
        notes.append("diversity: the taxon summaries (phylum shares, ratios, guilds) do not "
                     "apply to a functional table and are left empty")
    provenance = {
        "gutaxis": package_version(), "seed": design["seed"],
        "inputs": {role: {"path": p, "sha256": file_sha256(Path(p))}
                   for role, p in cfg["input"].items() if p},
    }
    return AnalysisResults(
        config=cfg, outcome_variable=variable, metadata=meta, checks=checks,
        dropped=dropped, table1=table1, metrics=metrics, alpha=found.get("alpha"),
        community=found.get("community"), association=found.get("association"),
        classifier=found.get("classify"), mediation=found.get("mediation"),
        mechanism=found.get("mechanism"), feature_type=cohort.table.feature_type,
        unit=cohort.table.unit,
        skipped=skipped, notes=tuple(dict.fromkeys(notes)), provenance=provenance)


def _read(cfg: dict[str, dict[str, Any]], notes: list[str]) -> tuple[Cohort, pd.DataFrame]:
    """The cohort (samples in both table and metadata) and the samples left out."""
    from gutaxis.io import read_cohort, read_metadata, read_table

    inp = cfg["input"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        table = read_table(inp["table"])
        meta = read_metadata(inp["metadata"])
        cohort = read_cohort(inp["table"], inp["metadata"], taxonomy=inp["taxonomy"] or None,
                             tree=inp["tree"] or None,
                             subject_column=cfg["design"]["subject"] or None, strict=False)
    notes.extend(dict.fromkeys(str(w.message) for w in caught))
    kept = set(map(str, cohort.sample_ids))
    rows = [(s, "in the table but not in the metadata") for s in map(str, table.sample_ids)
            if s not in kept and s not in set(map(str, meta.index))]
    rows += [(s, "in the metadata but not in the table") for s in map(str, meta.index)
             if s not in kept and s not in set(map(str, table.sample_ids))]
    rows += [(s, "left out on reading (see notes)") for s in map(str, table.sample_ids)
             if s not in kept and s in set(map(str, meta.index))]
    return cohort, pd.DataFrame(rows, columns=["sample_id", "reason"])


def _prepare(cohort: Cohort, cfg: dict[str, dict[str, Any]]
             ) -> tuple[Cohort, str, pd.DataFrame, pd.DataFrame]:
    """Check the design columns, code the outcome, drop incomplete and shallow samples."""
    design, limits = cfg["design"], cfg["checks"]
    meta = cohort.metadata
    outcome = design["outcome"]
    needed = [outcome, *design["covariates"]]
    needed += [c for c in (design["subject"], design["exposure"]) if c]
    needed = list(dict.fromkeys(needed))
    for column in needed:
        if column not in meta.columns:
            raise InputError("no such metadata column", source=cfg["input"]["metadata"],
                             field=column, expected=", ".join(map(str, meta.columns)))
    values = meta[outcome].dropna()
    if values.nunique() < 2:
        raise InputError("the outcome has fewer than two distinct values",
                         source=cfg["input"]["metadata"], field=outcome,
                         found=", ".join(map(str, values.unique()[:3])) or "no values",
                         expected="an outcome that varies between samples")
    coded, variable = _code_outcome(meta[outcome], cfg)
    meta = meta.assign(**{variable: coded})
    reasons = pd.Series("", index=meta.index)
    for column in [outcome, *design["covariates"], design["subject"]]:
        if column:
            missing = meta[column].isna() if column != outcome else coded.isna()
            reasons[missing & (reasons == "")] = f"missing {column}"
    totals = pd.Series(np.asarray(cohort.table.sample_totals()), index=meta.index)
    counts = cohort.table.kind == "counts" and cohort.table.unit in (None, "counts")  # reads
    if counts:
        shallow = totals < limits["min_depth"]
        reasons[shallow & (reasons == "")] = f"fewer than {limits['min_depth']} reads"
    keep = (reasons == "").to_numpy()
    dropped = pd.DataFrame({"sample_id": meta.index[~keep].astype(str),
                            "reason": reasons[~keep].to_numpy()})
    kept = cohort.subset_samples(keep)
    from dataclasses import replace

    kept = replace(kept, metadata=meta.loc[keep])
    if kept.n_samples < limits["min_samples"]:
        raise InputError("too few samples left to analyse", source=cfg["input"]["metadata"],
                         field=outcome, found=f"{kept.n_samples} samples",
                         expected=f"at least {limits['min_samples']}")
    prevalence = np.asarray(kept.table.prevalence())
    checks = pd.DataFrame([
        ("samples analysed", kept.n_samples, f"{len(dropped)} left out here"),
        ("features", kept.table.n_features, "in the table"),
        ("features in >= 10% of samples", int((prevalence >= 0.1).sum()), "prevalence"),
        ("median depth", float(np.median(totals[keep])) if counts else np.nan,
         "reads per sample" if counts else
         f"{cohort.table.unit or cohort.table.kind} values, not reads: depth not checked"),
        ("minimum depth", float(totals[keep].min()) if counts else np.nan, ""),
        *[(f"missing {c}", int(meta[c].isna().sum()), "samples without a value")
          for c in needed],
        *[(f"group {level}", int(n), "samples") for level, n in
          _group_counts(kept.metadata, cfg).items()],
    ], columns=["check", "value", "comment"])
    checks["value"] = [_number(float(v)) if pd.notna(v) else "NA" for v in checks["value"]]
    return kept, variable, checks, dropped


def _code_outcome(column: pd.Series, cfg: dict[str, dict[str, Any]]) -> tuple[pd.Series, str]:
    """The outcome as the models use it, and its column name."""
    design = cfg["design"]
    name, kind = design["outcome"], design["outcome_type"]
    source = cfg["input"]["metadata"]
    if kind == "continuous":
        numbers = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & numbers.isna()
        if bad.any():
            raise InputError("a continuous outcome must be numeric", source=source,
                             field=name, found=str(column[bad].iloc[0]),
                             expected="numbers, or --outcome-type binary/ordinal")
        return numbers.astype(float), name
    text = column.map(lambda v: v if pd.isna(v) else str(v))
    levels = design["levels"] or _sorted_levels(text.dropna().unique())
    unknown = sorted(set(text.dropna()) - set(levels))
    if unknown:
        raise InputError("outcome values not among design.levels", source=source, field=name,
                         found=", ".join(unknown[:5]), expected=", ".join(levels))
    if kind == "ordinal":
        design["levels"] = list(levels)
        return text.map({lv: float(i) for i, lv in enumerate(levels)}), f"{name}_score"
    positive = design["positive"]
    if not positive:
        if len(levels) != 2:
            raise InputError("a binary outcome with more than two values needs the positive "
                             "levels (config design.positive)", source=source, field=name,
                             found=", ".join(levels), expected='e.g. positive = ["case"]')
        positive = [levels[-1]]
    design["positive"] = list(positive)
    design["levels"] = list(levels)
    return text.map(lambda v: v if pd.isna(v) else float(v in positive)), f"{name}_positive"


def _sorted_levels(values: np.ndarray) -> list[str]:
    try:
        return [str(v) for v in sorted(values, key=float)]
    except ValueError:
        return sorted(map(str, values))


def _group_counts(meta: pd.DataFrame, cfg: dict[str, dict[str, Any]]) -> dict[str, int]:
    design = cfg["design"]
    if design["outcome_type"] == "continuous":
        return {}
    column = meta[design["outcome"]].astype(str)
    if design["outcome_type"] == "binary":
        column = column.map(lambda v: "positive" if v in design["positive"] else "negative")
        return {lv: int((column == lv).sum()) for lv in ("negative", "positive")}
    return {lv: int((column == lv).sum()) for lv in design["levels"]}


def _small_groups(meta: pd.DataFrame, cfg: dict[str, dict[str, Any]]) -> str | None:
    """Why group comparisons cannot run (a group below the minimum size), or ``None``."""
    limit = cfg["checks"]["min_group_size"]
    small = {lv: n for lv, n in _group_counts(meta, cfg).items() if n < limit}
    if not small:
        return None
    listed = ", ".join(f"{lv} ({n})" for lv, n in small.items())
    return f"too few samples in group {listed}; at least {limit} per group are needed"


def _table1(cohort: Cohort, cfg: dict[str, dict[str, Any]], variable: str) -> pd.DataFrame:
    """Cohort table: a column per outcome group (or overall), a row per characteristic."""
    design = cfg["design"]
    unit = cohort.table.unit
    total = "reads" if unit in (None, "counts") else f"total {unit}"
    meta = cohort.metadata.assign(**{total: np.asarray(cohort.table.sample_totals())})
    if design["outcome_type"] == "continuous":
        groups = {"all": meta}
        rows_for = [design["outcome"], *design["covariates"], total]
    else:
        labels = meta[design["outcome"]].astype(str)
        if design["outcome_type"] == "binary":
            labels = labels.map(lambda v: "positive" if v in design["positive"] else "negative")
        groups = {lv: meta[labels == lv] for lv in dict.fromkeys(labels.sort_values(
            key=lambda s: s.map({lv: i for i, lv in enumerate(
                design["levels"] + ["negative", "positive"])})))}
        groups["all"] = meta
        rows_for = [*design["covariates"], total]
    rows: list[dict[str, Any]] = [{"characteristic": "n", **{g: str(len(f))
                                                              for g, f in groups.items()}}]
    for column in rows_for:
        if column not in meta.columns:
            continue
        numeric = pd.api.types.is_numeric_dtype(meta[column])
        if numeric:
            rows.append({"characteristic": f"{column}, median [IQR]",
                         **{g: _median_iqr(f[column]) for g, f in groups.items()}})
            continue
        for level in sorted(meta[column].dropna().astype(str).unique()):
            rows.append({"characteristic": f"{column} = {level}, n (%)",
                         **{g: _count_pct(f[column].astype(str) == level, len(f))
                            for g, f in groups.items()}})
    return pd.DataFrame(rows)


def _median_iqr(values: pd.Series) -> str:
    v = values.dropna().astype(float)
    if v.empty:
        return "NA"
    q1, q2, q3 = np.percentile(v, [25, 50, 75])
    return f"{_number(q2)} [{_number(q1)}, {_number(q3)}]"


def _number(x: float) -> str:
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _count_pct(mask: pd.Series, n: int) -> str:
    k = int(mask.sum())
    return f"{k} ({100 * k / n:.0f}%)" if n else "0"


def _diversity(cohort: Cohort, cfg: dict[str, dict[str, Any]],
               backend: Backend | None = None) -> MetricsResults:
    from gutaxis.gut.pipeline import run_metrics

    div = cfg["diversity"]
    metrics = list(div["metrics"])
    if cohort.table.tree is not None:
        metrics += [m for m in div["tree_metrics"] if m not in metrics]
    if cfg["community"]["metric"] not in metrics:
        metrics.append(cfg["community"]["metric"])
    return run_metrics(cohort, metrics=metrics, shannon_base=div["shannon_base"],
                       seed=cfg["design"]["seed"], backend=backend)


def _alpha(cohort: Cohort, metrics: MetricsResults | None, cfg: dict[str, dict[str, Any]],
           variable: str) -> AssociationResults:
    assert metrics is not None
    alpha = metrics.alpha.loc[:, [c for c in metrics.alpha.columns
                                  if pd.api.types.is_numeric_dtype(metrics.alpha[c])]]
    return outcome_scan(cohort, alpha, cfg, variable)


def _community(metrics: MetricsResults | None, meta: pd.DataFrame,
               cfg: dict[str, dict[str, Any]], variable: str,
               backend: Backend | None = None) -> CommunityResults:
    from gutaxis.stats.community.pipeline import run_community_tests

    assert metrics is not None
    design, com = cfg["design"], cfg["community"]
    distances = metrics.distances[com["metric"]]
    formula = " + ".join([*design["covariates"], variable])
    categorical = design["outcome_type"] != "continuous"
    return run_community_tests(
        distances, meta, formula=formula, by=com["by"], permutations=com["permutations"],
        seed=design["seed"], strata=design["subject"] or None,
        permdisp_column=design["outcome"] if categorical else None,
        source=cfg["input"]["metadata"], backend=backend)


def _ranked(cohort: Cohort, cfg: dict[str, dict[str, Any]]) -> Cohort:
    rank = cfg["association"]["rank"]
    if rank and cohort.table.taxonomy is not None:
        return cohort.with_table(cohort.table.aggregate(rank))
    return cohort


def _classify(cohort: Cohort, cfg: dict[str, dict[str, Any]], variable: str,
              backend: Backend | None = None) -> ClassifierResults:
    from gutaxis.stats.classify import classify

    c = cfg["classify"]
    return classify(cohort, variable, positive=">=1",
                    covariates=cfg["design"]["covariates"] if c["with_covariates"] else (),
                    model=c["model"], folds=c["folds"], repeats=c["repeats"],
                    seed=cfg["design"]["seed"], permutations=c["permutations"],
                    permutation_repeats=c["permutation_repeats"], transform=c["transform"],
                    min_prevalence=c["min_prevalence"], backend=backend)


def _mediation(cohort: Cohort, cfg: dict[str, dict[str, Any]], variable: str,
               backend: Backend | None = None) -> MediationResults:
    from gutaxis.stats.mediation import mediate
    from gutaxis.stats.mediation.pipeline import metadata_with_table_columns

    design, m = cfg["design"], cfg["mediation"]
    mediators = design["mediators"] or ["shannon"]
    covariates = [c for c in design["covariates"] if c not in (design["exposure"], *mediators)]
    meta, _ = metadata_with_table_columns(cohort, columns=mediators)
    binary = design["outcome_type"] == "binary"
    return mediate(meta, exposure=design["exposure"], mediators=mediators, outcome=variable,
                   covariates=covariates, treated=design["treated"] or None,
                   outcome_type="binary" if binary else "continuous", method=m["method"],
                   n_draws=m["boot"], level=m["level"], seed=design["seed"],
                   source=cfg["input"]["metadata"], backend=backend)

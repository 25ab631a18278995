"""The mechanism step of ``gutaxis analyze``: what the gut makes and what it lets through.

Two routes connect the gut to pain in the literature: bacterial metabolites (short-chain
fatty acids, tryptophan and indole metabolites, GABA, glutamate) and a leaky barrier that
lets bacterial products into the blood. With a functional table (KEGG orthologs, pathways
or modules) the step scans the gut-brain and gut-metabolic modules against the outcome
with the association step's model (:func:`gutaxis.analyze.models.association_scan`, the
same covariates and random effects), then asks, for the top modules and each barrier or
inflammation marker in the metadata, how much of a module's association with the outcome
runs through the marker (gut function -> marker -> pain; :func:`gutaxis.stats.mediation.
mediate`). With a 16S table only, metabolic guilds inferred from taxonomy stand in for the
modules, labelled as inferred.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gutaxis.analyze.models import association_scan, outcome_scan
from gutaxis.data.labs import ANALYTES, BARRIER_MARKERS, INFLAMMATION_MARKERS
from gutaxis.errors import GutaxisError, InputError
from gutaxis.report.function_names import MODULE_ID, module_names

if TYPE_CHECKING:
    from gutaxis.compute import Backend
    from gutaxis.data.cohort import Cohort
    from gutaxis.data.profile import FeatureType, ProfileTable
    from gutaxis.stats.association_results import AssociationResults
    from gutaxis.stats.mediation.results import MediationResults

__all__ = ["MARKERS", "FunctionScan", "MechanismPath", "MechanismResults",
           "function_table", "markers_in", "mechanism_skip_reason", "plain_module_table_note",
           "run_mechanism"]

#: Barrier and inflammation markers (lab analyte ids, :mod:`gutaxis.data.labs`) used as
#: mediators when the metadata has them and ``[mechanism] markers`` names none.
MARKERS: tuple[str, ...] = (*BARRIER_MARKERS, *INFLAMMATION_MARKERS)
#: How many of the scanned functions (smallest q first) enter the mediation.
MEDIATED_FUNCTIONS = 3
MEASURED = "measured"
PREDICTED = "predicted from 16S (PICRUSt2)"
INFERRED = "inferred from taxonomy"
_KO = re.compile(r"K\d{5}")

Config = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, eq=False)
class FunctionScan:
    """One scan of functions (or inferred guilds) against the outcome.

    Attributes
    ----------
    key
        ``gbm``, ``gmm``, ``modules``, ``functions`` or ``guilds``: the folder name.
    title
        What was scanned, for people (``Gut-brain modules (GBMs), version 1.0``).
    evidence
        :data:`MEASURED`, :data:`PREDICTED` or :data:`INFERRED`.
    results
        The scan, in the association step's columns.
    names
        Feature id -> readable name (module names from the module definitions).
    profile
        The module profile the scan was made from (``None`` unless computed here).
    values
        How the scanned values were made, in words.
    caveats
        What a reader must know of these functions (each inferred guild's caveat).
    about
        What the set is, in a sentence (from the module set's title).
    """

    key: str
    title: str
    evidence: str
    results: AssociationResults
    names: dict[str, str] = field(default_factory=dict)
    profile: Any | None = None
    values: str = ""
    caveats: tuple[str, ...] = ()
    about: str = ""

    def outcome_rows(self, variable: str) -> pd.DataFrame:
        """The abundance-model rows of ``variable``, smallest p first, with ``name``."""
        table = self.results.table
        rows = table[(table["metadata"] == variable) & (table["model"] == "abundance")]
        rows = rows.sort_values("pval", kind="stable")
        return rows.assign(scan=self.key, name=[self.names.get(f, f) for f in rows["feature"]],
                           evidence=self.evidence)


@dataclass(frozen=True, eq=False)
class MechanismPath:
    """Gut function -> marker -> outcome: one mediation analysis.

    Attributes
    ----------
    scan, feature, name
        Which scan the function came from, its id and its name.
    marker
        The barrier or inflammation marker (a metadata column).
    contrast
        What one unit of the exposure is (``a doubling of relative abundance``).
    mediation
        The mediation results (exposure = the function's scanned value).
    """

    scan: str
    feature: str
    name: str
    marker: str
    contrast: str
    mediation: MediationResults


@dataclass(frozen=True, eq=False)
class MechanismResults:
    """What the mechanism step found.

    Attributes
    ----------
    variable
        The outcome as the models use it.
    scans
        One scan per module set (or of the functions, or of the inferred guilds).
    paths
        Mediation of the top functions through each marker.
    markers
        The markers used.
    caveats
        What a reader must know (measured vs inferred, marker assays, assumptions).
    notes
        What was done silently (samples without a functional profile, sets skipped).
    """

    variable: str
    scans: tuple[FunctionScan, ...]
    paths: tuple[MechanismPath, ...] = ()
    markers: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def inferred(self) -> bool:
        """Whether the functions were inferred from taxonomy (no functional table)."""
        return all(s.evidence == INFERRED for s in self.scans)

    def to_frame(self) -> pd.DataFrame:
        """The outcome rows of every scan: ``scan, evidence, feature, name`` and the
        association columns, smallest p first within each scan."""
        frames = [s.outcome_rows(self.variable) for s in self.scans]
        if not frames:
            return pd.DataFrame(columns=["scan", "evidence", "feature", "name"])
        out = pd.concat(frames, ignore_index=True)
        first = ["scan", "evidence", "feature", "name"]
        return out[first + [c for c in out.columns if c not in first]]

    def paths_frame(self) -> pd.DataFrame:
        """One row per (function, marker, effect): ``scan, feature, name, marker, contrast,
        effect, estimate, ci_low, ci_high, pval, n``."""
        rows = []
        for p in self.paths:
            effects = p.mediation.to_frame()
            effects.insert(0, "contrast", p.contrast)
            effects.insert(0, "marker", p.marker)
            effects.insert(0, "name", p.name)
            effects.insert(0, "feature", p.feature)
            effects.insert(0, "scan", p.scan)
            rows.append(effects.assign(n=p.mediation.n))
        if not rows:
            return pd.DataFrame(columns=["scan", "feature", "name", "marker", "contrast",
                                         "effect", "estimate", "ci_low", "ci_high", "pval",
                                         "n"])
        return pd.concat(rows, ignore_index=True)

    def summary(self) -> str:
        """A few lines: each scan's hits and each mediation's ACME."""
        lines = []
        for s in self.scans:
            rows = s.outcome_rows(self.variable)
            q = s.results.spec.max_significance
            lines.append(f"{s.title} ({s.evidence}): {int((rows['qval'] <= q).sum())} of "
                         f"{len(rows)} associated with {self.variable} at q <= {q:g}")
        for p in self.paths:
            e = p.mediation.effects.set_index("effect").loc["acme"]
            lines.append(f"  {p.name} -> {p.marker} -> {self.variable}: ACME "
                         f"{e['estimate']:.3g} ({e['ci_low']:.3g} to {e['ci_high']:.3g})")
        return "\n".join(lines)

    def to_dir(self, path: str | Path) -> None:
        """Write ``scan-<key>.tsv`` (the association columns), ``modules-<key>.tsv`` (the
        module profile, tidy), ``functions.tsv`` (outcome rows with names) and
        ``mediation.tsv`` into ``path`` (created if needed).

        Parameters
        ----------
        path
            The folder.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        for s in self.scans:
            _tsv(s.results.table, out / f"scan-{s.key}.tsv")
            if s.profile is not None:
                _tsv(s.profile.to_frame(), out / f"modules-{s.key}.tsv")
        _tsv(self.to_frame(), out / "functions.tsv")
        _tsv(self.paths_frame(), out / "mediation.tsv")


def _tsv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep="\t", index=False, na_rep="NA")


# ----------------------------------------------------------------------------- inputs
def markers_in(meta: pd.DataFrame, cfg: Config) -> list[str]:
    """The marker columns to use: ``[mechanism] markers`` (each must be a metadata column),
    else the :data:`MARKERS` that are numeric metadata columns with values."""
    named = list(cfg["mechanism"]["markers"])
    if named:
        missing = [m for m in named if m not in meta.columns]
        if missing:
            raise InputError("mechanism marker not in the metadata", field="mechanism.markers",
                             found=", ".join(missing), expected=", ".join(map(str, meta.columns)))
        return named
    return [m for m in MARKERS if m in meta.columns
            and pd.api.types.is_numeric_dtype(meta[m]) and meta[m].notna().sum() > 2]


def function_table(cohort: Cohort, cfg: Config) -> ProfileTable | None:
    """The functional table of the step: ``[input] function_table`` read and checked, or
    the main table when it is functional, or ``None``.

    A table given as the function table whose reader saw plain ids is taken as
    functional: KEGG orthologs when every id is ``K00000``-like, modules when every id is
    a gut-brain (``MGB005``) or gut-metabolic (``MF0001``) module, functions otherwise.
    A plain table of unnormalised abundances that are not whole numbers (RPK, module
    abundances as ``gutaxis modules`` writes them), whose kind a reader cannot tell, is
    read as counts (the kind of RPK).
    """
    path = cfg["input"]["function_table"]
    if not path:
        return cohort.table if cohort.table.is_functional else None
    from gutaxis.io import read_table

    try:
        table = read_table(path)
    except InputError as exc:
        if "cannot tell what the values are" not in exc.message:
            raise
        table = read_table(path, kind="counts")
    table.require_unstratified(action="the mechanism step")
    if table.feature_type == "module" and table.unit == "coverage":
        raise InputError("a function table of module coverage", source=str(path),
                         found="coverage (the fraction of each module's steps found), "
                               "not an abundance",
                         expected="gutaxis modules' module-abundance.tsv, or a KO table")
    note = plain_module_table_note(table)
    if note is not None:
        raise InputError("a function table of modules read as relative abundances",
                         source=str(path), found=note.split("; ", 1)[1],
                         expected="a KO table, or gutaxis modules' module-abundance.tsv")
    if not table.is_functional:
        ids = pd.Series(table.feature_ids, dtype=str)
        feature_type: FeatureType = ("ko" if ids.str.fullmatch(_KO.pattern).all() else
                        "module" if ids.str.fullmatch(MODULE_ID.pattern).all() else "function")
        table = replace(table, feature_type=feature_type, taxonomy=None, tree=None)
    return table


def plain_module_table_note(table: ProfileTable) -> str | None:
    """A warning when a plain table of gut module ids was read as relative abundances:
    ``gutaxis modules``' ``module-coverage.tsv`` reads so (coverage fractions look like
    percentages), and coverage is not an abundance. ``None`` otherwise.

    Parameters
    ----------
    table
        A table as a reader returned it.
    """
    if table.feature_type != "taxon" or table.kind != "relative" or not table.n_features:
        return None
    if not pd.Series(table.feature_ids, dtype=str).str.fullmatch(MODULE_ID.pattern).all():
        return None
    return ("the table's features are gut modules in a plain table read as relative "
            "abundances; if it holds coverage (gutaxis modules' module-coverage.tsv), "
            "those are fractions of a module detected, not abundances: use "
            "module-abundance.tsv (--kind counts)")


def mechanism_skip_reason(cohort: Cohort, cfg: Config) -> str | None:
    """Why the step cannot run, or ``None``."""
    functional = bool(cfg["input"]["function_table"]) or cohort.table.is_functional
    markers = markers_in(cohort.metadata, cfg)
    if functional:
        return None
    if not markers:
        return ("no functional table (--function-table, or a HUMAnN/PICRUSt2 table) and no "
                "barrier or inflammation marker (" + ", ".join(MARKERS)
                + ") in the metadata")
    if cohort.table.taxonomy is None:
        return (f"markers found ({', '.join(markers)}) but no functional table, and no "
                "taxonomy to infer metabolic guilds from")
    return None


# ------------------------------------------------------------------------------- step
def run_mechanism(cohort: Cohort, cfg: Config, variable: str, *,
                  backend: Backend | None = None) -> MechanismResults:
    """Scan the gut's functions (or inferred guilds) against the outcome, then mediate
    the top ones through each barrier or inflammation marker.

    Parameters
    ----------
    cohort
        The analysed samples (after the data checks), with ``variable`` in the metadata.
    cfg
        The configuration (``[mechanism]``, ``[association]``, ``[mediation]``).
    variable
        The outcome as the models use it.
    backend
        Where the heavy parts run (:mod:`gutaxis.compute`; default: this process): the
        module scan's feature chunks and the mediation bootstrap's replicates, with the
        answers of a local run (the scan as :func:`~gutaxis.stats.associate` states: LM
        bit for bit; the bootstrap bit for bit). The module profile (one sparse product)
        and the guild scan (a few columns) run here.
    """
    notes: list[str] = []
    table = function_table(cohort, cfg)
    if table is not None:
        fcohort = _aligned(cohort, table, notes)
        scans = _function_scans(fcohort, cfg, variable, notes, backend)
    else:
        fcohort = cohort
        scans = [_guild_scan(cohort, cfg, variable)]
    if not scans:
        raise InputError("no module set could be scanned", field="mechanism.module_sets",
                         found="; ".join(notes) or "none", expected="a KO table")
    markers = markers_in(fcohort.metadata, cfg)
    paths = _mediations(fcohort, scans, markers, cfg, variable, notes, backend)
    return MechanismResults(variable=variable, scans=tuple(scans), paths=tuple(paths),
                            markers=tuple(markers), caveats=tuple(_caveats(scans, markers, cfg)),
                            notes=tuple(dict.fromkeys(notes)))


def _aligned(cohort: Cohort, table: ProfileTable, notes: list[str]) -> Cohort:
    """The cohort's samples that have a functional profile, with that table."""
    present = set(map(str, table.sample_ids))
    keep = np.array([s in present for s in map(str, cohort.sample_ids)])
    if not keep.any():
        raise InputError("no analysed sample has a functional profile",
                         field="input.function_table", found=", ".join(table.sample_ids[:3]),
                         expected="the sample ids of the metadata")
    if not keep.all():
        notes.append(f"{int((~keep).sum())} analysed sample(s) have no functional profile "
                     "and are left out of this step")
    kept = np.asarray(cohort.sample_ids, dtype=str)[keep]
    return cohort.with_table(table.subset_samples(kept))


def _function_scans(cohort: Cohort, cfg: Config, variable: str, notes: list[str],
                    backend: Backend | None) -> list[FunctionScan]:
    table = cohort.table
    evidence = PREDICTED if table.unit == "predicted" else MEASURED
    if table.feature_type != "ko":
        coverage = table.unit == "coverage" or table.kind == "transformed"
        results = association_scan(cohort, cfg, variable,
                                   normalization="NONE" if coverage else None,
                                   transform="NONE" if coverage else None,
                                   backend=backend)
        key = "modules" if table.feature_type == "module" else "functions"
        title = ("Gut modules" if key == "modules" else
                 f"Functions ({table.feature_type}{', coverage' if coverage else ''})")
        return [FunctionScan(key, title, evidence, results, names=module_names(table.feature_ids),
                             values=_scan_words(results))]
    from gutaxis.gut.modules import module_profile, module_sets

    known = {info.name: info for info in module_sets()}
    scans = []
    m = cfg["mechanism"]
    for name in m["module_sets"]:
        if name not in known:
            raise InputError("unknown module set", field="mechanism.module_sets", found=name,
                             expected=", ".join(known))
        profile = module_profile(table, set=name, coverage=m["coverage"])
        try:
            results = association_scan(cohort.with_table(profile.abundance), cfg, variable,
                                       backend=backend)
        except InputError as exc:  # e.g. no module present in enough samples
            notes.append(f"{name}: not scanned ({exc})")
            continue
        names = {str(k): str(v) for k, v in profile.modules["name"].items()}
        title, _, about = known[name].title.partition(": ")
        scans.append(FunctionScan(name, f"{title}, version {known[name].version}", evidence,
                                  results, names=names, profile=profile,
                                  values=_scan_words(results), about=about))
    return scans


def _scan_words(results: AssociationResults) -> str:
    spec = results.spec
    return f"{spec.normalization} normalisation, {spec.transform} transform"


def _guild_scan(cohort: Cohort, cfg: Config, variable: str) -> FunctionScan:
    from gutaxis.gut.guilds import GUILD_SUFFIX, metabolic_guilds

    found = metabolic_guilds(cohort.table)
    shares = found.shares.loc[:, found.shares.notna().any()]  # a guild nobody can be placed in
    results = outcome_scan(cohort, shares, cfg, variable)
    titles = found.guilds["title"]
    names = {f"{guild}{GUILD_SUFFIX}": f"{title} (inferred)" for guild, title in titles.items()}
    return FunctionScan("guilds", f"Metabolic guilds, lists v{found.version}", INFERRED,
                        results, names=names, values="share of the community",
                        about=f"Guild shares {found.label}",
                        caveats=tuple(f"{title}: {caveat}" for title, caveat in
                                      zip(titles, found.guilds["caveat"], strict=True)
                                      if caveat))


def _mediations(cohort: Cohort, scans: list[FunctionScan], markers: list[str], cfg: Config,
                variable: str, notes: list[str], backend: Backend | None
                ) -> list[MechanismPath]:
    """Mediation of the top functions (smallest q over every scan) through each marker."""
    from gutaxis.stats.mediation import mediate

    if not markers:
        notes.append("no barrier or inflammation marker in the metadata: no mediation")
        return []
    rows = pd.concat([s.outcome_rows(variable) for s in scans], ignore_index=True)
    rows = rows[rows["coef"].notna()].sort_values(["qval", "pval"], kind="stable")
    top = rows.head(MEDIATED_FUNCTIONS)
    by_key = {s.key: s for s in scans}
    design, med = cfg["design"], cfg["mediation"]
    if design["subject"]:
        notes.append("mediation: repeated samples of a subject are treated as independent")
    paths = []
    for _, row in top.iterrows():  # a handful of (function, marker) pairs, each a bootstrap
        scan = by_key[row["scan"]]
        exposure, contrast, treated_value = _exposure(scan, str(row["feature"]))
        column = f"function:{row['feature']}"
        meta = cohort.metadata.assign(**{column: exposure.reindex(cohort.metadata.index)})
        for marker in markers:
            covariates = [c for c in design["covariates"] if c != marker]
            try:
                result = mediate(meta, exposure=column, mediators=[marker], outcome=variable,
                                 covariates=covariates, treated_value=treated_value,
                                 outcome_type="binary" if design["outcome_type"] == "binary"
                                 else "continuous", mediator_type="continuous",
                                 method=med["method"], n_draws=med["boot"],
                                 level=med["level"], seed=design["seed"],
                                 source=cfg["input"]["metadata"], backend=backend)
            except GutaxisError as exc:  # one pair that cannot be fitted: said, not fatal
                notes.append(f"mediation {row['feature']} -> {marker} not run: {exc}")
                continue
            paths.append(MechanismPath(scan.key, str(row["feature"]), str(row["name"]),
                                       marker, contrast, result))
    return paths


def _exposure(scan: FunctionScan, feature: str) -> tuple[pd.Series, str, float]:
    """The scanned values of one function (as the scan modelled them), what one step of
    the mediation's contrast is, and its size."""
    values = scan.results.values[feature]
    values.index = values.index.astype(str)
    spec = scan.results.spec
    if scan.evidence == INFERRED:
        return values, "10 percentage points more of the community", 0.1
    if spec.transform == "LOG":
        return values, "a doubling of relative abundance", 1.0
    return values, f"one unit ({_scan_words(scan.results)})", 1.0


def _caveats(scans: list[FunctionScan], markers: list[str], cfg: Config) -> list[str]:
    evidence = {s.evidence for s in scans}
    lines = []
    if MEASURED in evidence:
        lines.append("Functions were measured from shotgun metagenomes: gene content, which "
                     "says what the community can make, not what it makes (no expression or "
                     "metabolite levels).")
    if PREDICTED in evidence:
        lines.append("Functions were predicted from 16S sequences by PICRUSt2: inferred "
                     "gene content of the taxa present, not measured.")
    if INFERRED in evidence:
        lines.append("No functional profile was given: the guilds are inferred from "
                     "taxonomy (which taxa are known to make butyrate, GABA, ...), not "
                     "measured; a taxon's strain may lack the genes.")
    lines += [c for s in scans for c in s.caveats]
    if any(s.profile is not None for s in scans):
        lines.append(f"A module counts in a sample when at least "
                     f"{cfg['mechanism']['coverage']:.0%} of its steps are found (its "
                     "coverage); below that its abundance is 0.")
    lines += _marker_caveats(markers)
    if markers:
        lines.append("Mediation assumes no unmeasured confounding of function, marker and "
                     "outcome, and that the function comes before the marker: cross-sectional "
                     "data cannot show the order.")
    return lines


def _marker_caveats(markers: list[str]) -> list[str]:
    return [f"{ANALYTES[m].name}: {c.line()}" for m in markers if m in ANALYTES
            for c in ANALYTES[m].caveats]

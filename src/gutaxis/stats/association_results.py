"""Results of an association scan: the table, the model spec with its provenance, and
the files they are written to."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gutaxis.stats.scan_values import ModelledValues
from gutaxis.version import package_version

#: Boolean status of each row's fit (the ``error`` text says the same for people):
#: ``converged``: estimates were fitted and reported; ``singular``: a random-effect
#: variance is estimated at 0 (estimates kept); ``separated``: this term's coefficient is
#: unbounded in the unaugmented likelihood, presence being predicted exactly (the augmented
#: estimate is kept; other terms of the feature are not flagged).
STATUS_COLUMNS: tuple[str, ...] = ("converged", "singular", "separated")

#: Boolean flags of prevalence rows to read with care (MaAsLin 3's checks, see
#: :mod:`gutaxis.stats.joint`): ``induced_by_abundance`` (``warn_prevalence``),
#: ``suspect_rare`` and ``suspect_common`` (extreme fits on features present in < 5% or
#: > 95% of samples). Always False on abundance rows.
FLAG_COLUMNS: tuple[str, ...] = ("induced_by_abundance", "suspect_rare", "suspect_common")

#: Columns of the results table, in order (MaAsLin's layout plus ``df``, MaAsLin 3's joint
#: p- and q-values, ``model``, ``error``, the :data:`STATUS_COLUMNS` and :data:`FLAG_COLUMNS`).
RESULT_COLUMNS: tuple[str, ...] = (
    "feature", "metadata", "value", "coef", "stderr", "df", "pval", "qval", "pval_joint",
    "qval_joint", "n", "n_nonzero", "model", "error", *STATUS_COLUMNS, *FLAG_COLUMNS,
)

CITATIONS: dict[str, str] = {
    "maaslin2": "Mallick H, Rahnavard A, McIver LJ, et al. (2021). Multivariable association "
                "discovery in population-scale meta-omics studies. PLoS Comput Biol "
                "17(11):e1009442. doi:10.1371/journal.pcbi.1009442",
    "maaslin3": "Nickols WA, Kuntz T, Shen J, et al. (2024). MaAsLin 3: refining and extending "
                "generalized multivariable linear models for meta-omic association discovery. "
                "bioRxiv 2024.12.13.628459. doi:10.1101/2024.12.13.628459",
    "lme4": "Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects "
            "models using lme4. J Stat Softw 67(1):1-48. doi:10.18637/jss.v067.i01",
    "lmerTest": "Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in "
                "linear mixed effects models. J Stat Softw 82(13):1-26. "
                "doi:10.18637/jss.v082.i13",
    "BH": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical "
          "and powerful approach to multiple testing. J R Stat Soc B 57(1):289-300.",
    "BY": "Benjamini Y, Yekutieli D (2001). The control of the false discovery rate in "
          "multiple testing under dependency. Ann Stat 29(4):1165-1188.",
    "holm": "Holm S (1979). A simple sequentially rejective multiple test procedure. "
            "Scand J Stat 6(2):65-70.",
}


def citations_for(*, random: bool, prevalence: bool, correction: str) -> tuple[str, ...]:
    """The references a scan with these options rests on."""
    keys = ["maaslin2"]
    if prevalence:
        keys.append("maaslin3")
    if random:
        keys += ["lme4", "lmerTest"]
    if correction in CITATIONS:
        keys.append(correction)
    return tuple(CITATIONS[k] for k in keys)


def _version() -> str:
    return package_version()


@dataclass(frozen=True)
class AssociationSpec:
    """What was fitted, on what, and how: enough to rerun the scan and cite it.

    Attributes
    ----------
    formula
        The model in R's notation, e.g. ``"y ~ age + diagnosis + (1 | subject)"``.
    fixed, random, levels, numeric
        The fixed effects, the random-intercept groups, the levels of each categorical
        variable (reference first) and the numeric variables.
    normalization, transform, min_prevalence, min_abundance, min_variance, standardize
        The options of :func:`gutaxis.stats.associate` used.
    correction, prevalence_model, max_significance, lmm_optimizer
        The options of :func:`gutaxis.stats.associate` used.
    median_comparison_abundance, median_comparison_prevalence, subtract_median
        Whether each model's coefficients were tested against their term's median
        (MaAsLin 3), and whether the median was subtracted from them.
    median_comparison_abundance_threshold, median_comparison_prevalence_threshold, seed
        The median comparison's thresholds and the seed of its simulation.
    warn_prevalence
        Whether prevalence rows were checked for being induced by abundance.
    strata, unscaled_abundance
        The matched-set column (MaAsLin 3's ``strata_effects``) and the column of the scaled
        abundance table (a spike-in feature or ``total``; MaAsLin 3's
        ``unscaled_abundance``), or ``None``.
    abundance_model
        The abundance model fitted, e.g. ``"LM (OLS)"``.
    group_effects, ordered_effects
        MaAsLin 3's special predictors among ``fixed``: variables tested by one test over
        all levels (one row each), and ordered variables (each level vs the previous).
    n_samples_input, n_samples_used
        Every sample of the input table (MaAsLin 2's ``N``); the complete cases the
        models were fitted on.
    n_features_input, n_features_tested
        Features in the input table; features kept by the filters and tested.
    input_hash
        SHA-256 of the table (values, ids) and the metadata columns the models use.
    citations
        The references of the method.
    gutaxis_version, method
        The gutaxis version and function that made the results.
    """

    formula: str
    fixed: tuple[str, ...]
    random: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]
    numeric: tuple[str, ...]
    normalization: str
    transform: str
    min_prevalence: float
    min_abundance: float
    min_variance: float
    standardize: bool
    correction: str
    prevalence_model: bool
    max_significance: float
    abundance_model: str
    n_samples_input: int
    n_samples_used: int
    n_features_input: int
    n_features_tested: int
    input_hash: str
    citations: tuple[str, ...]
    lmm_optimizer: str = "newton"
    median_comparison_abundance: bool = False
    median_comparison_prevalence: bool = False
    median_comparison_abundance_threshold: float = 0.0
    median_comparison_prevalence_threshold: float = 0.0
    subtract_median: bool = False
    warn_prevalence: bool = False
    seed: int = 0
    group_effects: tuple[str, ...] = ()
    ordered_effects: tuple[str, ...] = ()
    strata: str | None = None
    unscaled_abundance: str | None = None
    gutaxis_version: str = field(default_factory=_version)
    method: str = "gutaxis.stats.associate"

    @property
    def reference(self) -> dict[str, str]:
        """The reference level of each categorical variable."""
        return {var: levels[0] for var, levels in self.levels.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        data = asdict(self)
        data["reference"] = self.reference
        return json.loads(json.dumps(data))


@dataclass(frozen=True, eq=False)
class AssociationResults:
    """The outcome of :func:`gutaxis.stats.associate`.

    Attributes
    ----------
    table
        One row per (model, feature, term); columns :data:`RESULT_COLUMNS`, ordered by
        q-value (``NaN`` last). A group variable (MaAsLin 3's group predictor) has one row
        per (model, feature): ``value`` is the variable's name, ``coef`` and ``stderr`` are
        ``NaN``, ``df`` is the F test's denominator df (``NaN`` for likelihood-ratio tests);
        an ordered variable's rows compare each level with the previous one.
    spec
        Model, parameters and provenance.
    values
        The normalised, transformed abundances that were modelled (samples used x
        features tested), for plots: ``values[feature]`` is a Series, built on request
        from the sparse table (``values.to_frame()`` builds them all, densely); with the
        prevalence model, ``NaN`` where a feature is absent (its abundance model did not
        use that sample).
    covariates
        The fixed-effect metadata of the samples used, as given (not standardised).
    """

    table: pd.DataFrame
    spec: AssociationSpec
    values: ModelledValues = field(repr=False)
    covariates: pd.DataFrame = field(repr=False)

    def significant(self, q: float | None = None) -> pd.DataFrame:
        """Significant rows (threshold default: the scan's ``max_significance``), by q-value.

        As MaAsLin 3 selects them: a row is significant when its joint q-value is at most
        ``q``, or its own q-value is and it is not flagged ``induced_by_abundance``. Without
        the prevalence model both q-values are the same (MaAsLin 2's rule).

        Parameters
        ----------
        q
            The q-value threshold (inclusive); default the scan's ``max_significance``.
        """
        threshold = self.spec.max_significance if q is None else float(q)
        table = self.table
        rows = table["qval"].to_numpy() <= threshold
        if "induced_by_abundance" in table:
            rows &= ~table["induced_by_abundance"].to_numpy(dtype=bool)
        if "qval_joint" in table:
            rows |= table["qval_joint"].to_numpy() <= threshold
        return self.table.loc[rows].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Every (model, feature, term) row as a DataFrame (a copy of :attr:`table`), as
        :meth:`gutaxis.stats.FitResults.to_frame` gives a single fit's."""
        return self.table.copy()

    def summary(self) -> str:
        """A few lines for a terminal: model, sizes and the number of hits."""
        hits = self.significant()
        flagged = self.table.loc[self.table["error"].notna(), "feature"].nunique()
        kinds = ", ".join(
            f"{label} {self._features_where(column, value)}"
            for label, column, value in (("singular random-effect fit", "singular", True),
                                         ("separation", "separated", True),
                                         ("not converged", "converged", False))
            if self._features_where(column, value))
        return "\n".join([
            f"model: {self.spec.formula}  [{self.spec.abundance_model}]",
            f"samples: {self.spec.n_samples_used} used of {self.spec.n_samples_input}; "
            f"features: {self.spec.n_features_tested} tested of {self.spec.n_features_input}",
            f"{self.spec.normalization} + {self.spec.transform}, {self.spec.correction} "
            f"correction: {len(hits)} association(s) with q <= {self.spec.max_significance}",
            f"features with a flagged fit: {flagged}" + (f" ({kinds})" if kinds else ""),
        ])

    def _features_where(self, column: str, value: bool) -> int:
        """How many features have a fit whose boolean status ``column`` equals ``value``."""
        if column not in self.table.columns:
            return 0
        rows = self.table[column].astype("boolean").eq(value).fillna(False).to_numpy(bool)
        return int(self.table.loc[rows, "feature"].nunique())

    def to_dir(self, path: str | Path) -> list[Path]:
        """Write ``all_results.tsv``, ``significant_results.tsv`` and ``model.json``.

        The folder is created if needed; the files written are returned.

        Parameters
        ----------
        path
            The folder to write into.
        """
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "all_results.tsv", out / "significant_results.tsv", out / "model.json"]
        _write_tsv(self.table, written[0])
        _write_tsv(self.significant(), written[1])
        written[2].write_text(json.dumps(self.spec.to_dict(), indent=2) + "\n")
        return written


def _write_tsv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, sep="\t", index=False, na_rep="NA")


def read_results(path: str | Path) -> pd.DataFrame:
    """Read an ``all_results.tsv`` or ``significant_results.tsv`` back into a DataFrame."""
    frame = pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False,
                        dtype={"feature": str, "metadata": str, "value": str, "model": str})
    frame["error"] = frame["error"].replace("", np.nan)
    for column in (*STATUS_COLUMNS, *FLAG_COLUMNS):
        if column in frame:  # tables written before the status columns have none
            frame[column] = frame[column].astype(str).str.lower().map(
                {"true": True, "false": False})
    return frame

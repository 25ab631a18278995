"""Module abundance and coverage from a KEGG-ortholog table, as Omixer-RPM computes them.

Omixer-RPM (Darzi et al. 2016), with its default options (median score estimator, no
length normalisation, no distribution of shared orthologs), scores a module in a sample
by enumerating every path (one alternative per step) and keeping the one with the
highest coverage, then the highest abundance. For one path:

- an alternative's value is the mean of its orthologs' abundances, a missing ortholog
  counting 0 (``sum / size``); the step is observed when that sum is > 0;
- coverage = observed steps / steps; abundance = median of the observed steps' values
  (the mean of the two middle values for an even count).

The median is non-decreasing in each step's value, and a step is observed on some path
exactly when one of its alternatives is, so the best path takes the largest
alternative at every step. Hence the closed form computed here, for all samples at once:

- step value :math:`v_s = \\max_a \\frac{1}{|a|} \\sum_{k \\in a} x_k`;
- coverage :math:`= |\\{s : v_s > 0\\}| / n_{steps}`;
- abundance :math:`= \\operatorname{median}\\{v_s : v_s > 0\\}`, reported where
  coverage >= the cutoff and 0 elsewhere (Omixer-RPM writes 0 for both there; gutaxis
  keeps the true coverage).

One sparse product gives every alternative's value (alternatives x orthologs weights
``1/size``), ``np.maximum.reduceat`` the step maxima, and a padded samples x modules x
steps array the medians, in chunks of samples to bound memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.errors import DataKindError, InputError, preview
from gutaxis.gut.modules.definitions import ModuleSet, module_set
from gutaxis.gut.modules.results import ModuleProfile

__all__ = ["DEFAULT_COVERAGE", "module_profile"]

#: Coverage cutoff of Valles-Colomer et al. (2019) and Vieira-Silva et al. (2016).
DEFAULT_COVERAGE = 0.66
#: Feature ids read as KEGG orthologs: ``K00001``, or HUMAnN's renamed ``K00001: name``.
_KO_ID = r"^(K\d{5})(?:$|:)"
#: Bytes of the dense per-chunk arrays (alternatives, padded steps).
_CHUNK_BYTES = 64 * 2**20
#: Feature types a KO table may carry (``taxon`` is the default of a plain TSV).
_KO_TYPES = ("ko", "function", "taxon")


@dataclass(frozen=True)
class _Compiled:
    """A module set as arrays: alternatives x orthologs weights and step/module layout."""

    orthologs: pd.Index  # every ortholog id the set names
    weights: sp.csr_array  # orthologs x alternatives, 1/size per member
    step_starts: np.ndarray  # first alternative of each step (alternatives by step)
    module_starts: np.ndarray  # first step of each module
    n_steps: np.ndarray  # steps per module
    padded: np.ndarray  # modules x max_steps: global step index, -1 past the end


@cache
def _compile(modules: ModuleSet) -> _Compiled:
    alternatives = [alt for m in modules.modules for step in m.steps for alt in step]
    step_sizes = [len(step) for m in modules.modules for step in m.steps]
    n_steps = np.array([m.n_steps for m in modules.modules], dtype=np.intp)
    orthologs = pd.Index(sorted({o for alt in alternatives for o in alt}))
    rows = np.concatenate([orthologs.get_indexer(pd.Index(alt)) for alt in alternatives])
    cols = np.repeat(np.arange(len(alternatives)), [len(alt) for alt in alternatives])
    share = np.repeat([1.0 / len(alt) for alt in alternatives], [len(a) for a in alternatives])
    weights = sp.csr_array(sp.coo_array((share, (rows, cols)),
                                        shape=(len(orthologs), len(alternatives))))
    module_starts = np.concatenate([[0], np.cumsum(n_steps)[:-1]])
    offsets = np.arange(n_steps.max())
    padded = np.where(offsets < n_steps[:, None], module_starts[:, None] + offsets, -1)
    return _Compiled(orthologs, weights, np.concatenate([[0], np.cumsum(step_sizes)[:-1]]),
                     module_starts, n_steps, padded)


def module_profile(
    table: ProfileTable,
    *,
    set: str | ModuleSet = "gbm",
    version: str | None = None,
    coverage: float = DEFAULT_COVERAGE,
    progress: Callable[[int], None] | None = None,
) -> ModuleProfile:
    """Abundance and coverage of every module of a set in every sample of a KO table.

    Parameters
    ----------
    table
        Unstratified KEGG-ortholog abundances (HUMAnN KO, PICRUSt2 KO, or any table whose
        features are ``K00001``-style ids, also HUMAnN's renamed ``K00001: name``):
        counts, RPK, CPM or relative abundances. As in Omixer-RPM, ids are matched as
        strings, so other ids a set names (COG or eggNOG ids of the GBMs) count too;
        features that are neither KOs nor named by the set (``UNMAPPED``,
        ``UNGROUPED``, ...) are left out and reported in
        :attr:`ModuleProfile.unknown_ids`.
    set
        ``"gbm"`` (gut-brain modules), ``"gmm"`` (gut metabolic modules), or a
        :class:`~gutaxis.gut.modules.definitions.ModuleSet`.
    version
        Version of a named set; the newest shipped when ``None``.
    coverage
        Cutoff in ``[0, 1]``: a module is present in a sample when its coverage is
        ``>=`` this (Omixer-RPM's rule); its abundance is 0 where it is not.
    progress
        Called with the number of samples done after each chunk.

    Returns
    -------
    ModuleProfile
        ``abundance`` (same kind and unit as ``table``, feature type ``module``),
        ``coverage`` (unit ``coverage``), the module table and the unknown ids.

    Raises
    ------
    InputError
        Unknown set or version, a cutoff outside ``[0, 1]``, a table that is not of KEGG
        orthologs, a stratified table, values that are not abundances.

    Notes
    -----
    See the module docstring for the closed form of Omixer-RPM's best path. Matches
    Omixer-RPM 1.1 (omixerRpm 0.3.3) to 1e-9 relative on 109 HUMAnN2 KO profiles
    (``tests/reference/omixer``).

    References
    ----------
    Darzi Y, Falony G, Vieira-Silva S, Raes J (2016). Towards biome-specific analysis of
    meta-omics data. ISME J 10:1025-1028. doi:10.1038/ismej.2015.188

    Examples
    --------
    The worked example of Omixer-RPM's README (glucose to glyceraldehyde 3-phosphate):

    >>> import pandas as pd
    >>> from gutaxis.gut.modules import ModuleDefinition, ModuleSet, ModuleSetInfo
    >>> steps = [["K00844", "K00845"], ["K01810", "K06859", "K13810", "K15916"],
    ...          ["K00850", "K16370"],
    ...          ["K01622", "K01623", "K01624", "K11645", "K16305", "K16306"], ["K01803"]]
    >>> glycolysis = ModuleDefinition("M1", "upper glycolysis",
    ...                               tuple(tuple((ko,) for ko in s) for s in steps))
    >>> one = ModuleSet(ModuleSetInfo("demo", "1", "demo", "README", "-", "-", 1),
    ...                 (glycolysis,))
    >>> ko = {"K00844": 10, "K00845": 3, "K06859": 7, "K13810": 8, "K01804": 12,
    ...       "K01622": 2, "K16370": 5, "K00703": 12, "K00863": 15}
    >>> table = ProfileTable.from_dataframe(pd.DataFrame(ko, index=["S1"]))
    >>> result = module_profile(table, set=one)
    >>> result.coverage.dense().item(), result.abundance.dense().item()
    (0.8, 6.5)
    """
    definitions = set if isinstance(set, ModuleSet) else module_set(set, version)
    if isinstance(coverage, bool) or not 0.0 <= float(coverage) <= 1.0:
        raise InputError("coverage cutoff must be a fraction", field="coverage",
                         found=coverage, expected="a number from 0 to 1, e.g. 0.66")
    table.require_unstratified(action="module inference")
    ko_of_feature = _ko_ids(table)
    compiled = _compile(definitions)
    keys = ko_of_feature.fillna(pd.Series(table.feature_ids, dtype=object))
    usable = compiled.orthologs.get_indexer(pd.Index(keys))
    columns = np.flatnonzero(usable >= 0)
    to_alternatives = sp.csr_array(
        sp.coo_array((np.ones(len(columns)), (columns, usable[columns])),
                     shape=(table.n_features, len(compiled.orthologs)))) @ compiled.weights
    abundance, cover = _score(table.values, sp.csr_array(to_alternatives), compiled,
                              cutoff=float(coverage), progress=progress)
    unknown = ko_of_feature.isna().to_numpy() & (usable < 0)
    return _results(table, definitions, abundance, cover, float(coverage),
                    unknown=table.feature_ids[unknown],
                    n_ko=int(ko_of_feature.notna().sum()),
                    n_used=len(np.unique(usable[columns])))


def _ko_ids(table: ProfileTable) -> pd.Series:
    """The KEGG ortholog of each feature (NaN for others), after checking the table."""
    table.require_kind("counts", "relative", action="module inference")
    ids = pd.Series(table.feature_ids, dtype=object)
    ko = ids.str.extract(_KO_ID, expand=False)
    if table.feature_type not in _KO_TYPES or not ko.notna().any():
        what = (f"a {table.feature_type} table" if table.feature_type != "taxon"
                else "no KEGG ortholog ids")
        raise DataKindError(
            "module inference needs a table of KEGG orthologs (KOs)",
            found=f"{what} (features {preview(table.feature_ids, 3)})",
            expected="KO ids such as K00001 (HUMAnN regrouped to KO, PICRUSt2's KO "
                     "pred_metagenome_unstrat.tsv)")
    return ko


def _score(values: sp.csr_array, to_alternatives: sp.csr_array, compiled: _Compiled, *,
           cutoff: float, progress: Callable[[int], None] | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Samples x modules abundance (0 below ``cutoff``) and coverage, chunk by chunk."""
    n_samples = values.shape[0]
    n_modules, max_steps = compiled.padded.shape
    per_sample = 8 * (to_alternatives.shape[1] + 2 * n_modules * max_steps)
    chunk = max(1, _CHUNK_BYTES // per_sample)
    abundance = np.zeros((n_samples, n_modules))
    cover = np.zeros((n_samples, n_modules))
    pad = compiled.padded
    for lo in range(0, n_samples, chunk):  # chunks bound memory; each is a few numpy calls
        rows = values if chunk >= n_samples else values[lo:lo + chunk]  # no needless copy
        alternatives = (rows @ to_alternatives).toarray()
        steps = np.maximum.reduceat(alternatives, compiled.step_starts, axis=1)
        observed = steps > 0
        covered = np.add.reduceat(observed, compiled.module_starts, axis=1)
        cover[lo:lo + chunk] = covered / compiled.n_steps
        laid = steps[:, np.maximum(pad, 0)]
        laid[:, pad < 0] = np.nan
        laid[laid <= 0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: no step observed
            median = np.nanmedian(laid, axis=2)
        keep = cover[lo:lo + chunk] >= cutoff
        abundance[lo:lo + chunk] = np.where(keep & (covered > 0), median, 0.0)
        if progress is not None:
            progress(min(chunk, n_samples - lo))
    return abundance, cover


def _results(table: ProfileTable, definitions: ModuleSet, abundance: np.ndarray,
             cover: np.ndarray, cutoff: float, *, unknown: np.ndarray, n_ko: int,
             n_used: int) -> ModuleProfile:
    ids = np.array([m.module_id for m in definitions.modules], dtype=str)
    abundance_table = replace(table, values=sp.csr_array(abundance), feature_ids=ids,
                              taxonomy=None, tree=None, strata=None, feature_type="module")
    coverage_table = ProfileTable(sp.csr_array(cover), table.sample_ids, ids,
                                  kind="transformed", feature_type="module", unit="coverage")
    modules = definitions.to_frame()
    modules["n_samples_present"] = (cover >= cutoff).sum(axis=0)
    return ModuleProfile(abundance=abundance_table, coverage=coverage_table, modules=modules,
                         unknown_ids=tuple(map(str, unknown)), info=definitions.info,
                         cutoff=cutoff, n_ko_features=n_ko, n_ko_used=n_used)

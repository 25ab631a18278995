"""The arithmetic behind :func:`gutaxis.gut.modules.module_profile`: a module set as
arrays, the table's ids matched to its orthologs, and the chunked closed form of
Omixer-RPM's best path (see :mod:`gutaxis.gut.modules.inference`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.errors import DataKindError, preview
from gutaxis.gut.modules.definitions import ModuleSet

__all__ = ["CompiledSet", "OrthologMatch", "compile_set", "match_orthologs", "score_chunks"]

#: Feature ids read as KEGG orthologs: ``K00001``, or HUMAnN's renamed ``K00001: name``.
KO_ID = r"^(K\d{5})(?:$|:)"
#: Bytes of the dense per-chunk arrays (alternatives, padded steps).
CHUNK_BYTES = 64 * 2**20
#: Feature types a KO table may carry (``taxon`` is the default of a plain TSV).
KO_TABLE_TYPES = ("ko", "function", "taxon")


@dataclass(frozen=True)
class CompiledSet:
    """A module set as arrays: orthologs x alternatives weights and the step layout."""

    orthologs: pd.Index  # every ortholog id the set names
    weights: sp.csr_array  # orthologs x alternatives, 1/size per member
    step_starts: np.ndarray  # first alternative of each step (alternatives by step)
    module_starts: np.ndarray  # first step of each module
    n_steps: np.ndarray  # steps per module
    padded: np.ndarray  # modules x max_steps: global step index, -1 past the end


@cache
def compile_set(modules: ModuleSet) -> CompiledSet:
    """The arrays of ``modules`` (cached per set)."""
    alternatives = [alt for m in modules.modules for step in m.steps for alt in step]
    sizes = np.array([len(alt) for alt in alternatives])
    step_sizes = [len(step) for m in modules.modules for step in m.steps]
    n_steps = np.array([m.n_steps for m in modules.modules], dtype=np.intp)
    orthologs = pd.Index(sorted({o for alt in alternatives for o in alt}))
    rows = orthologs.get_indexer(pd.Index([o for alt in alternatives for o in alt]))
    cols = np.repeat(np.arange(len(alternatives)), sizes)
    weights = sp.csr_array(sp.coo_array((np.repeat(1.0 / sizes, sizes), (rows, cols)),
                                        shape=(len(orthologs), len(alternatives))))
    module_starts = np.concatenate([[0], np.cumsum(n_steps)[:-1]])
    offsets = np.arange(n_steps.max())
    padded = np.where(offsets < n_steps[:, None], module_starts[:, None] + offsets, -1)
    return CompiledSet(orthologs, weights, np.concatenate([[0], np.cumsum(step_sizes)[:-1]]),
                       module_starts, n_steps, padded)


@dataclass(frozen=True)
class OrthologMatch:
    """How a table's function ids meet a set's orthologs."""

    to_alternatives: sp.csr_array  # functions x alternatives
    unknown: np.ndarray  # boolean per function: neither a KO nor named by the set
    n_ko: int  # functions that are KEGG orthologs
    n_used: int  # distinct orthologs of the set found among the functions


def match_orthologs(functions: np.ndarray, feature_type: str, compiled: CompiledSet
                    ) -> OrthologMatch:
    """Match function ids to the set's orthologs as Omixer-RPM does (as strings; a KO
    renamed ``K00001: name`` by HUMAnN counts as ``K00001``).

    Raises :class:`DataKindError` unless the ids include KEGG orthologs and the
    feature type allows them.
    """
    ko = pd.Series(functions, dtype=object).str.extract(KO_ID, expand=False)
    if feature_type not in KO_TABLE_TYPES or not ko.notna().any():
        what = (f"features of type {feature_type!r}" if feature_type != "taxon"
                else "no KEGG ortholog ids")
        raise DataKindError(
            "module inference needs a table of KEGG orthologs (KOs)",
            found=f"{what} ({preview(functions, 3)})",
            expected="KO ids such as K00001 (HUMAnN regrouped to KO, PICRUSt2's KO "
                     "pred_metagenome_unstrat.tsv)")
    keys = ko.fillna(pd.Series(functions, dtype=object))
    usable = compiled.orthologs.get_indexer(pd.Index(keys))
    columns = np.flatnonzero(usable >= 0)
    onehot = sp.csr_array(sp.coo_array((np.ones(len(columns)), (columns, usable[columns])),
                                       shape=(len(functions), len(compiled.orthologs))))
    return OrthologMatch(sp.csr_array(onehot @ compiled.weights),
                         ko.isna().to_numpy() & (usable < 0), int(ko.notna().sum()),
                         len(np.unique(usable[columns])))


def score_chunks(values: sp.csr_array, to_alternatives: sp.csr_array, compiled: CompiledSet,
                 *, cutoff: float, progress: Callable[[int], None] | None = None
                 ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Yield ``(rows, abundance, coverage)`` for chunks of rows: rows x modules, the
    abundance 0 where the coverage is below ``cutoff``."""
    n_rows = values.shape[0]
    n_modules, max_steps = compiled.padded.shape
    per_row = 8 * (to_alternatives.shape[1] + 3 * n_modules * max_steps)
    chunk = max(1, CHUNK_BYTES // per_row)
    pad = compiled.padded
    for lo in range(0, n_rows, chunk):  # chunks bound memory; each is a few numpy calls
        rows = values if chunk >= n_rows else values[lo:lo + chunk]  # no needless copy
        alternatives = (rows @ to_alternatives).toarray()
        steps = np.maximum.reduceat(alternatives, compiled.step_starts, axis=1)
        covered = np.add.reduceat(steps > 0, compiled.module_starts, axis=1)
        cover = covered / compiled.n_steps
        laid = steps[:, np.maximum(pad, 0)]
        laid[(laid <= 0) | (pad < 0)] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: no step observed
            median = np.nanmedian(laid, axis=2)
        abundance = np.where((cover >= cutoff) & (covered > 0), median, 0.0)
        if progress is not None:
            progress(min(chunk, n_rows - lo))
        yield slice(lo, lo + len(cover)), abundance, cover

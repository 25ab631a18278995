"""Per-taxon modules from a stratified KO table (Omixer-RPM's ``-a 2``): each taxon's
orthologs in a sample are scored as if they were a sample of their own."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gutaxis.data.profile import ProfileTable
from gutaxis.gut.modules.definitions import ModuleSet
from gutaxis.gut.modules.results import ModuleProfile
from gutaxis.gut.modules.scoring import compile_set, match_orthologs, score_chunks

__all__ = ["per_taxon_profile"]


def per_taxon_profile(table: ProfileTable, definitions: ModuleSet, *, cutoff: float,
                      progress: Callable[[int], None] | None = None) -> ModuleProfile:
    """Modules per taxon: features ``MODULE|taxon`` (with strata), kept where the module
    reaches ``cutoff`` in that taxon in at least one sample, as Omixer-RPM writes them.

    Parameters
    ----------
    table
        A stratified KO table (:attr:`ProfileTable.strata`: ``function``, ``taxon``).
    definitions
        The module set.
    cutoff
        Coverage cutoff.
    progress
        Called with the number of (sample, taxon) rows done after each chunk.

    Notes
    -----
    The rows scored are the (sample, taxon) pairs with a nonzero value; one sparse
    matrix holds them (pairs x functions), so the same chunked kernel as for community
    tables runs on it. Coverage is reported where it is > 0 for a kept module and taxon.
    """
    strata = table.strata
    assert strata is not None
    function_codes, functions = pd.factorize(strata["function"].to_numpy())
    taxon_codes, taxa = pd.factorize(strata["taxon"].to_numpy())
    entries = table.values.tocoo()
    pair_keys = entries.row.astype(np.int64) * len(taxa) + taxon_codes[entries.col]
    pair_codes, pairs = pd.factorize(pair_keys, sort=True)
    by_pair = sp.csr_array(sp.coo_array(
        (entries.data, (pair_codes, function_codes[entries.col])),
        shape=(len(pairs), len(functions))))
    compiled = compile_set(definitions)
    match = match_orthologs(np.asarray(functions, dtype=str), table.feature_type, compiled)
    nothing = np.zeros(0, dtype=np.intp)
    found = [(nothing, nothing, np.zeros(0), np.zeros(0))]
    for rows, abundance, cover in score_chunks(by_pair, match.to_alternatives, compiled,
                                               cutoff=cutoff, progress=progress):
        pair, module = np.nonzero(cover > 0)
        found.append((pair + rows.start, module, abundance[pair, module], cover[pair, module]))
    pair, module, abundance, cover = (np.concatenate(part) for part in zip(*found,
                                                                           strict=True))
    sample, taxon = np.asarray(pairs)[pair] // len(taxa), np.asarray(pairs)[pair] % len(taxa)
    combo = module.astype(np.int64) * len(taxa) + taxon
    kept = np.unique(combo[cover >= cutoff])
    column = np.searchsorted(kept, combo)
    keep = (column < len(kept)) & (np.append(kept, -1)[column] == combo)
    ids = np.array([m.module_id for m in definitions.modules], dtype=str)
    kept_module, kept_taxon = ids[kept // len(taxa)], np.asarray(taxa, dtype=str)[kept % len(taxa)]
    feature_ids = np.char.add(np.char.add(kept_module, "|"), kept_taxon)
    new_strata = pd.DataFrame({"function": kept_module, "taxon": kept_taxon},
                              index=pd.Index(feature_ids, name="feature_id"))

    def matrix(values: np.ndarray) -> sp.csr_array:
        return sp.csr_array(sp.coo_array((values[keep], (sample[keep], column[keep])),
                                         shape=(table.n_samples, len(kept))))

    present = cover >= cutoff
    modules = definitions.to_frame()
    per_module = pd.Series(sample[present]).groupby(module[present]).nunique()
    modules["n_samples_present"] = per_module.reindex(range(len(ids)), fill_value=0).to_numpy()
    return ModuleProfile(
        abundance=ProfileTable(matrix(abundance), table.sample_ids, feature_ids,
                               kind=table.kind, unit=table.unit, feature_type="module",
                               strata=new_strata),
        coverage=ProfileTable(matrix(cover), table.sample_ids, feature_ids,
                              kind="transformed", unit="coverage", feature_type="module",
                              strata=new_strata),
        modules=modules, unknown_ids=tuple(map(str, np.asarray(functions)[match.unknown])),
        info=definitions.info, cutoff=cutoff, n_ko_features=match.n_ko,
        n_ko_used=match.n_used)

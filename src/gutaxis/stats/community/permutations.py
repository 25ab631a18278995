"""Permutations of samples: free, within strata, or of whole blocks, all drawn at once.

A permutation is a row ``p`` of sample positions, applied as vegan applies it: the
permuted Gower matrix is ``G[p][:, p]`` (sample ``i`` takes the place of sample
``p[i]``). Every design draws the whole ``(n_permutations, n)`` matrix in a few vectorised
steps from one :class:`numpy.random.Generator`, so a seed gives the same permutations
whatever the batch size of the statistic.

- free: every sample may go anywhere (``permute::how()``);
- within strata: samples move only inside their stratum, e.g. the samples of one subject
  (``how(blocks = strata)``, adonis2's ``strata``);
- whole blocks: blocks of equal size swap places as units, samples keeping their position
  inside the block (``how(plots = Plots(strata = blocks, type = "free"),
  within = Within(type = "none"))``), e.g. to permute treatments given to whole plots.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from gutaxis.errors import InputError


def permutation_matrix(n: int, n_permutations: int, *, rng: np.random.Generator,
                       strata: np.ndarray | None = None, blocks: np.ndarray | None = None
                       ) -> np.ndarray:
    """``(n_permutations, n)`` sample positions, each row a permutation of ``range(n)``.

    ``strata`` and ``blocks`` are integer codes per sample (at most one of them).
    """
    if strata is not None and blocks is not None:
        raise InputError("permutations are restricted within strata or of whole blocks, "
                         "not both", field="blocks", expected="strata or blocks")
    if blocks is not None:
        return _whole_blocks(blocks, n_permutations, rng)
    keys = rng.random((n_permutations, n))
    if strata is None:
        return np.argsort(keys, axis=1).astype(np.int64)
    # stratum code + a uniform key: sorting groups samples by stratum, shuffled within it
    codes = np.asarray(strata, dtype=np.float64)
    shuffled = np.argsort(codes[None, :] + keys, axis=1)
    base = np.argsort(codes, kind="stable")
    perms = np.empty((n_permutations, n), dtype=np.int64)
    perms[:, base] = shuffled
    return perms


def _whole_blocks(blocks: np.ndarray, n_permutations: int, rng: np.random.Generator
                  ) -> np.ndarray:
    codes = np.asarray(blocks)
    sizes = np.bincount(codes)
    members = np.argsort(codes, kind="stable").reshape(len(sizes), -1)  # equal sizes checked
    order = np.argsort(rng.random((n_permutations, len(sizes))), axis=1)
    perms = np.empty((n_permutations, codes.size), dtype=np.int64)
    perms[:, members.ravel()] = members[order].reshape(n_permutations, -1)
    return perms


def restriction_codes(values: pd.Series, *, column: str, role: str, source: str | None,
                      equal_sizes: bool = False) -> np.ndarray:
    """Integer codes of a strata or blocks column, refused when it cannot restrict."""
    codes, uniques = pd.factorize(values.astype(str), sort=True)
    if len(uniques) < 2:
        raise InputError(f"the {role} column has one level among the samples used: "
                         "nothing to permute between", source=source, column=column,
                         found=f"{len(uniques)} level ({', '.join(map(str, uniques))})",
                         expected="two or more levels")
    sizes = np.bincount(codes)
    if role == "strata" and sizes.max() < 2:
        raise InputError("every stratum holds one sample: permutations within strata "
                         "change nothing", source=source, column=column,
                         found=f"{len(uniques)} strata of 1 sample",
                         expected="strata with two or more samples")
    if equal_sizes and np.unique(sizes).size > 1:
        raise InputError("whole blocks can only swap places when they hold equally many "
                         "samples", source=source, column=column,
                         found=f"block sizes {sorted(set(sizes.tolist()))}",
                         expected="blocks of one size")
    return codes.astype(np.int64)


def permuted_statistics(perms: np.ndarray, statistic: Callable[[np.ndarray], np.ndarray], *,
                        width: int, batch: int,
                        progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """``(n_permutations, width)``: ``statistic`` of consecutive batches of at most
    ``batch`` permutation rows, ``progress(done, total)`` after each."""
    total = perms.shape[0]
    out = np.empty((total, width))
    for start in range(0, total, batch):
        part = slice(start, min(start + batch, total))
        out[part] = statistic(perms[part]).reshape(part.stop - start, width)
        if progress is not None:
            progress(part.stop, total)
    return out


def permutations_for(permutations: int | np.ndarray, n: int, *, seed: int,
                     strata: np.ndarray | None = None, blocks: np.ndarray | None = None
                     ) -> np.ndarray:
    """The permutations to run: a count drawn from ``default_rng(seed)``, or a given
    ``(n_permutations, n)`` array of 0-based positions, checked."""
    if isinstance(permutations, np.ndarray):
        perms = np.asarray(permutations, dtype=np.int64)
        if perms.ndim != 2 or perms.shape[1] != n or not np.all(
                np.sort(perms, axis=1) == np.arange(n)[None, :]):
            raise InputError("given permutations are not rows of sample positions",
                             field="permutations", found=f"shape {perms.shape}",
                             expected=f"(n_permutations, {n}) permutations of 0..{n - 1}")
        return perms
    if int(permutations) < 0:
        raise InputError("negative number of permutations", field="permutations",
                         found=permutations, expected="0 or more (999 is usual)")
    return permutation_matrix(n, int(permutations), rng=np.random.default_rng(seed),
                              strata=strata, blocks=blocks)

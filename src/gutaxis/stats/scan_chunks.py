"""The association scan by feature chunks: how the features are split for a compute
back-end, and how the chunks' fits are put back together in feature order.

Each feature's model is fitted on its own column (and its own rows), so a chunk of
features fitted on a worker gives the same estimates as the whole scan in one process;
the multiple-testing correction and MaAsLin 3's median comparison need every feature and
are done once, after :func:`concat_blocks`, never per chunk.

Same answers: the LM path gives the one-pass table bit for bit. The LMM and logistic
engines iterate the features of one call together, so a chunk's stopping point can move
by a rounding error: their numbers agree to 1e-9 relative (measured on HMP2: 3e-11 LMM,
3e-12 logistic GLM, 2e-9 logistic GLMM p-values). Chunked runs agree with each other bit
for bit, local or on Dask (``tests/stats/test_associate_backend.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gutaxis.compute import Backend, LocalBackend
from gutaxis.compute.batches import worker_count
from gutaxis.errors import InputError
from gutaxis.stats.association_table import ModelBlock
from gutaxis.stats.design import Design
from gutaxis.stats.results import FitResults
from gutaxis.stats.scan_values import ScanValues
from gutaxis.stats.special_terms import GroupTests

__all__ = ["FEATURE_CHUNK", "ChunkedFits", "concat_blocks", "feature_chunks"]

#: Features per chunk at most, by default: 500 columns of 30,000 samples are 120 MB dense
#: on the worker that builds them (the task itself carries only their nonzeros).
FEATURE_CHUNK = 500

#: Dense bytes of a chunk's values at most, by default (fewer features for large n).
FEATURE_CHUNK_BYTES = 256 * 2**20

#: Without a back-end the scan is one pass while its dense values (8 n m bytes) fit this;
#: above it, it runs by feature chunks in this process, so that memory stays bounded.
ONE_PASS_BYTES = 2**30


class ChunkedFits:
    """A scan's model fits: in one pass here (no back-end), or by feature chunks on a
    back-end, the design sent to the workers once.

    Parameters
    ----------
    backend
        ``None`` or where the chunks run.
    size
        Features per chunk (see :func:`feature_chunks`).
    design
        The scan's design.
    abundance, prevalence
        The module-level fit functions of the abundance model (``(y, design, *, mask,
        present, progress, lmm_optimizer)``) and of the prevalence model
        (``(present, design)``); they are pickled to the workers by name.
    """

    def __init__(self, backend: Backend | None, size: int | None, design: Design, *,
                 abundance: Callable[..., ModelBlock],
                 prevalence: Callable[..., ModelBlock]) -> None:
        self.backend, self.size, self.design = backend, size, design
        self.fit_abundance, self.fit_prevalence = abundance, prevalence
        self._shared: Any = None

    def abundance(self, values: ScanValues, *, nonzero_only: bool,
                  progress: Callable[[int], None] | None, lmm_optimizer: str) -> ModelBlock:
        """The abundance model of every feature of ``values`` (on each feature's nonzero
        samples only with ``nonzero_only``)."""
        backend = self._where(values)
        if backend is None:
            return _abundance_task(values, self.fit_abundance, self.design,
                                   nonzero_only=nonzero_only, lmm_optimizer=lmm_optimizer,
                                   progress=progress)
        return self._run(backend, _abundance_task, values,
                         "association scan (abundance models)", self.fit_abundance,
                         progress, nonzero_only=nonzero_only, lmm_optimizer=lmm_optimizer)

    def prevalence(self, values: ScanValues) -> ModelBlock:
        """The prevalence model of every feature of ``values``."""
        backend = self._where(values)
        if backend is None:
            return _prevalence_task(values, self.fit_prevalence, self.design)
        return self._run(backend, _prevalence_task, values,
                         "association scan (prevalence models)", self.fit_prevalence, None)

    def _where(self, values: ScanValues) -> Backend | None:
        """The back-end, or without one: ``None`` (one pass) when the dense values fit
        :data:`ONE_PASS_BYTES`, else chunks in this process."""
        if self.backend is not None:
            return self.backend
        dense = 8 * values.raw.shape[0] * values.n_features
        return LocalBackend() if dense > ONE_PASS_BYTES else None

    def _run(self, backend: Backend, task: Callable[..., ModelBlock], values: ScanValues,
             step: str, fit: Callable[..., ModelBlock], progress: Callable[[int], None] | None,
             **kwargs: Any) -> ModelBlock:
        parts = [values.part(part) for part in
                 feature_chunks(values.n_features, backend, self.size, n_samples=len(values.rows))]
        if isinstance(backend, LocalBackend):  # in this process: progress chunk by chunk
            done = []
            for part in parts:
                done.append(task(part, fit, self.design, **kwargs))
                if progress is not None:
                    progress(part.n_features)
            return concat_blocks(done)
        if self._shared is None:
            self._shared = backend.share(self.design)
        block = concat_blocks(backend.map(task, parts, fit, self._shared, step=step, **kwargs))
        if progress is not None:
            progress(values.n_features)
        return block


def _abundance_task(values: ScanValues, fit: Callable[..., ModelBlock], design: Design, *,
                    nonzero_only: bool, lmm_optimizer: str,
                    progress: Callable[[int], None] | None = None) -> ModelBlock:
    """One chunk's abundance models (a task of :class:`ChunkedFits`): its values are built
    here, from the chunk's sparse columns."""
    y, present = values.columns()
    return fit(y, design, mask=present if nonzero_only else None, present=present,
               progress=progress, lmm_optimizer=lmm_optimizer)


def _prevalence_task(values: ScanValues, fit: Callable[..., ModelBlock],
                     design: Design) -> ModelBlock:
    """One chunk's prevalence models (a task of :class:`ChunkedFits`)."""
    return fit(values.present().toarray(), design)


def feature_chunks(m: int, backend: Backend, size: int | None = None, *,
                   n_samples: int = 0) -> list[slice]:
    """Consecutive column slices covering ``range(m)``.

    Parameters
    ----------
    m
        Number of features.
    backend
        Where the chunks run: by default there are at least two chunks per worker.
    size
        Features per chunk (default: :data:`FEATURE_CHUNK`, or fewer to give every worker
        two chunks, or to keep a chunk's dense values of ``n_samples`` within
        :data:`FEATURE_CHUNK_BYTES`).
    n_samples
        Samples modelled (0: not known).

    Examples
    --------
    >>> from gutaxis.compute import LocalBackend
    >>> feature_chunks(5, LocalBackend(), size=2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    if size is not None and int(size) < 1:
        raise InputError("a feature chunk holds at least one feature", field="feature_chunk",
                         found=size, expected="a positive number of features")
    if size is None:
        size = max(1, min(FEATURE_CHUNK, math.ceil(m / (2 * worker_count(backend))),
                          FEATURE_CHUNK_BYTES // (8 * max(n_samples, 1))))
    step = int(size)
    return [slice(start, min(start + step, m)) for start in range(0, m, step)]


def concat_blocks(parts: Sequence[ModelBlock]) -> ModelBlock:
    """One :class:`ModelBlock` of the chunks' features, in the order given.

    Parameters
    ----------
    parts
        The same model's fits of consecutive feature chunks.
    """
    if not parts:
        raise InputError("no feature chunk to put together", field="parts", found=0,
                         expected="one or more fitted chunks")
    first = parts[0]
    results = [p.results for p in parts]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(getattr(r, name)) for r in results])

    m = sum(len(r.responses) for r in results)
    terms = first.results.terms
    by_term = np.concatenate([  # None: no term separated in that chunk
        np.zeros((len(r.responses), len(terms)), dtype=bool) if r.separated_terms is None
        else np.asarray(r.separated_terms, dtype=bool) for r in results])
    fit = FitResults(
        model=first.results.model, terms=terms, responses=tuple(str(i) for i in range(m)),
        coef=joined("coef"), stderr=joined("stderr"), statistic=joined("statistic"),
        df=joined("df"), pvalue=joined("pvalue"), statistic_name=first.results.statistic_name,
        converged=joined("converged"), singular=joined("singular"),
        separated=joined("separated"),
        messages=tuple(s for r in results for s in r.messages),
        separated_terms=by_term if by_term.any() else None)
    errors = None
    if any(p.errors is not None for p in parts):
        errors = np.concatenate([
            p.errors if p.errors is not None else np.repeat(
                np.asarray(p.results.messages, dtype=object)[:, None], len(terms), axis=1)
            for p in parts])
    return replace(first, results=fit, n=np.concatenate([p.n for p in parts]),
                   n_nonzero=np.concatenate([p.n_nonzero for p in parts]),
                   group_tests=_concat_tests([p.group_tests for p in parts]), errors=errors)


def _concat_tests(parts: Sequence[GroupTests | None]) -> GroupTests | None:
    present = [t for t in parts if t is not None]
    if not present:
        return None
    if len(present) != len(parts):
        raise InputError("some feature chunks have group tests and some not",
                         field="group_tests", found=f"{len(present)} of {len(parts)}",
                         expected="all or none")
    return GroupTests(present[0].variables,
                      np.concatenate([t.statistic for t in present]),
                      np.concatenate([t.num_df for t in present]),
                      np.concatenate([t.df for t in present]),
                      np.concatenate([t.pvalue for t in present]), present[0].statistic_name)

"""gutaxis.compute: where the heavy steps run. In this process (``local``, the default) or
on a Dask cluster (``dask``: ``dask.distributed``, a :class:`~distributed.LocalCluster` of
worker processes when no scheduler address is given).

Every heavy step of the engine is written as a function applied to independent blocks
(sample blocks, distance-matrix row bands, feature chunks, permutation batches) and run
through :meth:`Backend.map`; the back-end decides where. The answers do not depend on it.

>>> from gutaxis.compute import get_backend
>>> with get_backend("local") as backend:
...     backend.map(abs, [-1, 2, -3])
[1, 2, 3]
"""

from gutaxis.compute.backend import (
    BACKENDS,
    Backend,
    BackendName,
    DaskBackend,
    LocalBackend,
    get_backend,
)

__all__ = ["BACKENDS", "Backend", "BackendName", "DaskBackend", "LocalBackend", "get_backend"]

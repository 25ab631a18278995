"""BLAS threads held at one while the mixed-model fits run.

The fits' algebra is many small matrix products across features: BLAS threads there only
contend with each other and with the numba kernels (OpenBLAS threads busy-wait between
calls), which on a loaded machine made a whole HMP2 scan take up to 5x longer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, TypeVar

from threadpoolctl import ThreadpoolController

P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One scan of the loaded BLAS libraries per process (a scan reads /proc, ~10 ms)."""
    return ThreadpoolController()


def single_blas_thread() -> AbstractContextManager[Any]:
    """Context in which every loaded BLAS library runs on one thread (restored after).

    Examples
    --------
    >>> import numpy as np
    >>> with single_blas_thread():
    ...     float(np.ones((2, 2)).dot(np.ones(2))[0])
    2.0
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def single_blas_threaded(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: ``func`` runs inside :func:`single_blas_thread`.

    Examples
    --------
    >>> import numpy as np
    >>> @single_blas_threaded
    ... def norm(x):
    ...     return float(np.sqrt(x @ x))
    >>> norm(np.array([3.0, 4.0]))
    5.0
    """
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_blas_thread():
            return func(*args, **kwargs)

    return wrapper

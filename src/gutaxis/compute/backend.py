"""The two execution back-ends behind one small interface: ``map`` a function over blocks.

:class:`LocalBackend` runs the blocks one after the other in this process.
:class:`DaskBackend` sends them to a Dask cluster (``dask.distributed``): the scheduler at
``scheduler`` when given, else a :class:`distributed.LocalCluster` of worker processes
that it starts and stops itself. Tasks are retried on another worker when one dies
(``retries``); a shared input lost with the workers that held it is sent again and the
step rerun; a task that still fails raises :class:`ComputeError` naming the step.
Dask is imported only when a Dask back-end is used.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from gutaxis.errors import GutaxisError, InputError

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

__all__ = ["BACKENDS", "Backend", "BackendName", "ComputeError", "DaskBackend",
           "LocalBackend", "SharedInput", "get_backend"]

BackendName = Literal["local", "dask"]
BACKENDS: tuple[str, ...] = get_args(BackendName)

#: Keywords of :meth:`distributed.Client.map` itself: a step's own keywords must differ.
_MAP_OPTIONS = frozenset({"key", "workers", "retries", "resources", "priority", "pure",
                          "allow_other_workers", "fifo_timeout", "actor", "actors",
                          "batch_size"})

T = TypeVar("T")
R = TypeVar("R")


class ComputeError(GutaxisError):
    """A block of work failed on the cluster after its retries (or the cluster went away)."""


class SharedInput:
    """A value sent to every worker (:meth:`DaskBackend.share`): the Dask future, and the
    value itself (a reference, no copy) to send it again if the workers holding it die."""

    def __init__(self, value: Any, future: Future) -> None:
        self.value, self.future = value, future

    @property
    def lost(self) -> bool:
        """Whether the cluster no longer holds the value (its workers died)."""
        return str(self.future.status) != "finished"

    def __reduce__(self) -> Any:  # never pickle the value along: it is sent once
        raise TypeError("a shared input is passed to DaskBackend.map as an argument of "
                        "its own, not inside another object")


class LocalBackend:
    """Run every block in this process, in order."""

    name: BackendName = "local"

    def map(self, func: Callable[..., R], blocks: Iterable[T], *args: Any,
            step: str = "work", **kwargs: Any) -> list[R]:
        """``[func(block, *args, **kwargs) for block in blocks]``.

        Parameters
        ----------
        func
            Applied to each block, with ``args`` and ``kwargs`` after it.
        blocks
            The independent pieces of work (e.g. ``range`` objects of rows).
        step
            What is being computed, for error messages.
        """
        return [func(block, *args, **kwargs) for block in blocks]

    def share(self, value: T) -> T:
        """A handle to pass large shared inputs to :meth:`map` (here: the value)."""
        return value

    @property
    def n_workers(self) -> int:
        return 1

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return "LocalBackend()"


class DaskBackend:
    """Run blocks as tasks on a Dask cluster.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``). ``None`` starts a
        :class:`distributed.LocalCluster` on this machine (stopped by :meth:`close`).
    n_workers
        Worker processes of the local cluster (default: the CPU count, at most 8).
    threads_per_worker
        Threads per local worker (default 1: the kernels use NumPy's own threads).
    memory_limit
        Memory limit per local worker (Dask's syntax, e.g. ``"4GiB"``; default ``"auto"``).
    retries
        How often a task is tried again on another worker after its worker died.
    """

    name: BackendName = "dask"

    def __init__(self, scheduler: str | None = None, *, n_workers: int | None = None,
                 threads_per_worker: int = 1, memory_limit: str = "auto",
                 retries: int = 2) -> None:
        self.scheduler = scheduler
        self._n_workers = n_workers or min(os.cpu_count() or 1, 8)
        self.threads_per_worker = threads_per_worker
        self.memory_limit = memory_limit
        self.retries = retries
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None

    @property
    def client(self) -> Client:
        """The :class:`distributed.Client`, connected (and the local cluster started) on
        first use."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Client:
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            self._cluster = LocalCluster(
                n_workers=self._n_workers, threads_per_worker=self.threads_per_worker,
                processes=True, memory_limit=self.memory_limit,
                dashboard_address=":0")  # any free port: no clash, no warning
            return Client(self._cluster)
        try:
            return Client(self.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("cannot reach the Dask scheduler", field="--scheduler",
                             found=self.scheduler,
                             expected=f"a running scheduler, e.g. tcp://host:8786 ({exc})"
                             ) from None

    @property
    def n_workers(self) -> int:
        """Workers the cluster has now."""
        return len(self.client.scheduler_info()["workers"])

    def share(self, value: T) -> SharedInput:
        """Send ``value`` to the workers once; pass the handle to :meth:`map`.

        Every call gets its own key (``hash=False``): with Dask's content-hashed key, the
        same value shared again just after an earlier handle was dropped can be released
        by that handle's late release, and the tasks that need it are cancelled
        ("already forgotten"; seen with two scans of one design in a row).

        The handle keeps a reference to ``value``: Dask's memory manager keeps a shared
        value on as few workers as its waiting tasks need, often one, and a value that
        was scattered (not computed) cannot be recovered when that worker dies;
        :meth:`map` then sends it again (``tests/cli/test_cli_faults.py``).
        """
        return SharedInput(value, self._scatter(value))

    def _scatter(self, value: Any) -> Future:
        return self.client.scatter(value, broadcast=True, hash=False)

    def map(self, func: Callable[..., R], blocks: Iterable[T], *args: Any,
            step: str = "work", **kwargs: Any) -> list[R]:
        """``func(block, *args, **kwargs)`` for every block, on the cluster, in order.

        Parameters
        ----------
        func
            A module-level function (it is pickled to the workers).
        blocks
            The independent pieces of work.
        *args, **kwargs
            Passed to every call; large arrays should go through :meth:`share` (the
            handle passed as an argument of its own).
        step
            What is being computed, for error messages.

        Raises
        ------
        ComputeError
            A task failed on every try, or the cluster went away.

        Notes
        -----
        A worker that dies has its tasks rerun elsewhere (Dask's ``retries``). When a
        shared input died with every worker that held it, the tasks that need it are
        cancelled: the input is sent again and the whole step rerun, up to ``retries``
        times (the tasks are pure functions of their inputs: same results).
        """
        items: Sequence[T] = list(blocks)
        if not items:
            return []
        clash = _MAP_OPTIONS.intersection(kwargs)
        if clash:  # client.map would take them as its own options
            raise TypeError(f"keyword(s) {sorted(clash)} are Client.map options: rename them")
        shared = [a for a in (*args, *kwargs.values()) if isinstance(a, SharedInput)]
        lost_times = 0
        while True:
            try:
                return self._run(func, items, args, kwargs)
            except GutaxisError:
                raise
            except Exception as exc:  # a task raised, or its workers kept dying
                lost = [a for a in shared if a.lost]
                if not lost:
                    raise ComputeError(f"{step} failed on the Dask cluster: "
                                       f"{type(exc).__name__}: {exc}") from exc
                lost_times += 1
                if lost_times > self.retries:
                    raise ComputeError(
                        f"{step} failed on the Dask cluster: every worker holding its "
                        f"shared input died, {lost_times} times") from exc
                for handle in lost:
                    handle.future = self._scatter(handle.value)

    def _run(self, func: Callable[..., R], items: Sequence[T], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> list[R]:
        """One submission of every block, gathered in order."""
        def sent(value: Any) -> Any:
            return value.future if isinstance(value, SharedInput) else value

        repeated = [[sent(arg)] * len(items) for arg in args]  # futures in them are resolved
        with warnings.catch_warnings():  # the blocks travel in the graph: by design here
            warnings.filterwarnings("ignore", message="Sending large graph")
            futures = self.client.map(func, items, *repeated, retries=self.retries,
                                      pure=False, **{k: sent(v) for k, v in kwargs.items()})
        return list(self.client.gather(futures))

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this back-end started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.scheduler or f"LocalCluster({self._n_workers} workers)"
        return f"DaskBackend({where})"


Backend = LocalBackend | DaskBackend


def get_backend(name: str = "local", *, scheduler: str | None = None,
                n_workers: int | None = None) -> Backend:
    """The back-end named ``name`` (``local`` or ``dask``).

    Parameters
    ----------
    name
        ``"local"`` (this process) or ``"dask"``.
    scheduler
        For ``dask``: a scheduler address; ``None`` starts a local cluster.
    n_workers
        For ``dask`` without a scheduler: worker processes of the local cluster.
    """
    if name == "local":
        if scheduler is not None:
            raise InputError("a scheduler address needs the Dask back-end", field="--scheduler",
                             found=scheduler, expected="--backend dask")
        return LocalBackend()
    if name == "dask":
        return DaskBackend(scheduler, n_workers=n_workers)
    raise InputError("unknown compute back-end", field="--backend", found=name,
                     expected=f"one of {', '.join(BACKENDS)}")

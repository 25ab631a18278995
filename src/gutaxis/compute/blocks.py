"""Cutting ``n`` items (samples, distance-matrix rows) into contiguous blocks for
:meth:`Backend.map <gutaxis.compute.backend.LocalBackend.map>`."""

from __future__ import annotations

from gutaxis.errors import InputError

__all__ = ["BAND_BYTES", "band_rows_for", "blocks_of"]

#: Default memory of one band of a distance matrix (rows x n float64): 64 MiB.
BAND_BYTES = 64 * 2**20


def blocks_of(n: int, size: int) -> list[range]:
    """Contiguous ``range`` blocks of at most ``size`` items covering ``0..n-1`` in order.

    Examples
    --------
    >>> blocks_of(10, 4)
    [range(0, 4), range(4, 8), range(8, 10)]
    """
    if size < 1:
        raise InputError("block size must be at least 1", field="band", found=size,
                         expected="a positive integer")
    return [range(start, min(start + size, n)) for start in range(0, n, size)]


def band_rows_for(n: int, *, budget: int = BAND_BYTES, multiple: int = 8,
                  n_workers: int = 1, per_worker: int = 4) -> int:
    """Rows of an ``n``-column float64 band that fit ``budget`` bytes, rounded down to a
    ``multiple`` (the Bray-Curtis kernel's row block), at least ``multiple``, at most ``n``;
    and small enough that every one of ``n_workers`` gets ``per_worker`` bands or more.

    Examples
    --------
    >>> band_rows_for(30_000)
    272
    >>> band_rows_for(100)
    32
    >>> band_rows_for(2_500, n_workers=2)
    320
    """
    rows = max(multiple, (budget // (8 * max(n, 1))) // multiple * multiple)
    share = -(-n // max(1, n_workers * per_worker))  # ceiling division
    rows = min(rows, max(multiple, -(-share // multiple) * multiple))
    return max(1, min(n, rows))

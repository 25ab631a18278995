"""The installed gutaxis version, read from the package metadata on first use.

At the bottom of the layers with :mod:`gutaxis.errors`: readers and writers that stamp
their output (BIOM ``generated_by``, provenance records) import it from here, never from
the ``gutaxis`` package itself, whose lazy names point down at every stage.
"""

from __future__ import annotations

import functools


@functools.cache
def package_version() -> str:
    """The version of the installed ``gutaxis`` distribution (``"0.0.0"`` in a bare source
    tree); read once, since ``importlib.metadata`` costs start-up time."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gutaxis")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"

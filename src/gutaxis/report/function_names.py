"""Readable names of functional features: a gut-brain or gut-metabolic module id
(``MGB005``, ``MF0001``) reads as its name from the module definitions shipped with
gutaxis; KEGG orthologs, EC numbers and pathways keep their ids."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

__all__ = ["MODULE_ID", "function_label", "module_names"]

#: Ids of the gut-brain (``MGB005``) and gut-metabolic (``MF0001``) modules.
MODULE_ID = re.compile(r"MGB\d{3}|MF\d{4}")


@functools.cache
def _shipped_module_names() -> dict[str, str]:
    from gutaxis.gut.modules import module_set, module_sets

    return {m.module_id: m.name for info in module_sets()
            for m in module_set(info.name).modules}


def module_names(ids: Iterable[object]) -> dict[str, str]:
    """Id -> name of the module ids among ``ids`` (other ids are left out).

    Parameters
    ----------
    ids
        Feature ids.
    """
    wanted = {str(i) for i in ids if MODULE_ID.fullmatch(str(i))}
    if not wanted:
        return {}
    names = _shipped_module_names()
    return {i: names[i] for i in wanted if i in names}


def function_label(feature: str, names: Mapping[str, str] | None = None) -> str:
    """``"Tryptophan synthesis (MGB005)"`` for a module, else the id as it is.

    Parameters
    ----------
    feature
        The function's id (``MGB005``, ``K00001``, a pathway).
    names
        Id -> name; by default the names of the shipped module definitions.

    Examples
    --------
    >>> function_label("MGB005", {"MGB005": "Tryptophan synthesis"})
    'Tryptophan synthesis (MGB005)'
    >>> function_label("K00001", {})
    'K00001'
    """
    feature = str(feature)
    name = (module_names([feature]) if names is None else names).get(feature)
    if not name or name == feature:
        return feature
    return f"{name} ({feature})"

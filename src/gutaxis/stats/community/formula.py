"""Model formulas for distance-based models, read and coded as R reads and codes them.

A formula is a right-hand side such as ``group + age``, ``group * sex`` or
``group + sex + group:sex`` (an optional ``~`` and left-hand side are ignored). ``+``
separates terms, ``:`` makes an interaction and ``a * b`` means ``a + b + a:b``. As R's
``terms()``, a term given twice counts once, interactions follow the main effects (terms
are ordered by their degree, keeping the order given within a degree) and a term's
variables are named in the order they first appear in the formula.

Columns are coded as :func:`stats::model.matrix` codes them: numeric columns as they are;
other columns as factors with treatment contrasts (one 0/1 column per level except the
first, levels in R's order, :func:`gutaxis.stats.design.r_level_order`). A factor inside
an interaction whose margin is absent from the formula (``a + a:b`` without ``b``) is
coded by one indicator per level, as R does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from gutaxis.errors import InputError
from gutaxis.stats.design import is_numeric_column, level_labels, r_level_order

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class ModelTerm:
    """One term of a formula: its variables (one for a main effect) and its label.

    Attributes
    ----------
    variables
        The metadata columns, in the order they first appear in the formula.
    label
        R's term label, the variables joined by ``:``.
    """

    variables: tuple[str, ...]

    @property
    def label(self) -> str:
        """R's term label, e.g. ``group:sex``."""
        return ":".join(self.variables)


@dataclass(frozen=True)
class ModelFrame:
    """The coded model: one block of columns per term, samples in the metadata's order.

    Attributes
    ----------
    terms
        The formula's terms, in R's order.
    blocks
        One ``(n, k)`` float array per term (``k`` its coded columns), not centred.
    column_names
        R's column names of each block.
    """

    terms: tuple[ModelTerm, ...]
    blocks: tuple[np.ndarray, ...]
    column_names: tuple[tuple[str, ...], ...]

    @property
    def variables(self) -> list[str]:
        """Every metadata column the formula uses, in order of first appearance."""
        return list(dict.fromkeys(v for t in self.terms for v in t.variables))


def parse_formula(text: str, *, field: str = "formula") -> tuple[ModelTerm, ...]:
    """Read ``"a + b * c"`` into R's ordered terms (``a``, ``b``, ``c``, ``b:c``)."""
    rhs = text.split("~", 1)[1] if "~" in text else text
    if not rhs.strip():
        raise InputError("the formula has no terms", field=field, found=text,
                         expected='terms such as "group + age"')
    order: list[str] = []
    found: list[frozenset[str]] = []
    for chunk in rhs.split("+"):
        factors = [f.strip() for f in chunk.split("*")]
        parts = [[v.strip() for v in f.split(":")] for f in factors]
        for name in (v for p in parts for v in p):
            if not _NAME.match(name):
                raise InputError("cannot read the formula term", field=field, found=chunk.strip()
                                 or text, expected="column names joined by +, : or * "
                                 "(no parentheses, functions or numbers)")
            if name not in order:
                order.append(name)
        for size in range(1, len(parts) + 1):
            for combo in combinations(parts, size):
                term = frozenset(v for p in combo for v in p)
                if term not in found:
                    found.append(term)
    ranked = sorted(found, key=len)  # stable: the given order within a degree
    return tuple(ModelTerm(tuple(v for v in order if v in t)) for t in ranked)


def model_frame(metadata: pd.DataFrame, terms: tuple[ModelTerm, ...], *,
                source: str | None = None) -> ModelFrame:
    """Code ``terms`` on ``metadata`` (complete cases already chosen) as R's model.matrix."""
    present: set[frozenset[str]] = {frozenset(t.variables) for t in terms} | {frozenset()}
    blocks: list[np.ndarray] = []
    names: list[tuple[str, ...]] = []
    coded: dict[tuple[str, bool], tuple[np.ndarray, list[str]]] = {}
    for term in terms:
        block = np.ones((len(metadata), 1))
        labels = [""]
        for var in term.variables:
            contrasts = frozenset(term.variables) - {var} in present
            if (var, contrasts) not in coded:
                coded[var, contrasts] = _coded_variable(metadata[var], var, contrasts, source)
            values, var_names = coded[var, contrasts]
            # R: the earlier variable varies fastest across the interaction's columns
            block = np.hstack([block * values[:, [k]] for k in range(values.shape[1])])
            labels = [f"{lab}:{vn}" if lab else vn for vn in var_names for lab in labels]
        blocks.append(block)
        names.append(tuple(labels))
    return ModelFrame(terms, tuple(blocks), tuple(names))


def _coded_variable(series: pd.Series, var: str, contrasts: bool, source: str | None
                    ) -> tuple[np.ndarray, list[str]]:
    if is_numeric_column(series):
        values = series.to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise InputError("infinite value in a numeric formula column", source=source,
                             column=var, found=float(values[~np.isfinite(values)][0]),
                             expected="finite numbers")
        return values[:, None], [var]
    levels = r_level_order(series)
    if len(levels) < 2:
        raise InputError("categorical formula column has fewer than two levels among the "
                         "samples used", source=source, column=var, found=levels,
                         expected="two or more distinct values")
    labels = level_labels(series).to_numpy()
    used = levels[1:] if contrasts else levels
    return (labels[:, None] == np.asarray(used)[None, :]).astype(np.float64), \
        [f"{var}{lv}" for lv in used]

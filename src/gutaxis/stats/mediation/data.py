"""From a metadata frame to the numbers the mediation models use, checked once.

Rows with a missing value in any column the models use are left out (as R's
``na.omit``); the exposure is coded 0 (control) / 1 (treated) for a two-level column, or
kept numeric with control and treated values; covariates that are not numeric become
treatment-coded dummy columns (first level in sorted order is the reference).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gutaxis.errors import InputError

VariableType = Literal["auto", "continuous", "binary"]


@dataclass(frozen=True, eq=False)
class MediationData:
    """The checked numbers of one mediation analysis.

    Attributes
    ----------
    exposure, outcome
        ``(n,)`` float arrays; a binary outcome is 0/1.
    mediators
        ``(n, k)`` float array, columns in ``mediator_names`` order.
    covariates
        ``(n, q)`` float array (dummy-coded categorical covariates).
    control, treated
        The exposure values compared (0 and 1 for a two-level column).
    binary_outcome, binary_mediators
        Whether the outcome / each mediator is modelled by logistic regression.
    notes
        What was done silently (rows dropped, which level is treated).
    """

    exposure: np.ndarray
    mediators: np.ndarray
    outcome: np.ndarray
    covariates: np.ndarray
    mediator_names: tuple[str, ...]
    covariate_names: tuple[str, ...]
    control: float
    treated: float
    treated_label: str
    control_label: str
    binary_outcome: bool
    binary_mediators: tuple[bool, ...]
    sample_ids: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return int(self.exposure.shape[0])


def _column(metadata: pd.DataFrame, name: str, role: str, source: str | None) -> pd.Series:
    if name not in metadata.columns:
        raise InputError(f"the {role} column is not in the metadata", source=source,
                         column=name, expected="one of " + ", ".join(map(str, metadata.columns))
                         if len(metadata.columns) <= 12 else
                         f"one of the {len(metadata.columns)} metadata columns")
    return metadata[name]


def _recoded(values: pd.Series, codes: Mapping[str, float] | None, *, name: str,
             source: str | None) -> pd.Series:
    if not codes:
        return values
    text = values.astype("string")
    unknown = sorted(set(text.dropna()) - set(codes))
    if unknown:
        raise InputError("a value has no code", source=source, column=name,
                         found=", ".join(unknown[:5]),
                         expected="codes for " + ", ".join(sorted(set(text.dropna()))))
    return text.map(lambda v: codes.get(v, np.nan) if isinstance(v, str) else np.nan
                    ).astype(float)


def _numeric(values: pd.Series, *, name: str, role: str, source: str | None) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        raise InputError(f"the {role} must be numeric", source=source, column=name,
                         found=repr(values[bad].iloc[0]),
                         expected="numbers (or --outcome-codes/--treated for labels)")
    return np.asarray(numbers, dtype=float)


def _is_binary(x: np.ndarray, kind: VariableType, *, name: str, role: str,
               source: str | None) -> bool:
    levels = np.unique(x)
    if kind == "continuous" or (kind == "auto" and not set(levels) <= {0.0, 1.0}):
        if levels.size < 2:
            raise InputError(f"the {role} has no variance", source=source, column=name,
                             found=f"every value {levels[0]:g}" if levels.size else "no value",
                             expected="values that differ between samples")
        return False
    if not set(levels) <= {0.0, 1.0}:
        raise InputError(f"a binary {role} must be coded 0/1", source=source, column=name,
                         found=", ".join(f"{v:g}" for v in levels[:5]), expected="0 and 1")
    if levels.size < 2:
        raise InputError(f"the binary {role} has one class only", source=source, column=name,
                         found=f"every value {levels[0]:g}",
                         expected="both 0 and 1 among the samples analysed")
    return True


def _exposure(values: pd.Series, *, name: str, treated: str | None,
              control_value: float, treated_value: float, source: str | None
              ) -> tuple[np.ndarray, float, float, str, str, str | None]:
    numbers = pd.to_numeric(values, errors="coerce")
    if treated is None and not (values.notna() & numbers.isna()).any():
        x = np.asarray(numbers, dtype=float)
        if np.unique(x).size < 2:
            raise InputError("the exposure has no variance", source=source, column=name,
                             found="one value only", expected="two groups or a range")
        return (x, control_value, treated_value, f"{treated_value:g}", f"{control_value:g}",
                None)
    levels = sorted(map(str, values.astype("string").dropna().unique()))
    if len(levels) != 2:
        raise InputError("a categorical exposure needs exactly two levels", source=source,
                         column=name, found=", ".join(levels[:6]) or "no value",
                         expected="two levels (recode or subset the metadata)")
    chosen = levels[1] if treated is None else str(treated)
    if chosen not in levels:
        raise InputError("the treated level is not a level of the exposure", field="treated",
                         found=chosen, expected=" or ".join(levels))
    other = levels[0] if chosen == levels[1] else levels[1]
    text = values.astype("string")
    coded = np.where(text.isna(), np.nan, (text == chosen).astype(float))
    note = None if treated is not None else (
        f"exposure {name}: treated = {chosen!r}, control = {other!r} (the later level in "
        "sorted order; choose with --treated)")
    return coded.astype(float), 0.0, 1.0, chosen, other, note


def _covariates(metadata: pd.DataFrame, names: Sequence[str], source: str | None
                ) -> tuple[np.ndarray, tuple[str, ...]]:
    blocks: list[np.ndarray] = []
    labels: list[str] = []
    for name in names:
        values = _column(metadata, name, "covariate", source)
        numbers = pd.to_numeric(values, errors="coerce")
        if not (values.notna() & numbers.isna()).any():
            blocks.append(np.asarray(numbers, dtype=float)[:, None])
            labels.append(name)
            continue
        text = values.astype("string")
        levels = sorted(text.dropna().unique())
        for level in levels[1:]:
            blocks.append(np.where(text.isna(), np.nan, (text == level).astype(float))[:, None])
            labels.append(f"{name}[{level}]")
    n = len(metadata)
    return (np.hstack(blocks) if blocks else np.empty((n, 0))), tuple(labels)


def mediation_data(metadata: pd.DataFrame, *, exposure: str, mediators: Sequence[str],
                   outcome: str, covariates: Sequence[str] = (), treated: str | None = None,
                   control_value: float = 0.0, treated_value: float = 1.0,
                   outcome_codes: Mapping[str, float] | None = None,
                   outcome_type: VariableType = "auto", mediator_type: VariableType = "auto",
                   source: str | None = None) -> MediationData:
    """Check and code the columns of a mediation analysis (see the module docstring).

    Parameters
    ----------
    metadata
        One row per sample.
    exposure, mediators, outcome, covariates
        Column names.
    treated
        The treated level of a two-level categorical exposure (default: the later level
        in sorted order, said in ``notes``).
    control_value, treated_value
        The values compared for a numeric exposure.
    outcome_codes
        Numbers for the outcome's labels (``{"ctl": 0, "fbm": 1}``).
    outcome_type, mediator_type
        ``"auto"`` (0/1 columns are binary), ``"continuous"`` or ``"binary"``.
    source
        The metadata file, named in errors.
    """
    if not mediators:
        raise InputError("at least one mediator is needed", field="mediators", found="none")
    used = [exposure, *mediators, outcome, *covariates]
    repeated = sorted({c for c in used if used.count(c) > 1})
    if repeated:
        raise InputError("a column has two roles", field="mediators",
                         found=", ".join(repeated),
                         expected="different exposure, mediator, outcome and covariates")
    t_raw = _column(metadata, exposure, "exposure", source)
    y_raw = _recoded(_column(metadata, outcome, "outcome", source), outcome_codes,
                     name=outcome, source=source)
    m_raw = [_column(metadata, m, "mediator", source) for m in mediators]
    t, t0, t1, treated_label, control_label, note = _exposure(
        t_raw, name=exposure, treated=treated, control_value=control_value,
        treated_value=treated_value, source=source)
    y = _numeric(y_raw, name=outcome, role="outcome", source=source)
    m = np.column_stack([_numeric(v, name=n, role="mediator", source=source)
                         for v, n in zip(m_raw, mediators, strict=True)])
    c, c_names = _covariates(metadata, covariates, source)
    keep = np.isfinite(t) & np.isfinite(y) & np.isfinite(m).all(axis=1) & \
        np.isfinite(c).all(axis=1)
    notes = [note] if note else []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} of {keep.size} samples left out for a missing "
                     "value in a column used")
    t, y, m, c = t[keep], y[keep], m[keep], c[keep]
    if np.unique(t).size < 2:
        raise InputError("the exposure has no variance among the complete samples",
                         source=source, column=exposure, found="one value only",
                         expected="two groups or a range")
    binary_y = _is_binary(y, outcome_type, name=outcome, role="outcome", source=source)
    binary_m = tuple(_is_binary(m[:, j], mediator_type, name=name, role="mediator",
                                source=source) for j, name in enumerate(mediators))
    p = 3 + len(mediators) + c.shape[1]
    if t.size <= p:
        raise InputError("too few complete samples for the models", source=source,
                         found=f"{t.size} samples", expected=f"more than {p}")
    ids = tuple(map(str, np.asarray(metadata.index)[keep]))
    return MediationData(t, m, y, c, tuple(mediators), c_names, t0, t1, treated_label,
                         control_label, binary_y, binary_m, ids, tuple(notes))

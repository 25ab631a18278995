"""The inputs of a classifier, checked once: a binary outcome, subjects, covariates.

The outcome is made binary by ``positive``:

- ``None``: a column with two values (``0``/``1``, ``n``/``y``, ``ctl``/``fbm``...) takes
  the larger (last in sorted order) as the positive class; more values need ``positive``;
- levels, comma-separated (``"fbm_12_20,fbm_21_25,fbm_26_31"``): those levels are
  positive, every other level negative;
- a threshold on a numeric column (``">=4"``, ``">4"``, ``"<=4"``, ``"<4"``): samples
  that meet it are positive.

Samples without an outcome are left out (and counted in the notes).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gutaxis.data import Cohort
from gutaxis.errors import InputError, preview

_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$")
_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class ClassifierInputs:
    """Samples with an outcome: relative abundances, covariates, classes and subjects."""

    sample_ids: np.ndarray
    X: np.ndarray
    y: np.ndarray
    subjects: np.ndarray
    feature_names: tuple[str, ...]
    covariate_names: tuple[str, ...]
    positive: str
    notes: tuple[str, ...]


def binary_outcome(values: pd.Series, positive: str | None, *, column: str,
                   source: str | None) -> tuple[np.ndarray, str]:
    """``values`` (no missing) as 0/1, and the positive class in words."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    levels = sorted(values.astype(str).unique())
    if positive is not None and (match := _THRESHOLD.match(positive)):
        if not numeric:
            raise InputError("a threshold needs a numeric outcome", source=source,
                             column=column, found=preview(levels),
                             expected="levels as --positive, e.g. --positive "
                             + (levels[-1] if levels else "yes"))
        flag = _COMPARE[match[1]](values.to_numpy(dtype=float), float(match[2]))
        return flag.astype(float), f"{column} {match[1]} {match[2]}"
    if positive is None:
        if len(levels) > 2:
            hint = ("a threshold such as --positive '>=4'" if numeric else
                    "the positive level(s), e.g. --positive " + levels[-1])
            raise InputError(f"the outcome has {len(levels)} values; say which are positive",
                             source=source, column=column, found=preview(levels),
                             expected=hint)
        chosen = [max(values.unique().tolist(), key=lambda v: (v if numeric else str(v)))]
        wanted = {str(chosen[0])}
    else:
        wanted = {part.strip() for part in positive.split(",") if part.strip()}
        unknown = sorted(wanted - set(levels))
        if unknown:
            raise InputError("unknown positive level", source=source, column=column,
                             found=preview(unknown), expected=f"one of {preview(levels, 10)}")
    flag = values.astype(str).isin(wanted).to_numpy()
    return flag.astype(float), f"{column} in {{{', '.join(sorted(wanted))}}}"


def covariate_matrix(metadata: pd.DataFrame, covariates: Sequence[str], *,
                     source: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Numbers as they are; other columns as 0/1 indicators of every level but the first
    (sorted). A missing value is an error."""
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for name in covariates:
        if name not in metadata.columns:
            raise InputError("covariate column not found", source=source, column=name,
                             expected=f"one of {preview(map(str, metadata.columns), 10)}")
        values = metadata[name]
        if values.isna().any():
            raise InputError("covariate has missing values", source=source, column=name,
                             row=str(values.index[values.isna()][0]),
                             expected="a value for every sample with an outcome")
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            blocks.append(values.to_numpy(dtype=float)[:, None])
            names.append(name)
            continue
        levels = sorted(values.astype(str).unique())
        for level in levels[1:]:
            blocks.append((values.astype(str) == level).to_numpy(dtype=float)[:, None])
            names.append(f"{name}[{level}]")
    width = np.hstack(blocks) if blocks else np.zeros((len(metadata), 0))
    return width, tuple(names)


def classifier_inputs(cohort: Cohort, outcome: str, *, positive: str | None,
                      covariates: Sequence[str], folds: int,
                      need_subject_outcomes: bool) -> ClassifierInputs:
    """Check the cohort and build the arrays a classifier runs on (see module notes)."""
    cohort.table.require_kind("counts", "relative", action="classification")
    raw = cohort.column(outcome)
    has_outcome = raw.notna().to_numpy()
    notes = []
    if not has_outcome.all():
        notes.append(f"{int((~has_outcome).sum())} sample(s) without {outcome} left out")
        cohort = cohort.subset_samples(has_outcome)
    y, positive_words = binary_outcome(cohort.column(outcome), positive, column=outcome,
                                       source=cohort.source)
    subjects = cohort.subjects().to_numpy(dtype=str)
    for label, cls in (("positive", 1.0), ("negative", 0.0)):
        n_subjects = len(np.unique(subjects[y == cls]))
        if n_subjects == 0:
            raise InputError(f"the outcome has no {label} sample", source=cohort.source,
                             column=outcome, found=positive_words,
                             expected="both classes (check --positive)")
        if n_subjects < folds:
            raise InputError(f"fewer {label} subjects than folds", source=cohort.source,
                             column=outcome, found=f"{n_subjects} {label} subject(s)",
                             expected=f"at least {folds} (or fewer --folds)")
    if need_subject_outcomes:
        varying = pd.Series(y).groupby(subjects).nunique()
        if (varying > 1).any():
            raise InputError("the outcome varies within a subject, so it cannot be permuted "
                             "at subject level", source=cohort.source, column=outcome,
                             found=preview(varying.index[varying > 1]),
                             expected="one outcome per subject, or no permutation test")
    cov, cov_names = covariate_matrix(cohort.metadata, covariates, source=cohort.source)
    relative = cohort.table.relative().dense()
    return ClassifierInputs(np.asarray(cohort.sample_ids, dtype=str), np.hstack([relative, cov]),
                            y, subjects, tuple(map(str, cohort.table.feature_ids)), cov_names,
                            positive_words, tuple(notes))

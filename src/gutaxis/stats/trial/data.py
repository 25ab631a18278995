"""The trial's data, read and validated once at the door (:func:`read_trial_table`,
:func:`prepare_trial`).

Two shapes are accepted. *Wide*: one row per subject, with the arm, the baseline and the
follow-up value in columns. *Long*: one row per subject and visit (``subject`` and ``visit``
columns), the outcome at that visit in the follow-up column and the subject's baseline
repeated on each of its rows. Rows are numbered as lines of the file (the header is line 1).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gutaxis.errors import InputError, preview

#: Cells read as missing values.
MISSING = frozenset({"", "NA", "NaN", "nan", "N/A", "NULL", "null", "."})

#: The first data row is line 2 of a file with a one-line header.
_FIRST_LINE = 2


@dataclass(frozen=True, eq=False)
class TrialData:
    """One row per subject (wide) or per subject and visit (long), validated.

    Attributes
    ----------
    subjects
        ``(n,)`` subject ids (row numbers as text for wide data without ids).
    treated
        ``(n,)`` booleans: the row belongs to the treatment arm.
    baseline, outcome
        ``(n,)`` floats; ``outcome`` is ``NaN`` where it is missing.
    visits
        ``(n,)`` integer codes into ``visit_levels`` (all 0 for wide data).
    visit_levels
        The visits in time order (``("followup",)`` for wide data).
    covariates
        ``(n, c)`` design columns of the covariates (numbers as given, categories as
        indicators of every level but the first, as R's treatment contrasts).
    covariate_terms
        Their ``c`` names, as R names them (``age``, ``sexM``).
    arm, treatment, control
        The arm column and its two levels compared.
    baseline_name, outcome_name
        The columns of the baseline and of the outcome.
    rows
        ``(n,)`` the file line of each row.
    notes
        What was left out, in words.
    """

    subjects: np.ndarray
    treated: np.ndarray
    baseline: np.ndarray
    outcome: np.ndarray
    visits: np.ndarray
    visit_levels: tuple[str, ...]
    covariates: np.ndarray
    covariate_terms: tuple[str, ...]
    arm: str
    treatment: str
    control: str
    baseline_name: str
    outcome_name: str
    rows: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def long(self) -> bool:
        """Several visits per subject (the mixed model runs)."""
        return len(self.visit_levels) > 1

    def at_visit(self, visit: int) -> TrialData:
        """The rows of one visit (by its code) that have an outcome."""
        keep = (self.visits == visit) & np.isfinite(self.outcome)
        return self.subset(keep)

    def subset(self, keep: np.ndarray) -> TrialData:
        """The rows where ``keep`` is True, every array aligned.

        Parameters
        ----------
        keep
            ``(n,)`` booleans.
        """
        return TrialData(
            subjects=self.subjects[keep], treated=self.treated[keep],
            baseline=self.baseline[keep], outcome=self.outcome[keep],
            visits=self.visits[keep], visit_levels=self.visit_levels,
            covariates=self.covariates[keep], covariate_terms=self.covariate_terms,
            arm=self.arm, treatment=self.treatment, control=self.control,
            baseline_name=self.baseline_name, outcome_name=self.outcome_name,
            rows=self.rows[keep], notes=self.notes)


def read_trial_table(path: str | Path) -> pd.DataFrame:
    """Read a trial table (CSV, or TSV/tab-separated text) as text cells.

    Parameters
    ----------
    path
        A ``.csv`` file (comma-separated) or any other delimited text (tab-separated unless
        the header holds commas and no tabs).

    Returns
    -------
    pandas.DataFrame
        Every cell as a string; missing cells as ``""``.
    """
    path = Path(path)
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    if not header.strip():
        raise InputError("the file is empty or has no header", source=str(path), row=1,
                         expected="a header line naming the columns")
    sep = "," if path.suffix.lower() == ".csv" or ("\t" not in header and "," in header) \
        else "\t"
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except pd.errors.ParserError as exc:
        raise InputError("rows have different numbers of cells", source=str(path),
                         found=str(exc).strip(), expected="a rectangular table") from None
    if frame.empty:
        raise InputError("the table has a header but no rows", source=str(path), row=2,
                         expected="one row per subject (or per subject and visit)")
    return frame


def prepare_trial(
    table: pd.DataFrame,
    *,
    arm: str,
    baseline: str,
    followup: str,
    subject: str | None = None,
    visit: str | None = None,
    treatment: str | None = None,
    control: str | None = None,
    covariates: Sequence[str] = (),
    source: str | None = None,
) -> TrialData:
    """Validate a trial table and return its arrays (see :class:`TrialData`).

    Parameters
    ----------
    table
        The trial, one row per subject (wide) or per subject and visit (long), as read by
        :func:`read_trial_table` (text cells) or with typed columns.
    arm, baseline, followup, subject, visit
        Column names. ``subject`` and ``visit`` together make the table long.
    treatment, control
        The active arm and the comparator. Default: with two arm levels, the second in
        sorted order is the treatment unless ``treatment`` or ``control`` names one. With
        more levels both must be given; rows of the other arms are left out.
    covariates
        Further columns for the ANCOVA and the mixed model (numbers or categories).
    source
        The file name used in error messages.

    Raises
    ------
    InputError
        A missing column; an arm that is not two levels (unless picked); a missing or
        non-numeric baseline or covariate; a non-numeric outcome; a subject repeated in wide
        data, or with two arms or baselines in long data; fewer than two subjects per arm.
    """
    if (subject is None) != (visit is None):
        raise InputError("long data need both a subject and a visit column",
                         field="subject" if subject is None else "visit",
                         expected="both --subject and --visit, or neither (one row per subject)")
    named = {"arm": arm, "baseline": baseline, "followup": followup, "subject": subject,
             "visit": visit, **{f"covariates[{c}]": c for c in covariates}}
    for field, column in named.items():
        if column is not None and column not in table.columns:
            raise InputError("no such column", source=source, column=column,
                             field=field.split("[")[0],
                             expected=f"one of {preview(map(str, table.columns), 12)}")
    lines = np.arange(len(table)) + _FIRST_LINE
    frame = table.reset_index(drop=True)
    arms = _text(frame[arm])
    _refuse_missing(arms == "", arm, lines, source, what="arm")
    treatment, control, keep = _pick_arms(arms, treatment, control, arm=arm, source=source)
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) of other arms left out")
    frame, lines, arms = frame[keep].reset_index(drop=True), lines[keep], arms[keep]
    base = _numbers(frame[baseline], baseline, lines, source, missing_ok=False,
                    what="baseline")
    outcome = _numbers(frame[followup], followup, lines, source, missing_ok=True,
                       what="outcome")
    design, terms = _covariate_design(frame, covariates, lines, source)
    if subject is None or visit is None:
        subjects = np.array([str(line) for line in lines], dtype=object)
        codes = np.zeros(len(frame), dtype=np.int64)
        levels: tuple[str, ...] = ("followup",)
    else:
        subjects = _text(frame[subject])
        _refuse_missing(subjects == "", subject, lines, source, what="subject id")
        codes, levels = _visit_codes(_text(frame[visit]), visit, lines, source)
        _check_subjects(subjects, codes, {arm: arms, baseline: base}, lines, source)
    data = TrialData(
        subjects=subjects, treated=arms == treatment, baseline=base, outcome=outcome,
        visits=codes, visit_levels=levels, covariates=design, covariate_terms=terms, arm=arm,
        treatment=treatment, control=control, baseline_name=baseline, outcome_name=followup,
        rows=lines, notes=())
    missing = int(np.isnan(outcome).sum())
    if missing:
        notes.append(f"{missing} row(s) without an outcome in {followup!r} left out")
    _check_arm_sizes(data, source)
    return dataclasses.replace(data, notes=tuple(notes))


def _text(column: pd.Series) -> np.ndarray:
    values = column.astype(object).where(column.notna(), "")
    return np.array([str(v).strip() for v in values], dtype=object)


def _refuse_missing(empty: np.ndarray, column: str, lines: np.ndarray, source: str | None,
                    *, what: str) -> None:
    if empty.any():
        first = int(np.argmax(empty))
        raise InputError(f"missing {what}", source=source, row=int(lines[first]),
                         column=column, found="an empty cell", expected=f"a {what} on every row")


def _pick_arms(arms: np.ndarray, treatment: str | None, control: str | None, *, arm: str,
               source: str | None) -> tuple[str, str, np.ndarray]:
    levels = sorted(set(arms))
    for field, level in (("treatment", treatment), ("control", control)):
        if level is not None and level not in levels:
            raise InputError(f"{field} arm is not a level of the arm column", field=field,
                             found=level, expected=f"one of {preview(levels)} (column {arm!r})")
    if len(levels) == 2:
        chosen = treatment if treatment is not None else \
            (levels[0] if control == levels[1] else levels[1])
        other = control if control is not None else \
            (levels[0] if chosen == levels[1] else levels[1])
    elif treatment is not None and control is not None:
        chosen, other = treatment, control
    else:
        raise InputError("the arm column must have two levels", source=source, column=arm,
                         found=f"{len(levels)} level(s): {preview(levels)}",
                         expected="two arms, or --treatment and --control to pick two")
    if chosen == other:
        raise InputError("treatment and control are the same arm", field="control",
                         found=other, expected="two different levels")
    return chosen, other, (arms == chosen) | (arms == other)


def _numbers(column: pd.Series, name: str, lines: np.ndarray, source: str | None, *,
             missing_ok: bool, what: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64)
        empty = np.isnan(values)
    else:
        text = _text(column)
        empty = np.isin(text, list(MISSING))
        values = pd.to_numeric(pd.Series(np.where(empty, "nan", text)),
                               errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values) & ~empty
        if bad.any():
            first = int(np.argmax(bad))
            raise InputError(f"non-numeric {what}", source=source, row=int(lines[first]),
                             column=name, found=text[first], expected="a number")
    if np.isinf(values).any():
        first = int(np.argmax(np.isinf(values)))
        raise InputError(f"infinite {what}", source=source, row=int(lines[first]), column=name,
                         found=float(values[first]), expected="a finite number")
    if not missing_ok:
        _refuse_missing(empty, name, lines, source, what=what)
    return values


def _covariate_design(frame: pd.DataFrame, covariates: Sequence[str], lines: np.ndarray,
                      source: str | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Numbers as given; categories as indicators of every level but the first (sorted)."""
    columns: list[np.ndarray] = []
    terms: list[str] = []
    for name in covariates:
        text = _text(frame[name])
        _refuse_missing(np.isin(text, list(MISSING)), name, lines, source, what="covariate")
        if len(set(text)) < 2:
            raise InputError("covariate has one value only", source=source, column=name,
                             found=text[0], expected="a covariate that varies between rows")
        numeric = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=np.float64)
        if np.isfinite(numeric).all():
            columns.append(numeric)
            terms.append(name)
            continue
        for level in sorted(set(text))[1:]:
            columns.append((text == level).astype(np.float64))
            terms.append(f"{name}{level}")
    design = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    return design, tuple(terms)


def _natural_key(text: str) -> tuple[tuple[int, float | str], ...]:
    """``week4 < week12``: digits compare as numbers, the rest as text."""
    parts = re.split(r"(\d+(?:\.\d+)?)", text)
    return tuple((0, float(p)) if i % 2 else (1, p) for i, p in enumerate(parts) if p)


def _visit_codes(visits: np.ndarray, column: str, lines: np.ndarray, source: str | None
                 ) -> tuple[np.ndarray, tuple[str, ...]]:
    _refuse_missing(visits == "", column, lines, source, what="visit")
    levels = tuple(sorted(set(visits), key=_natural_key))
    code = {level: k for k, level in enumerate(levels)}
    return np.array([code[v] for v in visits], dtype=np.int64), levels


def _check_subjects(subjects: np.ndarray, visits: np.ndarray, constant: dict[str, np.ndarray],
                    lines: np.ndarray, source: str | None) -> None:
    """A subject has one arm and one baseline, and each visit once."""
    keys = pd.Series(list(zip(subjects, visits, strict=True)))
    repeated = keys.duplicated().to_numpy()
    if repeated.any():
        first = int(np.argmax(repeated))
        raise InputError("subject has this visit twice", source=source, row=int(lines[first]),
                         found=f"subject {subjects[first]}",
                         expected="one row per subject and visit")
    for name, values in constant.items():
        frame = pd.DataFrame({"s": subjects, "v": values})
        first_value = frame.groupby("s", sort=False)["v"].transform("first").to_numpy()
        differs = first_value != values
        if differs.any():
            i = int(np.argmax(differs))
            raise InputError("subject's value differs between its visits", source=source,
                             row=int(lines[i]), column=name,
                             found=f"{values[i]!r} for subject {subjects[i]} "
                             f"(earlier {first_value[i]!r})",
                             expected="the same value on every row of a subject")


def _check_arm_sizes(data: TrialData, source: str | None) -> None:
    has_outcome = np.isfinite(data.outcome)
    for label, in_arm in ((data.treatment, data.treated), (data.control, ~data.treated)):
        count = len(set(data.subjects[in_arm & has_outcome]))
        if count < 2:
            raise InputError("fewer than 2 subjects with an outcome in an arm", source=source,
                             column=data.arm, found=f"{count} in arm {label!r}",
                             expected="at least 2 subjects per arm")

"""Design matrices from sample metadata, as R's ``model.matrix`` builds them.

Numeric columns enter as they are (optionally z-scored); every other column is a
categorical variable coded by treatment contrasts: one 0/1 column per level except the
reference. Levels are ordered as R orders a factor's levels (a pandas ``Categorical``
keeps its own order), and the reference is the one named, or the first level of a
two-level variable. Samples with a missing value in any model column are dropped
(complete cases), as ``lm(..., na.action = na.exclude)`` and ``lmer`` do. An ordered
pandas ``Categorical`` is coded like any other categorical (treatment contrasts against
its reference), not with the polynomial contrasts R gives an ``ordered`` factor; to test
a trend, give the variable as numbers (e.g. a severity score 0, 1, 2, 3).

MaAsLin 3's special predictors enter after the other fixed effects (groups, then ordered
variables, as MaAsLin 3 appends them to the formula):

- ``group`` (MaAsLin 3's ``group_effects`` / ``group(x)``): a categorical variable coded by
  treatment contrasts against its first level (no reference needed); its level columns are
  tested together, by one test over all levels (:mod:`gutaxis.stats.special_terms`).
- ``ordered`` (``ordered_effects`` / ``ordered(x)``): a categorical variable with ordered
  levels, coded by the columns ``1[level >= k]``, ``k = 2..K``, so that the coefficient of
  level ``k`` *is* the difference between level ``k`` and level ``k - 1`` (MaAsLin 3's
  level-vs-previous contrast), with its own standard error and degrees of freedom. The fit
  is the treatment-coded fit reparametrised (same column space), so every estimate, and the
  Satterthwaite df of a coefficient of a mixed model, equals that of MaAsLin 3's contrast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg as sla

from gutaxis.errors import InputError

#: Tolerance of the rank check, relative to the largest diagonal of the pivoted R.
RANK_TOL = 1e-9


@dataclass(frozen=True)
class Term:
    """One column of the design: ``metadata`` is the variable; ``value`` the level of a
    categorical variable, or the variable's own name for a numeric one (MaAsLin's layout).
    ``name`` is R's coefficient name (variable and level pasted together).

    Attributes
    ----------
    metadata
        The metadata variable.
    value
        The level of a categorical variable, or the variable's name for a numeric one.
    name
        R's coefficient name.
    """

    metadata: str
    value: str
    name: str


@dataclass(frozen=True, eq=False)
class Design:
    """A model's fixed-effects matrix and random-effect groupings on the complete cases.

    Attributes
    ----------
    matrix
        ``(n_used, 1 + len(terms))``: intercept first, then one column per term.
    terms
        The non-intercept columns, in order.
    rows
        Boolean mask over the metadata's rows: the complete cases used.
    sample_ids
        Ids of the rows used.
    levels
        Per categorical variable, its levels with the reference first.
    numeric
        The variables entered as numbers.
    scaling
        Per standardised variable, ``(mean, sd)`` used to z-score it.
    groups
        Per random effect, integer codes ``0..k-1`` of the rows used.
    group_names
        The random-effect variables, in the order of ``groups``.
    group_effects
        Categorical variables tested by one test over all their levels (MaAsLin 3's
        ``group_effects``); their level columns are in ``terms`` but not reported one by one.
    ordered_effects
        Categorical variables with ordered levels, each level's column being its difference
        from the previous level (MaAsLin 3's ``ordered_effects``).
    strata
        The matched-set variable (MaAsLin 3's ``strata(s)``), or ``None``. It is also the
        design's only random effect: MaAsLin 3 fits a random intercept ``(1 | s)`` per
        stratum for abundance (and a conditional logistic model for prevalence).
    """

    matrix: np.ndarray
    terms: tuple[Term, ...]
    rows: np.ndarray
    sample_ids: np.ndarray
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    numeric: tuple[str, ...] = ()
    scaling: dict[str, tuple[float, float]] = field(default_factory=dict)
    groups: tuple[np.ndarray, ...] = ()
    group_names: tuple[str, ...] = ()
    group_effects: tuple[str, ...] = ()
    ordered_effects: tuple[str, ...] = ()
    strata: str | None = None

    @property
    def n(self) -> int:
        """Rows used (complete cases)."""
        return int(self.matrix.shape[0])

    @property
    def p(self) -> int:
        """Columns, intercept included."""
        return int(self.matrix.shape[1])

    def formula(self) -> str:
        """The model in R's notation, e.g. ``y ~ age + diagnosis + (1 | subject)``, with
        MaAsLin 3's ``group(x)`` and ``ordered(x)`` for the special predictors."""
        fixed = [self._label(var) for var in dict.fromkeys(t.metadata for t in self.terms)]
        if self.strata is not None:  # MaAsLin 3's notation
            return "y ~ " + " + ".join([*fixed, f"strata({self.strata})"])
        parts = fixed + [f"(1 | {g})" for g in self.group_names]
        return "y ~ " + " + ".join(parts)

    def _label(self, var: str) -> str:
        if var in self.group_effects:
            return f"group({var})"
        return f"ordered({var})" if var in self.ordered_effects else var

    def level_rows(self) -> np.ndarray:
        """``(n, p)`` 0/1: for each column of a categorical variable's level (fixed, group or
        ordered), the rows of that level (zero columns elsewhere). A level absent among a
        feature's samples is left out of that feature's fit, as R drops its aliased column
        (:func:`gutaxis.stats.models.linear.fit_ols`), and its row is ``NaN``; the other
        terms keep their estimates, as in MaAsLin 3."""
        rows = np.zeros_like(self.matrix)
        special = self.group_effects + self.ordered_effects
        plain = [var for var in self.levels if var not in special]
        for var in [*plain, *special]:
            cols = self.columns_of(var)
            block = self.matrix[:, cols]
            if var in self.ordered_effects:  # 1[level >= k] - 1[level >= k + 1]
                block = block - np.column_stack([block[:, 1:], np.zeros(len(block))])
            rows[:, cols] = block
        return rows

    def level_problems(self, used: np.ndarray) -> np.ndarray:
        """Per feature, why its categorical variables cannot be fitted on its samples.

        As in R (and MaAsLin 3), a feature cannot be fitted when a categorical variable's
        reference level is absent from its samples, or only one level is left ("contrasts
        can be applied only to factors with 2 or more levels"); an absent non-reference
        level only drops that level's column (:meth:`level_rows`).

        Parameters
        ----------
        used
            ``(n, m)``: the rows each feature's fit uses.

        Returns
        -------
        numpy.ndarray
            ``(m,)`` reasons, ``""`` where all is well.
        """
        used = np.asarray(used, dtype=np.float64)
        out = np.full(used.shape[1], "", dtype=object)
        indicators = self.level_rows()
        for var, names in self.levels.items():
            cols = self.columns_of(var)
            if not len(cols):
                continue
            block = indicators[:, cols]
            reference = (block == 0).all(axis=1).astype(np.float64)
            present = (block.T @ used > 0).sum(axis=0) + (reference @ used > 0)
            first_absent = (reference @ used) == 0
            one_level = ~first_absent & (present < 2)
            out[first_absent & (out == "")] = (f"reference level {names[0]} of {var} is absent "
                                              "from this feature's samples")
            out[one_level & (out == "")] = (f"{var} takes one level only among this feature's "
                                           "samples")
        return out

    def columns_of(self, var: str) -> np.ndarray:
        """Indices into :attr:`matrix`'s columns (intercept = 0) of a variable's terms.

        Parameters
        ----------
        var
            A fixed-effect variable of the design.
        """
        return np.array([i + 1 for i, t in enumerate(self.terms) if t.metadata == var],
                        dtype=np.int64)


def r_level_order(values: pd.Series) -> list[str]:
    """The levels of a categorical column in the order R's ``factor()`` gives them.

    A pandas ``Categorical`` keeps its categories' order (as an R factor keeps its
    levels); numbers sort numerically; booleans become ``FALSE``/``TRUE``; other values
    sort as text in the collation of R's usual (English, UTF-8) locales, which compares
    without case first, then puts lower case first: ``"a" < "b" < "B"`` (R in the C
    locale would give ``"B" < "a" < "b"``). Only levels present in ``values`` are
    returned.
    """
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        used = set(present.astype(str))
        return [str(c) for c in values.cat.categories if str(c) in used]
    labels = level_labels(present)
    if pd.api.types.is_numeric_dtype(present.dtype) and not pd.api.types.is_bool_dtype(present):
        order = np.argsort(present.to_numpy(dtype=np.float64), kind="mergesort")
        return list(dict.fromkeys(labels.iloc[order]))
    return sorted(set(labels), key=lambda s: (s.casefold(), s.swapcase()))


def level_labels(values: pd.Series) -> pd.Series:
    """Text labels of categorical values (booleans as R prints them, whole floats as ints)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.map({True: "TRUE", False: "FALSE"}).astype(str)
    if pd.api.types.is_float_dtype(values.dtype):
        as_float = values.to_numpy(dtype=np.float64)
        if np.all(as_float == np.round(as_float)):
            return pd.Series(as_float.astype(np.int64).astype(str), index=values.index)
    return values.astype(str)


def is_numeric_column(values: pd.Series) -> bool:
    """Whether a metadata column enters a model as a number (booleans do not)."""
    return bool(pd.api.types.is_numeric_dtype(values.dtype)
                and not pd.api.types.is_bool_dtype(values.dtype))


def build_design(
    metadata: pd.DataFrame,
    *,
    fixed: Sequence[str],
    random: Sequence[str] = (),
    reference: Mapping[str, str] | None = None,
    standardize: bool = False,
    source: str | None = None,
    group: Sequence[str] = (),
    ordered: Sequence[str] = (),
    levels: Mapping[str, Sequence[str]] | None = None,
    strata: str | None = None,
) -> Design:
    """Build the fixed-effects design (and random-effect groups) for a per-feature scan.

    Parameters
    ----------
    metadata
        One row per sample, indexed by sample id.
    fixed
        Fixed-effect variables, in model order. May be empty when ``group`` or ``ordered``
        name a variable.
    random
        Random-intercept grouping variables (any type; each distinct value is a group).
    reference
        Reference level per categorical variable. Needed for fixed variables with more than
        two levels; naming one for a numeric column makes it categorical. Also allowed for a
        ``group`` variable (it changes no test); refused for an ``ordered`` one (give its
        ``levels``).
    standardize
        Z-score numeric fixed effects (mean 0, sd 1 with ``ddof=1``), computed over
        all samples that have the value, as MaAsLin 2's ``scale()`` does.
    source
        Where the metadata came from, for error messages.
    group
        Categorical variables each tested by one test over all its levels (MaAsLin 3's
        ``group_effects``); coded against their first level, no reference needed.
    ordered
        Categorical variables whose levels are ordered (MaAsLin 3's ``ordered_effects``);
        each level is estimated against the previous one. The order is ``levels[var]`` when
        given, else the variable's own: a pandas ``Categorical``'s, or numbers ascending;
        text values need ``levels``.
    levels
        The complete level order of categorical variables (first level = reference), e.g.
        ``{"group": ["ctl", "fbm_12_20", "fbm_21_25", "fbm_26_31"]}``; it must list every
        value the variable takes among the complete cases, and only those.
    strata
        A matched-set column (MaAsLin 3's ``strata_effects``): it becomes the design's
        random-intercept grouping (``random`` must then be empty, as MaAsLin 3 requires)
        and :attr:`Design.strata`.

    Returns
    -------
    Design

    Raises
    ------
    InputError
        A column that does not exist (the message lists those that do), a variable given in
        two roles (fixed, random, group, ordered), a reference that
        is not a level (lists the levels), a level order that does not match the values, a
        column with no values, a categorical variable
        with fewer than two levels, no complete case, more parameters than samples, or a
        rank-deficient design (names the aliased terms).
    """
    reference = dict(reference or {})
    order = {str(k): [str(v) for v in vals] for k, vals in (levels or {}).items()}
    fixed, random, group, ordered = (
        list(dict.fromkeys([x] if isinstance(x, str) else x))
        for x in (fixed, random, group, ordered))
    if strata is not None:
        if group:
            raise InputError("group predictors cannot be combined with strata: their "
                             "prevalence test would ignore the matching", source=source,
                             field="group", found=", ".join(group),
                             expected="group predictors or strata, not both")
        random = _strata_as_random(strata, fixed + group + ordered, random, source)
    model = fixed + group + ordered
    if not model:
        raise InputError("a model needs at least one fixed effect", source=source,
                         field="fixed", expected="one or more metadata columns")
    _require_columns(metadata, model + random, source)
    _check_roles({"fixed": fixed, "random": random, "group": group, "ordered": ordered},
                 source)
    _check_level_options(reference, order, fixed, group, ordered, source)
    for col in model + random:
        if metadata[col].isna().all():
            raise InputError("metadata column has no values (all missing)", source=source,
                             column=col, expected="at least some non-missing values")
    complete = metadata[model + random].notna().all(axis=1).to_numpy()
    if not complete.any():
        raise InputError("no sample has values for every model variable", source=source,
                         found=f"variables {', '.join(model + random)}",
                         expected="at least one complete row")
    used = metadata.loc[complete]
    columns: list[np.ndarray] = [np.ones(int(complete.sum()))]
    terms: list[Term] = []
    var_levels: dict[str, tuple[str, ...]] = {}
    numeric: list[str] = []
    scaling: dict[str, tuple[float, float]] = {}
    for var in model:
        series = metadata[var]
        if var in fixed and is_numeric_column(series) and var not in reference \
                and var not in order:
            values = _numeric_values(series, var, source)
            if standardize:
                mean, sd = float(np.nanmean(values)), float(np.nanstd(values, ddof=1))
                if not sd > 0:
                    raise InputError("cannot standardise a constant column", source=source,
                                     column=var, found=f"every value {mean}",
                                     expected="a column that varies")
                values = (values - mean) / sd
                scaling[var] = (mean, sd)
            columns.append(values[complete])
            terms.append(Term(var, var, var))
            numeric.append(var)
            continue
        if var in ordered and var not in order and not _has_own_order(series):
            raise InputError("an ordered variable of text values needs its level order",
                             source=source, column=var,
                             found=", ".join(r_level_order(used[var])),
                             expected=f"levels in order, e.g. {var}="
                             + ",".join(r_level_order(used[var])) + " (first = baseline)")
        found = _categorical_levels(used[var], var, reference.get(var), order.get(var),
                                    source, needs_reference=var in fixed)
        var_levels[var] = tuple(found)
        labels = level_labels(used[var]).to_numpy()
        rank = {level: k for k, level in enumerate(found)}
        position = np.array([rank[label] for label in labels])
        for k, level in enumerate(found[1:], start=1):
            column = position >= k if var in ordered else position == k
            columns.append(column.astype(np.float64))
            terms.append(Term(var, level, f"{var}{level}"))
    matrix = np.column_stack(columns)
    _check_rank(matrix, terms, source)
    groups = tuple(_group_codes(used[g], g, source) for g in random)
    return Design(matrix=matrix, terms=tuple(terms), rows=complete,
                  sample_ids=np.asarray(used.index.astype(str)), levels=var_levels,
                  numeric=tuple(numeric), scaling=scaling, groups=groups,
                  group_names=tuple(random), group_effects=tuple(group),
                  ordered_effects=tuple(ordered), strata=strata)


def _check_roles(roles: Mapping[str, list[str]], source: str | None) -> None:
    """A variable plays one role: fixed, random, group or ordered."""
    seen: dict[str, str] = {}
    for role, names in roles.items():
        for var in names:
            if var in seen:
                why = (": its group means are already fixed, so no random-effect variance is "
                       "left to estimate" if "random" in (role, seen[var]) else "")
                raise InputError(f"a variable cannot be both {_article(seen[var])} and "
                                 f"{_article(role)} effect{why}", source=source, column=var,
                                 expected="each variable in one role only (drop it from one "
                                 "of the two lists)")
            seen[var] = role


def _has_own_order(values: pd.Series) -> bool:
    """Numbers (ordered numerically) and pandas categoricals carry a level order; text does
    not (alphabetical order is rarely the order meant)."""
    return is_numeric_column(values) or isinstance(values.dtype, pd.CategoricalDtype)


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _check_level_options(reference: Mapping[str, str], order: Mapping[str, list[str]],
                         fixed: list[str], group: list[str], ordered: list[str],
                         source: str | None) -> None:
    for var in reference:
        if var in ordered:
            raise InputError("an ordered variable takes a level order, not a reference",
                             source=source, field="reference", found=var,
                             expected=f"its levels in order, e.g. {var}=LOW,MID,HIGH "
                             "(the first is the baseline)")
        if var not in fixed + group:
            raise InputError("reference level given for a variable that is not a fixed effect",
                             source=source, field="reference", found=var,
                             expected=f"one of the fixed effects {', '.join(fixed + group)}")
    for var, lv in order.items():
        if var not in fixed + group + ordered:
            raise InputError("level order given for a variable that is not in the model",
                             source=source, field="levels", found=var,
                             expected=f"one of {', '.join(fixed + group + ordered)}")
        if len(set(lv)) != len(lv):
            raise InputError("a level is listed twice", source=source, field="levels",
                             column=var, found=", ".join(lv), expected="distinct levels")
        if var in reference and reference[var] != lv[0]:
            raise InputError("reference and level order disagree", source=source,
                             field="reference", column=var, found=reference[var],
                             expected=f"the first listed level, {lv[0]} (or give only one)")


def _strata_as_random(strata: str, fixed: list[str], random: list[str],
                      source: str | None) -> list[str]:
    """The random effects of a design with ``strata``: the stratum alone (MaAsLin 3)."""
    if random:
        raise InputError("strata and random effects cannot be combined (as in MaAsLin 3): "
                         "use random effects when there are several grouping variables",
                         source=source, field="strata", found=f"strata {strata} with random "
                         f"{', '.join(random)}", expected="either strata or random effects")
    if strata in fixed:
        raise InputError("the strata variable cannot also be a fixed effect: its effect is "
                         "conditioned away", source=source, column=strata,
                         expected="a strata column that is not a fixed effect")
    return [strata]


def _group_codes(values: pd.Series, var: str, source: str | None) -> np.ndarray:
    """Integer codes of a random-effect grouping; lme4's own limits checked here."""
    codes, uniques = pd.factorize(level_labels(values), sort=True)
    if len(uniques) < 2:
        raise InputError("a random effect needs at least two groups among the samples used",
                         source=source, column=var, found=f"{len(uniques)} group",
                         expected="two or more distinct values")
    if len(uniques) == len(values):
        raise InputError("a random effect needs repeated groups: every sample used is its "
                         "own group, so its variance cannot be told from the residual",
                         source=source, column=var, found=f"{len(uniques)} groups for "
                         f"{len(values)} samples", expected="fewer groups than samples")
    return codes.astype(np.int64)


def _require_columns(metadata: pd.DataFrame, wanted: Sequence[str], source: str | None) -> None:
    missing = [c for c in wanted if c not in metadata.columns]
    if missing:
        raise InputError(
            f"metadata column{'s' if len(missing) > 1 else ''} not found", source=source,
            column=", ".join(missing),
            expected=f"one of {', '.join(map(str, metadata.columns))}")


def _numeric_values(series: pd.Series, var: str, source: str | None) -> np.ndarray:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        row = series.index[np.isinf(values)][0]
        raise InputError("infinite value in a numeric covariate", source=source, row=str(row),
                         column=var, found=float(values[np.isinf(values)][0]),
                         expected="a finite number or a missing value")
    return values


def _categorical_levels(
    used: pd.Series, var: str, ref: str | None, order: list[str] | None, source: str | None,
    *, needs_reference: bool = True,
) -> list[str]:
    found = r_level_order(used)
    if order is not None:
        unlisted = [lv for lv in found if lv not in order]
        absent = [lv for lv in order if lv not in found]
        if unlisted or absent:
            raise InputError("the level order does not match the values of the variable",
                             source=source, column=var,
                             found="; ".join(
                                 [f"values not listed: {', '.join(unlisted)}"] * bool(unlisted)
                                 + [f"listed but absent: {', '.join(absent)}"] * bool(absent)),
                             expected=f"every level once, in order, e.g. {var}="
                             + ",".join(found))
        found = list(order)
    if len(found) < 2:
        raise InputError("categorical variable has fewer than two levels among the samples "
                         "used", source=source, column=var, found=found,
                         expected="two or more distinct values")
    if ref is None:
        if len(found) > 2 and needs_reference and order is None:
            raise InputError(f"variable has {len(found)} levels: name its reference level",
                             source=source, column=var, found=", ".join(found),
                             expected=f"a reference such as {var}={found[0]}")
        return found
    if str(ref) not in found:
        raise InputError("reference is not a level of the variable", source=source,
                         column=var, found=ref, expected=f"one of {', '.join(found)}")
    return [str(ref)] + [lv for lv in found if lv != str(ref)]


def _check_rank(matrix: np.ndarray, terms: list[Term], source: str | None) -> None:
    n, p = matrix.shape
    if n <= p:
        raise InputError("more model parameters than samples", source=source,
                         found=f"{p} parameters (intercept + {', '.join(t.name for t in terms)})"
                         f" for {n} complete sample(s)",
                         expected="more complete samples than parameters")
    scale = np.sqrt((matrix**2).sum(axis=0))
    scale[scale == 0] = 1.0  # an all-zero column stays zero: aliased, not NaN
    _, R, piv = sla.qr(matrix / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > RANK_TOL * diag[0]))
    if rank < p:
        names = ["(Intercept)"] + [t.name for t in terms]
        aliased = [names[i] for i in sorted(piv[rank:])]
        raise InputError("design matrix is rank-deficient: these terms are linear "
                         "combinations of the others", source=source,
                         found=", ".join(aliased),
                         expected="fixed effects that are not collinear (drop or merge one)")

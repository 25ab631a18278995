"""Effect sizes from published summary data, as metafor's ``escalc`` (3.8-1) computes them.

Each study row gives what its paper reports; the first complete source below is used and
named per study in :attr:`StudyEffects.conversion`:

- ``raw``: the arm summaries of the measure. Binary (``OR``, ``RR``, ``RD``): ``events_t,
  n_t, events_c, n_c``. Continuous (``SMD``, ``MD``, ``ROM``): ``mean_t, sd_t, n_t, mean_c,
  sd_c, n_c``; an arm's SD may come from its standard error (``se_t``: ``sd = se √n``,
  conversion ``sd_from_se``) or, for change scores, from the baseline and follow-up SDs and
  their correlation (``sd_pre_t, sd_post_t, r``: ``sd = √(sd_pre² + sd_post² - 2 r sd_pre
  sd_post)``, conversion ``change_scores``);
- ``yi_vi`` / ``yi_sei``: the effect size on the analysis scale with its variance or SE;
- ``ci``: ``estimate, ci_low, ci_high`` (a 95% interval; ratios on the ratio scale):
  ``se = (g(high) - g(low)) / (2 · 1.959964)``, ``g = log`` for ratios;
- ``p_value``: ``estimate, pval`` (two-sided): ``se = |g(estimate)| / Φ⁻¹(1 - p/2)``.

Formulas (``n`` per arm, ``m = n_t + n_c - 2``, ``s_p`` the pooled SD):

- ``SMD`` (Hedges' g): ``g = c(m) (mean_t - mean_c)/s_p``, ``c(m) = Γ(m/2) / (√(m/2)
  Γ((m-1)/2))``; ``v = 1/n_t + 1/n_c + g²/(2(n_t + n_c))``.
- ``MD``: ``mean_t - mean_c``; ``v = sd_t²/n_t + sd_c²/n_c``.
- ``ROM``: ``log(mean_t/mean_c)``; ``v = sd_t²/(n_t mean_t²) + sd_c²/(n_c mean_c²)``.
- ``OR``: ``log(a d/(b c))``, ``v = 1/a + 1/b + 1/c + 1/d``; ``RR``: ``log((a/n_t)/(c/n_c))``,
  ``v = 1/a - 1/n_t + 1/c - 1/n_c``; ``RD``: ``a/n_t - c/n_c``, ``v = p_t(1-p_t)/n_t +
  p_c(1-p_c)/n_c``. A study with a zero cell gets 1/2 added to each of its four cells
  (metafor's ``add=1/2, to="only0"``), recorded in :attr:`StudyEffects.zero_cells`.

References
----------
Hedges LV (1981). Distribution theory for Glass's estimator of effect size and related
estimators. J Educ Stat 6:107-128.
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions,
version 6.4, chapter 6 (obtaining SDs from SEs, CIs and p-values; change scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

import numpy as np
import pandas as pd
from scipy import special, stats

from gutaxis.choices import MetaMeasure as Measure
from gutaxis.errors import InputError

MEASURES: tuple[Measure, ...] = get_args(Measure)
RATIO_MEASURES = frozenset({"ROM", "OR", "RR"})
BINARY = ("events_t", "n_t", "events_c", "n_c")
CONTINUOUS = ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c")
Z975 = float(stats.norm.isf(0.025))


@dataclass(frozen=True, eq=False)
class StudyEffects:
    """Effect sizes of ``k`` studies on the analysis scale.

    Attributes
    ----------
    study
        Study labels.
    yi, vi
        Effect sizes (log scale for ratio measures) and their sampling variances.
    measure
        ``SMD``, ``MD``, ``ROM``, ``OR``, ``RR``, ``RD`` or ``GEN`` (given yi/vi).
    conversion
        Per study, where its effect size came from (see the module notes).
    zero_cells
        Per study, True when 1/2 was added to its cells (a zero count).
    """

    study: tuple[str, ...]
    yi: np.ndarray
    vi: np.ndarray
    measure: Measure
    conversion: tuple[str, ...]
    zero_cells: np.ndarray

    @classmethod
    def from_arrays(cls, yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray,
                    *, study: Sequence[str] | None = None,
                    measure: Measure = "GEN") -> StudyEffects:
        """Effect sizes given directly.

        Parameters
        ----------
        yi, vi
            Effect sizes and sampling variances (> 0).
        study
            Labels (default ``"1"``, ``"2"``...).
        measure
            What ``yi`` is.
        """
        frame = pd.DataFrame({"yi": np.asarray(yi, dtype=float),
                              "vi": np.asarray(vi, dtype=float)})
        if study is not None:
            frame.insert(0, "study", list(study))
        return effect_sizes(frame, measure=measure)

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.yi)

    def subset(self, keep: np.ndarray) -> StudyEffects:
        """The studies selected by a boolean mask or index array.

        Parameters
        ----------
        keep
            Boolean mask of length ``k``, or indices.
        """
        index = np.arange(self.k)[keep]
        return StudyEffects(study=tuple(self.study[i] for i in index), yi=self.yi[index],
                            vi=self.vi[index], measure=self.measure,
                            conversion=tuple(self.conversion[i] for i in index),
                            zero_cells=self.zero_cells[index])

    def to_frame(self) -> pd.DataFrame:
        """study, yi, vi, sei, conversion, zero_cells."""
        return pd.DataFrame({"study": self.study, "yi": self.yi, "vi": self.vi,
                             "sei": np.sqrt(self.vi), "conversion": self.conversion,
                             "zero_cells": self.zero_cells})

    def summary(self) -> str:
        """Counts of studies by conversion."""
        counts = pd.Series(self.conversion).value_counts()
        parts = ", ".join(f"{n} {name}" for name, n in counts.items())
        added = int(np.sum(self.zero_cells))
        extra = f"; 1/2 added to the cells of {added} with a zero" if added else ""
        return f"{self.k} studies, {self.measure} ({parts}){extra}"


def effect_sizes(
    studies: pd.DataFrame,
    *,
    measure: Measure,
    source: str | None = None,
) -> StudyEffects:
    """Effect sizes and sampling variances from a table of study summaries.

    Parameters
    ----------
    studies
        One row per study, with the columns of the module notes and an optional
        ``study`` label column. Rows are numbered in errors as in a file whose header is
        row 1 (the first study is row 2).
    measure
        ``SMD``, ``MD``, ``ROM``, ``OR``, ``RR``, ``RD`` or ``GEN`` (yi/vi given).
    source
        Name of the table in error messages (a file path).

    Returns
    -------
    StudyEffects

    Raises
    ------
    InputError
        No complete set of columns for the measure; a row none of whose sources is
        complete; a negative SD, ``n < 2``, events > n or below 0, a non-positive
        variance or a non-positive mean for ``ROM`` (naming the row and field).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"study": ["a", "b"], "events_t": [4, 6], "n_t": [123, 306],
    ...                       "events_c": [11, 29], "n_c": [139, 303]})
    >>> effects = effect_sizes(table, measure="RR")
    >>> [round(float(y), 4) for y in effects.yi]
    [-0.8893, -1.5854]
    >>> effects.conversion
    ('raw', 'raw')
    """
    if measure not in MEASURES:
        raise InputError("unknown effect measure", source=source, field="measure",
                         found=measure, expected=", ".join(MEASURES))
    frame = studies.reset_index(drop=True)
    k = len(frame)
    yi, vi = np.full(k, np.nan), np.full(k, np.nan)
    conversion = np.full(k, "", dtype=object)
    zero = np.zeros(k, dtype=bool)
    try:
        _build(frame, measure, source, yi=yi, vi=vi, conversion=conversion, zero=zero)
        _check_complete(frame, measure, conversion, source)
    except InputError as exc:
        raise _with_study(exc, frame) from None
    if np.any(vi <= 0):
        row = int(np.flatnonzero(vi <= 0)[0])
        raise _with_study(InputError("the sampling variance must be > 0", source=source,
                                     row=row + 2, field="vi", found=vi[row],
                                     expected="a value > 0"), frame)
    labels = (frame["study"].astype(str).tolist() if "study" in frame
              else [str(i + 1) for i in range(k)])
    return StudyEffects(study=tuple(labels), yi=yi, vi=vi, measure=measure,
                        conversion=tuple(conversion), zero_cells=zero)


def _with_study(exc: InputError, frame: pd.DataFrame) -> InputError:
    """The error with the study's label beside its row number."""
    if not isinstance(exc.row, int) or "study" not in frame:
        return exc
    label = frame["study"].iloc[exc.row - 2]
    return InputError(exc.message, source=exc.source, row=f"{exc.row} (study {label!r})",
                      column=exc.column, field=exc.field, found=exc.found,
                      expected=exc.expected)


def _build(frame: pd.DataFrame, measure: Measure, source: str | None, *, yi: np.ndarray,
           vi: np.ndarray, conversion: np.ndarray, zero: np.ndarray) -> None:
    """Fill ``yi, vi, conversion, zero`` in place from the first complete source per row."""
    builders = [_from_raw, _from_yi, _from_ci, _from_pvalue]
    for build in builders:
        todo = conversion == ""
        if not todo.any():
            break
        built = build(frame, measure, todo, source)
        if built is None:
            continue
        y, v, name, added = built
        yi[todo], vi[todo], conversion[todo] = y, v, name
        zero[todo] = added
        incomplete = todo & ~(np.isfinite(yi) & np.isfinite(vi))
        conversion[incomplete] = ""
        yi[incomplete], vi[incomplete] = np.nan, np.nan


def _column(frame: pd.DataFrame, name: str, todo: np.ndarray, source: str | None
            ) -> np.ndarray | None:
    if name not in frame:
        return None
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    text = frame[name].notna().to_numpy() & np.isnan(values)
    if np.any(text & todo):
        row = int(np.flatnonzero(text & todo)[0])
        raise InputError("not a number", source=source, row=row + 2, field=name,
                         found=frame[name].iloc[row], expected="a number")
    return values[todo]


def _columns(frame: pd.DataFrame, names: Sequence[str], todo: np.ndarray,
             source: str | None) -> dict[str, np.ndarray] | None:
    found = {name: _column(frame, name, todo, source) for name in names}
    if any(v is None for v in found.values()):
        return None
    return {name: v for name, v in found.items() if v is not None}


def _fail(message: str, mask: np.ndarray, todo: np.ndarray, *, field: str, found: np.ndarray,
          expected: str, source: str | None) -> None:
    if np.any(mask):
        first = int(np.flatnonzero(mask)[0])
        row = int(np.flatnonzero(todo)[first])
        raise InputError(message, source=source, row=row + 2, field=field,
                         found=found[first], expected=expected)


def _check_sizes(cols: dict[str, np.ndarray], todo: np.ndarray, source: str | None) -> None:
    for arm in ("t", "c"):
        n = cols[f"n_{arm}"]
        _fail("a group needs at least 2 participants", n < 2, todo, field=f"n_{arm}",
              found=n, expected="n >= 2", source=source)


def _from_raw(frame: pd.DataFrame, measure: Measure, todo: np.ndarray, source: str | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    if measure in ("OR", "RR", "RD"):
        cols = _columns(frame, BINARY, todo, source)
        return None if cols is None else _binary(cols, measure, todo, source)
    if measure == "GEN":
        return None
    cols = _columns(frame, ("mean_t", "n_t", "mean_c", "n_c"), todo, source)
    if cols is None:
        return None
    names = np.full(int(todo.sum()), "raw", dtype=object)
    for arm in ("t", "c"):
        sd, how = _arm_sd(frame, arm, cols[f"n_{arm}"], todo, source)
        cols[f"sd_{arm}"] = sd
        names = np.where((how != "raw") & (names == "raw"), how, names)
    y, v = _continuous(cols, measure, todo, source)
    return y, v, names, np.zeros(len(y), dtype=bool)


def _arm_sd(frame: pd.DataFrame, arm: str, n: np.ndarray, todo: np.ndarray,
            source: str | None) -> tuple[np.ndarray, np.ndarray]:
    sd = _column(frame, f"sd_{arm}", todo, source)
    sd = np.full(len(n), np.nan) if sd is None else sd
    how = np.where(np.isfinite(sd), "raw", "").astype(object)
    se = _column(frame, f"se_{arm}", todo, source)
    if se is not None:
        use = ~np.isfinite(sd) & np.isfinite(se)
        sd = np.where(use, se * np.sqrt(n), sd)
        how[use] = "sd_from_se"
    pre, post = (_column(frame, f"sd_{when}_{arm}", todo, source) for when in ("pre", "post"))
    r = _column(frame, "r", todo, source)
    if pre is not None and post is not None and r is not None:
        use = ~np.isfinite(sd) & np.isfinite(pre) & np.isfinite(post) & np.isfinite(r)
        _fail("a correlation must lie in [-1, 1]", use & (np.abs(r) > 1), todo, field="r",
              found=r, expected="-1 <= r <= 1", source=source)
        sd = np.where(use, np.sqrt(np.maximum(pre**2 + post**2 - 2 * r * pre * post, 0)), sd)
        how[use] = "change_scores"
    return sd, how


def _continuous(cols: dict[str, np.ndarray], measure: Measure, todo: np.ndarray,
                source: str | None) -> tuple[np.ndarray, np.ndarray]:
    _check_sizes(cols, todo, source)
    for arm in ("t", "c"):
        sd = cols[f"sd_{arm}"]
        _fail("negative standard deviation", sd < 0, todo, field=f"sd_{arm}", found=sd,
              expected="a value >= 0", source=source)
    m1, s1, n1 = cols["mean_t"], cols["sd_t"], cols["n_t"]
    m2, s2, n2 = cols["mean_c"], cols["sd_c"], cols["n_c"]
    if measure == "MD":
        return m1 - m2, s1**2 / n1 + s2**2 / n2
    if measure == "ROM":
        for arm, mean in (("t", m1), ("c", m2)):
            _fail("ROM needs positive means", mean <= 0, todo, field=f"mean_{arm}",
                  found=mean, expected="a mean > 0", source=source)
        return np.log(m1 / m2), s1**2 / (n1 * m1**2) + s2**2 / (n2 * m2**2)
    m = n1 + n2 - 2
    pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
    correction = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2))
                        - special.gammaln((m - 1) / 2))
    g = correction * (m1 - m2) / pooled
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


def _binary(cols: dict[str, np.ndarray], measure: Measure, todo: np.ndarray,
            source: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    _check_sizes(cols, todo, source)
    for arm in ("t", "c"):
        events, n = cols[f"events_{arm}"], cols[f"n_{arm}"]
        _fail("negative event count", events < 0, todo, field=f"events_{arm}", found=events,
              expected="a count >= 0", source=source)
        _fail(f"more events than participants (n_{arm})", events > n, todo,
              field=f"events_{arm}", found=events, expected=f"events_{arm} <= n_{arm}",
              source=source)
    a, c = cols["events_t"], cols["events_c"]
    b, d = cols["n_t"] - a, cols["n_c"] - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (x + 0.5 * zero for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "OR":
        y, v = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2)), 1 / a + 1 / b + 1 / c + 1 / d
    elif measure == "RR":
        y, v = np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    else:
        y, v = p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return y, v, np.full(len(y), "raw", dtype=object), zero


def _from_yi(frame: pd.DataFrame, measure: Measure, todo: np.ndarray, source: str | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    y = _column(frame, "yi", todo, source)
    if y is None:
        return None
    v = _column(frame, "vi", todo, source)
    se = _column(frame, "sei", todo, source)
    v = np.full(len(y), np.nan) if v is None else v
    names = np.full(len(y), "yi_vi", dtype=object)
    if se is not None:
        use = ~np.isfinite(v) & np.isfinite(se)
        _fail("negative standard error", use & (se < 0), todo, field="sei", found=se,
              expected="a value > 0", source=source)
        v = np.where(use, se**2, v)
        names[use] = "yi_sei"
    y = np.where(np.isfinite(v), y, np.nan)
    return y, v, names, np.zeros(len(y), dtype=bool)


def _to_analysis_scale(values: np.ndarray, measure: Measure, todo: np.ndarray, field: str,
                       source: str | None) -> np.ndarray:
    if measure not in RATIO_MEASURES:
        return values
    _fail("a ratio must be > 0", values <= 0, todo, field=field, found=values,
          expected="a ratio > 0 (on the ratio scale, not the log scale)", source=source)
    return np.log(values)


def _from_ci(frame: pd.DataFrame, measure: Measure, todo: np.ndarray, source: str | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    cols = _columns(frame, ("estimate", "ci_low", "ci_high"), todo, source)
    if cols is None:
        return None
    est, low, high = (_to_analysis_scale(cols[name], measure, todo, name, source)
                      for name in ("estimate", "ci_low", "ci_high"))
    _fail("ci_low must be below ci_high", low >= high, todo, field="ci_low", found=cols["ci_low"],
          expected="ci_low < ci_high", source=source)
    se = (high - low) / (2 * Z975)
    return est, se**2, np.full(len(est), "ci", dtype=object), np.zeros(len(est), dtype=bool)


def _from_pvalue(frame: pd.DataFrame, measure: Measure, todo: np.ndarray, source: str | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    cols = _columns(frame, ("estimate", "pval"), todo, source)
    if cols is None:
        return None
    est = _to_analysis_scale(cols["estimate"], measure, todo, "estimate", source)
    p = cols["pval"]
    _fail("a p-value must lie in (0, 1)", (p <= 0) | (p >= 1), todo, field="pval", found=p,
          expected="0 < p < 1", source=source)
    se = np.abs(est) / stats.norm.isf(p / 2)
    return est, se**2, np.full(len(est), "p_value", dtype=object), np.zeros(len(est), dtype=bool)


def required_columns(measure: Measure) -> str:
    """The columns a study table needs for ``measure``, in words."""
    raw = {"OR": BINARY, "RR": BINARY, "RD": BINARY}.get(measure, CONTINUOUS)
    options = ["yi and vi (or sei)", "estimate, ci_low and ci_high", "estimate and pval"]
    if measure != "GEN":
        options.insert(0, ", ".join(raw))
    return "; or ".join(options)


def _check_complete(frame: pd.DataFrame, measure: Measure, conversion: np.ndarray,
                    source: str | None) -> None:
    if len(frame) and (conversion == "").all():
        raw = {"OR": BINARY, "RR": BINARY, "RD": BINARY, "GEN": ("yi", "vi")}.get(
            measure, CONTINUOUS)
        missing = [c for c in raw if c not in frame]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)} for {measure}",
                             source=source, found="columns " + ", ".join(map(str, frame.columns)),
                             expected=required_columns(measure))
    if (conversion == "").any():
        row = int(np.flatnonzero(conversion == "")[0])
        raise InputError(f"no complete effect-size data for {measure} in this study",
                         source=source, row=row + 2, expected=required_columns(measure))

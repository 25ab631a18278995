"""Measurements: the longitudinal record of a cohort, validated once, at the door.

Six tidy tables, each with fixed columns (pandas DataFrames, sorted canonically):

``administrations``
    One row per questionnaire administration: ``administration_id``, ``subject``,
    ``time`` (UTC instant), ``instrument`` (registry key ``id@version``).
``responses``
    One row per answered item: ``administration_id``, ``item``, ``answer`` (canonical
    text: ``7``, ``6.5``, ``true``, a choice code, ``22:30``, free text).
``scores``
    One row per computed score: ``administration_id``, ``score``, ``value``, ``band``,
    ``scoring_version``, ``missing_rule_applied``.
``labs``
    ``lab_id``, ``subject``, ``time``, ``analyte``, ``value``/``unit`` (canonical unit)
    and ``reported_value``/``reported_unit`` (as the lab gave them).
``interventions``
    ``intervention_id``, ``subject``, ``type``, ``product``, ``dose``, ``dose_unit``,
    ``start``, ``stop`` (``NaT`` while ongoing).
``samples``
    Links from microbiome samples to subjects and collection times: ``sample_id``,
    ``subject``, ``time``.

Input tables may omit generated columns (ids, canonical lab values) and may carry a
``source_row`` column: the row label errors name (readers set it to the file's line).
Times without a timezone, lab units that cannot be converted, duplicate ids and links to
missing administrations are refused with the row and field named.

The record is data: it knows nothing of questionnaires. Instrument names, items, answers
and score names are checked, and administrations scored, by
:mod:`gutaxis.instruments.record` (``record_from_answers``, ``score_record``), which
the readers of questionnaire formats call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from gutaxis.data.interventions import INTERVENTION_COLUMNS, active_at, canonical_intervention_type
from gutaxis.data.measurement_tables import (
    ADMINISTRATION_COLUMNS,
    LAB_COLUMNS,
    RESPONSE_COLUMNS,
    SAMPLE_COLUMNS,
    SCORE_COLUMNS,
    empty_table,
    validate_administrations,
    validate_interventions,
    validate_labs,
    validate_responses,
    validate_samples,
    validate_scores,
)
from gutaxis.data.timestamps import TIME_DTYPE, parse_times
from gutaxis.errors import InputError

How = Literal["nearest", "last-before", "first-after"]
Baseline = Literal["first", "first-sample", "intervention"]
_TABLES = frozenset({"administrations", "responses", "scores", "labs", "interventions",
                     "samples"})
_HOWS = ("nearest", "last-before", "first-after")


class SampleLinks(Protocol):
    """What the record needs of a cohort to place its samples: ids, subjects, times
    (:class:`gutaxis.data.Cohort` is one)."""

    @property
    def sample_ids(self) -> np.ndarray: ...
    @property
    def metadata(self) -> pd.DataFrame: ...
    @property
    def subject_column(self) -> str | None: ...
    @property
    def time_column(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    def subjects(self) -> pd.Series: ...


@dataclass(frozen=True, eq=False)
class Measurements:
    """The longitudinal record: questionnaires, scores, labs, interventions, samples.

    Parameters
    ----------
    administrations, responses, scores, labs, interventions, samples
        The tables described in the module docstring; any may be omitted (empty).
    source
        Where the record came from, for error messages.

    Examples
    --------
    >>> import pandas as pd
    >>> m = Measurements(labs=pd.DataFrame({
    ...     "subject": ["p1"], "time": ["2024-03-01T08:00:00+01:00"],
    ...     "analyte": ["CRP"], "reported_value": [0.8], "reported_unit": ["mg/dL"]}))
    >>> m.labs[["analyte", "value", "unit"]].values.tolist()
    [['crp', 8.0, 'mg/L']]
    """

    administrations: pd.DataFrame = field(
        default_factory=lambda: empty_table(ADMINISTRATION_COLUMNS))
    responses: pd.DataFrame = field(default_factory=lambda: empty_table(RESPONSE_COLUMNS))
    scores: pd.DataFrame = field(default_factory=lambda: empty_table(SCORE_COLUMNS))
    labs: pd.DataFrame = field(default_factory=lambda: empty_table(LAB_COLUMNS))
    interventions: pd.DataFrame = field(default_factory=lambda: empty_table(INTERVENTION_COLUMNS))
    samples: pd.DataFrame = field(default_factory=lambda: empty_table(SAMPLE_COLUMNS))
    source: str | None = None
    #: Tables already validated (set by methods that derive a record from a valid one).
    _valid: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._valid >= _TABLES:
            return
        src = self.source
        admins = validate_administrations(self.administrations, source=src)
        object.__setattr__(self, "administrations", admins)
        object.__setattr__(self, "responses",
                           validate_responses(self.responses, admins, source=src))
        object.__setattr__(self, "scores", validate_scores(self.scores, admins, source=src))
        object.__setattr__(self, "labs", validate_labs(self.labs, source=src))
        object.__setattr__(self, "interventions",
                           validate_interventions(self.interventions, source=src))
        object.__setattr__(self, "samples", validate_samples(self.samples, source=src))

    # ------------------------------------------------------------------ views
    @property
    def subjects(self) -> list[str]:
        """Every subject named anywhere in the record, sorted."""
        names: set[str] = set()
        for table in (self.administrations, self.labs, self.interventions, self.samples):
            names.update(table["subject"].astype(str))
        return sorted(names)

    @property
    def is_empty(self) -> bool:
        """True when the record holds nothing."""
        return all(len(t) == 0 for t in (self.administrations, self.labs, self.interventions,
                                         self.samples))

    def equals(self, other: Measurements) -> bool:
        """Whether both records hold the same tables (values, order and dtypes).

        Parameters
        ----------
        other
            The record to compare with.
        """
        return all(getattr(self, name).equals(getattr(other, name)) for name in sorted(_TABLES))

    def score_table(self) -> pd.DataFrame:
        """Scores with their administration's subject, time and instrument (long form)."""
        return self.scores.merge(self.administrations, on="administration_id", how="left")[
            ["administration_id", "subject", "time", "instrument", "score", "value", "band",
             "scoring_version", "missing_rule_applied"]]

    def variables(self) -> list[str]:
        """The variables the record holds values of, sorted: ``instrument.score`` (the
        instrument id without its version, e.g. ``nrs.pain``) and lab analyte ids."""
        instrument = self.administrations.set_index("administration_id")["instrument"]
        ids = self.scores["administration_id"].map(instrument).astype(str).str.replace(
            r"@.*$", "", regex=True)
        scores = (ids + "." + self.scores["score"].astype(str)).unique()
        return sorted({*scores, *self.labs["analyte"].astype(str).unique()})

    def series(self, instrument_score: str | None = None, *,
               lab: str | None = None) -> pd.DataFrame:
        """One variable over time: ``subject``, ``time``, ``value``, sorted.

        Parameters
        ----------
        instrument_score
            ``"instrument.score"``, e.g. ``"nrs.pain"`` or ``"bpi-sf@2009.interference"``
            (without a version, every version of the instrument counts).
        lab
            An analyte id or name instead (values in its canonical unit).
        """
        out = self._variable(instrument_score, lab)
        return out.sort_values(["subject", "time"], kind="stable").reset_index(drop=True)

    def _variable(self, instrument_score: str | None, lab: str | None) -> pd.DataFrame:
        """:meth:`series`, unsorted."""
        if (instrument_score is None) == (lab is None):
            raise InputError("name exactly one variable", field="instrument_score/lab",
                             found=f"instrument_score={instrument_score!r}, lab={lab!r}",
                             expected="either instrument_score='nrs.pain' or lab='crp'")
        if lab is not None:
            from gutaxis.data.labs import get_analyte

            analyte = get_analyte(lab, field="lab").id
            rows = self.labs[(self.labs["analyte"] == analyte).to_numpy()]
            return rows[["subject", "time", "value"]]
        assert instrument_score is not None
        return self._score_series(instrument_score)

    def _score_series(self, instrument_score: str) -> pd.DataFrame:
        """Rows of one score of one instrument: ``"nrs.pain"`` takes every version of
        ``nrs`` in the record, ``"nrs@11.pain"`` that version only (case-insensitive)."""
        key, dot, score = instrument_score.rpartition(".")
        if not dot or not key or not score:
            raise InputError("not an instrument score", field="instrument_score",
                             found=instrument_score, expected="'instrument.score', e.g. 'nrs.pain'")
        key = key.strip().lower()
        admins = self.administrations
        names = admins["instrument"].astype(str).str.lower()
        chosen = (names == key).to_numpy()
        if "@" not in key:
            chosen = chosen | (names.str.replace(r"@.*$", "", regex=True) == key).to_numpy()
        rows = self.scores[(self.scores["score"] == score).to_numpy()]
        at = pd.Index(admins["administration_id"]).get_indexer(rows["administration_id"])
        keep = chosen[at]
        if chosen.any() and not keep.any():
            known = self.scores["score"][self.scores["administration_id"].isin(
                admins["administration_id"][chosen])].unique()
            given = ", ".join(sorted(set(names[chosen])))
            if not len(known):
                raise InputError(f"no scores of {given} in the record", source=self.source,
                                 field="instrument_score", found=instrument_score,
                                 expected="a scored record (gutaxis.instruments.record."
                                          "score_record computes scores from the answers)")
            raise InputError(f"unknown score for {given}", source=self.source,
                             field="instrument_score", found=instrument_score,
                             expected="one of the scores in the record: "
                                      + ", ".join(sorted(known)))
        at = at[keep]
        return pd.DataFrame({"subject": admins["subject"].to_numpy()[at],
                             "time": admins["time"].iloc[at].reset_index(drop=True),
                             "value": rows["value"].to_numpy()[keep]})

    # ------------------------------------------------------------- cohort join
    def sample_subjects(self, cohort: SampleLinks) -> pd.Series:
        """Subject of each cohort sample (``sample_id`` index): its link in
        :attr:`samples`, else the cohort's.

        Parameters
        ----------
        cohort
            The cohort whose samples are wanted.

        Raises
        ------
        InputError
            A sample's link and the cohort's subject column disagree.
        """
        ids = pd.Index(cohort.sample_ids.astype(str), name="sample_id")
        linked = self.samples.set_index("sample_id")["subject"].reindex(ids)
        cohort_subject = cohort.subjects().reindex(ids).astype(str)
        if cohort.subject_column is not None:
            clash = linked.notna() & (linked != cohort_subject)
            if clash.any():
                sample = clash[clash].index[0]
                raise InputError("sample linked to a different subject than the cohort says",
                                 source=self.source, row=sample, field="subject",
                                 found=f"{linked[sample]} (record) vs "
                                       f"{cohort_subject[sample]} (cohort)",
                                 expected="the same subject in both")
        return linked.fillna(cohort_subject).astype(str).rename("subject")

    def sample_times(self, cohort: SampleLinks) -> pd.DataFrame:
        """Subject and collection time of each cohort sample (``sample_id`` index).

        Links in :attr:`samples` come first; samples without one take the cohort's
        ``subject_column`` and ``time_column`` (which must hold timezone-aware times).

        Parameters
        ----------
        cohort
            The cohort whose samples are wanted.

        Raises
        ------
        InputError
            A sample has no time, or its link and the cohort disagree on its subject.
        """
        ids = pd.Index(cohort.sample_ids.astype(str), name="sample_id")
        subject = self.sample_subjects(cohort)
        time = self.samples.set_index("sample_id")["time"].reindex(ids).astype(TIME_DTYPE)
        if time.isna().any() and cohort.time_column is not None:
            column = cohort.metadata[cohort.time_column].reindex(ids)
            if pd.api.types.is_numeric_dtype(column):
                raise InputError("cohort time column holds numbers, not dates",
                                 source=cohort.source, column=cohort.time_column,
                                 found=column.dtype, expected="timezone-aware times, or "
                                 "sample links with dates in the record")
            fill = parse_times(column, source=cohort.source, column=cohort.time_column,
                               rows=ids, required=False)
            time = time.fillna(pd.Series(fill.to_numpy(), index=ids))
        if time.isna().any():
            missing = time.index[time.isna()]
            raise InputError(f"{len(missing)} sample(s) have no collection time",
                             source=self.source, found=", ".join(missing[:5]),
                             expected="a sample link (kind 'sample') or a cohort time column")
        return pd.DataFrame({"subject": subject.astype(str), "time": time}, index=ids)

    def at_samples(self, cohort: SampleLinks, instrument_score: str | None = None, *,
                   lab: str | None = None, how: How = "nearest",
                   tolerance: str | pd.Timedelta | None = "7D") -> pd.Series:
        """A score or lab value at each microbiome sample of a cohort.

        Parameters
        ----------
        cohort
            The cohort whose samples are matched.
        instrument_score, lab
            The variable (see :meth:`series`).
        how
            ``"nearest"`` in time, ``"last-before"`` (at or before the sample) or
            ``"first-after"`` (at or after).
        tolerance
            The largest time between sample and measurement (``"7D"``, ``"12h"``);
            ``None`` for no limit. Samples with no measurement in reach get NaN.

        Returns
        -------
        pandas.Series
            Float, indexed by the cohort's sample ids, named after the variable.

        Notes
        -----
        Measurements of one subject at the same instant are averaged first. Within a
        subject, the match is a rolling join on time (as :func:`pandas.merge_asof` would
        do it, by binary search; see ``_match``); ``nearest`` takes the earlier
        measurement on an exact tie; a gap equal to ``tolerance`` is in reach.
        """
        variable = self._variable(instrument_score, lab)
        samples = self.sample_times(cohort)
        values = _match(samples, variable, how=how, tolerance=tolerance)
        return values.rename(instrument_score if lab is None else lab)

    def change_since_baseline(self, cohort: SampleLinks, instrument_score: str | None = None, *,
                              lab: str | None = None, baseline: Baseline = "first",
                              how: How = "nearest",
                              tolerance: str | pd.Timedelta | None = "7D",
                              intervention_type: str | None = None,
                              relative: bool = False) -> pd.Series:
        """Change of a score or lab value at each sample since the subject's baseline.

        Parameters
        ----------
        cohort, instrument_score, lab, how, tolerance
            As for :meth:`at_samples`.
        baseline
            ``"first"``: the subject's earliest measurement; ``"first-sample"``: the value
            at the subject's earliest sample (matched as ``how``/``tolerance`` say);
            ``"intervention"``: the last measurement at or before the start of the
            subject's first intervention (of ``intervention_type`` if given).
        intervention_type
            With ``baseline="intervention"``: only interventions of this type count.
        relative
            Percent change ``100 (x - b) / b`` instead of ``x - b`` (NaN where b = 0).

        Returns
        -------
        pandas.Series
            Indexed by sample id; NaN where the sample's value or the baseline is missing.
        """
        variable = self._variable(instrument_score, lab)
        samples = self.sample_times(cohort)
        current = _match(samples, variable, how=how, tolerance=tolerance)
        base = self._baselines(variable, samples, current, baseline=baseline,
                               intervention_type=intervention_type)
        reference = samples["subject"].map(base).astype(float)
        change = current - reference
        if relative:
            with np.errstate(divide="ignore", invalid="ignore"):
                change = 100.0 * change / reference.where(reference != 0)
        name = instrument_score if lab is None else lab
        return change.rename(f"{name} change" + (" %" if relative else ""))

    def _baselines(self, variable: pd.DataFrame, samples: pd.DataFrame, current: pd.Series, *,
                   baseline: Baseline, intervention_type: str | None) -> pd.Series:
        if baseline == "first":  # earliest instant; measurements at it averaged
            means = variable.groupby(["subject", "time"])["value"].mean()
            return means.groupby(level="subject").first()
        if baseline == "first-sample":
            order = samples.assign(value=current).sort_values("time", kind="stable")
            return order.groupby("subject")["value"].first()
        if baseline == "intervention":
            table = self.interventions
            if intervention_type is not None:
                kind = canonical_intervention_type(intervention_type, field="intervention_type")
                table = table[table["type"] == kind]
            starts = table.groupby("subject")["start"].min()
            probe = pd.DataFrame({"subject": starts.index.astype(str), "time": starts.to_numpy()},
                                 index=starts.index)
            return _match(probe, variable, how="last-before", tolerance=None)
        raise InputError("unknown baseline", field="baseline", found=baseline,
                         expected="'first', 'first-sample' or 'intervention'")

    def interventions_at_samples(self, cohort: SampleLinks, *,
                                 type: str | None = None) -> pd.DataFrame:
        """For each sample: ``active`` (inside an intervention period),
        ``intervention_id`` and ``days_since_start``; see
        :func:`gutaxis.data.interventions.active_at`.

        Parameters
        ----------
        cohort
            The cohort whose samples are wanted.
        type
            Only interventions of this type (all by default).
        """
        samples = self.sample_times(cohort)
        return active_at(self.interventions, samples["subject"], samples["time"], type=type)

    # ------------------------------------------------------------- derivations
    def with_validated_tables(self, **tables: pd.DataFrame) -> Measurements:
        """The record with some tables replaced by tables already in canonical form.

        For code that derives tables from this record's own validated tables (scores
        computed from its responses, responses reordered); nothing is checked again.
        """
        unknown = sorted(set(tables) - _TABLES)
        if unknown:
            raise InputError("not a table of the record", field=unknown[0],
                             expected=", ".join(sorted(_TABLES)))
        return replace(self, _valid=_TABLES, **tables)  # type: ignore[arg-type]

    def restricted_to(self, subjects: pd.Series | list[str], *,
                      sample_ids: pd.Index | list[str] | None = None) -> Measurements:
        """The part of the record about these subjects (and, when given, the sample
        links of these samples only).

        Parameters
        ----------
        subjects
            The subject ids to keep.
        sample_ids
            When given, keep the sample links of these samples only.
        """
        keep = pd.Index(pd.Series(subjects, dtype=object).astype(str).unique())

        def own(table: pd.DataFrame) -> pd.DataFrame:
            return table[table["subject"].isin(keep).to_numpy()].reset_index(drop=True)

        admins = own(self.administrations)
        samples = own(self.samples)
        if sample_ids is not None:
            samples = samples[samples["sample_id"].isin(pd.Index(sample_ids).astype(str))
                              .to_numpy()].reset_index(drop=True)

        def answered(table: pd.DataFrame) -> pd.DataFrame:
            linked = table["administration_id"].isin(admins["administration_id"]).to_numpy()
            return table[linked].reset_index(drop=True)

        return self.with_validated_tables(
            administrations=admins, responses=answered(self.responses),
            scores=answered(self.scores), labs=own(self.labs),
            interventions=own(self.interventions), samples=samples)

    def concat(self, other: Measurements) -> Measurements:
        """Both records in one (ids must not collide).

        Parameters
        ----------
        other
            The record to add; its ids must not collide with this one's.
        """
        def both(name: str) -> pd.DataFrame:
            return pd.concat([getattr(self, name), getattr(other, name)], ignore_index=True)

        return Measurements(administrations=both("administrations"),
                            responses=both("responses"), scores=both("scores"),
                            labs=both("labs"), interventions=both("interventions"),
                            samples=both("samples"), source=self.source or other.source)


def time_span(value: str | pd.Timedelta | None, *, field: str) -> pd.Timedelta | None:
    """``value`` as a :class:`pandas.Timedelta` (``None`` stays ``None``: no limit); an
    :class:`InputError` naming ``field`` when it is not a time span."""
    try:
        return None if value is None else pd.Timedelta(value)
    except ValueError:
        raise InputError("not a time span", field=field, found=value,
                         expected="e.g. '7D', '12h' or None") from None


def _match(samples: pd.DataFrame, variable: pd.DataFrame, *, how: str,
           tolerance: str | pd.Timedelta | None) -> pd.Series:
    """Value of ``variable`` (subject, time, value) matched to each (subject, time) row.

    Notes
    -----
    A rolling join done with sorting and binary search: both sides get integer subject
    codes and dense time ranks, so ``code * n_times + rank`` orders every event by
    subject, then time, and :func:`numpy.searchsorted` finds for each sample the last
    measurement at or before it and the first at or after it within its subject.
    Measurements of one subject at the same instant are averaged first; ``nearest``
    prefers the earlier one on an exact tie; a gap equal to the tolerance is in reach.
    """
    if how not in _HOWS:
        raise InputError("unknown match rule", field="how", found=how,
                         expected="'nearest', 'last-before' or 'first-after'")
    limit = time_span(tolerance, field="tolerance")
    out = np.full(len(samples), np.nan)
    if len(variable) and len(samples):
        out = _rolling_join(samples, variable, how=how, limit=limit)
    return pd.Series(out, index=samples.index)


def _rolling_join(samples: pd.DataFrame, variable: pd.DataFrame, *, how: str,
                  limit: pd.Timedelta | None) -> np.ndarray:
    n = len(variable)
    codes, _ = pd.factorize(pd.concat([variable["subject"], samples["subject"]],
                                      ignore_index=True).astype(str))
    micros = np.concatenate([_micros(variable["time"]), _micros(samples["time"])])
    times, rank = np.unique(micros, return_inverse=True)
    key = codes.astype(np.int64) * len(times) + rank
    right_key, left_key = key[:n], key[n:]
    values = variable["value"].to_numpy(dtype=np.float64)
    order = np.argsort(right_key, kind="stable")
    right_key, values = right_key[order], values[order]
    first = np.r_[True, right_key[1:] != right_key[:-1]]
    if not first.all():  # average measurements of one subject at one instant
        group = np.cumsum(first) - 1
        values = np.bincount(group, values) / np.bincount(group)
        right_key = right_key[first]
    right_code, right_time = right_key // len(times), times[right_key % len(times)]
    left_code, left_time = codes[n:], micros[n:]
    before = np.searchsorted(right_key, left_key, side="right") - 1
    after = np.searchsorted(right_key, left_key, side="left")
    before_ok = (before >= 0) & (right_code[np.maximum(before, 0)] == left_code)
    after_ok = (after < len(right_key)) & (
        right_code[np.minimum(after, len(right_key) - 1)] == left_code)
    gap_before = np.where(before_ok, left_time - right_time[np.maximum(before, 0)], np.inf)
    gap_after = np.where(after_ok, right_time[np.minimum(after, len(right_key) - 1)]
                         - left_time, np.inf)
    if how == "last-before":
        pick, gap = before, gap_before
    elif how == "first-after":
        pick, gap = after, gap_after
    else:
        earlier = gap_before <= gap_after
        pick, gap = np.where(earlier, before, after), np.where(earlier, gap_before, gap_after)
    reach = np.isfinite(gap)
    if limit is not None:
        reach &= gap <= limit / pd.Timedelta(microseconds=1)
    out = np.full(len(left_key), np.nan)
    out[reach] = values[pick[reach]]
    return out


def _micros(times: pd.Series) -> np.ndarray:
    """Microseconds since the epoch (UTC) of a time column."""
    return pd.Series(times).astype(TIME_DTYPE).dt.tz_localize(None).to_numpy(
        dtype="datetime64[us]").astype(np.int64)


__all__ = ["Measurements"]

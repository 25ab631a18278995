"""The shape every questionnaire and clinical index shares: items, scores, bands, results.

An :class:`Instrument` is declared as data (its items, the scores it produces with their
ranges, codes and interpretation bands, its licence and the conventions gutaxis decided
where the manual is silent) plus one scoring function. :meth:`Instrument.score` validates
the answers at the door (unknown items, out-of-range values and wrong types raise
:class:`~gutaxis.errors.InstrumentError` naming the item, the value and what is allowed),
hands the parsed answers to the scoring function and classifies each score into its
bands. Missing answers are never filled in silently: whenever a missing-item rule is used
(mean substitution, proration, a skip pattern) the :class:`Score` says so.

Numbers are parsed into :class:`fractions.Fraction` so that sums, means and proration are
exact and cut-offs that sit on a boundary (ODI 20 %, CDAI 22.0, IPAQ 198 MET-min) are
classified without floating-point doubt. Scores that need logarithms or roots (DAS28) are
floats and are compared with the tolerance their :class:`ScoreSpec` declares.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal, TypeAlias, TypeVar

from gutaxis.errors import InstrumentError

ItemKind = Literal["integer", "number", "choice", "boolean", "time", "text"]

#: What a caller may pass as one answer (CSV cells arrive as strings).
RawAnswer: TypeAlias = float | int | str | bool | Fraction | None
#: A validated answer: numbers and times (minutes after midnight) as Fraction,
#: booleans as bool, choices and text as str; None when unanswered.
Answer: TypeAlias = Fraction | bool | str | None
#: An exact or floating score value; None when it cannot be computed.
Value: TypeAlias = Fraction | float | None

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a ``choice`` item: the stored code and a short label.

    Attributes
    ----------
    value
        The stored code.
    label
        A short label.
    """

    value: str
    label: str


@dataclass(frozen=True)
class Item:
    """One question (or measured input) of an instrument.

    Attributes
    ----------
    id
        Stable identifier used as CSV column and API key (``"q9a_general_activity"``).
    topic
        A few words saying what the item is about; never the copyrighted wording.
    kind
        ``integer``, ``number``, ``choice``, ``boolean``, ``time`` (``HH:MM``) or ``text``.
    minimum, maximum
        Inclusive limits for numbers; None when unbounded on that side.
    choices
        The allowed answers of a ``choice`` item.
    text
        The item's wording, only where the licence allows shipping it.
    unit
        UCUM unit of a measured input (``"mg/L"``, ``"mm"``, ``"min/d"``), else None.
    scored
        False for items the form asks but the score does not use (BPI body diagram).
    """

    id: str
    topic: str
    kind: ItemKind
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Choice, ...] | None = None
    text: str | None = None
    unit: str | None = None
    scored: bool = True

    @property
    def allowed(self) -> str:
        """A human description of the allowed answers, for error messages."""
        if self.kind == "choice" and self.choices:
            return "one of " + ", ".join(repr(c.value) for c in self.choices)
        if self.kind == "boolean":
            return "yes/no (1/0, true/false)"
        if self.kind == "time":
            return "a clock time HH:MM (00:00 to 23:59)"
        if self.kind == "text":
            return "free text"
        kind = "an integer" if self.kind == "integer" else "a number"
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"
        if self.minimum is not None:
            return f"{kind} >= {_fmt(self.minimum)}"
        if self.maximum is not None:
            return f"{kind} <= {_fmt(self.maximum)}"
        return kind

    def parse(self, raw: RawAnswer, *, source: str | None = None,
              row: int | None = None) -> Answer:
        """Validate one answer and return it in canonical form (None if unanswered).

        Results are memoised per item and answer (answers repeat a lot in a cohort), so
        reading a large response file costs one parse per distinct answer.

        Parameters
        ----------
        raw
            The answer as read (a code, a number, or None/empty when unanswered).
        source, row
            Where the answer comes from, for messages.

        Raises
        ------
        InstrumentError
            The answer has the wrong type or lies outside the allowed range.
        """
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            return None
        try:
            try:
                return self._memo(raw)
            except TypeError:  # an unhashable answer: parse without the memo
                return self._parse(raw)
        except InstrumentError as exc:
            if source is None and row is None:
                raise
            raise InstrumentError(exc.message, source=source, row=row, field=self.id,
                                  found=raw, expected=self.allowed) from None

    @functools.cached_property
    def _memo(self) -> Callable[[RawAnswer], Answer]:
        # typed=True keeps True, 1, 1.0 and Fraction(1) apart (they hash alike)
        return functools.lru_cache(maxsize=4096, typed=True)(self._parse)

    @functools.cached_property
    def _bounds(self) -> tuple[Fraction | None, Fraction | None]:
        return _frac(self.minimum), _frac(self.maximum)

    def _parse(self, raw: RawAnswer) -> Answer:
        if isinstance(raw, str) and not raw.strip():
            return None

        def bad(reason: str) -> InstrumentError:
            return InstrumentError(reason, field=self.id, found=raw, expected=self.allowed)

        if self.kind == "text":
            return str(raw).strip()
        if self.kind == "boolean":
            return _parse_bool(raw, bad)
        if self.kind == "choice":
            text = str(raw).strip()
            for choice in self.choices or ():
                if text == choice.value:
                    return choice.value
            raise bad("answer is not one of the allowed choices")
        if self.kind == "time":
            return _parse_time(raw, bad)
        number = _parse_number(raw, bad)
        if self.kind == "integer" and number.denominator != 1:
            raise bad("answer must be a whole number")
        low, high = self._bounds
        if low is not None and number < low:
            raise bad("answer below the allowed range")
        if high is not None and number > high:
            raise bad("answer above the allowed range")
        return number


@dataclass(frozen=True)
class Band:
    """One interpretation band: ``label`` for values between ``lower`` and ``upper``.

    ``lower_closed``/``upper_closed`` say whether the end points belong to the band, so
    published bands with gaps between integers ("0-20", "21-40") can be written as
    half-open intervals that also classify non-integer scores.

    Attributes
    ----------
    label
        The band's name, e.g. ``"moderate"``.
    lower, upper
        The end points (``None``: unbounded).
    lower_closed, upper_closed
        Whether each end point belongs to the band.
    """

    label: str
    lower: Fraction | None
    upper: Fraction | None
    lower_closed: bool = True
    upper_closed: bool = True

    def contains(self, value: Fraction | float, *,
                 tolerance: Fraction = Fraction(0)) -> bool:
        """Whether ``value`` falls in the band (values within ``tolerance`` of an end
        point count as on it).

        Parameters
        ----------
        value
            A score.
        tolerance
            How close to an end point counts as on it.
        """
        if not tolerance:
            if self.lower is not None and (value < self.lower or (
                    value == self.lower and not self.lower_closed)):
                return False
            return self.upper is None or value < self.upper or (
                value == self.upper and self.upper_closed)
        if self.lower is not None:
            if _distance(value, self.lower) <= tolerance:
                if not self.lower_closed:
                    return False
            elif value < self.lower:
                return False
        if self.upper is not None:
            if _distance(value, self.upper) <= tolerance:
                if not self.upper_closed:
                    return False
            elif value > self.upper:
                return False
        return True


@dataclass(frozen=True)
class BandSet:
    """A named set of bands for one score, with where it comes from.

    Attributes
    ----------
    name
        The set's name.
    source
        Where the bands are published.
    bands
        The bands, in order.
    """

    name: str
    source: str
    bands: tuple[Band, ...]

    def classify(self, value: Fraction | float, *,
                 tolerance: Fraction = Fraction(0)) -> str | None:
        """The label of the first band containing ``value``; None if none does.

        Parameters
        ----------
        value
            A score.
        tolerance
            How close to an end point counts as on it (see :meth:`Band.contains`).
        """
        for band in self.bands:
            if band.contains(value, tolerance=tolerance):
                return band.label
        return None


@dataclass(frozen=True)
class ScoreSpec:
    """One score an instrument produces (a subscale, a total, a component).

    Attributes
    ----------
    name
        Key of the score in :attr:`Score.values` (``"interference"``).
    minimum, maximum
        The theoretical range (``math.inf`` where unbounded, e.g. DAS28 with a very
        high ESR).
    unit
        UCUM-style unit (``"{score}"``, ``"%"``, ``"MET-min/wk"``).
    loinc
        LOINC code of the score where one is known and sourced, else None.
    bands
        The default interpretation bands, or None when the instrument has none.
    alternative_bands
        Other published band sets a caller may choose by name.
    tolerance
        How close to a cut-off a floating value must be to count as on it (0 for exact
        scores).
    description
        One line on how the score is formed.
    """

    name: str
    minimum: float
    maximum: float
    unit: str = "{score}"
    loinc: str | None = None
    bands: BandSet | None = None
    alternative_bands: tuple[BandSet, ...] = ()
    tolerance: Fraction = Fraction(0)
    description: str = ""

    @property
    def range(self) -> tuple[float, float]:
        """``(minimum, maximum)``."""
        return (self.minimum, self.maximum)

    def band_set(self, name: str | None) -> BandSet | None:
        """The default band set (``name`` None) or the named one.

        Parameters
        ----------
        name
            A band set of this score, or None for the default one.
        """
        if name is None:
            return self.bands
        for option in (self.bands, *self.alternative_bands):
            if option is not None and option.name == name:
                return option
        known = [b.name for b in (self.bands, *self.alternative_bands) if b is not None]
        raise InstrumentError("unknown band set", field=self.name, found=name,
                              expected="one of " + (", ".join(known) or "(none defined)"))


@dataclass
class Computed:
    """What a scoring function returns to :meth:`Instrument.score`: score name -> value
    (None when not computable), whether a missing-item rule was used, and notes.

    Categorical results decided by rules (a diagnosis, an activity category) are coded
    as small integers and labelled by a :class:`BandSet` on those integers.
    """

    values: dict[str, Value]
    missing_rule_applied: bool = False
    notes: list[str] = field(default_factory=list)


Scorer: TypeAlias = Callable[[Mapping[str, Answer]], Computed]


@dataclass(frozen=True)
class Score:
    """The result of scoring one administration of an instrument.

    Attributes
    ----------
    instrument
        ``id@version`` of the instrument scored.
    scoring_version
        Version of gutaxis's scoring rules (changes when a convention changes).
    values
        Score name -> value (float), None when not computable.
    bands
        Score name -> band label, None when the score is missing or has no bands.
    missing_items
        Scored items that were not answered, in the manual's order.
    missing_rule_applied
        True when a missing-item rule (substitution, proration, skip pattern) was used.
    notes
        Human-readable notes: which rule was applied, why a score is missing.
    exact
        Score name -> exact value (Fraction) for the scores that are rational.
    band_sets
        Score name -> name of the band set used.
    """

    instrument: str
    scoring_version: str
    values: dict[str, float | None]
    bands: dict[str, str | None]
    missing_items: tuple[str, ...]
    missing_rule_applied: bool
    notes: tuple[str, ...]
    exact: dict[str, Fraction | None] = field(default_factory=dict)
    band_sets: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict; exact values as fraction text (``"320/9"``)."""
        return {
            "instrument": self.instrument, "scoring_version": self.scoring_version,
            "values": dict(self.values), "bands": dict(self.bands),
            "band_sets": dict(self.band_sets),
            "exact": {k: None if v is None else str(v) for k, v in self.exact.items()},
            "missing_items": list(self.missing_items),
            "missing_rule_applied": self.missing_rule_applied, "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Instrument:
    """A questionnaire or clinical index: its items, scores, licence and scoring rule.

    Attributes
    ----------
    id, version
        ``"odi"``, ``"2.1a"``; :attr:`key` is ``"odi@2.1a"``.
    name
        Full name.
    items
        The items in the manual's order.
    scores
        The scores produced, in reporting order.
    reverse_items
        Ids of reverse-scored items.
    missing_rule
        The missing-item rule in words (sourced or a recorded local convention).
    citation
        The paper or manual the scoring follows.
    licence
        Who holds the rights and what use needs permission.
    wording_may_ship
        Whether item wording may be distributed with gutaxis.
    scoring_version
        Version of gutaxis's implementation of the rules.
    conventions
        Decisions gutaxis made where the sources are silent or disagree.
    references
        Further sources for cut-offs, codes and rules.
    scorer
        The function turning validated answers into scores.
    """

    id: str
    version: str
    name: str
    items: tuple[Item, ...]
    scores: tuple[ScoreSpec, ...]
    missing_rule: str
    citation: str
    licence: str
    wording_may_ship: bool
    scorer: Scorer = field(compare=False, repr=False)
    reverse_items: tuple[str, ...] = ()
    scoring_version: str = "1"
    conventions: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``id@version``."""
        return f"{self.id}@{self.version}"

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in the manual's order."""
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        """The item with this id; InstrumentError listing the known ids otherwise.

        Parameters
        ----------
        item_id
            The item's id.
        """
        for item in self.items:
            if item.id == item_id:
                return item
        raise InstrumentError(f"unknown item for {self.key}", field=item_id,
                              expected="one of " + ", ".join(self.item_ids))

    def score_spec(self, name: str) -> ScoreSpec:
        """The :class:`ScoreSpec` called ``name``.

        Parameters
        ----------
        name
            The score's name.
        """
        for spec in self.scores:
            if spec.name == name:
                return spec
        raise InstrumentError(f"unknown score for {self.key}", field=name,
                              expected="one of " + ", ".join(s.name for s in self.scores))

    def with_wording(self, texts: Mapping[str, str]) -> Instrument:
        """A copy whose items carry wording supplied by the user (e.g. from a site's
        licensed copy of the form); gutaxis itself ships no licensed wording.

        Parameters
        ----------
        texts
            Item id -> the item's wording.

        Raises
        ------
        InstrumentError
            A text is given for an item id the instrument does not have.
        """
        for item_id in texts:
            self.item(item_id)
        items = tuple(replace(item, text=texts.get(item.id, item.text)) for item in self.items)
        return replace(self, items=items)

    def parse(self, responses: Mapping[str, RawAnswer], *, source: str | None = None,
              row: int | None = None) -> dict[str, Answer]:
        """Validate answers: every item id present in the result, None where unanswered.

        Parameters
        ----------
        responses
            Item id -> raw answer (as read from a form or file).
        source, row
            Where the answers come from, for messages.

        Raises
        ------
        InstrumentError
            An unknown item id, or an answer of the wrong type or out of range.
        """
        known = set(self.item_ids)
        for item_id in responses:
            if item_id not in known:
                raise InstrumentError(f"unknown item for {self.key}", source=source,
                                      row=row, field=item_id,
                                      expected="one of " + ", ".join(self.item_ids))
        return {item.id: item.parse(responses.get(item.id), source=source, row=row)
                for item in self.items}

    def score(self, responses: Mapping[str, RawAnswer], *,
              bands: Mapping[str, str] | None = None) -> Score:
        """Score one administration.

        Parameters
        ----------
        responses
            Item id -> answer. Absent items and None/empty answers are unanswered.
        bands
            Score name -> name of an alternative band set to use instead of the default.

        Returns
        -------
        Score

        Raises
        ------
        InstrumentError
            Unknown item ids, out-of-range or mistyped answers, unknown band sets.

        Examples
        --------
        The ODI scoring sheet's example with one section (sex life) unanswered:

        >>> from gutaxis.instruments import get_instrument
        >>> odi = get_instrument("odi@2.1a")
        >>> sections = ["pain_intensity", "personal_care", "lifting", "walking", "sitting",
        ...             "standing", "sleeping", "social_life", "travelling"]
        >>> score = odi.score(dict(zip(sections, [2, 2, 2, 2, 2, 2, 2, 1, 1])))
        >>> score.exact["disability"], round(score.values["disability"], 2)
        (Fraction(320, 9), 35.56)
        >>> score.bands["disability"], score.missing_items, score.missing_rule_applied
        ('moderate disability', ('sex_life',), True)
        """
        answers = self.parse(responses)
        return self.score_parsed(answers, bands=bands)

    def score_parsed(self, answers: Mapping[str, Answer], *,
                     bands: Mapping[str, str] | None = None) -> Score:
        """Score answers already validated by :meth:`parse`.

        Parameters
        ----------
        answers
            Item id -> validated answer, as :meth:`parse` returns them.
        bands
            Score name -> the band set to classify it with (the default set otherwise).
        """
        chosen = dict(bands or {})
        for name in chosen:
            self.score_spec(name)
        computed = self.scorer(answers)
        values: dict[str, float | None] = {}
        exact: dict[str, Fraction | None] = {}
        labels: dict[str, str | None] = {}
        used: dict[str, str | None] = {}
        for spec in self.scores:
            value = computed.values.get(spec.name)
            values[spec.name] = None if value is None else float(value)
            exact[spec.name] = None if value is None else Fraction(value)
            band_set = spec.band_set(chosen.get(spec.name))
            used[spec.name] = None if band_set is None else band_set.name
            if value is None or band_set is None:
                labels[spec.name] = None
            else:
                labels[spec.name] = band_set.classify(value, tolerance=spec.tolerance)
        missing = tuple(item.id for item in self.items
                        if item.scored and answers.get(item.id) is None)
        return Score(instrument=self.key, scoring_version=self.scoring_version,
                     values=values, bands=labels, missing_items=missing,
                     missing_rule_applied=computed.missing_rule_applied,
                     notes=tuple(computed.notes), exact=exact, band_sets=used)


def bands(name: str, source: str,
          *specs: tuple[str, float | str | None, float | str | None, str]) -> BandSet:
    """Build a :class:`BandSet` from ``(label, lower, upper, ends)`` tuples.

    ``ends`` is one of ``"[]"``, ``"[)"``, ``"(]"``, ``"()"``; bounds are converted to
    exact fractions through their decimal text (``2.6`` -> 13/5).
    """
    built = []
    for label, lower, upper, ends in specs:
        if ends not in ("[]", "[)", "(]", "()"):
            raise ValueError(f"band ends must be one of [] [) (] (), got {ends!r}")
        built.append(Band(label, _frac(lower), _frac(upper),
                          lower_closed=ends[0] == "[", upper_closed=ends[1] == "]"))
    return BandSet(name=name, source=source, bands=tuple(built))


def mean(values: list[Fraction]) -> Fraction:
    """Exact arithmetic mean of a non-empty list."""
    return sum(values, Fraction(0)) / len(values)


def numbers(answers: Mapping[str, Answer], ids: tuple[str, ...]) -> list[Fraction | None]:
    """The numeric answers to ``ids`` in order (None where unanswered)."""
    out: list[Fraction | None] = []
    for item_id in ids:
        value = answers.get(item_id)
        out.append(value if isinstance(value, Fraction) else None)
    return out


def answered(values: Sequence[T | None]) -> list[T]:
    """The answered values of a sequence, dropping the unanswered (None) ones."""
    return [v for v in values if v is not None]


def sum_or_none(values: Sequence[Value]) -> Value:
    """The sum of ``values``, or None when any of them is None (a total of parts)."""
    total: Fraction | float = Fraction(0)
    for value in values:
        if value is None:
            return None
        total = total + value
    return total


def _distance(value: Fraction | float, bound: Fraction) -> Fraction | float:
    """``|value - bound|``, exact for fractions and in floating point for floats."""
    if isinstance(value, Fraction):
        return abs(value - bound)
    return abs(value - float(bound))


def _frac(value: float | str | None) -> Fraction | None:
    return None if value is None else Fraction(str(value))


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _parse_bool(raw: RawAnswer, bad: Callable[[str], InstrumentError]) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | Fraction) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, float) and raw in (0.0, 1.0):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad("answer is not yes/no")


def _parse_time(raw: RawAnswer, bad: Callable[[str], InstrumentError]) -> Fraction:
    match = _TIME.match(str(raw).strip())
    if not match:
        raise bad("answer is not a clock time")
    hours, minutes, seconds = match.group(1), match.group(2), match.group(3) or "0"
    return Fraction(int(hours) * 60 + int(minutes)) + Fraction(int(seconds), 60)


def _parse_number(raw: RawAnswer, bad: Callable[[str], InstrumentError]) -> Fraction:
    if isinstance(raw, bool):
        raise bad("answer is yes/no, not a number")
    if isinstance(raw, Fraction):
        return raw
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise bad("answer is not a finite number")
        return Fraction(repr(raw))
    text = str(raw).strip()
    try:
        number = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise bad("answer is not a number") from None
    if "/" in text:
        raise bad("answer is not a decimal number")
    return number

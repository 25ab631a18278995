"""The curated evidence table: randomised trials of probiotics (and fibre) on pain.

The table ships as package data in three tab-separated files (``gutaxis/evidence/data``):

``contrasts.tsv``
    One row per arm contrast and outcome (an intervention arm against its comparator,
    on one instrument): trial, condition, intervention and dose, comparator, design,
    duration, outcome, instrument and scale, what the source reported in words, risk of
    bias and overlap notes, and the sources of the row.
``numbers.tsv``
    One row per reported number (long format): contrast, arm (``intervention``,
    ``control``, ``contrast`` for a between-group difference, ``trial`` for the whole
    trial), quantity, value, unit, status, the text as printed, any conversion of
    notation or sign, the source URL and where in the source the number stands. Numbers
    a pooled analysis would need but no stored source showed are rows with status
    ``not_seen`` and no value.
``meta_analyses.tsv``
    Published meta-analyses: listed for context, never pooled with the trials (they
    contain them).

A between-group difference (``md``) is always intervention minus control and a change is
follow-up minus baseline, so negative values favour the intervention on every outcome
here (all are worse when higher). Every number has a source; no number is estimated,
imputed or derived (a sign flip of a value printed as a "reduction" or as placebo minus
probiotic, or ``±`` written for ``+``, is recorded in ``conversion``).
The table is versioned (:data:`EVIDENCE_VERSION`); ``data/CHANGELOG.md`` says what was
filled from where in each version.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from gutaxis.errors import InputError

__all__ = ["ARMS", "CONDITIONS", "EVIDENCE_VERSION", "OUTCOMES", "QUANTITIES", "STATUSES",
           "EvidenceTable", "load_evidence"]

#: Version of the curated table (the first heading of ``data/CHANGELOG.md``).
EVIDENCE_VERSION = "2026.12.1"

#: Condition keys and what they cover. IBS abdominal pain is a separate stratum.
CONDITIONS: dict[str, str] = {
    "osteoarthritis": "osteoarthritis (knee, other joints)",
    "rheumatoid_arthritis": "rheumatoid arthritis",
    "fibromyalgia": "fibromyalgia",
    "low_back_pain": "chronic low back pain",
    "ibs": "irritable bowel syndrome (abdominal pain; a separate stratum)",
}

#: Outcome keys: instruments comparable enough to be pooled together, with the effect
#: measure a pooled analysis uses (``MD`` on one shared scale, ``SMD`` across scales,
#: ``RR`` for responders).
OUTCOMES: dict[str, tuple[str, str]] = {
    "pain_intensity": ("pain intensity (VAS or NRS, various ranges)", "SMD"),
    "womac_total": ("WOMAC total (versions differ)", "SMD"),
    "womac_pain": ("WOMAC pain subscale", "SMD"),
    "das28": ("DAS28 disease activity (about 0-9.4)", "MD"),
    "crp": ("C-reactive protein (units differ)", "SMD"),
    "acr20": ("ACR20 responders", "RR"),
    "joint_count": ("tender and swollen joint count", "SMD"),
    "gi_symptom_composite": ("abdominal pain + bloating + meteorism VAS", "SMD"),
    "ibs_sss_total": ("IBS-SSS total, 0-500 (global severity incl. pain items)", "MD"),
    "abdominal_pain": ("abdominal pain intensity (various scales)", "SMD"),
    "abdominal_pain_frequency": ("abdominal pain frequency", "SMD"),
}

#: Intervention kinds. Fibre and prebiotic arms are listed but not pooled with probiotics.
INTERVENTION_KINDS = ("probiotic", "synbiotic", "prebiotic_fibre", "fibre")
#: Arms a number belongs to.
ARMS = ("trial", "intervention", "control", "contrast")
#: Status of a number: shown by its source, two sources (or two places of one source)
#: disagree, printed but unclear in meaning (kept out of ``value``), or not shown by any
#: stored source. There is no "estimated": the table holds none.
STATUSES = ("reported", "disputed", "ambiguous", "not_seen")
#: Quantities a number may be.
QUANTITIES = (
    "n_randomised", "n_allocated", "n_analysed", "n_completed", "n_enrolled", "n_recruited",
    "n_total", "n_itt", "baseline_mean", "baseline_sd", "followup_mean", "followup_sd",
    "change_mean", "change_sd", "adjusted_change_mean", "adjusted_change_ci_low",
    "adjusted_change_ci_high", "md", "md_ci_low", "md_ci_high", "events", "percent_change",
    "unclear_mean")
YES_NO = ("yes", "no", "unclear")

CONTRAST_COLUMNS = (
    "contrast_id", "trial_id", "study", "year", "condition", "condition_detail",
    "intervention_kind", "intervention", "intervention_arm", "comparator", "design",
    "parallel_rct", "placebo_controlled", "duration", "timepoint", "outcome", "instrument",
    "scale", "higher_is_worse", "overlap_group", "reported_result", "risk_of_bias_note",
    "notes", "sources")
NUMBER_COLUMNS = ("contrast_id", "arm", "quantity", "value", "unit", "status", "as_printed",
                  "conversion", "source_url", "location", "note")
META_COLUMNS = ("meta_id", "study", "year", "condition", "condition_keys", "design", "scope",
                "outcomes", "reported_estimates", "notes", "sources")
FILES = {"contrasts": "contrasts.tsv", "numbers": "numbers.tsv",
         "meta_analyses": "meta_analyses.tsv"}

LISTING_COLUMNS = (
    "contrast_id", "trial_id", "study", "year", "condition", "condition_detail", "outcome",
    "intervention_kind", "intervention", "intervention_arm", "comparator", "design",
    "parallel_rct", "placebo_controlled", "duration", "timepoint", "instrument", "scale",
    "n_intervention", "n_control", "change_intervention",
    "change_control", "between_group_difference", "reported_result", "numbers_reported",
    "numbers_not_seen", "numbers_disputed", "overlap_group", "risk_of_bias_note",
    "number_sources", "sources", "notes")
"""Columns of :meth:`EvidenceTable.to_frame` (``evidence.tsv``), in order."""

#: Which n describes an arm in a listing or an analysis, best first.
N_PREFERENCE = ("n_analysed", "n_randomised", "n_allocated")

#: Words a conversion or status must never contain: the table holds no made-up numbers.
FORBIDDEN_WORDS = ("estimat", "imput", "derived", "back-calculat", "guess")


@dataclass(frozen=True, eq=False)
class EvidenceTable:
    """The curated evidence: contrasts, their numbers with sources, and meta-analyses.

    Attributes
    ----------
    version
        Version of the curated table (:data:`EVIDENCE_VERSION` for the shipped one).
    contrasts
        One row per arm contrast and outcome (columns of ``contrasts.tsv``).
    numbers
        One row per number (columns of ``numbers.tsv``); ``value`` is a float, NaN when
        the number was not seen or is ambiguous.
    meta_analyses
        Published meta-analyses (context only; never pooled with the trials).
    sha256
        SHA-256 of the three files read (in the order contrasts, numbers, meta-analyses),
        so that an output names exactly which table it came from.
    """

    version: str
    contrasts: pd.DataFrame
    numbers: pd.DataFrame
    meta_analyses: pd.DataFrame
    sha256: str = ""

    def select(self, *, condition: str | None = None,
               outcome: str | None = None) -> EvidenceTable:
        """The contrasts of one condition and/or outcome, with their numbers.

        Parameters
        ----------
        condition
            A key of :data:`CONDITIONS`, or ``None`` for all.
        outcome
            A key of :data:`OUTCOMES`, or ``None`` for all.
        """
        keep = pd.Series(True, index=self.contrasts.index)
        if condition is not None:
            check_choice(condition, CONDITIONS, field="condition")
            keep &= self.contrasts["condition"] == condition
        if outcome is not None:
            check_choice(outcome, OUTCOMES, field="outcome")
            keep &= self.contrasts["outcome"] == outcome
        contrasts = self.contrasts[keep].reset_index(drop=True)
        numbers = self.numbers[self.numbers["contrast_id"].isin(contrasts["contrast_id"])]
        meta = self.meta_analyses
        if condition is not None:
            meta = meta[meta["condition_keys"].str.split(",").map(lambda keys: condition in keys)]
        return EvidenceTable(self.version, contrasts, numbers.reset_index(drop=True),
                             meta.reset_index(drop=True), self.sha256)

    def numbers_of(self, contrast_id: str) -> pd.DataFrame:
        """The number rows of one contrast.

        Parameters
        ----------
        contrast_id
            A ``contrast_id`` of :attr:`contrasts`.
        """
        found = self._numbers_by_contrast.get(contrast_id)
        if found is None:
            raise InputError("unknown contrast", field="contrast_id", found=contrast_id,
                             expected="a contrast_id of the evidence table")
        return found

    @functools.cached_property
    def _numbers_by_contrast(self) -> dict[str, pd.DataFrame]:
        groups = {str(key): rows.reset_index(drop=True)
                  for key, rows in self.numbers.groupby("contrast_id", sort=False)}
        empty = self.numbers.iloc[0:0]
        return {c: groups.get(c, empty) for c in self.contrasts["contrast_id"]}

    def to_frame(self) -> pd.DataFrame:
        """One row per contrast with its key numbers and the sources of every number
        (``evidence.tsv``; columns :data:`LISTING_COLUMNS`)."""
        rows = [self._listing_row(contrast) for contrast in records(self.contrasts)]
        return pd.DataFrame(rows, columns=list(LISTING_COLUMNS))

    def summary(self) -> str:
        """Counts in words: trials, contrasts, numbers and how many were not seen."""
        status = self.numbers["status"].value_counts()
        return (f"evidence table {self.version}: {self.contrasts['trial_id'].nunique()} trials, "
                f"{len(self.contrasts)} contrasts, {int(status.get('reported', 0))} reported "
                f"numbers ({int(status.get('disputed', 0))} disputed, "
                f"{int(status.get('not_seen', 0))} needed but not seen), "
                f"{len(self.meta_analyses)} meta-analyses listed (not pooled)")

    def _listing_row(self, contrast: dict[str, str]) -> dict[str, object]:
        numbers = self.numbers_of(contrast["contrast_id"])
        shown = numbers[numbers["status"].isin(("reported", "disputed"))]
        listing: dict[str, object] = {name: contrast.get(name, "") for name in LISTING_COLUMNS}
        listing.update(
            n_intervention=arm_n_text(numbers, "intervention"),
            n_control=arm_n_text(numbers, "control"),
            change_intervention=mean_sd_text(numbers, "intervention", "change"),
            change_control=mean_sd_text(numbers, "control", "change"),
            between_group_difference=difference_text(numbers),
            numbers_reported=int((numbers["status"] == "reported").sum()),
            numbers_not_seen="; ".join(f"{a} {q}" for a, q in zip(
                numbers.loc[numbers["status"] == "not_seen", "arm"],
                numbers.loc[numbers["status"] == "not_seen", "quantity"], strict=True)),
            numbers_disputed=int((numbers["status"] == "disputed").sum()),
            number_sources=" ; ".join(dict.fromkeys(shown["source_url"])),
        )
        return listing


def arm_n_text(numbers: pd.DataFrame, arm: str) -> str:
    """``"46 (n_analysed)"``: the preferred n of an arm, or ``""``."""
    for quantity in (*N_PREFERENCE, "n_completed", "n_total"):
        value = shown_value(numbers, arm, quantity)
        if value is not None:
            return f"{value:g} ({quantity})"
    return ""


def mean_sd_text(numbers: pd.DataFrame, arm: str, kind: str) -> str:
    """``"-30.4 (18.7)"`` from the ``kind_mean``/``kind_sd`` rows of an arm, or ``""``."""
    mean = shown_value(numbers, arm, f"{kind}_mean")
    if mean is None:
        return ""
    sd = shown_value(numbers, arm, f"{kind}_sd")
    return f"{mean:g} ({'SD not seen' if sd is None else f'{sd:g}'})"


def difference_text(numbers: pd.DataFrame) -> str:
    """``"-35 (95% CI -62.03 to -7.87)"`` from the contrast's ``md`` rows, or ``""``."""
    md = shown_value(numbers, "contrast", "md")
    if md is None:
        return ""
    low = shown_value(numbers, "contrast", "md_ci_low")
    high = shown_value(numbers, "contrast", "md_ci_high")
    return f"{md:g} (95% CI {low:g} to {high:g})" if low is not None and high is not None \
        else f"{md:g}"


def shown_value(numbers: pd.DataFrame, arm: str, quantity: str,
                statuses: tuple[str, ...] = ("reported",)) -> float | None:
    """The value of one reported number, or ``None`` when there is none (or several)."""
    hits = [value for a, q, status, value in zip(
        numbers["arm"].tolist(), numbers["quantity"].tolist(), numbers["status"].tolist(),
        numbers["value"].tolist(), strict=True)
        if a == arm and q == quantity and status in statuses]
    return float(hits[0]) if len(hits) == 1 else None


def check_choice(value: str, choices: Mapping[str, object], *, field: str) -> None:
    """:class:`InputError` unless ``value`` is a key of ``choices``."""
    if value not in choices:
        raise InputError(f"unknown {field}", field=field, found=value,
                         expected="one of " + ", ".join(choices))


def records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """The rows of a table of text cells as dicts (column -> cell)."""
    columns = [str(c) for c in frame.columns]
    return [dict(zip(columns, (str(v) for v in values), strict=True))
            for values in frame.itertuples(index=False, name=None)]


def load_evidence(path: Path | str | None = None) -> EvidenceTable:
    """Read and validate the curated evidence table.

    Parameters
    ----------
    path
        A folder holding ``contrasts.tsv``, ``numbers.tsv`` and ``meta_analyses.tsv``
        (e.g. an edited copy); ``None`` reads the table shipped with gutaxis.

    Returns
    -------
    EvidenceTable
        The validated table.

    Raises
    ------
    InputError
        A file, row or column breaks the table's rules (unknown condition, outcome, arm,
        quantity or status; a shown number without its value or source; a not-seen number
        with a value; an "estimated" number; a number of no contrast; duplicate ids).

    Examples
    --------
    >>> evidence = load_evidence()
    >>> evidence.version == EVIDENCE_VERSION
    True
    >>> int(evidence.select(condition="ibs").contrasts["trial_id"].nunique())
    11
    """
    if path is None:
        folder = resources.files("gutaxis.evidence") / "data"
        texts = {key: (folder / name).read_text(encoding="utf-8") for key, name in FILES.items()}
        where = {key: f"gutaxis/evidence/data/{name}" for key, name in FILES.items()}
    else:
        base = Path(path)
        texts = {key: (base / name).read_text(encoding="utf-8") for key, name in FILES.items()}
        where = {key: str(base / name) for key, name in FILES.items()}
    frames = {key: read_tsv(texts[key], source=where[key], columns=columns)
              for key, columns in (("contrasts", CONTRAST_COLUMNS), ("numbers", NUMBER_COLUMNS),
                                   ("meta_analyses", META_COLUMNS))}
    validate_contrasts(frames["contrasts"], source=where["contrasts"])
    validate_meta_analyses(frames["meta_analyses"], source=where["meta_analyses"])
    numbers = validate_numbers(frames["numbers"], set(frames["contrasts"]["contrast_id"]),
                               source=where["numbers"])
    digest = hashlib.sha256()
    for key in FILES:
        digest.update(texts[key].encode("utf-8"))
    return EvidenceTable(EVIDENCE_VERSION, frames["contrasts"], numbers, frames["meta_analyses"],
                         digest.hexdigest())


def read_tsv(text: str, *, source: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A tab-separated table of text cells (no quoting), with exactly ``columns``."""
    lines = text.splitlines()
    if not lines:
        raise InputError("empty file", source=source, expected="a header row")
    header = lines[0].split("\t")
    if tuple(header) != columns:
        raise InputError("unexpected columns", source=source, row=1, found=header,
                         expected="\t".join(columns))
    records = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise InputError("wrong number of cells", source=source, row=number,
                             found=len(cells), expected=f"{len(columns)} tab-separated cells")
        records.append(cells)
    return pd.DataFrame(records, columns=list(columns), dtype=str)


def validate_contrasts(contrasts: pd.DataFrame, *, source: str) -> None:
    """The vocabulary and ids of ``contrasts.tsv`` (rows counted from the header, 1)."""
    duplicated = contrasts["contrast_id"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax())
        raise InputError("duplicate contrast_id", source=source, row=row + 2,
                         column="contrast_id", found=contrasts["contrast_id"].iloc[row],
                         expected="one row per contrast")
    rules: dict[str, tuple[str, ...]] = {
        "condition": tuple(CONDITIONS), "outcome": tuple(OUTCOMES),
        "intervention_kind": INTERVENTION_KINDS, "parallel_rct": YES_NO,
        "placebo_controlled": YES_NO, "higher_is_worse": YES_NO}
    for column, allowed in rules.items():
        check_column(contrasts, column, allowed, source=source)
    for column in ("contrast_id", "trial_id", "study", "sources"):
        empty = contrasts[column].str.strip() == ""
        if empty.any():
            raise InputError("empty cell", source=source, row=int(empty.to_numpy().argmax()) + 2,
                             column=column, expected="a value")


def validate_meta_analyses(meta: pd.DataFrame, *, source: str) -> None:
    """Every meta-analysis names the conditions it covers and its sources."""
    for row, record in enumerate(records(meta), start=2):
        keys = record["condition_keys"].split(",")
        unknown = [key for key in keys if key not in CONDITIONS]
        if unknown:
            raise InputError("unknown condition key", source=source, row=row,
                             column="condition_keys", found=unknown[0],
                             expected="comma-separated keys of " + ", ".join(CONDITIONS))
        if not record["sources"].strip():
            raise InputError("empty cell", source=source, row=row, column="sources",
                             expected="the URL of the meta-analysis")


def validate_numbers(numbers: pd.DataFrame, contrast_ids: set[str], *,
                     source: str) -> pd.DataFrame:
    """Check ``numbers.tsv`` and return it with ``value`` as float (NaN where empty)."""
    check_column(numbers, "arm", ARMS, source=source)
    check_column(numbers, "quantity", QUANTITIES, source=source)
    check_column(numbers, "status", STATUSES, source=source)
    unknown = ~numbers["contrast_id"].isin(contrast_ids)
    if unknown.any():
        row = int(unknown.to_numpy().argmax())
        raise InputError("number of no contrast", source=source, row=row + 2,
                         column="contrast_id", found=numbers["contrast_id"].iloc[row],
                         expected="a contrast_id of contrasts.tsv")
    values = []
    for row, record in enumerate(records(numbers), start=2):
        values.append(check_number(record, row=row, source=source))
    checked = numbers.copy()
    checked["value"] = values
    return checked


def check_number(record: dict[str, str], *, row: int, source: str) -> float:
    """One number row's rules; its value as float (NaN when not shown)."""
    conversion = record["conversion"].lower()
    if any(word in conversion for word in FORBIDDEN_WORDS):
        raise InputError("the table holds no estimated or derived numbers", source=source,
                         row=row, column="conversion", found=record["conversion"],
                         expected="a change of notation or sign only")
    shown = record["status"] in ("reported", "disputed")
    if not shown:
        if record["value"].strip():
            raise InputError(f"a {record['status']} number has a value", source=source,
                             row=row, column="value", found=record["value"],
                             expected="an empty cell (the reading stays in as_printed)")
        if record["status"] == "ambiguous" and not record["source_url"].strip():
            raise InputError("an ambiguous number needs its source", source=source, row=row,
                             column="source_url", expected="the URL that printed it")
        return math.nan
    for column in ("source_url", "location", "as_printed", "unit"):
        if not record[column].strip():
            raise InputError(f"a {record['status']} number needs its {column}", source=source,
                             row=row, column=column, expected="a value")
    try:
        value = float(record["value"])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError("a shown number needs a numeric value", source=source, row=row,
                         column="value", found=record["value"], expected="a finite number")
    return value


def check_column(frame: pd.DataFrame, column: str, allowed: tuple[str, ...], *,
                 source: str) -> None:
    """:class:`InputError` naming the first cell of ``column`` outside ``allowed``."""
    bad = ~frame[column].isin(allowed)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputError(f"unknown {column}", source=source, row=row + 2, column=column,
                         found=frame[column].iloc[row], expected="one of " + ", ".join(allowed))

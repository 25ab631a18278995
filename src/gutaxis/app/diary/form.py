"""The diary form of the portal: its layout (body regions, Bristol types, inputs) and
turning a submitted form into a :class:`DiaryDay` with the API's validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from gutaxis.app.db.models import DiaryEntry
from gutaxis.app.diary.schemas import GI_SYMPTOMS, PAIN_SITES, DiaryDay
from gutaxis.errors import InputError

#: Body sites grouped by region, for a compact checkbox grid (every PAIN_SITES value once).
REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Head and neck", ("jaw_left", "jaw_right", "neck")),
    ("Shoulders and arms", ("shoulder_left", "shoulder_right", "upper_arm_left",
                            "upper_arm_right", "lower_arm_left", "lower_arm_right")),
    ("Trunk", ("chest", "abdomen", "upper_back", "lower_back")),
    ("Hips and legs", ("hip_left", "hip_right", "upper_leg_left", "upper_leg_right",
                       "lower_leg_left", "lower_leg_right")),
)

#: Bristol stool form types 1-7, each in one line (after Lewis & Heaton 1997, in our words).
BRISTOL: tuple[tuple[int, str], ...] = (
    (1, "Hard separate lumps, like nuts; hard to pass"),
    (2, "Lumpy, but shaped like a sausage"),
    (3, "Sausage-shaped with cracks on the surface"),
    (4, "Smooth and soft, like a sausage or snake"),
    (5, "Soft blobs with clear edges; easy to pass"),
    (6, "Mushy, fluffy pieces with ragged edges"),
    (7, "Watery, no solid pieces"),
)

#: The number inputs: field, label, unit, step.
AMOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("fibre_servings", "Fibre-rich servings (vegetables, fruit, whole grains, legumes)",
     "servings", "0.5"),
    ("fermented_servings", "Fermented food servings (yogurt, kefir, sauerkraut, ...)",
     "servings", "0.5"),
    ("ultra_processed_servings", "Ultra-processed food servings (packaged snacks, soft "
     "drinks, ready meals)", "servings", "0.5"),
    ("added_sugar_g", "Added sugar", "grams", "1"),
    ("exercise_minutes", "Exercise", "minutes", "5"),
    ("sleep_hours", "Sleep last night", "hours", "0.5"),
)

#: 0-10 ratings besides pain: field, label, what 0 and 10 mean.
RATINGS: tuple[tuple[str, str, str], ...] = (
    ("stress", "Stress today", "0 none, 10 extreme"),
    ("sleep_quality", "Sleep quality last night", "0 very poor, 10 excellent"),
)

_NUMBERS = tuple(field for field, *_ in AMOUNTS)
_INTEGERS = ("pain", "bristol", "stress", "sleep_quality")


def site_label(site: str) -> str:
    """``upper_arm_left`` -> ``Upper arm (left)``."""
    words = site.split("_")
    side = words[-1] if words[-1] in ("left", "right") else None
    name = " ".join(words[:-1] if side else words).capitalize()
    return f"{name} ({side})" if side else name


def symptom_label(symptom: str) -> str:
    return symptom.replace("_", " ").capitalize()


def values_of(entry: DiaryEntry | None) -> dict[str, Any]:
    """The form's values for a stored entry (empty values for a new day)."""
    if entry is None:
        return {"pain_sites": [], "gi": {}}
    values: dict[str, Any] = {name: getattr(entry, name) for name in
                              (*_INTEGERS, *_NUMBERS, "notes")}
    values["pain_sites"] = list(entry.pain_sites or [])
    values["gi"] = dict(entry.gi_symptoms or {})
    values["probiotic_taken"] = ("" if entry.probiotic_taken is None
                                 else "yes" if entry.probiotic_taken else "no")
    for name in _NUMBERS:
        if values[name] is not None:
            values[name] = f"{values[name]:g}"
    return values


def submitted_values(form: Mapping[str, str], sites: Sequence[str]) -> dict[str, Any]:
    """The form's values as submitted (to show them again with an error)."""
    values: dict[str, Any] = {name: form.get(name, "") for name in
                              (*_INTEGERS, *_NUMBERS, "notes", "probiotic_taken")}
    values["pain_sites"] = list(sites)
    values["gi"] = {s: form.get(f"gi_{s}", "") for s in GI_SYMPTOMS}
    return values


#: The earliest diary day the portal shows or takes.
EARLIEST = dt.date(1900, 1, 1)


def parse_day(text: str | None) -> dt.date:
    """The ``day`` field (ISO date, not before :data:`EARLIEST`)."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise InputError("not a date", field="day", found=text,
                         expected="a date as YYYY-MM-DD") from None
    return check_day(day)


def check_day(day: dt.date, today: dt.date | None = None) -> dt.date:
    """``day`` if it is a day a diary can have (from :data:`EARLIEST`; when ``today`` is
    given, not after it)."""
    if day < EARLIEST or (today is not None and day > today):
        raise InputError("no diary for that day", field="day", found=str(day),
                         expected=f"a day from {EARLIEST} to {today or 'today'}")
    return day


def diary_day(form: Mapping[str, str], sites: Sequence[str]) -> DiaryDay:
    """The submitted form as a :class:`DiaryDay`, validated as the API validates it.

    Empty fields are left out (not answered). Raises :class:`InputError` naming the form
    field (``gi_bloating`` for a symptom) with what was found and what is expected.
    """
    raw: dict[str, Any] = {}
    for name in (*_INTEGERS, *_NUMBERS, "notes"):
        text = (form.get(name) or "").strip()
        if text:
            raw[name] = text
    if "pain" not in raw:
        raise InputError("pain is required", field="pain", found="nothing",
                         expected="a pain rating from 0 to 10")
    probiotic = (form.get("probiotic_taken") or "").strip()
    if probiotic:
        if probiotic not in ("yes", "no"):
            raise InputError("not yes or no", field="probiotic_taken", found=probiotic,
                             expected="yes or no")
        raw["probiotic_taken"] = probiotic == "yes"
    raw["pain_sites"] = list(sites)
    gi: dict[str, Any] = {}
    for symptom in GI_SYMPTOMS:
        text = (form.get(f"gi_{symptom}") or "").strip()
        if text:
            gi[symptom] = _whole(text, f"gi_{symptom}")
    raw["gi_symptoms"] = gi
    try:
        return DiaryDay.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first.get("loc", ())]
        field = f"gi_{loc[1]}" if loc[:1] == ["gi_symptoms"] and len(loc) > 1 else (
            loc[0] if loc else "form")
        found = first.get("input")
        raise InputError(str(first.get("msg", "invalid")), field=field,
                         found=found if not isinstance(found, dict | list) else None,
                         expected=_expected(field)) from None


def _whole(text: str, field: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InputError("not a number", field=field, found=text,
                         expected="a whole number from 0 to 10") from None
    if not value.is_integer() or not 0 <= value <= 10:
        raise InputError("not a whole number from 0 to 10", field=field, found=text,
                         expected="a whole number from 0 to 10")
    return int(value)


def _expected(field: str) -> str:
    if field == "pain" or field.startswith("gi_") or field in ("stress", "sleep_quality"):
        return "a whole number from 0 to 10"
    if field == "bristol":
        return "a Bristol stool type from 1 to 7"
    if field == "pain_sites":
        return "body sites from the list"
    limits = {name: (info.metadata) for name, info in DiaryDay.model_fields.items()}
    bounds = [getattr(m, attr) for m in limits.get(field, []) for attr in ("ge", "le")
              if hasattr(m, attr)]
    if len(bounds) == 2:
        return f"a number from {bounds[0]:g} to {bounds[1]:g}"
    return "a valid value"


__all__ = ["AMOUNTS", "BRISTOL", "GI_SYMPTOMS", "PAIN_SITES", "RATINGS", "REGIONS",
           "diary_day", "parse_day", "site_label", "submitted_values", "symptom_label",
           "values_of"]

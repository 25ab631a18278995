"""A questionnaire form built from the registry's declaration of an instrument.

Each :class:`~gutaxis.instruments.base.Item` becomes one field named by its item id:
small integer ranges (up to 11 values) a row of buttons, other numbers a number input,
choices and yes/no radio buttons, times a time input, text a text box. The label is the
item's wording where the licence lets it ship, else its topic with the item id and a note
to answer from the clinic's licensed form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gutaxis.instruments.base import Instrument, Item

#: The most values an integer item may have to be shown as a row of buttons.
MAX_SCALE = 11


@dataclass(frozen=True)
class Field:
    """One form field of an item: how to show it and what it holds."""

    name: str
    label: str
    worded: bool  # the label is the item's own wording
    widget: str  # scale | number | choice | boolean | time | text
    options: tuple[tuple[str, str], ...]
    minimum: float | None
    maximum: float | None
    step: str
    unit: str | None
    required_for_score: bool
    value: str


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def field_of(item: Item, value: str = "") -> Field:
    """The form field of ``item`` (holding ``value``, the answer as text)."""
    options: tuple[tuple[str, str], ...] = ()
    step = "any"
    if item.kind == "choice":
        widget = "choice"
        options = tuple((c.value, c.label) for c in item.choices or ())
    elif item.kind == "boolean":
        widget, options = "boolean", (("true", "Yes"), ("false", "No"))
    elif item.kind in ("time", "text"):
        widget = item.kind
    elif (item.kind == "integer" and item.minimum is not None and item.maximum is not None
          and item.maximum - item.minimum + 1 <= MAX_SCALE):
        widget = "scale"
        options = tuple((str(n), str(n)) for n in range(int(item.minimum),
                                                        int(item.maximum) + 1))
    else:
        widget = "number"
        step = "1" if item.kind == "integer" else "any"
    return Field(name=item.id, label=item.text or item.topic, worded=item.text is not None,
                 widget=widget, options=options, minimum=item.minimum, maximum=item.maximum,
                 step=step, unit=item.unit, required_for_score=item.scored, value=value)


def fields_of(instrument: Instrument, values: Mapping[str, str] | None = None) -> list[Field]:
    """The form's fields in the manual's item order."""
    given = values or {}
    return [field_of(item, given.get(item.id, "")) for item in instrument.items]


def range_text(field: Field) -> str:
    """``0 to 10`` (with the unit), or empty when the item has no limits."""
    if field.minimum is None and field.maximum is None:
        return ""
    text = f"{_fmt(field.minimum) or '…'} to {_fmt(field.maximum) or '…'}"
    return f"{text} {field.unit}" if field.unit else text


def answers_from_form(instrument: Instrument, form: Mapping[str, str]) -> dict[str, str]:
    """The submitted answers: item id -> text (empty = unanswered); other form fields
    (the CSRF token) are left out."""
    return {item.id: form.get(item.id, "").strip() for item in instrument.items}

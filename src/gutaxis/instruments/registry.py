"""The registry of instruments gutaxis can score: look one up by ``id`` or ``id@version``.

The built-in families register themselves when first needed, so importing the registry is
cheap and has no import cycles.
"""

from __future__ import annotations

import importlib
import re

from gutaxis.errors import InstrumentError
from gutaxis.instruments.base import Instrument

#: Modules that declare the built-in instruments (each calls :func:`register`).
_BUILTIN_MODULES = (
    "gutaxis.instruments.pain",
    "gutaxis.instruments.joint",
    "gutaxis.instruments.fibromyalgia",
    "gutaxis.instruments.rheumatology",
    "gutaxis.instruments.stress",
    "gutaxis.instruments.gut",
    "gutaxis.instruments.activity",
    "gutaxis.instruments.sleep",
    "gutaxis.instruments.diet",
)

# id -> versions in registration order (the last one registered is the latest)
_REGISTRY: dict[str, list[Instrument]] = {}
_loaded = False


_KEY_PART = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def register(instrument: Instrument) -> Instrument:
    """Add an instrument; the last version registered under an id becomes its default.

    The declaration is checked first, so a site's own instrument pack fails at load time
    rather than while scoring: lower-case ``id`` and ``version``, unique item ids and
    score names, reversed items that exist, and ranges with minimum <= maximum.

    Parameters
    ----------
    instrument
        The instrument declaration.

    Raises
    ------
    InstrumentError
        A malformed declaration, or an instrument with the same ``id@version`` is
        already registered.
    """
    _check_declaration(instrument)
    _ensure_loaded()  # built-ins first, so that a site's version registered early stays latest
    versions = _REGISTRY.setdefault(instrument.id, [])
    if any(known.version == instrument.version for known in versions):
        raise InstrumentError("instrument already registered", field="instrument",
                              found=instrument.key, expected="a new id@version")
    versions.append(instrument)
    return instrument


def _check_declaration(instrument: Instrument) -> None:
    def bad(message: str, found: object, expected: str) -> InstrumentError:
        return InstrumentError(f"{instrument.key}: {message}", field="instrument",
                               found=found, expected=expected)

    for part in (instrument.id, instrument.version):
        if not _KEY_PART.match(part):
            raise bad("malformed id or version", part,
                      "lower-case letters, digits, '.', '_' or '-'")
    for kind, names in (("item id", instrument.item_ids),
                        ("score name", tuple(s.name for s in instrument.scores))):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise bad(f"repeated {kind}", repeated, f"each {kind} once")
    unknown = sorted(set(instrument.reverse_items) - set(instrument.item_ids))
    if unknown:
        raise bad("reversed items that are not items", unknown, "item ids")
    for name, low, high in (*((i.id, i.minimum, i.maximum) for i in instrument.items),
                            *((s.name, s.minimum, s.maximum) for s in instrument.scores)):
        if low is not None and high is not None and low > high:
            raise bad(f"{name}: minimum above maximum", (low, high), "minimum <= maximum")


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def get_instrument(key: str) -> Instrument:
    """The instrument ``"odi"`` (latest version) or ``"odi@2.1a"`` (that version).

    Parameters
    ----------
    key
        An instrument id (its latest version) or ``id@version``.

    Raises
    ------
    InstrumentError
        Unknown id or version; the message lists what is known.
    """
    _ensure_loaded()
    text = key.strip().lower()
    ident, _, version = text.partition("@")
    versions = _REGISTRY.get(ident)
    if not versions:
        raise InstrumentError("unknown instrument", field="instrument", found=key,
                              expected="one of " + ", ".join(sorted(_REGISTRY)))
    if not version:
        return versions[-1]
    for instrument in versions:
        if instrument.version.lower() == version:
            return instrument
    raise InstrumentError(f"unknown version of {ident}", field="instrument", found=key,
                          expected="one of " + ", ".join(i.key for i in versions))


def list_instruments() -> list[Instrument]:
    """Every registered instrument (all versions), sorted by id then registration order."""
    _ensure_loaded()
    return [instrument for ident in sorted(_REGISTRY) for instrument in _REGISTRY[ident]]

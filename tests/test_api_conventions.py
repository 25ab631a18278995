"""The public Python API keeps the house conventions (docs/STYLE.md, "Habits for this project").

The public API is the names in the ``__all__`` of each subpackage below. For every public
function, and every public method of a public class (defined on the class itself, not
inherited from a library base):

- a docstring, with a numpydoc ``Parameters`` section naming every parameter when it takes
  any (``self``/``cls`` and ``*args``/``**kwargs`` aside);
- complete type hints: ``typing.get_type_hints`` resolves them, every parameter and the
  return are annotated;
- at most two positional-or-keyword parameters (after ``self``/``cls``); the rest are
  keyword-only (after ``*``).

For every public function, additionally *data first*: the first parameter is the data the
function works on, so its name is one of :data:`DATA_FIRST` (a table, a cohort, a frame
of metadata, a path to read or the results to render...). A function whose first
parameter is not data (a registry lookup by key) is listed in :data:`NOT_DATA_FIRST` with
the reason.

For every public class: a docstring, and when its constructor takes parameters a
``Parameters`` (or, for records, ``Attributes``) section. Constructors are not held to the
two-positional rule: the classes are frozen records built by the library field by field,
whose fields are their documented attributes.

Constants (``RANKS``, ``ALPHA_METRICS``, ...) and type aliases (``ValueKind``) are data,
not callables, and are left out; warning and exception classes need only a docstring.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import typing
from collections.abc import Callable, Iterator

import pytest

SUBPACKAGES = ("gutaxis.data", "gutaxis.io", "gutaxis.gut", "gutaxis.instruments",
               "gutaxis.stats", "gutaxis.report", "gutaxis.evidence",
               "gutaxis.simulate")

#: Names a public function's first parameter may have: the data it works on.
DATA_FIRST = frozenset({
    "table",         # a ProfileTable (gut metrics, writers), or the table file of a cohort
    "cohort",        # a Cohort (association scans)
    "metadata",      # sample metadata (a DataFrame)
    "measurements",  # the longitudinal record (Measurements)
    "taxonomy",      # a taxonomy DataFrame
    "lineages",      # lineage strings (a Series)
    "distances",     # a DistanceMatrix
    "scores",        # per-sample scores (an array)
    "values",        # a samples x features array
    "pvalues",       # p-values to adjust
    "Y",             # the response matrix of a regression (fit_ols(Y, X))
    "results",       # results to render
    "instrument",    # an Instrument to register
    "text",          # Newick text to parse
    "path",          # a file to read
    "evidence",      # the curated evidence table (gutaxis.evidence)
    "plan",          # pooling decisions to carry out (gutaxis.evidence.pool_evidence)
    "series",        # one subject's outcome series (n-of-1)
    "studies",       # a table of study summaries, or their effect sizes (meta-analysis)
    "template",      # the fitted template a cohort is simulated from (gutaxis.simulate)
})

#: Public functions whose first parameter is not data, with the reason.
NOT_DATA_FIRST = {
    "gutaxis.instruments.get_instrument": "looks an instrument up by its key: there is no data",
}

_SECTION = re.compile(r"^(?P<name>Parameters|Attributes)\n-{3,}\n(?P<body>.*?)(?:\n\n\S|\Z)",
                      re.MULTILINE | re.DOTALL)


def _public_objects() -> Iterator[tuple[str, object]]:
    for package in SUBPACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            yield f"{package}.{name}", getattr(module, name)


def _is_warning_or_error(cls: type) -> bool:
    return issubclass(cls, BaseException)


def _public_classes() -> list[tuple[str, type]]:
    return [(name, obj) for name, obj in _public_objects() if inspect.isclass(obj)]


def _public_functions() -> list[tuple[str, Callable[..., object]]]:
    return [(name, obj) for name, obj in _public_objects() if inspect.isfunction(obj)]


def _public_methods() -> list[tuple[str, Callable[..., object]]]:
    methods = []
    for class_name, cls in _public_classes():
        if _is_warning_or_error(cls):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or isinstance(member, property):
                continue
            function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
            if inspect.isfunction(function):
                methods.append((f"{class_name}.{name}", function))
    return methods


CALLABLES = _public_functions() + _public_methods()


def _parameters(function: Callable[..., object]) -> list[inspect.Parameter]:
    """Parameters of ``function``, ``self``/``cls`` left out."""
    params = list(inspect.signature(function).parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    return params


def _named(function: Callable[..., object]) -> list[str]:
    return [p.name for p in _parameters(function)
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _section(doc: str) -> re.Match[str] | None:
    return _SECTION.search(doc)


def _documented_names(body: str) -> set[str]:
    """Names in the definition lines (not indented) of a numpydoc section: ``a, b : type``."""
    names: set[str] = set()
    for line in body.splitlines():
        if line and not line[0].isspace():
            names.update(n.strip().lstrip("*") for n in line.split(":")[0].split(","))
    return names


def test_every_subpackage_declares_its_public_api() -> None:
    for package in SUBPACKAGES:
        module = importlib.import_module(package)
        assert isinstance(getattr(module, "__all__", None), list), package
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"{package}.__all__ names what it does not define: {missing}"


def test_the_walk_finds_the_public_api() -> None:
    """The checks below see the API they are meant to (not an empty list)."""
    names = {name for name, _ in CALLABLES}
    assert {"gutaxis.io.read_cohort", "gutaxis.gut.shannon", "gutaxis.stats.associate",
            "gutaxis.data.ProfileTable.relative", "gutaxis.stats.FitResults.summary"} <= names


@pytest.mark.parametrize(("name", "function"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_documented_with_a_parameters_section(name: str, function: Callable[..., object]
                                              ) -> None:
    doc = inspect.getdoc(function)
    assert doc, f"{name} has no docstring"
    named = _named(function)
    if not named:
        return
    section = _section(doc)
    assert section is not None and section["name"] == "Parameters", (
        f"{name} takes {named} but its docstring has no numpydoc 'Parameters' section")
    undocumented = [p for p in named if p not in _documented_names(section["body"])]
    assert not undocumented, f"{name}: parameters missing from 'Parameters': {undocumented}"


@pytest.mark.parametrize(("name", "function"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_fully_type_hinted(name: str, function: Callable[..., object]) -> None:
    hints = typing.get_type_hints(function)  # raises if an annotation does not resolve
    unannotated = [p for p in _named(function) if p not in hints]
    assert not unannotated, f"{name}: parameters without a type hint: {unannotated}"
    assert "return" in hints, f"{name} has no return type hint"


@pytest.mark.parametrize(("name", "function"), CALLABLES, ids=[n for n, _ in CALLABLES])
def test_at_most_two_positional_parameters(name: str, function: Callable[..., object]) -> None:
    positional = [p.name for p in _parameters(function)
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 2, (
        f"{name} takes {positional} positionally; make all but the first two keyword-only (*)")


FUNCTIONS = _public_functions()


@pytest.mark.parametrize(("name", "function"), FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_data_first(name: str, function: Callable[..., object]) -> None:
    named = _named(function)
    if not named or name in NOT_DATA_FIRST:
        return
    assert named[0] in DATA_FIRST, (
        f"{name}: first parameter {named[0]!r} is not a data object; expected one of "
        f"{sorted(DATA_FIRST)} (or list it in NOT_DATA_FIRST with the reason)")


def test_exemptions_name_public_functions() -> None:
    assert set(NOT_DATA_FIRST) <= {name for name, _ in FUNCTIONS}


CLASSES = _public_classes()


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_classes_are_documented(name: str, cls: type) -> None:
    doc = inspect.getdoc(cls)
    assert doc and doc != inspect.getdoc(object), f"{name} has no docstring"
    if _is_warning_or_error(cls):
        return
    fields = ([f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")]
              if dataclasses.is_dataclass(cls) else _named(cls.__init__))
    if not fields:
        return
    section = _section(doc)
    assert section is not None, (
        f"{name} is built from {fields} but its docstring has no 'Parameters' or "
        "'Attributes' section")
    undocumented = [f for f in fields if f not in _documented_names(section["body"])]
    assert not undocumented, f"{name}: fields missing from {section['name']!r}: {undocumented}"


@pytest.mark.parametrize(("name", "cls"), CLASSES, ids=[n for n, _ in CLASSES])
def test_class_fields_are_type_hinted(name: str, cls: type) -> None:
    if _is_warning_or_error(cls) or not dataclasses.is_dataclass(cls):
        return
    hints = typing.get_type_hints(cls)
    assert all(field.name in hints for field in dataclasses.fields(cls)), name

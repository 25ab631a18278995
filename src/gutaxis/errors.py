"""Errors raised by gutaxis.

Every error a user can cause is a :class:`GutaxisError`. :class:`InputError` carries
*where* the problem is (file, row, column or field), *what* was found and *what* was
expected, so the CLI can print it on one line and the web app can return it as a 4xx.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice


class GutaxisError(Exception):
    """Base class of every error gutaxis raises on purpose."""


class InputError(GutaxisError, ValueError):
    """Bad input: names the place, what was found and what was expected.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    source
        The file (or API field) the input came from.
    row, column, field
        Where in the source, when known. Rows are 1-based as a person counts them.
    found, expected
        What was found there and what should have been there.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | str | None = None,
        column: str | None = None,
        field: str | None = None,
        found: object | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.row = row
        self.column = column
        self.field = field
        self.found = found
        self.expected = expected
        super().__init__(self._render())

    def placed(self, *, source: str | None, field: str | None) -> InputError:
        """The same error with another ``source`` and ``field``: how a door names the
        place in its own words (a CLI option for an API parameter, the user's path)."""
        return type(self)(self.message, source=source, row=self.row, column=self.column,
                          field=field, found=self.found, expected=self.expected)

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = (": ".join([", ".join(where), self.message]) if where else self.message)
        if self.found is not None:
            text += f"; found {_short(self.found)}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        return text


class DataKindError(InputError):
    """Values of the wrong kind, e.g. proportions where counts are needed."""


class InstrumentError(InputError):
    """A questionnaire response that cannot be scored as its manual says."""


class ConvergenceError(GutaxisError):
    """A model fit that did not converge."""


def _short(value: object, limit: int = 80) -> str:
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: object) -> object:
    """NumPy scalars and arrays as plain Python values, so ``found`` reads ``inf``, not
    ``np.float64(inf)``."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and hasattr(value, "dtype"):
        return tolist()
    return value


def preview(items: Iterable[object], limit: int = 5) -> str:
    """The first ``limit`` items joined by ``", "``, then ``" ..."`` if any are left out.

    For the ``found`` of an error that lists ids: ``preview(["a", "b"])`` is ``"a, b"``.
    """
    shown = [str(item) for item in islice(items, limit + 1)]
    text = ", ".join(shown[:limit])
    return text + " ..." if len(shown) > limit else text

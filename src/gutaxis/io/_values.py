"""What the numbers of a table are: counts, proportions or percentages.

Shared by every table reader so that a BIOM file, a TSV and a MetaPhlAn profile holding
the same numbers are read as the same kind.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gutaxis.data.profile import VALUE_KINDS, ValueKind, first_cell
from gutaxis.errors import InputError

#: Relative tolerance on row sums when telling proportions (<= 1) and percent (<= 100)
#: apart; covers values printed with 6 significant digits in tables of ~1,000 features.
SUM_TOLERANCE = 1e-3


def infer_kind(
    values: sp.csr_array, *, kind: ValueKind | None, source: str | None
) -> tuple[ValueKind, float]:
    """Decide the kind of a samples x features table and the factor to scale it by.

    Parameters
    ----------
    values
        Samples x features, already checked to be finite.
    kind
        The kind the caller asserts, or ``None`` to infer it.
    source
        File name for the error message.

    Returns
    -------
    (kind, scale)
        Multiply the values by ``scale`` (``0.01`` for percentages, else ``1``).

    Notes
    -----
    With ``kind=None``: whole numbers are ``counts``; otherwise, with row sums
    :math:`s_i`, :math:`\\max_i s_i \\le 1 + \\epsilon` means proportions (a profile
    restricted to some taxa sums to less than one, as in MaAsLin 2's HMP2 table) and
    :math:`1 < \\max_i s_i \\le 100 (1 + \\epsilon)` means percentages, as MetaPhlAn
    writes them; :math:`\\epsilon` is :data:`SUM_TOLERANCE`. Anything else is refused
    with a request to state the kind. ``kind="relative"`` accepts proportions or
    percentages by the same rule.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> infer_kind(sp.csr_array([[3.0, 5.0], [0.0, 2.0]]), kind=None, source=None)
    ('counts', 1.0)
    >>> infer_kind(sp.csr_array([[25.5, 74.5], [40.0, 0.0]]), kind=None, source=None)
    ('relative', 0.01)
    """
    if kind in ("counts", "clr", "transformed"):
        return kind_from_totals(whole=False, top=0.0, kind=kind, source=source)
    data = values.data
    whole = data.size == 0 or bool(np.all(data == np.round(data)))
    top = float(np.asarray(values.sum(axis=1)).max()) if values.shape[0] else 0.0
    return kind_from_totals(whole=whole, top=top, kind=kind, source=source)


def kind_from_totals(*, whole: bool, top: float, kind: ValueKind | None, source: str | None
                     ) -> tuple[ValueKind, float]:
    """:func:`infer_kind` from what it looks at: whether every value is a whole number
    (``whole``) and the largest sample total (``top``), for tables read in pieces."""
    if kind is not None and kind not in VALUE_KINDS:
        raise InputError("unknown value kind", source=source, found=kind,
                         expected=f"one of {', '.join(VALUE_KINDS)}")
    if kind in ("counts", "clr", "transformed"):
        return kind, 1.0
    if kind is None and whole:
        return "counts", 1.0
    if top <= 1.0 + SUM_TOLERANCE:
        return "relative", 1.0
    if top <= 100.0 * (1.0 + SUM_TOLERANCE):
        return "relative", 0.01
    if kind == "relative":
        raise InputError("relative abundances sum to more than 100 in a sample", source=source,
                         found=f"largest sample total {top:g}",
                         expected="proportions (sum <= 1) or percentages (sum <= 100)")
    raise InputError(
        "cannot tell what the values are", source=source,
        found=f"non-integer values with sample totals up to {top:g}",
        expected="whole-number counts, proportions (sample sums <= 1) or percentages "
        "(<= 100); otherwise give the kind of values (counts or relative)",
    )


def first_negative_cell(values: sp.csr_array | np.ndarray) -> tuple[int, int] | None:
    """``(row, column)`` of the first negative value in row-major order, or ``None``."""
    if sp.issparse(values):
        csr = sp.csr_array(values)
        negative = csr.data < 0
        return first_cell(csr, negative) if negative.any() else None
    hits = np.argwhere(np.asarray(values) < 0)
    if hits.size == 0:
        return None
    return int(hits[0, 0]), int(hits[0, 1])
